//! The audit chain is keyed (security review item 4): each row's hash is an HMAC with a
//! key that lives outside the database (`FUZHEN_AUDIT_KEY`), so whoever holds only the
//! database cannot recompute the chain after editing a row. `audit_key_marker` says
//! from which seq the chain is keyed (rows sealed before the upgrade keep their SHA-256
//! hashes) with a tag that only the key makes, so the marker cannot be moved or faked;
//! it is written once and the database refuses to change or delete it.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "CREATE TABLE audit_key_marker (\
    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1), \
    keyed_from BIGINT NOT NULL CHECK (keyed_from >= 1), \
    tag VARCHAR(64) NOT NULL)";

fn up(backend: DbBackend) -> Vec<&'static str> {
    match backend {
        DbBackend::Sqlite => vec![
            TABLE,
            "CREATE TRIGGER audit_key_marker_fixed BEFORE UPDATE ON audit_key_marker \
             BEGIN SELECT RAISE(ABORT, 'audit_key_marker is written once'); END",
            "CREATE TRIGGER audit_key_marker_kept BEFORE DELETE ON audit_key_marker \
             BEGIN SELECT RAISE(ABORT, 'audit_key_marker is written once'); END",
        ],
        _ => vec![
            TABLE,
            "CREATE FUNCTION audit_key_marker_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN RAISE EXCEPTION 'audit_key_marker is written once' \
             USING ERRCODE = 'insufficient_privilege'; END $$",
            "CREATE TRIGGER audit_key_marker_fixed BEFORE UPDATE OR DELETE ON audit_key_marker \
             FOR EACH ROW EXECUTE FUNCTION audit_key_marker_refuse()",
            "CREATE TRIGGER audit_key_marker_no_truncate BEFORE TRUNCATE ON audit_key_marker \
             FOR EACH STATEMENT EXECUTE FUNCTION audit_key_marker_refuse()",
        ],
    }
}

fn down(backend: DbBackend) -> Vec<&'static str> {
    match backend {
        DbBackend::Sqlite => vec!["DROP TABLE audit_key_marker"],
        _ => vec![
            "DROP TABLE audit_key_marker",
            "DROP FUNCTION IF EXISTS audit_key_marker_refuse()",
        ],
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for statement in up(db.get_database_backend()) {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for statement in down(db.get_database_backend()) {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }
}
