//! The audit log is sealed in batches (R-SEC-2), so that audited changes no longer queue
//! behind one lock.
//!
//! Until now every audited transaction locked `audit_head` until it committed, so
//! changes that are otherwise independent (two patients holding two different slots)
//! ran one at a time. Now a transaction only inserts its row, with `seq`, `prev_hash`
//! and `hash` still empty; a sealer (the server's `audit::seal`, run every second and
//! by `server audit verify`) takes the unsealed rows in `id` order under the head's lock
//! and gives each its place in the chain and its hash. The database still refuses
//! DELETE (and TRUNCATE) and now allows exactly one UPDATE per row: filling in the seal
//! of a row that has none, with every other column unchanged. The head moves forward
//! only. Existing rows keep their seq, hashes and order (`id` = their seq).
use crate::m20261124_000002_audit_log::{
    POSTGRES_TRIGGERS as OLD_POSTGRES_TRIGGERS, SQLITE_TRIGGERS as OLD_SQLITE_TRIGGERS, backend_sql,
};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The event columns: set once on insert, never changed by the seal.
const EVENT_COLUMNS: &str =
    "at, actor_kind, actor_id, on_behalf_of, action, entity_type, entity_id, ip, detail";

/// The new table; only the `id` column is spelt differently.
fn table(backend: DbBackend) -> String {
    let id = match backend {
        DbBackend::Sqlite => "id INTEGER PRIMARY KEY AUTOINCREMENT",
        _ => "id BIGSERIAL PRIMARY KEY",
    };
    format!(
        "CREATE TABLE audit_log_sealed ({id}, \
         seq BIGINT NULL, \
         at BIGINT NOT NULL, \
         actor_kind VARCHAR(16) NOT NULL, \
         actor_id BIGINT NULL, \
         on_behalf_of BIGINT NULL, \
         action VARCHAR(64) NOT NULL, \
         entity_type VARCHAR(64) NULL, \
         entity_id TEXT NULL, \
         ip TEXT NOT NULL, \
         detail TEXT NULL, \
         prev_hash VARCHAR(64) NULL, \
         hash VARCHAR(64) NULL, \
         CONSTRAINT audit_seal_whole CHECK ((seq IS NULL AND prev_hash IS NULL AND hash IS NULL) \
           OR (seq IS NOT NULL AND prev_hash IS NOT NULL AND hash IS NOT NULL)))"
    )
}

/// Indexes of the new table (the old table's go with it).
const INDEXES: &[&str] = &[
    // Unique among sealed rows (NULLs do not collide).
    "CREATE UNIQUE INDEX idx_audit_seq ON audit_log (seq)",
    // The sealer's work list.
    "CREATE INDEX idx_audit_unsealed ON audit_log (id) WHERE seq IS NULL",
    "CREATE INDEX idx_audit_actor ON audit_log (actor_kind, actor_id)",
    "CREATE INDEX idx_audit_on_behalf_of ON audit_log (on_behalf_of)",
    "CREATE INDEX idx_audit_entity ON audit_log (entity_type, entity_id)",
    "CREATE INDEX idx_audit_at ON audit_log (at)",
];

const SQLITE_BEFORE: &[&str] = &[
    "DROP TRIGGER IF EXISTS audit_log_no_update",
    "DROP TRIGGER IF EXISTS audit_log_no_delete",
    "DROP TRIGGER IF EXISTS audit_head_forward_only",
];

const POSTGRES_BEFORE: &[&str] = &[
    "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
    "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log",
    "DROP TRIGGER IF EXISTS audit_head_guard ON audit_head",
];

const SQLITE_TRIGGERS: &[&str] = &[
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log \
     BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_seal_once BEFORE UPDATE ON audit_log \
     WHEN OLD.seq IS NOT NULL OR NEW.seq IS NULL OR NEW.id IS NOT OLD.id \
       OR NEW.at IS NOT OLD.at OR NEW.actor_kind IS NOT OLD.actor_kind \
       OR NEW.actor_id IS NOT OLD.actor_id OR NEW.on_behalf_of IS NOT OLD.on_behalf_of \
       OR NEW.action IS NOT OLD.action OR NEW.entity_type IS NOT OLD.entity_type \
       OR NEW.entity_id IS NOT OLD.entity_id OR NEW.ip IS NOT OLD.ip \
       OR NEW.detail IS NOT OLD.detail \
     BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: a row is only sealed, once'); END",
    "CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head \
     WHEN NEW.id <> OLD.id OR NEW.seq < OLD.seq \
     BEGIN SELECT RAISE(ABORT, 'audit_head only moves forward'); END",
];

const POSTGRES_TRIGGERS: &[&str] = &[
    "CREATE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN \
       IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL \
          AND (NEW.id, NEW.at, NEW.actor_kind, NEW.actor_id, NEW.on_behalf_of, NEW.action, \
               NEW.entity_type, NEW.entity_id, NEW.ip, NEW.detail) \
              IS NOT DISTINCT FROM \
              (OLD.id, OLD.at, OLD.actor_kind, OLD.actor_id, OLD.on_behalf_of, OLD.action, \
               OLD.entity_type, OLD.entity_id, OLD.ip, OLD.detail) THEN \
         RETURN NEW; \
       END IF; \
       RAISE EXCEPTION 'audit_log is append-only: a row is only sealed, once' \
         USING ERRCODE = 'insufficient_privilege'; \
     END $$",
    "CREATE TRIGGER audit_log_seal_once BEFORE UPDATE OR DELETE ON audit_log \
     FOR EACH ROW EXECUTE FUNCTION audit_log_guard()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log \
     FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()",
    "CREATE OR REPLACE FUNCTION audit_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN \
       IF TG_OP <> 'UPDATE' THEN \
         RAISE EXCEPTION 'audit_head cannot be deleted' USING ERRCODE = 'insufficient_privilege'; \
       END IF; \
       IF NEW.id <> OLD.id OR NEW.seq < OLD.seq THEN \
         RAISE EXCEPTION 'audit_head only moves forward' USING ERRCODE = 'insufficient_privilege'; \
       END IF; \
       RETURN NEW; \
     END $$",
    "CREATE TRIGGER audit_head_guard BEFORE UPDATE OR DELETE ON audit_head \
     FOR EACH ROW EXECUTE FUNCTION audit_head_guard()",
];

async fn run(db: &impl ConnectionTrait, sql: &[&str]) -> Result<(), DbErr> {
    for s in sql {
        db.execute_unprepared(s).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// The rebuild is all or nothing, on one connection (SQLite too).
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let backend = m.get_database_backend();
        let db = m.get_connection();
        run(db, backend_sql(backend, SQLITE_BEFORE, POSTGRES_BEFORE)?).await?;
        db.execute_unprepared(&table(backend)).await?;
        db.execute_unprepared(&format!(
            "INSERT INTO audit_log_sealed (id, seq, {EVENT_COLUMNS}, prev_hash, hash) \
             SELECT seq, seq, {EVENT_COLUMNS}, prev_hash, hash FROM audit_log ORDER BY seq"
        ))
        .await?;
        db.execute_unprepared("DROP TABLE audit_log").await?;
        db.execute_unprepared("ALTER TABLE audit_log_sealed RENAME TO audit_log")
            .await?;
        if backend == DbBackend::Postgres {
            // New rows continue after the copied ones.
            db.execute_unprepared(
                "ALTER SEQUENCE audit_log_sealed_id_seq RENAME TO audit_log_id_seq",
            )
            .await?;
            db.execute_unprepared(
                "SELECT setval('audit_log_id_seq', COALESCE((SELECT MAX(id) FROM audit_log), 0) + 1, false)",
            )
            .await?;
        }
        run(db, INDEXES).await?;
        run(
            db,
            backend_sql(backend, SQLITE_TRIGGERS, POSTGRES_TRIGGERS)?,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let backend = m.get_database_backend();
        let db = m.get_connection();
        let unsealed = db
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT COUNT(*) AS n FROM audit_log WHERE seq IS NULL",
            ))
            .await?
            .map(|r| r.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
        if unsealed > 0 {
            return Err(DbErr::Migration(format!(
                "{unsealed} audit rows are not sealed yet: run `server audit verify` first"
            )));
        }
        let drops: &[&str] = match backend {
            DbBackend::Sqlite => &[
                "DROP TRIGGER IF EXISTS audit_log_seal_once",
                "DROP TRIGGER IF EXISTS audit_log_no_delete",
                "DROP TRIGGER IF EXISTS audit_head_forward_only",
            ],
            _ => &[
                "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
                "DROP TRIGGER IF EXISTS audit_log_seal_once ON audit_log",
                "DROP TRIGGER IF EXISTS audit_head_guard ON audit_head",
                "DROP TRIGGER IF EXISTS audit_head_no_truncate ON audit_head",
                "DROP FUNCTION IF EXISTS audit_log_guard()",
                "DROP FUNCTION IF EXISTS audit_head_guard()",
                "DROP FUNCTION IF EXISTS audit_log_refuse_change()",
            ],
        };
        run(db, drops).await?;
        db.execute_unprepared(
            "CREATE TABLE audit_log_chained (seq BIGINT NOT NULL PRIMARY KEY, \
             at BIGINT NOT NULL, actor_kind VARCHAR(16) NOT NULL, actor_id BIGINT NULL, \
             on_behalf_of BIGINT NULL, action VARCHAR(64) NOT NULL, entity_type VARCHAR(64) NULL, \
             entity_id TEXT NULL, ip TEXT NOT NULL, detail TEXT NULL, \
             prev_hash VARCHAR(64) NOT NULL, hash VARCHAR(64) NOT NULL)",
        )
        .await?;
        db.execute_unprepared(&format!(
            "INSERT INTO audit_log_chained (seq, {EVENT_COLUMNS}, prev_hash, hash) \
             SELECT seq, {EVENT_COLUMNS}, prev_hash, hash FROM audit_log ORDER BY seq"
        ))
        .await?;
        db.execute_unprepared("DROP TABLE audit_log").await?;
        db.execute_unprepared("ALTER TABLE audit_log_chained RENAME TO audit_log")
            .await?;
        run(db, &INDEXES[2..]).await?;
        run(
            db,
            backend_sql(backend, OLD_SQLITE_TRIGGERS, OLD_POSTGRES_TRIGGERS)?,
        )
        .await?;
        Ok(())
    }
}
