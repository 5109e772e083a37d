// Iden enums name columns; `patient_number` in table `patient` is the schema, not a style choice.
#![expect(
    clippy::enum_variant_names,
    reason = "table and column names as the database has them"
)]
//! Schema migrations, applied at start on SQLite and PostgreSQL alike.
pub use sea_orm_migration::prelude::*;

mod m20261122_000001_accounts;
mod m20261124_000001_request_pipeline;
mod m20261124_000002_audit_log;
mod m20261124_000003_family;
mod m20261124_000004_staff;
mod m20261124_000005_messages;
mod m20261124_000006_emergency_screen;
mod m20261124_000007_proofs;
mod m20261124_000008_consult_consent;
mod m20261124_000009_doctors;
mod m20261124_000010_booking;
mod m20261124_000011_live_queue;
mod m20261125_000012_audit_sealing;
mod m20261125_000013_payment_events;
mod m20261125_000014_orders;
mod m20261206_000015_order_subject;
mod m20261207_000016_consent_screened_at;
mod m20261207_000017_staff_four_eyes;
mod m20261207_000018_refund_recovery;
mod m20261207_000019_audit_keyed;
mod m20261207_000020_audit_anchors;
mod m20261208_000021_consults;
mod m20261209_000022_calls;
mod m20261210_000023_call_media_events;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_accounts::Migration),
            Box::new(m20261124_000001_request_pipeline::Migration),
            Box::new(m20261124_000002_audit_log::Migration),
            Box::new(m20261124_000003_family::Migration),
            Box::new(m20261124_000004_staff::Migration),
            Box::new(m20261124_000005_messages::Migration),
            Box::new(m20261124_000006_emergency_screen::Migration),
            Box::new(m20261124_000007_proofs::Migration),
            Box::new(m20261124_000008_consult_consent::Migration),
            Box::new(m20261124_000009_doctors::Migration),
            Box::new(m20261124_000010_booking::Migration),
            Box::new(m20261124_000011_live_queue::Migration),
            Box::new(m20261125_000012_audit_sealing::Migration),
            Box::new(m20261125_000013_payment_events::Migration),
            Box::new(m20261125_000014_orders::Migration),
            Box::new(m20261206_000015_order_subject::Migration),
            Box::new(m20261207_000016_consent_screened_at::Migration),
            Box::new(m20261207_000017_staff_four_eyes::Migration),
            Box::new(m20261207_000018_refund_recovery::Migration),
            Box::new(m20261207_000019_audit_keyed::Migration),
            Box::new(m20261207_000020_audit_anchors::Migration),
            Box::new(m20261208_000021_consults::Migration),
            Box::new(m20261209_000022_calls::Migration),
            Box::new(m20261210_000023_call_media_events::Migration),
        ]
    }
}
