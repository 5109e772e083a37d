//! Money paths (security review item 8). A refund that fails at the provider gives its
//! amount back and its order back to the status it left (`orders.refunding_from`); an
//! operator sends it again as a new attempt, and the failed one is marked
//! (`refund.retried_at`), so the "failed refunds" list shows each failure until then. A
//! second payment for an order already paid goes back by itself: its refund names that
//! payment (`refund.payment_ref`), with the reason `duplicate_payment`.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const REASONS_BEFORE: &str =
    "'slot_cancelled', 'paid_after_expiry', 'unanswered', 'patient_cancelled', 'operator_decision'";
const REASONS: &str = "'slot_cancelled', 'paid_after_expiry', 'unanswered', 'patient_cancelled', \
    'operator_decision', 'duplicate_payment'";
/// The refund columns before this migration, in order.
const COLUMNS: &str = "id, refund_number, order_id, amount_fen, full_refund, reason, note, \
    requested_by_staff, idempotency_key, status, provider_ref, attempts, next_attempt_at, \
    last_error, requested_at, settled_at";

/// SQLite's refund table with these reasons and, after its columns, `more`.
fn sqlite_refund(reasons: &str, more: &str) -> String {
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
         settled_at BIGINT NULL{more})"
    )
}

/// SQLite cannot change a CHECK: the refund table is made again, every row kept.
fn sqlite_remake(reasons: &str, more: &str, keep: &str) -> Vec<String> {
    vec![
        "PRAGMA defer_foreign_keys = ON".into(),
        "CREATE TABLE refund_before AS SELECT * FROM refund".into(),
        "DROP TABLE refund".into(),
        sqlite_refund(reasons, more),
        format!("INSERT INTO refund ({COLUMNS}) SELECT {COLUMNS} FROM refund_before WHERE {keep}"),
        "DROP TABLE refund_before".into(),
        "CREATE INDEX refund_order ON refund (order_id)".into(),
        "CREATE INDEX refund_due ON refund (status, next_attempt_at)".into(),
    ]
}

const REFUNDING_FROM: &str = "ALTER TABLE orders ADD COLUMN refunding_from VARCHAR(16) NULL \
    CHECK (refunding_from IN ('paid', 'served', 'expired'))";

fn up(backend: DbBackend) -> Vec<String> {
    match backend {
        DbBackend::Sqlite => {
            let mut all = sqlite_remake(
                REASONS,
                ", payment_ref VARCHAR(255) NULL, retried_at BIGINT NULL",
                "1 = 1",
            );
            all.push(REFUNDING_FROM.into());
            all
        }
        _ => vec![
            "ALTER TABLE refund ADD COLUMN payment_ref VARCHAR(255) NULL".into(),
            "ALTER TABLE refund ADD COLUMN retried_at BIGINT NULL".into(),
            "ALTER TABLE refund DROP CONSTRAINT refund_reason_check".into(),
            format!(
                "ALTER TABLE refund ADD CONSTRAINT refund_reason_check CHECK (reason IN ({REASONS}))"
            ),
            REFUNDING_FROM.into(),
        ],
    }
}

fn down(backend: DbBackend) -> Vec<String> {
    // Refunds of second payments have no place before this migration.
    match backend {
        DbBackend::Sqlite => {
            let mut all = vec!["ALTER TABLE orders DROP COLUMN refunding_from".to_owned()];
            all.extend(sqlite_remake(
                REASONS_BEFORE,
                "",
                "reason <> 'duplicate_payment'",
            ));
            all
        }
        _ => vec![
            "ALTER TABLE orders DROP COLUMN refunding_from".into(),
            "DELETE FROM refund WHERE reason = 'duplicate_payment'".into(),
            "ALTER TABLE refund DROP CONSTRAINT refund_reason_check".into(),
            format!(
                "ALTER TABLE refund ADD CONSTRAINT refund_reason_check CHECK (reason IN ({REASONS_BEFORE}))"
            ),
            "ALTER TABLE refund DROP COLUMN retried_at".into(),
            "ALTER TABLE refund DROP COLUMN payment_ref".into(),
        ],
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// In one transaction on SQLite too: the table is made again over several statements,
    /// which must run on one connection and stand or fall together.
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
