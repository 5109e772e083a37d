//! The audit log (R-SEC-2): one append-only, hash-chained table and a one-row head.
//!
//! `audit_log` holds one row per audited event; `seq` runs 1, 2, 3… without gaps and each
//! row's `hash` covers the previous row's hash and every other column, so an edit, a
//! removal or an insertion anywhere shows when the chain is recomputed. `audit_head`
//! (exactly one row, id = 1) holds the last `seq` and `hash`: appenders lock it first,
//! which serialises them, and it exposes a truncated tail. The database itself refuses
//! UPDATE and DELETE (and on PostgreSQL TRUNCATE) on `audit_log`, refuses to delete the
//! head and lets the head only move forward one step at a time.
//! Times are unix seconds (i64), as everywhere else.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The hash the first row chains onto: 64 zeros (the server's `audit::GENESIS_HASH`).
const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Seq,
    At,
    ActorKind,
    ActorId,
    OnBehalfOf,
    Action,
    EntityType,
    EntityId,
    Ip,
    Detail,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum AuditHead {
    Table,
    Id,
    Seq,
    LastHash,
}

/// SQLite: one trigger per refused operation.
pub(crate) const SQLITE_TRIGGERS: &[&str] = &[
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log \
     BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log \
     BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head \
     BEGIN SELECT RAISE(ABORT, 'audit_head cannot be deleted'); END",
    "CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head \
     WHEN NEW.id <> OLD.id OR NEW.seq NOT IN (OLD.seq, OLD.seq + 1) \
     BEGIN SELECT RAISE(ABORT, 'audit_head only moves forward'); END",
];

/// PostgreSQL: plpgsql functions and the triggers that call them.
pub(crate) const POSTGRES_TRIGGERS: &[&str] = &[
    "CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege'; END $$",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log \
     FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log \
     FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()",
    "CREATE FUNCTION audit_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN \
       IF TG_OP <> 'UPDATE' THEN \
         RAISE EXCEPTION 'audit_head cannot be deleted' USING ERRCODE = 'insufficient_privilege'; \
       END IF; \
       IF NEW.id <> OLD.id OR NEW.seq NOT IN (OLD.seq, OLD.seq + 1) THEN \
         RAISE EXCEPTION 'audit_head only moves forward' USING ERRCODE = 'insufficient_privilege'; \
       END IF; \
       RETURN NEW; \
     END $$",
    "CREATE TRIGGER audit_head_guard BEFORE UPDATE OR DELETE ON audit_head \
     FOR EACH ROW EXECUTE FUNCTION audit_head_guard()",
    "CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head \
     FOR EACH STATEMENT EXECUTE FUNCTION audit_head_guard()",
];

const SQLITE_DROP: &[&str] = &[
    "DROP TRIGGER IF EXISTS audit_head_forward_only",
    "DROP TRIGGER IF EXISTS audit_head_no_delete",
    "DROP TRIGGER IF EXISTS audit_log_no_delete",
    "DROP TRIGGER IF EXISTS audit_log_no_update",
];

const POSTGRES_DROP: &[&str] = &[
    "DROP TRIGGER IF EXISTS audit_head_no_truncate ON audit_head",
    "DROP TRIGGER IF EXISTS audit_head_guard ON audit_head",
    "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
    "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log",
    "DROP FUNCTION IF EXISTS audit_head_guard()",
    "DROP FUNCTION IF EXISTS audit_log_refuse_change()",
];

pub(crate) fn backend_sql(
    backend: DbBackend,
    sqlite: &'static [&'static str],
    postgres: &'static [&'static str],
) -> Result<&'static [&'static str], DbErr> {
    match backend {
        DbBackend::Sqlite => Ok(sqlite),
        DbBackend::Postgres => Ok(postgres),
        other => Err(DbErr::Migration(format!(
            "the audit log supports SQLite and PostgreSQL, not {other:?}"
        ))),
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let triggers = backend_sql(m.get_database_backend(), SQLITE_TRIGGERS, POSTGRES_TRIGGERS)?;
        m.create_table(
            Table::create()
                .table(AuditLog::Table)
                .col(
                    ColumnDef::new(AuditLog::Seq)
                        .big_integer()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(AuditLog::At).big_integer().not_null())
                .col(
                    ColumnDef::new(AuditLog::ActorKind)
                        .string_len(16)
                        .not_null(),
                )
                .col(ColumnDef::new(AuditLog::ActorId).big_integer().null())
                .col(ColumnDef::new(AuditLog::OnBehalfOf).big_integer().null())
                .col(ColumnDef::new(AuditLog::Action).string_len(64).not_null())
                .col(ColumnDef::new(AuditLog::EntityType).string_len(64).null())
                .col(ColumnDef::new(AuditLog::EntityId).text().null())
                .col(ColumnDef::new(AuditLog::Ip).text().not_null())
                .col(ColumnDef::new(AuditLog::Detail).text().null())
                .col(ColumnDef::new(AuditLog::PrevHash).string_len(64).not_null())
                .col(ColumnDef::new(AuditLog::Hash).string_len(64).not_null())
                .to_owned(),
        )
        .await?;
        // Who did what, for whom, to which record: the questions an auditor asks.
        m.create_index(
            Index::create()
                .name("idx_audit_actor")
                .table(AuditLog::Table)
                .col(AuditLog::ActorKind)
                .col(AuditLog::ActorId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_audit_on_behalf_of")
                .table(AuditLog::Table)
                .col(AuditLog::OnBehalfOf)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_audit_entity")
                .table(AuditLog::Table)
                .col(AuditLog::EntityType)
                .col(AuditLog::EntityId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_audit_at")
                .table(AuditLog::Table)
                .col(AuditLog::At)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AuditHead::Table)
                .col(
                    ColumnDef::new(AuditHead::Id)
                        .integer()
                        .not_null()
                        .primary_key()
                        .check(Expr::col(AuditHead::Id).eq(1)),
                )
                .col(ColumnDef::new(AuditHead::Seq).big_integer().not_null())
                .col(
                    ColumnDef::new(AuditHead::LastHash)
                        .string_len(64)
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table(AuditHead::Table)
                .columns([AuditHead::Id, AuditHead::Seq, AuditHead::LastHash])
                .values_panic([1.into(), 0i64.into(), GENESIS_HASH.into()])
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        for sql in triggers {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let drops = backend_sql(m.get_database_backend(), SQLITE_DROP, POSTGRES_DROP)?;
        let db = m.get_connection();
        for sql in drops {
            db.execute_unprepared(sql).await?;
        }
        m.drop_table(Table::drop().table(AuditHead::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(AuditLog::Table).to_owned())
            .await?;
        Ok(())
    }
}
