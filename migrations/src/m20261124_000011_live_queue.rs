//! The live queue (自主在线, R-BOOK-1): which doctors are online for which consult type,
//! and who waits for them. One waiting place per person (a partial unique index); a
//! doctor's staff account links to their directory entry.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DoctorPresence {
    Table,
    Id,
    DoctorId,
    ConsultType,
    OnlineSince,
}

#[derive(DeriveIden)]
enum QueueEntry {
    Table,
    Id,
    EntryNumber,
    DoctorId,
    ConsultType,
    PatientId,
    FamilyMemberId,
    PersonKey,
    ProofId,
    ConsultConsentId,
    Icd10,
    /// `waiting`, `called`, `left` or `closed` (the doctor went offline).
    Status,
    JoinedAt,
    CalledAt,
    EndedAt,
}

#[derive(DeriveIden)]
enum Doctor {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(DoctorPresence::Table)
                .col(
                    ColumnDef::new(DoctorPresence::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(DoctorPresence::DoctorId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(DoctorPresence::ConsultType)
                        .string_len(16)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(DoctorPresence::OnlineSince)
                        .big_integer()
                        .not_null(),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(DoctorPresence::Table, DoctorPresence::DoctorId)
                        .to(Doctor::Table, Doctor::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("doctor_presence_doctor_type")
                .table(DoctorPresence::Table)
                .col(DoctorPresence::DoctorId)
                .col(DoctorPresence::ConsultType)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(QueueEntry::Table)
                .col(
                    ColumnDef::new(QueueEntry::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(QueueEntry::EntryNumber)
                        .string_len(24)
                        .not_null()
                        .unique_key(),
                )
                .col(
                    ColumnDef::new(QueueEntry::DoctorId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(QueueEntry::ConsultType)
                        .string_len(16)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(QueueEntry::PatientId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(QueueEntry::FamilyMemberId)
                        .big_integer()
                        .null(),
                )
                .col(
                    ColumnDef::new(QueueEntry::PersonKey)
                        .string_len(32)
                        .not_null(),
                )
                .col(ColumnDef::new(QueueEntry::ProofId).big_integer().not_null())
                .col(
                    ColumnDef::new(QueueEntry::ConsultConsentId)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(QueueEntry::Icd10).string_len(16).not_null())
                .col(ColumnDef::new(QueueEntry::Status).string_len(16).not_null())
                .col(
                    ColumnDef::new(QueueEntry::JoinedAt)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(QueueEntry::CalledAt).big_integer().null())
                .col(ColumnDef::new(QueueEntry::EndedAt).big_integer().null())
                .foreign_key(
                    ForeignKey::create()
                        .from(QueueEntry::Table, QueueEntry::DoctorId)
                        .to(Doctor::Table, Doctor::Id),
                )
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX queue_entry_one_wait ON queue_entry (person_key) \
                 WHERE status = 'waiting'",
            )
            .await?;
        m.create_index(
            Index::create()
                .name("queue_entry_line")
                .table(QueueEntry::Table)
                .col(QueueEntry::DoctorId)
                .col(QueueEntry::ConsultType)
                .col(QueueEntry::Status)
                .col(QueueEntry::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(QueueEntry::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(DoctorPresence::Table).to_owned())
            .await
    }
}
