//! Anchors of the audit chain (security review item 4): now and then the chain's head
//! (its seq and hash) is time-stamped by a time-stamping authority (RFC 3161) and the
//! token kept here. Even the audit key's holder cannot then rewrite the chain before the
//! last anchor unseen. Rows are added, never changed or removed.
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
        "CREATE TABLE audit_anchor ({id}, \
         seq BIGINT NOT NULL UNIQUE CHECK (seq >= 1), \
         head_hash VARCHAR(64) NOT NULL, \
         authority VARCHAR(255) NOT NULL, \
         token TEXT NOT NULL, \
         stamped_at BIGINT NOT NULL)"
    )
}

fn up(backend: DbBackend) -> Vec<String> {
    let mut all = vec![table(backend)];
    match backend {
        DbBackend::Sqlite => all.extend([
            "CREATE TRIGGER audit_anchor_fixed BEFORE UPDATE ON audit_anchor \
             BEGIN SELECT RAISE(ABORT, 'audit_anchor is append-only'); END"
                .to_owned(),
            "CREATE TRIGGER audit_anchor_kept BEFORE DELETE ON audit_anchor \
             BEGIN SELECT RAISE(ABORT, 'audit_anchor is append-only'); END"
                .to_owned(),
        ]),
        _ => all.extend([
            "CREATE FUNCTION audit_anchor_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN RAISE EXCEPTION 'audit_anchor is append-only' \
             USING ERRCODE = 'insufficient_privilege'; END $$"
                .to_owned(),
            "CREATE TRIGGER audit_anchor_fixed BEFORE UPDATE OR DELETE ON audit_anchor \
             FOR EACH ROW EXECUTE FUNCTION audit_anchor_refuse()"
                .to_owned(),
            "CREATE TRIGGER audit_anchor_no_truncate BEFORE TRUNCATE ON audit_anchor \
             FOR EACH STATEMENT EXECUTE FUNCTION audit_anchor_refuse()"
                .to_owned(),
        ]),
    }
    all
}

fn down(backend: DbBackend) -> Vec<&'static str> {
    match backend {
        DbBackend::Sqlite => vec!["DROP TABLE audit_anchor"],
        _ => vec![
            "DROP TABLE audit_anchor",
            "DROP FUNCTION IF EXISTS audit_anchor_refuse()",
        ],
    }
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
        for statement in down(db.get_database_backend()) {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }
}
