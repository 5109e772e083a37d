//! The doctor directory (R-DOC-1): public profiles and the published price list a
//! doctor's fees come from (integer fen, by title and consult type).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Doctor {
    Table,
    Id,
    DoctorNumber,
    /// The doctor's staff login, once they have one.
    StaffId,
    Name,
    Title,
    Department,
    LicenceNumber,
    /// `YYYY-MM-DD`: years of independent practice are counted from it.
    PracticingSince,
    /// 、-separated, as the hospital writes them.
    Specialties,
    Bio,
    PhotoKey,
    /// Lower case: the name, its pinyin initials, the specialties and theirs.
    SearchText,
    RatingSum,
    RatingCount,
    GoodCount,
    /// Shown in the directory.
    Listed,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ConsultPrice {
    Table,
    Id,
    Title,
    ConsultType,
    FeeFen,
    PublishedAt,
}

#[derive(DeriveIden)]
enum Staff {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Doctor::Table)
                .col(
                    ColumnDef::new(Doctor::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(Doctor::DoctorNumber)
                        .string_len(24)
                        .not_null()
                        .unique_key(),
                )
                .col(
                    ColumnDef::new(Doctor::StaffId)
                        .big_integer()
                        .null()
                        .unique_key(),
                )
                .col(ColumnDef::new(Doctor::Name).string_len(30).not_null())
                .col(ColumnDef::new(Doctor::Title).string_len(24).not_null())
                .col(ColumnDef::new(Doctor::Department).string_len(32).not_null())
                .col(
                    ColumnDef::new(Doctor::LicenceNumber)
                        .string_len(32)
                        .not_null()
                        .unique_key(),
                )
                .col(
                    ColumnDef::new(Doctor::PracticingSince)
                        .string_len(10)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Doctor::Specialties)
                        .string_len(200)
                        .not_null(),
                )
                .col(ColumnDef::new(Doctor::Bio).string_len(500).not_null())
                .col(ColumnDef::new(Doctor::PhotoKey).string_len(128).null())
                .col(
                    ColumnDef::new(Doctor::SearchText)
                        .string_len(600)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Doctor::RatingSum)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .col(
                    ColumnDef::new(Doctor::RatingCount)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .col(
                    ColumnDef::new(Doctor::GoodCount)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .col(ColumnDef::new(Doctor::Listed).boolean().not_null())
                .col(ColumnDef::new(Doctor::CreatedAt).big_integer().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .from(Doctor::Table, Doctor::StaffId)
                        .to(Staff::Table, Staff::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("doctor_directory")
                .table(Doctor::Table)
                .col(Doctor::Listed)
                .col(Doctor::Department)
                .col(Doctor::Id)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ConsultPrice::Table)
                .col(
                    ColumnDef::new(ConsultPrice::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(ConsultPrice::Title)
                        .string_len(24)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ConsultPrice::ConsultType)
                        .string_len(16)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ConsultPrice::FeeFen)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ConsultPrice::PublishedAt)
                        .big_integer()
                        .not_null(),
                )
                .check(Expr::col(ConsultPrice::FeeFen).gte(0))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("consult_price_title_type")
                .table(ConsultPrice::Table)
                .col(ConsultPrice::Title)
                .col(ConsultPrice::ConsultType)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ConsultPrice::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Doctor::Table).to_owned())
            .await
    }
}
