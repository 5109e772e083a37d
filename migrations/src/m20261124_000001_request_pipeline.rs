//! Limits that parallel requests must not beat, kept as counters the database updates
//! in one statement; and session ids stored hashed (old rows are dropped: everyone logs
//! in once more).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RateCounter {
    Table,
    Key,
    WindowEnd,
    Count,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One row per limited thing, with its current window: SMS quotas, resend spacing, login and
        // code guesses. Keys never hold a phone number in plain text.
        m.create_table(
            Table::create()
                .table(RateCounter::Table)
                .col(
                    ColumnDef::new(RateCounter::Key)
                        .string_len(96)
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(RateCounter::WindowEnd)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(RateCounter::Count).big_integer().not_null())
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared("DELETE FROM session")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(RateCounter::Table).to_owned())
            .await
    }
}
