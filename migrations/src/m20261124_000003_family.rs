//! Family members (就诊人) a guardian acts for (R-REG-7), and one table of claimed ID
//! numbers so that a person is an account holder or one guardian's dependant, never
//! both and never twice, whichever request commits first.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IdentityClaim {
    Table,
    IdNumberHmac,
    /// "account" or "dependant".
    HolderKind,
    CreatedAt,
}

#[derive(DeriveIden)]
enum FamilyMember {
    Table,
    Id,
    /// Public, unguessable id used in URLs and the API.
    MemberNumber,
    GuardianId,
    RealName,
    IdNumberCipher,
    IdNumberHmac,
    IdNumberMasked,
    BirthDate,
    Sex,
    Relationship,
    Dependency,
    DeclarationVersion,
    DeclaredAt,
    DeclaredIp,
    CreatedAt,
    RemovedAt,
}

#[derive(DeriveIden)]
enum Patient {
    Table,
    Id,
    DependantCount,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(IdentityClaim::Table)
                .col(
                    ColumnDef::new(IdentityClaim::IdNumberHmac)
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(IdentityClaim::HolderKind)
                        .string_len(16)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(IdentityClaim::CreatedAt)
                        .big_integer()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        // Every existing account holder claims their ID number.
        m.get_connection()
            .execute_unprepared(
                "INSERT INTO identity_claim (id_number_hmac, holder_kind, created_at) \
                 SELECT id_number_hmac, 'account', created_at FROM patient",
            )
            .await?;

        // The cap on dependants is a counter updated conditionally, so parallel adds
        // cannot pass it.
        m.alter_table(
            Table::alter()
                .table(Patient::Table)
                .add_column(
                    ColumnDef::new(Patient::DependantCount)
                        .integer()
                        .not_null()
                        .default(0),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(FamilyMember::Table)
                .col(
                    ColumnDef::new(FamilyMember::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(FamilyMember::MemberNumber)
                        .string_len(24)
                        .not_null()
                        .unique_key(),
                )
                .col(
                    ColumnDef::new(FamilyMember::GuardianId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(FamilyMember::RealName)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(FamilyMember::IdNumberCipher)
                        .text()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(FamilyMember::IdNumberHmac)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(FamilyMember::IdNumberMasked)
                        .string_len(24)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(FamilyMember::BirthDate)
                        .string_len(10)
                        .not_null(),
                )
                .col(ColumnDef::new(FamilyMember::Sex).string_len(8).not_null())
                .col(
                    ColumnDef::new(FamilyMember::Relationship)
                        .string_len(24)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(FamilyMember::Dependency)
                        .string_len(32)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(FamilyMember::DeclarationVersion)
                        .string_len(32)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(FamilyMember::DeclaredAt)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(FamilyMember::DeclaredIp)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(FamilyMember::CreatedAt)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(FamilyMember::RemovedAt).big_integer().null())
                .foreign_key(
                    ForeignKey::create()
                        .from(FamilyMember::Table, FamilyMember::GuardianId)
                        .to(Patient::Table, Patient::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("family_member_guardian")
                .table(FamilyMember::Table)
                .col(FamilyMember::GuardianId)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(FamilyMember::Table).to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table(Patient::Table)
                .drop_column(Patient::DependantCount)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(IdentityClaim::Table).to_owned())
            .await
    }
}
