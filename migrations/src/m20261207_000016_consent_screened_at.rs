//! When the emergency screen behind a consult's consent was answered (R-ELIG-4): a hold
//! or a queue place is refused on a consent whose screen is more than 30 minutes old.
//! Consents confirmed before this column have none, and count as needing a new screen.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ConsultConsent {
    Table,
    ScreenedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ConsultConsent::Table)
                .add_column(
                    ColumnDef::new(ConsultConsent::ScreenedAt)
                        .big_integer()
                        .null(),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ConsultConsent::Table)
                .drop_column(ConsultConsent::ScreenedAt)
                .to_owned(),
        )
        .await
    }
}
