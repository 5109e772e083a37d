//! Emergency screens that stopped a consult (R-ELIG-4): which red flags, for whom, when.
//! Health data, so it lives here (deletable under the retention rules), not in the
//! append-only audit log, which records only that it happened.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EmergencyScreen {
    Table,
    Id,
    PatientId,
    FamilyMemberId,
    /// Comma-separated red-flag codes answered yes.
    Flags,
    At,
    Ip,
}

#[derive(DeriveIden)]
enum Patient {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(EmergencyScreen::Table)
                .col(
                    ColumnDef::new(EmergencyScreen::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(EmergencyScreen::PatientId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(EmergencyScreen::FamilyMemberId)
                        .big_integer()
                        .null(),
                )
                .col(
                    ColumnDef::new(EmergencyScreen::Flags)
                        .string_len(255)
                        .not_null(),
                )
                .col(ColumnDef::new(EmergencyScreen::At).big_integer().not_null())
                .col(
                    ColumnDef::new(EmergencyScreen::Ip)
                        .string_len(64)
                        .not_null(),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(EmergencyScreen::Table, EmergencyScreen::PatientId)
                        .to(Patient::Table, Patient::Id),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(EmergencyScreen::Table).to_owned())
            .await
    }
}
