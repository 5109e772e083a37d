//! The message centre (R-BOOK-3): one row per notice to an account, rendered in the
//! reader's language when read.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Message {
    Table,
    Id,
    PatientId,
    /// The family member the notice is about, if not the account holder.
    FamilyMemberId,
    Kind,
    /// JSON object of the values the text is filled with; nothing more personal than the
    /// text shows.
    Params,
    CreatedAt,
    ReadAt,
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
                .table(Message::Table)
                .col(
                    ColumnDef::new(Message::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(Message::PatientId).big_integer().not_null())
                .col(ColumnDef::new(Message::FamilyMemberId).big_integer().null())
                .col(ColumnDef::new(Message::Kind).string_len(32).not_null())
                .col(ColumnDef::new(Message::Params).text().not_null())
                .col(ColumnDef::new(Message::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(Message::ReadAt).big_integer().null())
                .foreign_key(
                    ForeignKey::create()
                        .from(Message::Table, Message::PatientId)
                        .to(Patient::Table, Patient::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("message_patient_unread")
                .table(Message::Table)
                .col(Message::PatientId)
                .col(Message::ReadAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Message::Table).to_owned())
            .await
    }
}
