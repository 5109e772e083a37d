//! An order pays for a subject: its kind (`consult`: a consult booking; drug orders
//! next) and that subject's id, once per subject, and says for whom (the family member,
//! or the account holder). The booking column becomes the subject column, without a
//! reference to one table, and every existing order keeps its row, its id and its history
//! (refunds, lines and reconciliation lines point at the same ids).
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns both tables share, in order.
const COLUMNS: &str = "id, order_number, patient_id, subject_id, kind, status, amount_fen, \
    refunded_fen, currency, description, provider, method, provider_ref, payment_started_at, \
    paid_fen, created_at, paid_at, ended_at, updated_at";

/// SQLite's orders table, with what it pays for (`subject`, before the kind) and the
/// table's last constraints (`tail`).
fn sqlite_orders(subject: &str, tail: &str) -> String {
    format!(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, \
         order_number VARCHAR(32) NOT NULL UNIQUE, \
         patient_id BIGINT NOT NULL REFERENCES patient (id), {subject}\
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
         updated_at BIGINT NOT NULL{tail})"
    )
}

/// The indexes both layouts have.
const INDEXES: [&str; 3] = [
    "CREATE INDEX orders_patient ON orders (patient_id, id)",
    "CREATE INDEX orders_status ON orders (status, created_at)",
    "CREATE INDEX orders_provider_ref ON orders (provider_ref)",
];

fn statements(backend: DbBackend) -> Vec<String> {
    match backend {
        DbBackend::Sqlite => vec![
            // SQLite cannot drop a column's reference: the table is made again. The
            // references to `orders` from refunds and lines are checked at commit, when
            // every order is back under its id.
            "PRAGMA defer_foreign_keys = ON".into(),
            "CREATE TABLE orders_before AS SELECT * FROM orders".into(),
            "DROP TABLE orders".into(),
            sqlite_orders(
                "subject_id BIGINT NOT NULL, \
                 family_member_id BIGINT NULL REFERENCES family_member (id), ",
                ", CONSTRAINT orders_subject_once UNIQUE (kind, subject_id)",
            ),
            format!(
                "INSERT INTO orders ({COLUMNS}, family_member_id) SELECT {}, \
                 (SELECT b.family_member_id FROM booking b WHERE b.id = orders_before.booking_id) \
                 FROM orders_before",
                COLUMNS.replace("subject_id", "booking_id")
            ),
            "DROP TABLE orders_before".into(),
        ]
        .into_iter()
        .chain(INDEXES.map(String::from))
        .collect(),
        _ => vec![
            "ALTER TABLE orders DROP CONSTRAINT orders_booking_id_fkey".into(),
            "ALTER TABLE orders DROP CONSTRAINT orders_booking_id_key".into(),
            "ALTER TABLE orders RENAME COLUMN booking_id TO subject_id".into(),
            "ALTER TABLE orders ALTER COLUMN subject_id SET NOT NULL".into(),
            "ALTER TABLE orders ADD CONSTRAINT orders_subject_once UNIQUE (kind, subject_id)"
                .into(),
            "ALTER TABLE orders ADD COLUMN family_member_id BIGINT NULL \
             REFERENCES family_member (id)"
                .into(),
            "UPDATE orders SET family_member_id = \
             (SELECT b.family_member_id FROM booking b WHERE b.id = orders.subject_id)"
                .into(),
        ],
    }
}

/// Back to orders of bookings only (for a roll-back; every order must be a consult's).
fn undo(backend: DbBackend) -> Vec<String> {
    match backend {
        DbBackend::Sqlite => vec![
            "PRAGMA defer_foreign_keys = ON".into(),
            "CREATE TABLE orders_after AS SELECT * FROM orders".into(),
            "DROP TABLE orders".into(),
            sqlite_orders(
                "booking_id BIGINT NULL UNIQUE REFERENCES booking (id), ",
                "",
            ),
            format!(
                "INSERT INTO orders ({}) SELECT {COLUMNS} FROM orders_after",
                COLUMNS.replace("subject_id", "booking_id")
            ),
            "DROP TABLE orders_after".into(),
        ]
        .into_iter()
        .chain(INDEXES.map(String::from))
        .collect(),
        _ => vec![
            "ALTER TABLE orders DROP COLUMN family_member_id".into(),
            "ALTER TABLE orders DROP CONSTRAINT orders_subject_once".into(),
            "ALTER TABLE orders ALTER COLUMN subject_id DROP NOT NULL".into(),
            "ALTER TABLE orders RENAME COLUMN subject_id TO booking_id".into(),
            "ALTER TABLE orders ADD CONSTRAINT orders_booking_id_key UNIQUE (booking_id)".into(),
            "ALTER TABLE orders ADD CONSTRAINT orders_booking_id_fkey \
             FOREIGN KEY (booking_id) REFERENCES booking (id)"
                .into(),
        ],
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        // Every order the app made pays for a booking; one with none (only the webhook
        // bench's early replay made such rows, in a throw-away database) has no subject
        // to carry over, and is named rather than dropped.
        let orphans = db
            .query_one_raw(Statement::from_string(
                m.get_database_backend(),
                "SELECT COUNT(*) AS n FROM orders WHERE booking_id IS NULL",
            ))
            .await?
            .map(|r| r.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
        if orphans > 0 {
            return Err(DbErr::Migration(format!(
                "{orphans} orders pay for no booking (made by a benchmark, not by the app): \
                 delete them with their order lines and refunds, then start again"
            )));
        }
        for statement in statements(m.get_database_backend()) {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for statement in undo(m.get_database_backend()) {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }
}
