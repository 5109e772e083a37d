//! Hospital staff, separate from patients (R-SEC-1), with a second factor and one-time
//! recovery codes (R-SEC-3).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Staff {
    Table,
    Id,
    Username,
    DisplayName,
    Role,
    Department,
    PasswordHash,
    /// The confirmed authenticator secret, encrypted; none until enrolment is confirmed.
    TotpSecretCipher,
    /// A secret shown for enrolment and not yet confirmed with a code.
    TotpPendingCipher,
    /// The last authenticator time step accepted: a code is accepted once (RFC 6238 5.2).
    TotpLastStep,
    DisabledAt,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum StaffRecoveryCode {
    Table,
    Id,
    StaffId,
    CodeHash,
    UsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Staff::Table)
                .col(
                    ColumnDef::new(Staff::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(Staff::Username)
                        .string_len(32)
                        .not_null()
                        .unique_key(),
                )
                .col(ColumnDef::new(Staff::DisplayName).string_len(64).not_null())
                .col(ColumnDef::new(Staff::Role).string_len(16).not_null())
                .col(ColumnDef::new(Staff::Department).string_len(32).null())
                .col(ColumnDef::new(Staff::PasswordHash).text().not_null())
                .col(ColumnDef::new(Staff::TotpSecretCipher).text().null())
                .col(ColumnDef::new(Staff::TotpPendingCipher).text().null())
                .col(ColumnDef::new(Staff::TotpLastStep).big_integer().null())
                .col(ColumnDef::new(Staff::DisabledAt).big_integer().null())
                .col(ColumnDef::new(Staff::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(Staff::CreatedBy).big_integer().null())
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(StaffRecoveryCode::Table)
                .col(
                    ColumnDef::new(StaffRecoveryCode::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(StaffRecoveryCode::StaffId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(StaffRecoveryCode::CodeHash)
                        .string_len(64)
                        .not_null()
                        .unique_key(),
                )
                .col(
                    ColumnDef::new(StaffRecoveryCode::UsedAt)
                        .big_integer()
                        .null(),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(StaffRecoveryCode::Table, StaffRecoveryCode::StaffId)
                        .to(Staff::Table, Staff::Id),
                )
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(StaffRecoveryCode::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Staff::Table).to_owned())
            .await
    }
}
