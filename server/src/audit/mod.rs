//! The audit log (R-SEC-2; SECURITY.md item 7): who did what, for whom, to which record,
//! when and from where, append-only and tamper-evident.
//!
//! Every sealed row carries a SHA-256 hash over its predecessor's hash and all its own
//! columns ([`chain::row_hash`]), and `audit_head` holds the newest seq and hash, so
//! [`verify`] detects an edited, removed, inserted or reordered row and a cut-off tail.
//! The database refuses DELETE on `audit_log`, and every UPDATE but the one that seals
//! a row (triggers, see the migrations), so changing history takes dropping a trigger
//! first, and even then it shows.
//!
//! Call [`record`] inside the transaction that makes the change it records, so both
//! commit or neither does. It only inserts; [`seal`] (every second, in the background)
//! chains the new rows in the order they were inserted. Appending therefore takes no
//! lock: independent changes, such as two patients holding two slots, run side by side
//! instead of queueing behind the chain's end. A row is unsealed for about a second,
//! and even then it cannot be changed or removed without dropping a trigger.
pub mod anchor;
pub mod chain;
pub mod entity;
mod verify;

#[cfg(test)]
mod tests;

pub use anchor::{Authority, anchor};
pub use chain::{AuditKey, GENESIS_HASH};
pub use verify::{ChainReport, verify, verify_anchored};

use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement, TransactionSession, TransactionTrait,
};
use std::fmt;
use time::OffsetDateTime;

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// Not signed in (a registration, a failed login).
    Anonymous,
    /// A patient, by `patient.id`.
    Patient(i64),
    /// A staff member, by id.
    Staff(i64),
    /// The server itself (scheduled jobs, maintenance).
    System,
}

impl Actor {
    /// The stored `actor_kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::Anonymous => "anonymous",
            Actor::Patient(_) => "patient",
            Actor::Staff(_) => "staff",
            Actor::System => "system",
        }
    }

    /// The stored `actor_id`.
    pub fn id(&self) -> Option<i64> {
        match self {
            Actor::Patient(id) | Actor::Staff(id) => Some(*id),
            Actor::Anonymous | Actor::System => None,
        }
    }
}

/// What happened. The stored names ([`AuditAction::as_str`]) never change once used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    Registered,
    LoginSucceeded,
    LoginFailed,
    LockedOut,
    LoggedOut,
    LoggedOutEverywhere,
    PasswordChanged,
    PasswordReset,
    ConsentGiven,
    ConsentWithdrawn,
    FamilyMemberAdded,
    FamilyMemberRemoved,
    StaffCreated,
    StaffEnrolled,
    StaffLoginSucceeded,
    StaffLoginFailed,
    StaffDisabled,
    /// Re-enabled by an admin alone: how it was before four eyes (kept for old rows).
    StaffEnabled,
    /// An admin asked for an account to be made or re-enabled; a second admin approves.
    StaffApprovalRequested,
    /// A second admin approved it (four eyes, R-SEC-1).
    StaffApproved,
    /// A one-time activation code went by SMS to the staff member's own phone.
    StaffActivationSent,
    /// The owner set their first password with the code.
    StaffActivated,
    EmergencyScreenStopped,
    ProofSubmitted,
    ProofWithdrawn,
    ProofApproved,
    ProofRejected,
    /// A staff member opened a patient's proof file (R-EMR-2).
    ProofFileViewed,
    /// A staff member looked at the proof review queue (R-EMR-2).
    ProofQueueViewed,
    /// A doctor looked at their live queues' waiting lists (R-EMR-2).
    WaitingListViewed,
    /// The consult's risk notice confirmed (R-REG-6).
    ConsultConsentGiven,
    SlotHeld,
    BookingConfirmed,
    BookingCancelled,
    /// A doctor's published slot was cancelled (R-BOOK-4).
    SlotCancelled,
    SessionPublished,
    QueueJoined,
    QueueLeft,
    QueueCalled,
    /// A consult opened from a paid booking or a queue call.
    ConsultOpened,
    /// A consult moved (answered, completed, referred, unanswered, cancelled).
    ConsultMoved,
    /// A message was recalled (the original stays in the log).
    MessageRecalled,
    /// A staff member opened a patient's consult (R-EMR-2).
    ConsultViewed,
    /// A record's draft was saved as a new revision (R-EMR-1).
    RecordSaved,
    /// The doctor confirmed a record: archived for good (R-EMR-1).
    RecordArchived,
    /// A signed addendum to an archived record.
    RecordAddendum,
    /// A staff member read, copied or printed a record (R-EMR-2).
    RecordViewed,
    DoctorOnline,
    DoctorOffline,
    /// The patient went to the payment provider for an order.
    PaymentStarted,
    /// The provider confirmed an order's money (R-PAY-4).
    OrderPaid,
    /// An order's hold ended unpaid.
    OrderExpired,
    /// A refund was decided (R-PAY-2), with its reason.
    RefundRequested,
    /// The provider settled a refund.
    RefundSettled,
    /// An operator resolved a reconciliation difference (R-PAY-3).
    ReconciliationResolved,
    /// A day's reconciliation ran (R-PAY-3), by the job, the CLI or an operator.
    ReconciliationRun,
    /// A refund failed at the provider: its amount is refundable again.
    RefundFailed,
    /// An operator sent a failed refund again.
    RefundRetried,
    /// A second payment for an order already paid: it goes back by itself.
    DuplicatePaymentRefunded,
    /// A doctor was added to the directory (R-DOC-1).
    DoctorCreated,
    /// A fee on the price list was published or changed (R-DOC-1).
    PricePublished,
    /// A directory doctor was linked to a staff account.
    DoctorAccountLinked,
    /// A doctor started a call in a consult, on a media system (R-CONS-6).
    CallStarted,
    /// A call ended (by the doctor, a fallback, or with its consult).
    CallEnded,
    /// A call's recording was stored in the record (R-CONS-7), with its hash.
    RecordingStored,
}

impl AuditAction {
    pub fn as_str(&self) -> &'static str {
        match self {
            AuditAction::Registered => "registered",
            AuditAction::LoginSucceeded => "login_succeeded",
            AuditAction::LoginFailed => "login_failed",
            AuditAction::LockedOut => "locked_out",
            AuditAction::LoggedOut => "logged_out",
            AuditAction::LoggedOutEverywhere => "logged_out_everywhere",
            AuditAction::PasswordChanged => "password_changed",
            AuditAction::PasswordReset => "password_reset",
            AuditAction::ConsentGiven => "consent_given",
            AuditAction::ConsentWithdrawn => "consent_withdrawn",
            AuditAction::FamilyMemberAdded => "family_member_added",
            AuditAction::FamilyMemberRemoved => "family_member_removed",
            AuditAction::StaffCreated => "staff_created",
            AuditAction::StaffEnrolled => "staff_enrolled",
            AuditAction::StaffLoginSucceeded => "staff_login_succeeded",
            AuditAction::StaffLoginFailed => "staff_login_failed",
            AuditAction::StaffDisabled => "staff_disabled",
            AuditAction::StaffEnabled => "staff_enabled",
            AuditAction::StaffApprovalRequested => "staff_approval_requested",
            AuditAction::StaffApproved => "staff_approved",
            AuditAction::StaffActivationSent => "staff_activation_sent",
            AuditAction::StaffActivated => "staff_activated",
            AuditAction::EmergencyScreenStopped => "emergency_screen_stopped",
            AuditAction::ProofSubmitted => "proof_submitted",
            AuditAction::ProofWithdrawn => "proof_withdrawn",
            AuditAction::ProofApproved => "proof_approved",
            AuditAction::ProofRejected => "proof_rejected",
            AuditAction::ProofFileViewed => "proof_file_viewed",
            AuditAction::ProofQueueViewed => "proof_queue_viewed",
            AuditAction::WaitingListViewed => "waiting_list_viewed",
            AuditAction::ConsultConsentGiven => "consult_consent_given",
            AuditAction::SlotHeld => "slot_held",
            AuditAction::BookingConfirmed => "booking_confirmed",
            AuditAction::BookingCancelled => "booking_cancelled",
            AuditAction::SlotCancelled => "slot_cancelled",
            AuditAction::SessionPublished => "session_published",
            AuditAction::QueueJoined => "queue_joined",
            AuditAction::QueueLeft => "queue_left",
            AuditAction::QueueCalled => "queue_called",
            AuditAction::ConsultOpened => "consult_opened",
            AuditAction::ConsultMoved => "consult_moved",
            AuditAction::MessageRecalled => "message_recalled",
            AuditAction::ConsultViewed => "consult_viewed",
            AuditAction::RecordSaved => "record_saved",
            AuditAction::RecordArchived => "record_archived",
            AuditAction::RecordAddendum => "record_addendum",
            AuditAction::RecordViewed => "record_viewed",
            AuditAction::DoctorOnline => "doctor_online",
            AuditAction::DoctorOffline => "doctor_offline",
            AuditAction::PaymentStarted => "payment_started",
            AuditAction::OrderPaid => "order_paid",
            AuditAction::OrderExpired => "order_expired",
            AuditAction::RefundRequested => "refund_requested",
            AuditAction::RefundSettled => "refund_settled",
            AuditAction::ReconciliationResolved => "reconciliation_resolved",
            AuditAction::ReconciliationRun => "reconciliation_run",
            AuditAction::RefundFailed => "refund_failed",
            AuditAction::RefundRetried => "refund_retried",
            AuditAction::DuplicatePaymentRefunded => "duplicate_payment_refunded",
            AuditAction::DoctorCreated => "doctor_created",
            AuditAction::PricePublished => "price_published",
            AuditAction::DoctorAccountLinked => "doctor_account_linked",
            AuditAction::CallStarted => "call_started",
            AuditAction::CallEnded => "call_ended",
            AuditAction::RecordingStored => "recording_stored",
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One audited event.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub actor: Actor,
    /// The family member (`family_member.id`) a guardian acted for (R-REG-7); none
    /// when patients act for themselves.
    pub on_behalf_of: Option<i64>,
    pub action: AuditAction,
    /// The record concerned: (table, id).
    pub entity: Option<(&'static str, String)>,
    /// The client's address.
    pub ip: String,
    /// Stored as unix seconds.
    pub at: OffsetDateTime,
    /// Extra facts (a document version, a reason code). Never personal data: the log
    /// cannot be edited, so nothing in it can ever be corrected or erased.
    pub detail: Option<serde_json::Value>,
}

/// Appends `event` to the audit log, unsealed: [`seal`] gives it its place in the chain
/// and its hash within a second or so.
///
/// Call it with the transaction that makes the change being recorded (a
/// `&DatabaseTransaction`): the row then commits or rolls back with that change. It is
/// one INSERT and takes no lock, so audited changes that are otherwise independent do
/// not queue behind each other; use [`record_alone`] when there is no other change to
/// commit with.
pub async fn record(db: &impl ConnectionTrait, event: AuditEvent) -> Result<(), DbErr> {
    entity::Entity::insert(row(event)?)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// [`record`] for several events, in one statement.
pub async fn record_many(
    db: &impl ConnectionTrait,
    events: impl IntoIterator<Item = AuditEvent>,
) -> Result<(), DbErr> {
    let rows = events.into_iter().map(row).collect::<Result<Vec<_>, _>>()?;
    if rows.is_empty() {
        return Ok(());
    }
    entity::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The unsealed row an event is stored as.
fn row(event: AuditEvent) -> Result<entity::ActiveModel, DbErr> {
    let detail = event
        .detail
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| DbErr::Custom(format!("audit detail is not serialisable: {e}")))?;
    let (entity_type, entity_id) = match event.entity {
        Some((table, id)) => (Some(table.to_owned()), Some(id)),
        None => (None, None),
    };
    Ok(entity::ActiveModel {
        id: NotSet,
        seq: Set(None),
        at: Set(event.at.unix_timestamp()),
        actor_kind: Set(event.actor.kind().to_owned()),
        actor_id: Set(event.actor.id()),
        on_behalf_of: Set(event.on_behalf_of),
        action: Set(event.action.as_str().to_owned()),
        entity_type: Set(entity_type),
        entity_id: Set(entity_id),
        ip: Set(event.ip),
        detail: Set(detail),
        prev_hash: Set(None),
        hash: Set(None),
    })
}

/// Rows sealed per transaction (four parameters each, well under both databases'
/// limits).
const SEAL_BATCH: u64 = 200;

/// Seals every committed, unsealed row, oldest insert first: each gets the next `seq`
/// and its hash over its predecessor's, and `audit_head` moves to the last one, in one
/// transaction per batch. Returns how many rows were sealed.
///
/// Safe to run anywhere at any time, on several servers at once: a batch first takes
/// the head's lock (on SQLite the write lock), so sealers take turns, and a row is
/// sealed only while it has no seal (the database refuses a second). A row committed
/// late, behind a later id, simply joins a later batch.
pub async fn seal(db: &DatabaseConnection, key: &AuditKey) -> Result<u64, DbErr> {
    let mut sealed = 0;
    loop {
        let n = seal_batch(db, key).await?;
        sealed += n;
        if n < SEAL_BATCH {
            return Ok(sealed);
        }
    }
}

async fn seal_batch(db: &DatabaseConnection, key: &AuditKey) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    // Most seconds there is nothing to seal: a read, not a write lock, tells.
    let waiting = entity::Entity::find()
        .select_only()
        .column(entity::Column::Id)
        .filter(entity::Column::Seq.is_null())
        .limit(1)
        .into_tuple::<i64>()
        .one(db)
        .await?;
    if waiting.is_none() {
        return Ok(0);
    }
    // On SQLite the write lock from the start, so the head read is the one built on.
    let txn = crate::db::begin_write(db).await?;
    // The head, locked until this batch commits.
    let head = txn
        .query_one_raw(Statement::from_string(
            backend,
            "UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, last_hash",
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("audit_head (id = 1) is missing".into()))?;
    let head_seq: i64 = head.try_get("", "seq")?;
    let mut prev: String = head.try_get("", "last_hash")?;
    // From which seq the chain is keyed: marked the first time a keyed sealer seals, at
    // the next seq (under the head's lock, so once), and refused with another key.
    let keyed_from = match read_marker(&txn).await? {
        Some((from, tag)) if tag == key.marker_tag(from) => from,
        Some(_) => {
            return Err(DbErr::Custom(
                "FUZHEN_AUDIT_KEY is not the key this audit log is sealed with".into(),
            ));
        }
        None => {
            let from = head_seq + 1;
            txn.execute_raw(Statement::from_sql_and_values(
                backend,
                placeholders(
                    backend,
                    "INSERT INTO audit_key_marker (id, keyed_from, tag) VALUES (1, $1, $2)",
                ),
                [from.into(), key.marker_tag(from).into()],
            ))
            .await?;
            from
        }
    };
    let rows = entity::Entity::find()
        .filter(entity::Column::Seq.is_null())
        .order_by_asc(entity::Column::Id)
        .limit(SEAL_BATCH)
        .all(&txn)
        .await?;
    if rows.is_empty() {
        txn.rollback().await?;
        return Ok(0);
    }
    let count = rows.len() as u64;
    let mut seq = head_seq;
    let mut tuples = Vec::with_capacity(rows.len());
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(rows.len() * 4);
    for mut row in rows {
        seq += 1;
        row.seq = Some(seq);
        row.prev_hash = Some(prev.clone());
        let hash = chain::hash_for(&row, key, keyed_from);
        let n = values.len();
        tuples.push(format!(
            "(CAST(${} AS BIGINT), CAST(${} AS BIGINT), CAST(${} AS TEXT), CAST(${} AS TEXT))",
            n + 1,
            n + 2,
            n + 3,
            n + 4
        ));
        values.extend([row.id.into(), seq.into(), prev.into(), hash.clone().into()]);
        prev = hash;
    }
    let sql = format!(
        "WITH v (id, seq, prev_hash, hash) AS (VALUES {}) \
         UPDATE audit_log SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash \
         FROM v WHERE audit_log.id = v.id AND audit_log.seq IS NULL",
        tuples.join(", ")
    );
    let updated = txn
        .execute_raw(Statement::from_sql_and_values(
            backend,
            placeholders(backend, &sql),
            values,
        ))
        .await?
        .rows_affected();
    if updated != count {
        return Err(DbErr::Custom(format!(
            "sealing the audit log: {updated} of {count} rows took their seal"
        )));
    }
    let moved = txn
        .execute_raw(Statement::from_sql_and_values(
            backend,
            placeholders(
                backend,
                "UPDATE audit_head SET seq = $1, last_hash = $2 WHERE id = 1 AND seq = $3",
            ),
            [seq.into(), prev.into(), head_seq.into()],
        ))
        .await?
        .rows_affected();
    if moved != 1 {
        return Err(DbErr::Custom(format!(
            "audit_head moved while seq {head_seq} was being sealed onto"
        )));
    }
    txn.commit().await?;
    Ok(count)
}

/// Appends `event` in a transaction of its own, for an event that changes nothing else.
pub async fn record_alone<C: TransactionTrait>(db: &C, event: AuditEvent) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    record(&txn, event).await?;
    txn.commit().await
}

/// The key marker: (keyed_from, tag), if the chain has been keyed.
pub(crate) async fn read_marker(db: &impl ConnectionTrait) -> Result<Option<(i64, String)>, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT keyed_from, tag FROM audit_key_marker WHERE id = 1",
        ))
        .await?;
    match row {
        Some(row) => Ok(Some((
            row.try_get("", "keyed_from")?,
            row.try_get("", "tag")?,
        ))),
        None => Ok(None),
    }
}

/// At start: refuses a key other than the one the log is sealed with, so a server with
/// the wrong `FUZHEN_AUDIT_KEY` never seals.
pub async fn check_key(db: &impl ConnectionTrait, key: &AuditKey) -> anyhow::Result<()> {
    if let Some((from, tag)) = read_marker(db).await?
        && tag != key.marker_tag(from)
    {
        anyhow::bail!(
            "FUZHEN_AUDIT_KEY is not the key this audit log is sealed with: set the key it was sealed with"
        );
    }
    Ok(())
}

pub(crate) async fn read_head(db: &impl ConnectionTrait) -> Result<Option<(i64, String)>, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT seq, last_hash FROM audit_head WHERE id = 1",
        ))
        .await?;
    match row {
        Some(row) => Ok(Some((
            row.try_get("", "seq")?,
            row.try_get("", "last_hash")?,
        ))),
        None => Ok(None),
    }
}

/// `$1`-style placeholders as the backend spells them.
fn placeholders(backend: DbBackend, sql: &str) -> String {
    match backend {
        DbBackend::Sqlite => sql.replace('$', "?"),
        _ => sql.to_owned(),
    }
}
