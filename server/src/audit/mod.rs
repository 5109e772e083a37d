//! The audit log (R-SEC-2; SECURITY.md item 7): who did what, for whom, to which record,
//! when and from where, append-only and tamper-evident.
//!
//! Every row carries a SHA-256 hash over its predecessor's hash and all its own columns
//! ([`chain::row_hash`]), and `audit_head` holds the newest seq and hash, so
//! [`verify`] detects an edited, removed, inserted or reordered row and a cut-off tail.
//! The database refuses UPDATE and DELETE on `audit_log` (triggers, see the migration),
//! so changing history takes dropping a trigger first, and even then it shows.
//!
//! Call [`record`] inside the transaction that makes the change it records, so both
//! commit or neither does.
pub mod chain;
pub mod entity;

#[cfg(test)]
mod tests;

pub use chain::GENESIS_HASH;

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter,
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
    StaffEnabled,
    EmergencyScreenStopped,
    ProofSubmitted,
    ProofWithdrawn,
    ProofApproved,
    ProofRejected,
    /// A staff member opened a patient's proof file (R-EMR-2).
    ProofFileViewed,
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
    DoctorOnline,
    DoctorOffline,
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
            AuditAction::EmergencyScreenStopped => "emergency_screen_stopped",
            AuditAction::ProofSubmitted => "proof_submitted",
            AuditAction::ProofWithdrawn => "proof_withdrawn",
            AuditAction::ProofApproved => "proof_approved",
            AuditAction::ProofRejected => "proof_rejected",
            AuditAction::ProofFileViewed => "proof_file_viewed",
            AuditAction::ConsultConsentGiven => "consult_consent_given",
            AuditAction::SlotHeld => "slot_held",
            AuditAction::BookingConfirmed => "booking_confirmed",
            AuditAction::BookingCancelled => "booking_cancelled",
            AuditAction::SlotCancelled => "slot_cancelled",
            AuditAction::SessionPublished => "session_published",
            AuditAction::QueueJoined => "queue_joined",
            AuditAction::QueueLeft => "queue_left",
            AuditAction::QueueCalled => "queue_called",
            AuditAction::DoctorOnline => "doctor_online",
            AuditAction::DoctorOffline => "doctor_offline",
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

/// Appends `event` to the audit log.
///
/// Call it with the transaction that makes the change being recorded (a
/// `&DatabaseTransaction`): the row then commits or rolls back with that change. It
/// first locks `audit_head` with a write (on PostgreSQL a row lock held to commit; on
/// SQLite the database write lock), so concurrent appenders queue rather than chain onto
/// the same row. Given a plain connection the statements run one by one, not atomically;
/// use [`record_alone`] when there is no other change to commit with.
///
/// On SQLite a transaction that reads before it writes should be begun with
/// `BEGIN IMMEDIATE` (`crate::db::begin_write`): otherwise its first write may fail with
/// "database is locked" when another writer committed after its read.
pub async fn record(db: &impl ConnectionTrait, event: AuditEvent) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    // 1. Take the next seq; this write locks the head until the transaction ends.
    let head = db
        .query_one_raw(Statement::from_string(
            backend,
            "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, last_hash",
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("audit_head (id = 1) is missing".into()))?;
    let seq: i64 = head.try_get("", "seq")?;
    let prev_hash: String = head.try_get("", "last_hash")?;
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
    let mut row = entity::Model {
        seq,
        at: event.at.unix_timestamp(),
        actor_kind: event.actor.kind().to_owned(),
        actor_id: event.actor.id(),
        on_behalf_of: event.on_behalf_of,
        action: event.action.as_str().to_owned(),
        entity_type,
        entity_id,
        ip: event.ip,
        detail,
        prev_hash,
        hash: String::new(),
    };
    row.hash = chain::row_hash(&row);
    let hash = row.hash.clone();
    // 2. The row.
    entity::Entity::insert(active(row))
        .exec_without_returning(db)
        .await?;
    // 3. The head now ends at this row.
    let moved = db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            placeholders(
                backend,
                "UPDATE audit_head SET last_hash = $1 WHERE id = 1 AND seq = $2",
            ),
            [hash.into(), seq.into()],
        ))
        .await?
        .rows_affected();
    if moved != 1 {
        return Err(DbErr::Custom(format!(
            "audit_head moved while seq {seq} was being appended"
        )));
    }
    Ok(())
}

/// Appends `event` in a transaction of its own, for an event that changes nothing else.
pub async fn record_alone<C: TransactionTrait>(db: &C, event: AuditEvent) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    record(&txn, event).await?;
    txn.commit().await
}

/// The result of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Rows read.
    pub rows: u64,
    /// The first seq that does not check out, and why; `None` if the chain is intact.
    pub first_broken: Option<(i64, String)>,
}

impl ChainReport {
    pub fn is_intact(&self) -> bool {
        self.first_broken.is_none()
    }
}

impl fmt::Display for ChainReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.first_broken {
            None => write!(f, "audit log intact: {} rows verified", self.rows),
            Some((seq, why)) => write!(
                f,
                "audit log BROKEN at seq {seq}: {why} ({} rows read)",
                self.rows
            ),
        }
    }
}

/// Rows read per query.
const PAGE: u64 = 1000;

/// Recomputes the whole chain, a page at a time in seq order: seq continuity from 1,
/// each row's link to its predecessor, each row's hash, and the end against
/// `audit_head`. Safe to run while the server appends: rows appended during the run
/// are checked if seen and otherwise left for the next run.
pub async fn verify(db: &impl ConnectionTrait) -> Result<ChainReport, DbErr> {
    let start = read_head(db).await?;
    let mut rows = 0u64;
    let mut broken: Option<(i64, String)> = None;
    let mut last_seq = 0i64;
    let mut last_hash = GENESIS_HASH.to_owned();
    // The stored hash of the row the head pointed at when we started.
    let mut hash_at_start: Option<String> = None;
    loop {
        let page = entity::Entity::find()
            .filter(entity::Column::Seq.gt(last_seq))
            .order_by_asc(entity::Column::Seq)
            .limit(PAGE)
            .all(db)
            .await?;
        if page.is_empty() {
            break;
        }
        for row in page {
            rows += 1;
            if broken.is_none() {
                broken = check_row(&row, last_seq, &last_hash);
            }
            if start.as_ref().is_some_and(|(seq, _)| *seq == row.seq) {
                hash_at_start = Some(row.hash.clone());
            }
            last_seq = row.seq;
            last_hash = row.hash;
        }
    }
    if broken.is_none() {
        let end = read_head(db).await?;
        broken = check_head(start, end, hash_at_start, last_seq, &last_hash);
    }
    Ok(ChainReport {
        rows,
        first_broken: broken,
    })
}

/// Checks one row against the row before it (`prev_seq` 0 and the genesis hash for the
/// first).
fn check_row(row: &entity::Model, prev_seq: i64, prev_hash: &str) -> Option<(i64, String)> {
    let expected = prev_seq + 1;
    if row.seq != expected {
        return Some((
            expected,
            format!(
                "seq {expected} is missing: the log goes from seq {prev_seq} to seq {}",
                row.seq
            ),
        ));
    }
    if row.prev_hash != prev_hash {
        let what = if prev_seq == 0 {
            "the genesis hash".to_owned()
        } else {
            format!("the hash of seq {prev_seq}")
        };
        return Some((row.seq, format!("prev_hash does not match {what}")));
    }
    if chain::row_hash(row) != row.hash {
        return Some((
            row.seq,
            "hash does not match the row's contents (the row was altered)".to_owned(),
        ));
    }
    None
}

/// Checks the chain's end against the head read before (`start`) and after (`end`)
/// the rows; `last_seq` is 0 when there are no rows.
fn check_head(
    start: Option<(i64, String)>,
    end: Option<(i64, String)>,
    hash_at_start: Option<String>,
    last_seq: i64,
    last_hash: &str,
) -> Option<(i64, String)> {
    let (Some((start_seq, start_hash)), Some((end_seq, end_hash))) = (start, end) else {
        return Some((0, "audit_head (id = 1) is missing".to_owned()));
    };
    if last_seq < start_seq {
        return Some((
            last_seq + 1,
            format!(
                "seq {} is missing: audit_head is at seq {start_seq} but the log ends at seq {last_seq} (rows removed from the end)",
                last_seq + 1
            ),
        ));
    }
    let expected_at_start = if start_seq == 0 {
        Some(GENESIS_HASH.to_owned())
    } else {
        hash_at_start
    };
    if expected_at_start.as_deref() != Some(start_hash.as_str()) {
        return Some((
            start_seq,
            format!("hash differs from audit_head's last_hash at seq {start_seq}"),
        ));
    }
    if end_seq < start_seq {
        return Some((end_seq, "audit_head moved backwards".to_owned()));
    }
    // A row and its head update commit together, so the head is never behind a
    // committed row.
    if last_seq > end_seq {
        return Some((
            end_seq + 1,
            format!(
                "seq {} is past audit_head (seq {end_seq}): not appended through it",
                end_seq + 1
            ),
        ));
    }
    if last_seq == end_seq && last_hash != end_hash {
        return Some((
            end_seq,
            format!("hash differs from audit_head's last_hash at seq {end_seq}"),
        ));
    }
    None
}

async fn read_head(db: &impl ConnectionTrait) -> Result<Option<(i64, String)>, DbErr> {
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

fn active(row: entity::Model) -> entity::ActiveModel {
    entity::ActiveModel {
        seq: Set(row.seq),
        at: Set(row.at),
        actor_kind: Set(row.actor_kind),
        actor_id: Set(row.actor_id),
        on_behalf_of: Set(row.on_behalf_of),
        action: Set(row.action),
        entity_type: Set(row.entity_type),
        entity_id: Set(row.entity_id),
        ip: Set(row.ip),
        detail: Set(row.detail),
        prev_hash: Set(row.prev_hash),
        hash: Set(row.hash),
    }
}

/// `$1`-style placeholders as the backend spells them.
fn placeholders(backend: DbBackend, sql: &str) -> String {
    match backend {
        DbBackend::Sqlite => sql.replace('$', "?"),
        _ => sql.to_owned(),
    }
}
