//! Holds (R-BOOK-2, R-ELIG-3): a tap on a free slot holds its place for payment. The
//! database keeps every promise under any concurrency: a place is taken by one conditional
//! update (`taken < capacity`), checked again by a CHECK constraint; one person's holds are
//! serialised by a lock row taken first in the same transaction, so an overlapping booking
//! is always seen; a partial unique index refuses the same slot twice.
use super::expiry::{end_expired_hold, expire_in};
use super::row::{OPEN, person_key};
use super::schedule::{NEXT_SLOTS, free_slots};
use crate::audit::{self, Actor, AuditAction, AuditEvent};
use crate::context::RequestContext;
use crate::db::{self, booking, doctor, slot};
use crate::error::AppError;
use app::domain::booking::BookingStatus;
use app::domain::schedule::ConsultType;
use app::domain::{ErrorCode, FieldError};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter,
};
use time::OffsetDateTime;

/// A hold asked for.
#[derive(Debug, Clone)]
pub struct HoldRequest {
    pub patient_id: i64,
    pub member: Option<i64>,
    pub slot_number: String,
    /// The consult consent given for this person, diagnosis and department (R-REG-6).
    pub consult_consent: String,
    /// The person's birth date, when the caller has read it already.
    pub known_birth_date: Option<String>,
}

/// A hold made.
#[derive(Debug, Clone)]
pub struct Held {
    pub booking_number: String,
    pub hold_expires_at: i64,
}

/// A hold checked and ready to write: what the transaction needs, read before it.
#[derive(Debug, Clone)]
pub(crate) struct PreparedHold {
    pub patient_id: i64,
    pub member: Option<i64>,
    /// The person's key (the lock row and the unique index name it).
    pub key: String,
    pub target: slot::Model,
    pub doctor: doctor::Model,
    pub fee: app::domain::order::Fen,
    pub consent: crate::db::consult_consent::Model,
    pub proof_id: i64,
    pub number: String,
    pub hold_secs: i64,
    pub ip: String,
    pub now: OffsetDateTime,
}

impl PreparedHold {
    pub(crate) fn ts(&self) -> i64 {
        self.now.unix_timestamp()
    }

    /// The booking row this hold inserts.
    pub(crate) fn booking(&self) -> booking::ActiveModel {
        let ts = self.ts();
        booking::ActiveModel {
            booking_number: Set(self.number.clone()),
            slot_id: Set(self.target.id),
            patient_id: Set(self.patient_id),
            family_member_id: Set(self.member),
            person_key: Set(self.key.clone()),
            proof_id: Set(self.proof_id),
            consult_consent_id: Set(Some(self.consent.id)),
            icd10: Set(self.consent.icd10.clone()),
            status: Set(BookingStatus::Held.as_str().to_owned()),
            starts_at: Set(self.target.starts_at),
            ends_at: Set(self.target.ends_at),
            held_at: Set(ts),
            hold_expires_at: Set(ts + self.hold_secs),
            confirmed_at: Set(None),
            cancelled_at: Set(None),
            cancel_reason: Set(None),
            refund_due: Set(false),
            reminder_sent_at: Set(None),
            ..Default::default()
        }
    }

    pub(crate) fn consult_type(&self) -> Result<ConsultType, AppError> {
        ConsultType::parse(&self.target.consult_type)
            .ok_or_else(|| FieldError::general(ErrorCode::NotFound).into())
    }

    pub(crate) fn audit_event(&self) -> AuditEvent {
        let cx = RequestContext {
            actor: Actor::Patient(self.patient_id),
            acting_for: self.member,
            ip: self.ip.clone(),
            now: self.now,
        };
        cx.audit(AuditAction::SlotHeld).on("booking", &self.number)
    }

    pub(crate) fn held(&self) -> Held {
        Held {
            booking_number: self.number.clone(),
            hold_expires_at: self.ts() + self.hold_secs,
        }
    }
}

/// The overlap and running-holds rules for one hold (`app::domain::booking::decide_hold`),
/// against `theirs`: the account's bookings that are live (held or confirmed) and either
/// at the person's time or running holds.
pub(crate) fn decide(p: &PreparedHold, theirs: &[booking::Model]) -> Decision {
    use app::domain::booking::{HoldAsked, HoldDecision, TheirBooking, decide_hold};
    let seen: Vec<TheirBooking<'_>> = theirs
        .iter()
        .map(|b| TheirBooking {
            patient_id: b.patient_id,
            person_key: &b.person_key,
            // A status the machine does not know counts as ended.
            status: BookingStatus::parse(&b.status).unwrap_or(BookingStatus::Cancelled),
            starts_at: b.starts_at,
            ends_at: b.ends_at,
            hold_expires_at: b.hold_expires_at,
        })
        .collect();
    let asked = HoldAsked {
        patient_id: p.patient_id,
        person_key: &p.key,
        starts_at: p.target.starts_at,
        ends_at: p.target.ends_at,
        now: p.ts(),
    };
    match decide_hold(asked, &seen) {
        HoldDecision::Refused(code) => Decision::Refused(FieldError::general(code).into()),
        HoldDecision::Take { ran_out } => Decision::Take {
            ran_out: ran_out.into_iter().map(|i| theirs[i].clone()).collect(),
        },
    }
}

/// The account's live bookings that matter to holds at `[from, to)` made at `ts`.
pub(crate) fn live_bookings_filter(
    patient_ids: Vec<i64>,
    keys: Vec<String>,
    from: i64,
    to: i64,
    ts: i64,
) -> Condition {
    Condition::all()
        .add(booking::Column::PatientId.is_in(patient_ids))
        .add(booking::Column::Status.is_in([
            BookingStatus::Held.as_str(),
            BookingStatus::Confirmed.as_str(),
        ]))
        .add(
            Condition::any()
                .add(
                    Condition::all()
                        .add(booking::Column::PersonKey.is_in(keys))
                        .add(booking::Column::StartsAt.lt(to))
                        .add(booking::Column::EndsAt.gt(from)),
                )
                .add(
                    Condition::all()
                        .add(booking::Column::Status.eq(BookingStatus::Held.as_str()))
                        .add(booking::Column::HoldExpiresAt.gt(ts)),
                ),
        )
}

/// Takes the account's lock rows, in key order (PostgreSQL; SQLite's `BEGIN IMMEDIATE`
/// has taken the database's one write lock already): serialises the account's holds,
/// for the patient and everyone they act for, so neither the overlap check nor the
/// count of running holds can be raced.
pub(crate) async fn lock_accounts(
    txn: &impl ConnectionTrait,
    patient_ids: &[i64],
    ts: i64,
) -> Result<(), AppError> {
    let backend = txn.get_database_backend();
    if backend == sea_orm::DbBackend::Sqlite || patient_ids.is_empty() {
        return Ok(());
    }
    let mut keys: Vec<String> = patient_ids.iter().map(|&p| person_key(p, None)).collect();
    keys.sort();
    keys.dedup();
    let rows: Vec<String> = (0..keys.len())
        .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
        .collect();
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(keys.len() * 2);
    for k in keys {
        values.extend([k.into(), ts.into()]);
    }
    txn.execute_raw(db::sql(
        backend,
        &format!(
            "INSERT INTO person_lock (person_key, touched_at) VALUES {} \
             ON CONFLICT (person_key) DO UPDATE SET touched_at = excluded.touched_at",
            rows.join(", ")
        ),
        values,
    ))
    .await?;
    Ok(())
}

/// Takes the place for a hold decided on: its ran-out holds end first, and when the
/// slot is full only of holds past their time, they give their places back. `false`:
/// the slot is full.
pub(crate) async fn take_for(
    txn: &impl ConnectionTrait,
    p: &PreparedHold,
    ran_out: &[booking::Model],
) -> Result<bool, AppError> {
    let ts = p.ts();
    for b in ran_out {
        end_expired_hold(txn, b, ts).await?;
    }
    let mut took = take_place(txn, &p.target, ts).await?;
    if !took && !expire_in(txn, Some(p.target.id), ts).await?.is_empty() {
        took = take_place(txn, &p.target, ts).await?;
    }
    Ok(took)
}

/// "Just taken", with the doctor's next free slots.
pub(crate) async fn slot_taken(db: &impl ConnectionTrait, doctor_id: i64, ts: i64) -> AppError {
    match free_slots(db, doctor_id, ts, NEXT_SLOTS).await {
        Ok(next) => AppError::SlotTaken { next },
        Err(e) => e,
    }
}

/// One hold in a transaction of its own.
pub(crate) async fn hold_one(
    db: &sea_orm::DatabaseConnection,
    provider: &str,
    p: &PreparedHold,
) -> Result<Held, AppError> {
    match write_one(db, provider, p).await? {
        Written::Held(held) => Ok(held),
        Written::Taken { doctor_id } => Err(slot_taken(db, doctor_id, p.ts()).await),
    }
}

/// [`hold_one`], leaving "just taken" to the caller.
pub(crate) async fn write_one(
    db: &sea_orm::DatabaseConnection,
    provider: &str,
    p: &PreparedHold,
) -> Result<Written, AppError> {
    let ts = p.ts();
    let txn = db::begin_write(db).await?;
    lock_accounts(&txn, &[p.patient_id], ts).await?;
    // In one read: this person's bookings at that time, and the account's running holds.
    let theirs = booking::Entity::find()
        .filter(live_bookings_filter(
            vec![p.patient_id],
            vec![p.key.clone()],
            p.target.starts_at,
            p.target.ends_at,
            ts,
        ))
        .all(&txn)
        .await?;
    let ran_out = match decide(p, &theirs) {
        Decision::Refused(e) => {
            txn.rollback().await?;
            return Err(e);
        }
        Decision::Take { ran_out } => ran_out,
    };
    if !take_for(&txn, p, &ran_out).await? {
        txn.rollback().await?;
        return Ok(Written::Taken {
            doctor_id: p.doctor.id,
        });
    }
    let b = match p.booking().insert(&txn).await {
        Ok(b) => b,
        Err(e) => {
            txn.rollback().await?;
            if crate::db::is_unique_violation(&e) {
                return Err(FieldError::general(ErrorCode::BookingOverlaps).into());
            }
            return Err(e.into());
        }
    };
    // What the hold is paid by (R-PAY-1): its order, made with it.
    crate::orders::create(
        &txn,
        super::paying::consult_order(provider, &b, &p.doctor, p.consult_type()?, p.fee, ts),
    )
    .await?;
    audit::record(&txn, p.audit_event()).await?;
    txn.commit().await?;
    Ok(Written::Held(p.held()))
}

/// Takes one place on the slot if it is open, not started and not full: one
/// conditional update, so no two requests can take the last place (R-BOOK-2).
async fn take_place(
    db: &impl ConnectionTrait,
    target: &slot::Model,
    ts: i64,
) -> Result<bool, AppError> {
    let took = slot::Entity::update_many()
        .col_expr(slot::Column::Taken, Expr::col(slot::Column::Taken).add(1))
        .filter(slot::Column::Id.eq(target.id))
        .filter(slot::Column::Status.eq(OPEN))
        .filter(slot::Column::StartsAt.gt(ts))
        .filter(Expr::col(slot::Column::Taken).lt(Expr::col(slot::Column::Capacity)))
        .exec(db)
        .await?
        .rows_affected;
    Ok(took == 1)
}

/// The slot's doctor, listed, and the published fee for its consult type, from the
/// directory snapshot (the hot path of a hold); an unlisted doctor is not found.
pub(crate) async fn listed_doctor_and_fee(
    db: &impl ConnectionTrait,
    snapshot: &crate::doctors::directory::Snapshot,
    target: &slot::Model,
) -> Result<(doctor::Model, app::domain::order::Fen), AppError> {
    let d = match snapshot
        .doctors
        .binary_search_by_key(&target.doctor_id, |d| d.id)
    {
        Ok(i) => snapshot.doctors[i].clone(),
        Err(_) => doctor::Entity::find_by_id(target.doctor_id)
            .one(db)
            .await?
            .filter(|d| d.listed)
            .ok_or(FieldError::general(ErrorCode::NotFound))?,
    };
    let consult_type =
        ConsultType::parse(&target.consult_type).ok_or(FieldError::general(ErrorCode::NotFound))?;
    let fee = super::paying::consult_fee(&snapshot.prices, &d, consult_type)?;
    Ok((d, fee))
}

/// What the transaction decides for one hold, the rows it reads already given.
pub(crate) enum Decision {
    Refused(AppError),
    /// Held; these ran-out holds of the person at that time ended first.
    Take {
        ran_out: Vec<booking::Model>,
    },
}

/// What writing a hold came to. "Just taken" is answered with the doctor's next free
/// slots, read by the request itself ([`slot_taken`]), not by the writer.
pub(crate) enum Written {
    Held(Held),
    /// Just taken: the doctor's id, for their next free slots.
    Taken {
        doctor_id: i64,
    },
}
