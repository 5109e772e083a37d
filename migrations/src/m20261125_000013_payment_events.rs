//! Payment events as the provider delivered them (R-PAY-4): kept in full, stored once per
//! (provider, event id), so a delivery that arrives twice changes nothing the second
//! time. The database refuses DELETE and every UPDATE except marking a stored event
//! processed, once.
use crate::m20261124_000002_audit_log::backend_sql;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn table(backend: DbBackend) -> String {
    let id = match backend {
        DbBackend::Sqlite => "id INTEGER PRIMARY KEY AUTOINCREMENT",
        _ => "id BIGSERIAL PRIMARY KEY",
    };
    format!(
        "CREATE TABLE payment_event ({id}, \
         provider VARCHAR(16) NOT NULL, \
         event_id VARCHAR(255) NOT NULL, \
         event_type VARCHAR(128) NOT NULL, \
         signed_at BIGINT NOT NULL, \
         received_at BIGINT NOT NULL, \
         payload TEXT NOT NULL, \
         processed_at BIGINT NULL, \
         CONSTRAINT payment_event_once UNIQUE (provider, event_id))"
    )
}

const SQLITE_TRIGGERS: &[&str] = &[
    "CREATE TRIGGER payment_event_no_delete BEFORE DELETE ON payment_event \
     BEGIN SELECT RAISE(ABORT, 'payment events are kept in full'); END",
    "CREATE TRIGGER payment_event_processed_once BEFORE UPDATE ON payment_event \
     WHEN OLD.processed_at IS NOT NULL OR NEW.processed_at IS NULL OR NEW.id IS NOT OLD.id \
       OR NEW.provider IS NOT OLD.provider OR NEW.event_id IS NOT OLD.event_id \
       OR NEW.event_type IS NOT OLD.event_type OR NEW.signed_at IS NOT OLD.signed_at \
       OR NEW.received_at IS NOT OLD.received_at OR NEW.payload IS NOT OLD.payload \
     BEGIN SELECT RAISE(ABORT, 'payment events are kept in full: only marked processed, once'); END",
];

const POSTGRES_TRIGGERS: &[&str] = &[
    "CREATE FUNCTION payment_event_guard() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN \
       IF TG_OP = 'UPDATE' AND OLD.processed_at IS NULL AND NEW.processed_at IS NOT NULL \
          AND (NEW.id, NEW.provider, NEW.event_id, NEW.event_type, NEW.signed_at, \
               NEW.received_at, NEW.payload) \
              IS NOT DISTINCT FROM \
              (OLD.id, OLD.provider, OLD.event_id, OLD.event_type, OLD.signed_at, \
               OLD.received_at, OLD.payload) THEN \
         RETURN NEW; \
       END IF; \
       RAISE EXCEPTION 'payment events are kept in full: only marked processed, once' \
         USING ERRCODE = 'insufficient_privilege'; \
     END $$",
    "CREATE TRIGGER payment_event_processed_once BEFORE UPDATE OR DELETE ON payment_event \
     FOR EACH ROW EXECUTE FUNCTION payment_event_guard()",
    "CREATE FUNCTION payment_event_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN RAISE EXCEPTION 'payment events are kept in full' \
       USING ERRCODE = 'insufficient_privilege'; END $$",
    "CREATE TRIGGER payment_event_no_truncate BEFORE TRUNCATE ON payment_event \
     FOR EACH STATEMENT EXECUTE FUNCTION payment_event_no_truncate()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let backend = m.get_database_backend();
        let triggers = backend_sql(backend, SQLITE_TRIGGERS, POSTGRES_TRIGGERS)?;
        let db = m.get_connection();
        db.execute_unprepared(&table(backend)).await?;
        db.execute_unprepared(
            "CREATE INDEX idx_payment_event_unprocessed ON payment_event (id) \
             WHERE processed_at IS NULL",
        )
        .await?;
        for t in triggers {
            db.execute_unprepared(t).await?;
        }
        Ok(())
    }
}
