//! The database: entities and connection. One way in: sea-orm.
pub mod booking;
pub mod call_media_event;
pub mod call_recording;
pub mod call_recording_chunk;
pub mod checkpoint;
pub mod consent_record;
pub mod consult;
pub mod consult_call;
pub mod consult_consent;
pub mod consult_file;
pub mod consult_message;
pub mod consult_price;
pub mod diagnosis_proof;
pub mod doctor;
pub mod doctor_presence;
pub mod emergency_screen;
pub mod family_member;
pub mod identity_claim;
pub mod medical_record;
pub mod notice;
pub mod order;
pub mod order_line;
pub mod patient;
pub mod payment_event;
pub mod proof_file;
pub mod queue_entry;
pub mod quick_reply;
pub mod reconciliation_line;
pub mod reconciliation_run;
pub mod record_access;
pub mod record_addendum;
pub mod record_revision;
pub mod refund;
pub mod schedule_session;
pub mod session;
pub mod slot;
pub mod sms_code;
pub mod staff;
pub mod staff_recovery_code;

use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait, Value,
};
use std::time::Duration;

/// A record's public number: a prefix naming what it is (`BK` booking, `OD` order, `RF`
/// refund, `SL` slot) and 56 random bits, so numbers say nothing about volume or order.
pub fn new_number(prefix: &str) -> String {
    use rand::Rng;
    format!("{prefix}{:014x}", rand::rngs::OsRng.r#gen::<u64>() >> 8)
}

/// The insert broke a unique index: the row is there already (or another request won).
pub fn is_unique_violation(e: &DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

pub async fn connect_and_migrate(url: &str) -> anyhow::Result<DatabaseConnection> {
    let db = connect(url).await?;
    Migrator::up(&db, None).await?;
    Ok(db)
}

/// Refuses to serve on a schema that is behind: with migrations run apart, by the
/// owner role (`server migrate`), the app's role cannot run them itself.
pub async fn check_migrated(db: &DatabaseConnection) -> anyhow::Result<()> {
    // Read, not asked of the migrator: it would create its table, which this role may not.
    let applied: Vec<String> = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM seaql_migrations",
        ))
        .await
        .map_err(|e| anyhow::anyhow!("the database has no migrations applied ({e}): run `server migrate` with the owner role's DATABASE_URL"))?
        .iter()
        .map(|row| row.try_get::<String>("", "version"))
        .collect::<Result<_, _>>()?;
    let pending: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .filter(|name| !applied.contains(name))
        .collect();
    if let Some(first) = pending.first() {
        anyhow::bail!(
            "the database is {} migrations behind (from {first}): run `server migrate` with the owner role's DATABASE_URL",
            pending.len()
        );
    }
    Ok(())
}

/// PostgreSQL: what the app's role (`role`) may do, granted by the owner role after
/// migrating (`server migrate` with `FUZHEN_APP_ROLE`). Everything the app reads and
/// writes, except the audit tables: there it may only add rows and fill in a row's seal
/// (its seq, link and hash; a trigger refuses a second), and it owns nothing, so it
/// cannot drop a trigger or a table. Run again after every migration (it is repeatable).
pub async fn grant_app_role(db: &DatabaseConnection, role: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        db.get_database_backend() == DbBackend::Postgres,
        "FUZHEN_APP_ROLE is for PostgreSQL"
    );
    anyhow::ensure!(
        !role.is_empty()
            && role.len() <= 63
            && role.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && role
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
        "FUZHEN_APP_ROLE must be a plain role name (a-z, 0-9, _)"
    );
    for statement in [
        format!("GRANT USAGE ON SCHEMA public TO {role}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"),
        format!("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"),
        format!("REVOKE INSERT, UPDATE, DELETE ON seaql_migrations FROM {role}"),
        format!(
            "REVOKE UPDATE, DELETE, TRUNCATE ON audit_log, audit_head, audit_key_marker, audit_anchor, consult_message, record_revision, record_addendum, record_access FROM {role}"
        ),
        format!("GRANT UPDATE (seq, prev_hash, hash) ON audit_log TO {role}"),
        format!("GRANT UPDATE (seq, last_hash) ON audit_head TO {role}"),
    ] {
        db.execute_unprepared(&statement).await?;
    }
    Ok(())
}

/// A pool on `url`, nothing run on it yet.
pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    // Statements are not logged (they carry personal data); slow ones are, as a warning.
    options
        .sqlx_logging(true)
        .sqlx_logging_level(log::LevelFilter::Trace)
        .sqlx_slow_statements_logging_settings(log::LevelFilter::Warn, Duration::from_secs(1));
    if url.starts_with("sqlite:") {
        // SQLite allows one writer; a small pool avoids lock contention. The pragmas are
        // connection options, so every pooled connection gets them, not just the first.
        options
            .max_connections(4)
            .min_connections(1)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(5))
                    .foreign_keys(true)
                    .pragma(
                        "wal_autocheckpoint",
                        checkpoint::AUTOCHECKPOINT_PAGES.to_string(),
                    )
            });
    } else {
        // sqlx keeps each connection's prepared statements; the batch writers' statements
        // differ with the batch's size, and at 100 (the default) they were prepared again
        // and again, which made a busy writer slower the more it had to catch up
        // (docs/performance.md, "Consult connections"). About 130 were seen in use.
        options
            .max_connections(16)
            .map_sqlx_postgres_opts(|o| o.statement_cache_capacity(256));
    }
    // A starved pool answers "busy" well before the request timeout, and says so in the log.
    // Only a connection idle long enough to have been dropped (by the server, a proxy or a
    // firewall) is pinged before use: a ping on every checkout doubled each query's trips.
    options
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire_if_idle_for(Duration::from_secs(30));
    Ok(Database::connect(options).await?)
}

/// A transaction that will write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`), so a read-then-write cannot fail half-way on a busy database.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// A hand-written statement in the SQL both databases understand, with `$1`-style
/// placeholders (SQLite spells them `?1`).
pub fn sql(backend: DbBackend, text: &str, values: Vec<Value>) -> Statement {
    let text = match backend {
        DbBackend::Sqlite => text.replace('$', "?"),
        _ => text.to_owned(),
    };
    Statement::from_sql_and_values(backend, text, values)
}

/// Counts one event against `key` in a window of `window_secs` that starts at the
/// key's first event, in one statement, and returns `(count, window_start)` after it.
/// Parallel requests each get their own count, so none can slip past a limit.
pub async fn count_hit(
    db: &impl ConnectionTrait,
    key: &str,
    window_secs: i64,
    now: i64,
) -> Result<(i64, i64), DbErr> {
    count_hits(db, key, 1, window_secs, now).await
}

/// [`count_hit`] for `n` events at once (the files of one upload).
pub async fn count_hits(
    db: &impl ConnectionTrait,
    key: &str,
    n: i64,
    window_secs: i64,
    now: i64,
) -> Result<(i64, i64), DbErr> {
    // Both CASEs read the row as it was before this statement.
    let stmt = sql(
        db.get_database_backend(),
        r#"INSERT INTO rate_counter ("key", window_end, "count") VALUES ($1, $2 + $3, $4)
           ON CONFLICT ("key") DO UPDATE SET
             "count" = CASE WHEN rate_counter.window_end <= $2 THEN $4 ELSE rate_counter."count" + $4 END,
             window_end = CASE WHEN rate_counter.window_end <= $2 THEN $2 + $3 ELSE rate_counter.window_end END
           RETURNING "count", window_end"#,
        vec![key.into(), now.into(), window_secs.into(), n.into()],
    );
    let row = db
        .query_one_raw(stmt)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("rate counter {key}")))?;
    let count: i64 = row.try_get("", "count")?;
    let window_end: i64 = row.try_get("", "window_end")?;
    Ok((count, window_end - window_secs))
}

/// Gives back one counted try: a try that succeeded (counted before it was judged, so
/// that parallel tries cannot slip past the limit) leaves only failures counting.
pub async fn uncount_hit(db: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    db.execute_raw(sql(
        db.get_database_backend(),
        r#"UPDATE rate_counter SET "count" = "count" - 1 WHERE "key" = $1 AND "count" > 0"#,
        vec![key.into()],
    ))
    .await?;
    Ok(())
}

/// Gives back `n` counted events (a refused upload's files), never below zero.
pub async fn uncount_hits(db: &impl ConnectionTrait, key: &str, n: i64) -> Result<(), DbErr> {
    db.execute_raw(sql(
        db.get_database_backend(),
        r#"UPDATE rate_counter SET "count" = CASE WHEN "count" > $2 THEN "count" - $2 ELSE 0 END WHERE "key" = $1"#,
        vec![key.into(), n.into()],
    ))
    .await?;
    Ok(())
}

/// Forgets a key's count (a successful login clears its failures).
pub async fn clear_count(db: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    db.execute_raw(sql(
        db.get_database_backend(),
        r#"DELETE FROM rate_counter WHERE "key" = $1"#,
        vec![key.into()],
    ))
    .await?;
    Ok(())
}

/// Drops counters whose window has ended.
pub async fn delete_ended_counts(db: &impl ConnectionTrait, now: i64) -> Result<u64, DbErr> {
    Ok(db
        .execute_raw(sql(
            db.get_database_backend(),
            "DELETE FROM rate_counter WHERE window_end <= $1",
            vec![now.into()],
        ))
        .await?
        .rows_affected())
}
