//! Consults, their messages and files, and the medical record (R-CONS-1 … R-CONS-4,
//! R-EMR-1 … R-EMR-3).
//!
//! - `consult`: one per paid booking or called queue place; its status moves only by the
//!   consult machine, by conditional updates. `last_seq` numbers its messages: each insert
//!   first bumps it in the same transaction, so numbers are gap-free and in commit order.
//! - `consult_message`: the log. A message is never changed or deleted (a recall is a new
//!   entry); unique per (consult, seq) and per (consult, side, client id), so a resend is
//!   recognised, never stored twice.
//! - `medical_record`: changes only while a draft; once archived the database refuses any
//!   change (triggers on both databases). Every save is also a row of `record_revision`,
//!   corrections after archiving are rows of `record_addendum`; both append-only. Each
//!   archived record's hash links to the person's previous one: one link per predecessor.
//! - `record_access`: every staff read, copy or print of a record or consult (R-EMR-2),
//!   append-only, for the patient's "who viewed my record".
//! - `refund.reason` gains `referred_offline` (R-PAY-2).
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: &[&str] = &[
    "CREATE TABLE consult ( \
     id BIGSERIAL PRIMARY KEY, \
     consult_number VARCHAR(32) NOT NULL UNIQUE, \
     booking_id BIGINT NULL UNIQUE REFERENCES booking (id), \
     queue_entry_id BIGINT NULL UNIQUE REFERENCES queue_entry (id), \
     patient_id BIGINT NOT NULL REFERENCES patient (id), \
     family_member_id BIGINT NULL REFERENCES family_member (id), \
     person_key VARCHAR(32) NOT NULL, \
     doctor_id BIGINT NOT NULL REFERENCES doctor (id), \
     consult_type VARCHAR(16) NOT NULL CHECK (consult_type IN ('text', 'image_text', 'video')), \
     icd10 VARCHAR(16) NOT NULL, \
     proof_id BIGINT NOT NULL, \
     status VARCHAR(16) NOT NULL CHECK (status IN \
       ('waiting', 'in_progress', 'completed', 'referred', 'unanswered', 'cancelled')), \
     opens_at BIGINT NOT NULL, \
     answer_promised_by BIGINT NOT NULL, \
     closes_unanswered_at BIGINT NOT NULL, \
     text_window_secs BIGINT NOT NULL CHECK (text_window_secs > 0), \
     first_answer_at BIGINT NULL, \
     ended_at BIGINT NULL, \
     ended_by BIGINT NULL, \
     end_reason VARCHAR(500) NULL, \
     last_seq BIGINT NOT NULL DEFAULT 0 CHECK (last_seq >= 0), \
     patient_read_seq BIGINT NOT NULL DEFAULT 0, \
     doctor_read_seq BIGINT NOT NULL DEFAULT 0, \
     patient_nudged_at BIGINT NULL, \
     doctor_nudged_at BIGINT NULL, \
     created_at BIGINT NOT NULL, \
     updated_at BIGINT NOT NULL, \
     CHECK (booking_id IS NOT NULL OR queue_entry_id IS NOT NULL))",
    "CREATE INDEX consult_due ON consult (status, closes_unanswered_at)",
    "CREATE INDEX consult_doctor ON consult (doctor_id, status)",
    "CREATE INDEX consult_patient ON consult (patient_id, created_at)",
    "CREATE INDEX consult_person ON consult (person_key)",
    "CREATE TABLE consult_file ( \
     id BIGSERIAL PRIMARY KEY, \
     file_number VARCHAR(32) NOT NULL UNIQUE, \
     consult_id BIGINT NOT NULL REFERENCES consult (id), \
     side VARCHAR(8) NOT NULL CHECK (side IN ('patient', 'doctor')), \
     author_id BIGINT NOT NULL, \
     upload_key VARCHAR(64) NOT NULL, \
     kind VARCHAR(8) NOT NULL, \
     object_key VARCHAR(255) NOT NULL, \
     thumb_key VARCHAR(255) NULL, \
     bytes BIGINT NOT NULL, \
     width INTEGER NULL, \
     height INTEGER NULL, \
     sha256 VARCHAR(64) NOT NULL, \
     created_at BIGINT NOT NULL, \
     UNIQUE (consult_id, side, upload_key))",
    "CREATE TABLE consult_message ( \
     id BIGSERIAL PRIMARY KEY, \
     consult_id BIGINT NOT NULL REFERENCES consult (id), \
     seq BIGINT NOT NULL CHECK (seq > 0), \
     side VARCHAR(8) NOT NULL CHECK (side IN ('patient', 'doctor', 'system')), \
     author_id BIGINT NULL, \
     client_id VARCHAR(36) NULL, \
     kind VARCHAR(8) NOT NULL CHECK (kind IN ('text', 'file', 'recall', 'event')), \
     body TEXT NOT NULL, \
     file_id BIGINT NULL REFERENCES consult_file (id), \
     recalls_seq BIGINT NULL, \
     created_at BIGINT NOT NULL, \
     UNIQUE (consult_id, seq), \
     UNIQUE (consult_id, side, client_id))",
    "CREATE TABLE medical_record ( \
     id BIGSERIAL PRIMARY KEY, \
     record_number VARCHAR(32) NOT NULL UNIQUE, \
     consult_id BIGINT NOT NULL UNIQUE REFERENCES consult (id), \
     patient_id BIGINT NOT NULL REFERENCES patient (id), \
     family_member_id BIGINT NULL REFERENCES family_member (id), \
     person_key VARCHAR(32) NOT NULL, \
     doctor_id BIGINT NOT NULL REFERENCES doctor (id), \
     status VARCHAR(16) NOT NULL CHECK (status IN ('draft', 'archived')), \
     revision INTEGER NOT NULL CHECK (revision >= 0), \
     chief_complaint TEXT NOT NULL, \
     present_illness TEXT NOT NULL, \
     icd10 VARCHAR(16) NOT NULL, \
     advice TEXT NOT NULL, \
     follow_up TEXT NOT NULL, \
     created_at BIGINT NOT NULL, \
     updated_at BIGINT NOT NULL, \
     archived_at BIGINT NULL, \
     archived_by BIGINT NULL, \
     prev_hash VARCHAR(64) NULL, \
     content_hash VARCHAR(64) NULL, \
     CHECK ((status = 'draft' AND content_hash IS NULL AND prev_hash IS NULL) \
         OR (status = 'archived' AND content_hash IS NOT NULL AND prev_hash IS NOT NULL \
             AND archived_at IS NOT NULL AND archived_by IS NOT NULL)), \
     UNIQUE (person_key, prev_hash))",
    "CREATE INDEX medical_record_person ON medical_record (person_key, archived_at)",
    "CREATE TABLE record_revision ( \
     id BIGSERIAL PRIMARY KEY, \
     record_id BIGINT NOT NULL REFERENCES medical_record (id), \
     revision INTEGER NOT NULL CHECK (revision > 0), \
     author_id BIGINT NOT NULL, \
     body TEXT NOT NULL, \
     saved_at BIGINT NOT NULL, \
     UNIQUE (record_id, revision))",
    "CREATE TABLE record_addendum ( \
     id BIGSERIAL PRIMARY KEY, \
     record_id BIGINT NOT NULL REFERENCES medical_record (id), \
     author_id BIGINT NOT NULL, \
     body TEXT NOT NULL, \
     content_hash VARCHAR(64) NOT NULL, \
     created_at BIGINT NOT NULL)",
    "CREATE INDEX record_addendum_record ON record_addendum (record_id)",
    "CREATE TABLE record_access ( \
     id BIGSERIAL PRIMARY KEY, \
     patient_id BIGINT NOT NULL REFERENCES patient (id), \
     family_member_id BIGINT NULL, \
     consult_id BIGINT NOT NULL REFERENCES consult (id), \
     staff_id BIGINT NOT NULL REFERENCES staff (id), \
     action VARCHAR(8) NOT NULL CHECK (action IN ('read', 'print', 'copy')), \
     reason VARCHAR(200) NULL, \
     at BIGINT NOT NULL)",
    "CREATE INDEX record_access_patient ON record_access (patient_id, at)",
    "CREATE TABLE quick_reply ( \
     id BIGSERIAL PRIMARY KEY, \
     staff_id BIGINT NOT NULL REFERENCES staff (id), \
     body VARCHAR(500) NOT NULL, \
     created_at BIGINT NOT NULL)",
    "CREATE INDEX quick_reply_staff ON quick_reply (staff_id)",
];

/// The tables no one changes or deletes from.
const APPEND_ONLY: &[&str] = &[
    "consult_message",
    "record_revision",
    "record_addendum",
    "record_access",
];

fn sqlite_guards() -> Vec<String> {
    let mut all: Vec<String> = APPEND_ONLY
        .iter()
        .flat_map(|t| {
            [
                format!(
                    "CREATE TRIGGER {t}_no_update BEFORE UPDATE ON {t} \
                     BEGIN SELECT RAISE(ABORT, '{t} is append-only'); END"
                ),
                format!(
                    "CREATE TRIGGER {t}_no_delete BEFORE DELETE ON {t} \
                     BEGIN SELECT RAISE(ABORT, '{t} is append-only'); END"
                ),
            ]
        })
        .collect();
    all.push(
        "CREATE TRIGGER medical_record_archived BEFORE UPDATE ON medical_record \
         WHEN OLD.status = 'archived' \
         BEGIN SELECT RAISE(ABORT, 'an archived medical record never changes'); END"
            .into(),
    );
    all.push(
        "CREATE TRIGGER medical_record_no_delete BEFORE DELETE ON medical_record \
         BEGIN SELECT RAISE(ABORT, 'a medical record is never deleted'); END"
            .into(),
    );
    all
}

fn postgres_guards() -> Vec<String> {
    let mut all = vec![
        "CREATE FUNCTION fuzhen_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME \
           USING ERRCODE = 'insufficient_privilege'; END $$"
            .to_owned(),
        "CREATE FUNCTION medical_record_guard() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN \
           IF TG_OP = 'UPDATE' AND OLD.status = 'draft' THEN RETURN NEW; END IF; \
           RAISE EXCEPTION 'an archived medical record never changes' \
             USING ERRCODE = 'insufficient_privilege'; \
         END $$"
            .to_owned(),
        "CREATE TRIGGER medical_record_guard BEFORE UPDATE OR DELETE ON medical_record \
         FOR EACH ROW EXECUTE FUNCTION medical_record_guard()"
            .to_owned(),
        "CREATE TRIGGER medical_record_no_truncate BEFORE TRUNCATE ON medical_record \
         FOR EACH STATEMENT EXECUTE FUNCTION fuzhen_append_only()"
            .to_owned(),
    ];
    for t in APPEND_ONLY {
        all.push(format!(
            "CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} \
             FOR EACH ROW EXECUTE FUNCTION fuzhen_append_only()"
        ));
        all.push(format!(
            "CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} \
             FOR EACH STATEMENT EXECUTE FUNCTION fuzhen_append_only()"
        ));
    }
    all
}

const REASONS_BEFORE: &str = "'slot_cancelled', 'paid_after_expiry', 'unanswered', \
    'patient_cancelled', 'operator_decision', 'duplicate_payment'";
const REASONS: &str = "'slot_cancelled', 'paid_after_expiry', 'unanswered', \
    'patient_cancelled', 'operator_decision', 'duplicate_payment', 'referred_offline'";
/// The refund columns, in order.
const REFUND_COLUMNS: &str = "id, refund_number, order_id, amount_fen, full_refund, reason, \
    note, requested_by_staff, idempotency_key, status, provider_ref, attempts, \
    next_attempt_at, last_error, requested_at, settled_at, payment_ref, retried_at";

/// SQLite cannot change a CHECK: the refund table is made again, every row kept.
fn sqlite_refund_reasons(reasons: &str, keep: &str) -> Vec<String> {
    vec![
        "PRAGMA defer_foreign_keys = ON".into(),
        "CREATE TABLE refund_before AS SELECT * FROM refund".into(),
        "DROP TABLE refund".into(),
        format!(
            "CREATE TABLE refund (id INTEGER PRIMARY KEY AUTOINCREMENT, \
             refund_number VARCHAR(32) NOT NULL UNIQUE, \
             order_id BIGINT NOT NULL REFERENCES orders (id), \
             amount_fen BIGINT NOT NULL CHECK (amount_fen > 0 AND amount_fen <= 10000000), \
             full_refund BOOLEAN NOT NULL, \
             reason VARCHAR(32) NOT NULL CHECK (reason IN ({reasons})), \
             note VARCHAR(500) NULL, \
             requested_by_staff BIGINT NULL, \
             idempotency_key VARCHAR(64) NOT NULL UNIQUE, \
             status VARCHAR(16) NOT NULL CHECK (status IN ('requested', 'succeeded', 'failed')), \
             provider_ref VARCHAR(255) NULL, \
             attempts INTEGER NOT NULL DEFAULT 0, \
             next_attempt_at BIGINT NOT NULL, \
             last_error VARCHAR(255) NULL, \
             requested_at BIGINT NOT NULL, \
             settled_at BIGINT NULL, \
             payment_ref VARCHAR(255) NULL, \
             retried_at BIGINT NULL)"
        ),
        format!(
            "INSERT INTO refund ({REFUND_COLUMNS}) SELECT {REFUND_COLUMNS} FROM refund_before \
             WHERE {keep}"
        ),
        "DROP TABLE refund_before".into(),
        "CREATE INDEX refund_order ON refund (order_id)".into(),
        "CREATE INDEX refund_due ON refund (status, next_attempt_at)".into(),
    ]
}

fn postgres_refund_reasons(reasons: &str) -> Vec<String> {
    vec![
        "ALTER TABLE refund DROP CONSTRAINT refund_reason_check".into(),
        format!(
            "ALTER TABLE refund ADD CONSTRAINT refund_reason_check CHECK (reason IN ({reasons}))"
        ),
    ]
}

fn up(backend: DbBackend) -> Vec<String> {
    let sqlite = backend == DbBackend::Sqlite;
    let mut all: Vec<String> = TABLES
        .iter()
        .map(|t| {
            if sqlite {
                t.replace("BIGSERIAL PRIMARY KEY", "INTEGER PRIMARY KEY AUTOINCREMENT")
            } else {
                (*t).to_owned()
            }
        })
        .collect();
    if sqlite {
        all.extend(sqlite_guards());
        all.extend(sqlite_refund_reasons(REASONS, "1 = 1"));
    } else {
        all.extend(postgres_guards());
        all.extend(postgres_refund_reasons(REASONS));
    }
    all
}

fn down(backend: DbBackend) -> Vec<String> {
    let sqlite = backend == DbBackend::Sqlite;
    let mut all = Vec::new();
    if sqlite {
        all.extend(sqlite_refund_reasons(
            REASONS_BEFORE,
            "reason <> 'referred_offline'",
        ));
    } else {
        all.push("DELETE FROM refund WHERE reason = 'referred_offline'".into());
        all.extend(postgres_refund_reasons(REASONS_BEFORE));
    }
    // Dropping a table drops its triggers.
    for t in [
        "quick_reply",
        "record_access",
        "record_addendum",
        "record_revision",
        "medical_record",
        "consult_message",
        "consult_file",
        "consult",
    ] {
        all.push(format!("DROP TABLE IF EXISTS {t}"));
    }
    if !sqlite {
        all.push("DROP FUNCTION IF EXISTS medical_record_guard()".into());
        all.push("DROP FUNCTION IF EXISTS fuzhen_append_only()".into());
    }
    all
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// In one transaction on SQLite too: the refund table is made again over several
    /// statements, which must run on one connection and stand or fall together.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for statement in up(db.get_database_backend()) {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for statement in down(db.get_database_backend()) {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }
}
