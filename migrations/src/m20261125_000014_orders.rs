//! Orders, their lines and refunds (R-PAY-1, R-PAY-2). The database keeps the money
//! straight by itself: amounts are whole fen within bounds, CNY only, a status is one of
//! the machine's, what was refunded never exceeds what was paid (a CHECK, and every
//! refund adds to it by one conditional update), a booking has at most one order, and a
//! refund's idempotency key is unique, so one decision never becomes two refunds. And
//! the daily reconciliation's runs and lines (R-PAY-3).
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn id(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Sqlite => "id INTEGER PRIMARY KEY AUTOINCREMENT",
        _ => "id BIGSERIAL PRIMARY KEY",
    }
}

fn tables(backend: DbBackend) -> Vec<String> {
    let id = id(backend);
    vec![
        format!(
            "CREATE TABLE orders ({id}, \
             order_number VARCHAR(32) NOT NULL UNIQUE, \
             patient_id BIGINT NOT NULL REFERENCES patient (id), \
             booking_id BIGINT NULL UNIQUE REFERENCES booking (id), \
             kind VARCHAR(16) NOT NULL CHECK (kind IN ('consult')), \
             status VARCHAR(16) NOT NULL CHECK (status IN \
               ('pending', 'paid', 'served', 'closed', 'refunding', 'refunded', 'expired')), \
             amount_fen BIGINT NOT NULL CHECK (amount_fen >= 0 AND amount_fen <= 10000000), \
             refunded_fen BIGINT NOT NULL DEFAULT 0 \
               CHECK (refunded_fen >= 0 AND refunded_fen <= amount_fen), \
             currency VARCHAR(3) NOT NULL CHECK (currency = 'CNY'), \
             description VARCHAR(255) NOT NULL, \
             provider VARCHAR(16) NOT NULL, \
             method VARCHAR(16) NULL, \
             provider_ref VARCHAR(255) NULL, \
             payment_started_at BIGINT NULL, \
             paid_fen BIGINT NULL, \
             created_at BIGINT NOT NULL, \
             paid_at BIGINT NULL, \
             ended_at BIGINT NULL, \
             updated_at BIGINT NOT NULL)"
        ),
        "CREATE INDEX orders_patient ON orders (patient_id, id)".into(),
        "CREATE INDEX orders_status ON orders (status, created_at)".into(),
        "CREATE INDEX orders_provider_ref ON orders (provider_ref)".into(),
        format!(
            "CREATE TABLE order_line ({id}, \
             order_id BIGINT NOT NULL REFERENCES orders (id), \
             line_no INTEGER NOT NULL CHECK (line_no > 0), \
             item VARCHAR(32) NOT NULL, \
             description VARCHAR(255) NOT NULL, \
             unit_fen BIGINT NOT NULL CHECK (unit_fen >= 0), \
             quantity INTEGER NOT NULL CHECK (quantity > 0 AND quantity <= 1000), \
             amount_fen BIGINT NOT NULL CHECK (amount_fen = unit_fen * quantity), \
             CONSTRAINT order_line_once UNIQUE (order_id, line_no))"
        ),
        format!(
            "CREATE TABLE refund ({id}, \
             refund_number VARCHAR(32) NOT NULL UNIQUE, \
             order_id BIGINT NOT NULL REFERENCES orders (id), \
             amount_fen BIGINT NOT NULL CHECK (amount_fen > 0 AND amount_fen <= 10000000), \
             full_refund BOOLEAN NOT NULL, \
             reason VARCHAR(32) NOT NULL CHECK (reason IN ('slot_cancelled', \
               'paid_after_expiry', 'unanswered', 'patient_cancelled', 'operator_decision')), \
             note VARCHAR(500) NULL, \
             requested_by_staff BIGINT NULL, \
             idempotency_key VARCHAR(64) NOT NULL UNIQUE, \
             status VARCHAR(16) NOT NULL CHECK (status IN ('requested', 'succeeded', 'failed')), \
             provider_ref VARCHAR(255) NULL, \
             attempts INTEGER NOT NULL DEFAULT 0, \
             next_attempt_at BIGINT NOT NULL, \
             last_error VARCHAR(255) NULL, \
             requested_at BIGINT NOT NULL, \
             settled_at BIGINT NULL)"
        ),
        "CREATE INDEX refund_order ON refund (order_id)".into(),
        "CREATE INDEX refund_due ON refund (status, next_attempt_at)".into(),
        // R-PAY-3: one reconciliation per provider and China day; its lines are what an
        // operator resolves. Running a day again updates the lines, keeping resolutions.
        format!(
            "CREATE TABLE reconciliation_run ({id}, \
             provider VARCHAR(16) NOT NULL, \
             day VARCHAR(10) NOT NULL, \
             ran_at BIGINT NOT NULL, \
             matched INTEGER NOT NULL, \
             differences INTEGER NOT NULL, \
             CONSTRAINT reconciliation_run_once UNIQUE (provider, day))"
        ),
        format!(
            "CREATE TABLE reconciliation_line ({id}, \
             run_id BIGINT NOT NULL REFERENCES reconciliation_run (id), \
             provider_ref VARCHAR(255) NOT NULL, \
             order_number VARCHAR(32) NULL, \
             kind VARCHAR(16) NOT NULL CHECK (kind IN \
               ('matched', 'only_ours', 'only_theirs', 'amount_mismatch')), \
             ours_fen BIGINT NULL, \
             theirs_fen BIGINT NULL, \
             resolved_by_staff BIGINT NULL, \
             resolved_at BIGINT NULL, \
             resolution VARCHAR(500) NULL, \
             CONSTRAINT reconciliation_line_once UNIQUE (run_id, provider_ref))"
        ),
        // What processing made of a stored event; set once, with `processed_at` (the
        // event table's guard lets nothing else change).
        "ALTER TABLE payment_event ADD COLUMN outcome VARCHAR(32) NULL".into(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for statement in tables(m.get_database_backend()) {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }
}
