//! Separation of duties for staff accounts (R-SEC-1). An account an admin makes or
//! re-enables waits for a second admin's approval (`approval_requested_by`: who asked);
//! its first password is set by its owner with a one-time code sent by SMS to the
//! owner's own phone (`phone_cipher`; the code's keyed hash and expiry), so no admin
//! ever learns it.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Staff {
    Table,
    PhoneCipher,
    ApprovalRequestedBy,
    ApprovedBy,
    ActivationHash,
    ActivationExpiresAt,
}

const COLUMNS: [(Staff, bool); 5] = [
    (Staff::PhoneCipher, false),
    (Staff::ApprovalRequestedBy, true),
    (Staff::ApprovedBy, true),
    (Staff::ActivationHash, false),
    (Staff::ActivationExpiresAt, true),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        for (column, number) in COLUMNS {
            let mut def = ColumnDef::new(column);
            if number {
                def.big_integer();
            } else {
                def.text();
            }
            m.alter_table(
                Table::alter()
                    .table(Staff::Table)
                    .add_column(def.null())
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (column, _) in COLUMNS.iter().rev() {
            m.alter_table(
                Table::alter()
                    .table(Staff::Table)
                    .drop_column(*column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
