//! Video and voice calls of consults and their recordings (R-CONS-1, R-CONS-4, R-CONS-6,
//! R-CONS-7).
//!
//! - `consult_call`: one per call. The media system it started on is kept and never
//!   changes (a call stays on its system; a fallback to the backup is a new call). At
//!   most one call of a consult runs at a time: a unique index over the consults of the
//!   calls not yet ended, so two starts at once make one call.
//! - `call_recording`: one per part of a call (a page that reloads mid-call starts a new
//!   part), append-only (the database refuses a change, a deletion or a second one for
//!   the same part): the object's key, its SHA-256, size and duration, who made it (the
//!   media server, or the doctor's page on the backup), and the day before which nothing
//!   may remove it.
//! - `call_recording_chunk`: the pieces a doctor's page has uploaded of a part not yet
//!   put together, so an upload resumes where it stopped.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: &[&str] = &[
    "CREATE TABLE consult_call ( \
     id BIGSERIAL PRIMARY KEY, \
     call_number VARCHAR(32) NOT NULL UNIQUE, \
     consult_id BIGINT NOT NULL REFERENCES consult (id), \
     system VARCHAR(8) NOT NULL CHECK (system IN ('sfu', 'direct')), \
     media VARCHAR(8) NOT NULL CHECK (media IN ('video', 'voice')), \
     room VARCHAR(64) NULL, \
     started_by BIGINT NOT NULL REFERENCES staff (id), \
     started_at BIGINT NOT NULL, \
     patient_in BOOLEAN NOT NULL DEFAULT FALSE, \
     doctor_in BOOLEAN NOT NULL DEFAULT FALSE, \
     patient_joined_at BIGINT NULL, \
     ended_at BIGINT NULL, \
     end_cause VARCHAR(16) NULL CHECK (end_cause IN \
       ('doctor', 'fallback', 'consult_ended', 'too_long')), \
     recording VARCHAR(16) NOT NULL DEFAULT 'pending' CHECK (recording IN \
       ('pending', 'recorded', 'none')), \
     recording_note VARCHAR(200) NULL, \
     CHECK ((ended_at IS NULL) = (end_cause IS NULL)))",
    "CREATE UNIQUE INDEX consult_call_one_live ON consult_call (consult_id) \
     WHERE ended_at IS NULL",
    "CREATE INDEX consult_call_consult ON consult_call (consult_id, started_at)",
    "CREATE TABLE call_recording ( \
     id BIGSERIAL PRIMARY KEY, \
     recording_number VARCHAR(32) NOT NULL UNIQUE, \
     call_id BIGINT NOT NULL REFERENCES consult_call (id), \
     part INTEGER NOT NULL CHECK (part >= 0), \
     consult_id BIGINT NOT NULL REFERENCES consult (id), \
     made_by VARCHAR(8) NOT NULL CHECK (made_by IN ('server', 'client')), \
     object_key VARCHAR(255) NOT NULL, \
     content_type VARCHAR(64) NOT NULL, \
     sha256 VARCHAR(64) NOT NULL, \
     bytes BIGINT NOT NULL CHECK (bytes > 0), \
     duration_ms BIGINT NOT NULL CHECK (duration_ms >= 0), \
     keep_until BIGINT NOT NULL, \
     created_at BIGINT NOT NULL, \
     UNIQUE (call_id, part))",
    "CREATE INDEX call_recording_consult ON call_recording (consult_id)",
    "CREATE TABLE call_recording_chunk ( \
     id BIGSERIAL PRIMARY KEY, \
     call_id BIGINT NOT NULL REFERENCES consult_call (id), \
     part INTEGER NOT NULL CHECK (part >= 0), \
     idx INTEGER NOT NULL CHECK (idx >= 0), \
     bytes BIGINT NOT NULL CHECK (bytes > 0), \
     sha256 VARCHAR(64) NOT NULL, \
     received_at BIGINT NOT NULL, \
     UNIQUE (call_id, part, idx))",
];

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
        for what in ["UPDATE", "DELETE"] {
            all.push(format!(
                "CREATE TRIGGER call_recording_no_{} BEFORE {what} ON call_recording \
                 BEGIN SELECT RAISE(ABORT, 'call_recording is append-only'); END",
                what.to_lowercase()
            ));
        }
    } else {
        // fuzhen_append_only() comes with the consults' migration.
        all.push(
            "CREATE TRIGGER call_recording_append_only BEFORE UPDATE OR DELETE ON \
             call_recording FOR EACH ROW EXECUTE FUNCTION fuzhen_append_only()"
                .into(),
        );
        all.push(
            "CREATE TRIGGER call_recording_no_truncate BEFORE TRUNCATE ON call_recording \
             FOR EACH STATEMENT EXECUTE FUNCTION fuzhen_append_only()"
                .into(),
        );
    }
    all
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for statement in up(db.get_database_backend()) {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        // Dropping a table drops its triggers.
        for t in ["call_recording_chunk", "call_recording", "consult_call"] {
            db.execute_unprepared(&format!("DROP TABLE IF EXISTS {t}"))
                .await?;
        }
        Ok(())
    }
}
