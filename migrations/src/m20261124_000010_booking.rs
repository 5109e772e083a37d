//! Schedules, slots and bookings (R-BOOK-1, R-BOOK-2, R-BOOK-4). The database itself
//! keeps a slot within its capacity (a CHECK, and every taking is a conditional update)
//! and a person from holding the same slot twice (a partial unique index); a per-person
//! lock row serialises one person's holds so overlapping ones are seen.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ScheduleSession {
    Table,
    Id,
    DoctorId,
    ConsultType,
    StartsAt,
    EndsAt,
    PublishedBy,
    PublishedAt,
}

#[derive(DeriveIden)]
enum Slot {
    Table,
    Id,
    SlotNumber,
    SessionId,
    DoctorId,
    ConsultType,
    StartsAt,
    EndsAt,
    Capacity,
    /// Places held or booked.
    Taken,
    /// `open` or `cancelled`.
    Status,
    CancelledAt,
}

#[derive(DeriveIden)]
enum Booking {
    Table,
    Id,
    BookingNumber,
    SlotId,
    PatientId,
    FamilyMemberId,
    /// `p:<patient id>` or `m:<family member id>`: whose appointment it is.
    PersonKey,
    ProofId,
    ConsultConsentId,
    Icd10,
    /// `held`, `confirmed`, `cancelled` or `expired`.
    Status,
    StartsAt,
    EndsAt,
    HeldAt,
    HoldExpiresAt,
    ConfirmedAt,
    CancelledAt,
    /// `patient`, `doctor` (the slot was cancelled) or `expired`.
    CancelReason,
    /// A full refund is owed (the payment issue performs it).
    RefundDue,
    ReminderSentAt,
}

#[derive(DeriveIden)]
enum PersonLock {
    Table,
    PersonKey,
    TouchedAt,
}

#[derive(DeriveIden)]
enum Doctor {
    Table,
    Id,
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
                .table(ScheduleSession::Table)
                .col(pk(ScheduleSession::Id))
                .col(
                    ColumnDef::new(ScheduleSession::DoctorId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ScheduleSession::ConsultType)
                        .string_len(16)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ScheduleSession::StartsAt)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ScheduleSession::EndsAt)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ScheduleSession::PublishedBy)
                        .big_integer()
                        .null(),
                )
                .col(
                    ColumnDef::new(ScheduleSession::PublishedAt)
                        .big_integer()
                        .not_null(),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ScheduleSession::Table, ScheduleSession::DoctorId)
                        .to(Doctor::Table, Doctor::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Slot::Table)
                .col(pk(Slot::Id))
                .col(
                    ColumnDef::new(Slot::SlotNumber)
                        .string_len(24)
                        .not_null()
                        .unique_key(),
                )
                .col(ColumnDef::new(Slot::SessionId).big_integer().not_null())
                .col(ColumnDef::new(Slot::DoctorId).big_integer().not_null())
                .col(ColumnDef::new(Slot::ConsultType).string_len(16).not_null())
                .col(ColumnDef::new(Slot::StartsAt).big_integer().not_null())
                .col(ColumnDef::new(Slot::EndsAt).big_integer().not_null())
                .col(ColumnDef::new(Slot::Capacity).integer().not_null())
                .col(ColumnDef::new(Slot::Taken).integer().not_null().default(0))
                .col(ColumnDef::new(Slot::Status).string_len(16).not_null())
                .col(ColumnDef::new(Slot::CancelledAt).big_integer().null())
                .check(Expr::col(Slot::Taken).gte(0))
                .check(Expr::col(Slot::Taken).lte(Expr::col(Slot::Capacity)))
                .check(Expr::col(Slot::Capacity).gt(0))
                .foreign_key(
                    ForeignKey::create()
                        .from(Slot::Table, Slot::SessionId)
                        .to(ScheduleSession::Table, ScheduleSession::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Slot::Table, Slot::DoctorId)
                        .to(Doctor::Table, Doctor::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("slot_doctor_time")
                .table(Slot::Table)
                .col(Slot::DoctorId)
                .col(Slot::StartsAt)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Booking::Table)
                .col(pk(Booking::Id))
                .col(
                    ColumnDef::new(Booking::BookingNumber)
                        .string_len(24)
                        .not_null()
                        .unique_key(),
                )
                .col(ColumnDef::new(Booking::SlotId).big_integer().not_null())
                .col(ColumnDef::new(Booking::PatientId).big_integer().not_null())
                .col(ColumnDef::new(Booking::FamilyMemberId).big_integer().null())
                .col(ColumnDef::new(Booking::PersonKey).string_len(32).not_null())
                .col(ColumnDef::new(Booking::ProofId).big_integer().not_null())
                .col(
                    ColumnDef::new(Booking::ConsultConsentId)
                        .big_integer()
                        .null(),
                )
                .col(ColumnDef::new(Booking::Icd10).string_len(16).not_null())
                .col(ColumnDef::new(Booking::Status).string_len(16).not_null())
                .col(ColumnDef::new(Booking::StartsAt).big_integer().not_null())
                .col(ColumnDef::new(Booking::EndsAt).big_integer().not_null())
                .col(ColumnDef::new(Booking::HeldAt).big_integer().not_null())
                .col(
                    ColumnDef::new(Booking::HoldExpiresAt)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(Booking::ConfirmedAt).big_integer().null())
                .col(ColumnDef::new(Booking::CancelledAt).big_integer().null())
                .col(ColumnDef::new(Booking::CancelReason).string_len(16).null())
                .col(
                    ColumnDef::new(Booking::RefundDue)
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .col(ColumnDef::new(Booking::ReminderSentAt).big_integer().null())
                .foreign_key(
                    ForeignKey::create()
                        .from(Booking::Table, Booking::SlotId)
                        .to(Slot::Table, Slot::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Booking::Table, Booking::PatientId)
                        .to(Patient::Table, Patient::Id),
                )
                .to_owned(),
        )
        .await?;
        // One live booking per person per slot, whatever the race.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX booking_live_person_slot ON booking (slot_id, person_key) \
                 WHERE status IN ('held', 'confirmed')",
            )
            .await?;
        m.create_index(
            Index::create()
                .name("booking_hold_expiry")
                .table(Booking::Table)
                .col(Booking::Status)
                .col(Booking::HoldExpiresAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("booking_person_time")
                .table(Booking::Table)
                .col(Booking::PersonKey)
                .col(Booking::StartsAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("booking_patient")
                .table(Booking::Table)
                .col(Booking::PatientId)
                .col(Booking::StartsAt)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(PersonLock::Table)
                .col(
                    ColumnDef::new(PersonLock::PersonKey)
                        .string_len(32)
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(PersonLock::TouchedAt)
                        .big_integer()
                        .not_null(),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["person_lock", "booking", "slot", "schedule_session"] {
            m.get_connection()
                .execute_unprepared(&format!("DROP TABLE IF EXISTS {table}"))
                .await?;
        }
        Ok(())
    }
}

fn pk<T: IntoIden + 'static>(column: T) -> ColumnDef {
    let mut def = ColumnDef::new(column);
    def.big_integer().not_null().auto_increment().primary_key();
    def
}
