//! Fixed schedules and bookings (R-BOOK-1, R-BOOK-2, R-BOOK-3, R-BOOK-4, R-ELIG-3).
//!
//! The database keeps every promise under any concurrency, on SQLite and PostgreSQL:
//! a place is taken by one conditional update (`taken < capacity`), checked again by a
//! CHECK constraint; one person's holds are serialised by a lock row taken first in the
//! same transaction, so an overlapping booking is always seen; a partial unique index
//! refuses the same slot twice. Holds end by a conditional update from `held`, so an
//! expiry job on several servers frees each place exactly once, and catches up after a
//! restart because it looks only at the clock and the rows.
use crate::audit::{self, Actor, AuditAction, AuditEvent};
use crate::db::{self, booking, doctor, schedule_session, slot};
use crate::error::AppError;
use crate::notices::service as notices;
use crate::state::State;
use app::domain::china_time;
use app::domain::department::Department;
use app::domain::doctor::practice_years;
use app::domain::message::MessageKind;
use app::domain::payment_method::{Browser, default_method, offered};
use app::domain::schedule::{
    ConsultType, DayWord, SessionPlan, cancel_is_free, change_allowed, day_word, may_hold_another,
    overlaps, plan_slots,
};
use app::domain::{ErrorCode, Field, FieldError};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use std::sync::Arc;
use time::{Date, OffsetDateTime};

pub const HELD: &str = "held";
pub const CONFIRMED: &str = "confirmed";
pub const CANCELLED: &str = "cancelled";
pub const EXPIRED: &str = "expired";
pub(crate) const OPEN: &str = "open";

/// How many free slots a "just taken" answer suggests.
pub const NEXT_SLOTS: u64 = 5;

/// A free slot, as lists and the "just taken" answer show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FreeSlot {
    pub slot_number: String,
    pub consult_type: ConsultType,
    /// Unix seconds (UTC).
    pub starts_at: i64,
    pub ends_at: i64,
    /// `YYYY-MM-DD HH:MM`, China time.
    pub local: String,
    pub free: i32,
}

/// A notice about a booking, to its account, about its person, with its time.
pub(crate) fn booking_notice(b: &booking::Model, kind: MessageKind) -> notices::Notice {
    notices::Notice {
        patient_id: b.patient_id,
        family_member_id: b.family_member_id,
        kind,
        params: vec![("when".into(), china_time::local(b.starts_at))],
    }
}

fn free_slot(s: &slot::Model) -> Option<FreeSlot> {
    Some(FreeSlot {
        slot_number: s.slot_number.clone(),
        consult_type: ConsultType::parse(&s.consult_type)?,
        starts_at: s.starts_at,
        ends_at: s.ends_at,
        local: china_time::local(s.starts_at),
        free: s.capacity - s.taken,
    })
}

async fn listed_doctor(db: &impl ConnectionTrait, number: &str) -> Result<doctor::Model, AppError> {
    doctor::Entity::find()
        .filter(doctor::Column::DoctorNumber.eq(number))
        .filter(doctor::Column::Listed.eq(true))
        .one(db)
        .await?
        .ok_or_else(|| FieldError::general(ErrorCode::NotFound).into())
}

pub(crate) fn years_of(d: &doctor::Model, now: OffsetDateTime) -> u32 {
    Date::parse(
        &d.practicing_since,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map(|since| practice_years(since, china_time::today(now)))
    .unwrap_or(0)
}

/// Publishes a session of a doctor's schedule; returns the new slots' numbers. A doctor
/// with fewer than three years of practice is refused here, by the server (R-DOC-1).
pub async fn publish_session(
    state: &State,
    doctor_number: &str,
    consult_type: ConsultType,
    plan: SessionPlan,
    by_staff: i64,
    now: OffsetDateTime,
) -> Result<Vec<String>, AppError> {
    let d = listed_doctor(&state.db, doctor_number).await?;
    let planned = plan_slots(plan, years_of(&d, now), now.unix_timestamp())
        .map_err(|code| FieldError::new(code, Field::Body))?;
    let (first, last) = match (planned.first(), planned.last()) {
        (Some(f), Some(l)) => (f.starts_at, l.ends_at),
        _ => return Err(FieldError::new(ErrorCode::ScheduleTimesInvalid, Field::Body).into()),
    };
    let txn = db::begin_write(&state.db).await?;
    let session = schedule_session::ActiveModel {
        doctor_id: Set(d.id),
        consult_type: Set(consult_type.as_str().to_owned()),
        starts_at: Set(first),
        ends_at: Set(last),
        published_by: Set(Some(by_staff)),
        published_at: Set(now.unix_timestamp()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut numbers = Vec::with_capacity(planned.len());
    for p in planned {
        let number = crate::db::new_number("SL");
        slot::ActiveModel {
            slot_number: Set(number.clone()),
            session_id: Set(session.id),
            doctor_id: Set(d.id),
            consult_type: Set(consult_type.as_str().to_owned()),
            starts_at: Set(p.starts_at),
            ends_at: Set(p.ends_at),
            capacity: Set(i32::from(p.capacity)),
            taken: Set(0),
            status: Set(OPEN.to_owned()),
            cancelled_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        numbers.push(number);
    }
    audit::record(
        &txn,
        AuditEvent {
            actor: Actor::Staff(by_staff),
            on_behalf_of: None,
            action: AuditAction::SessionPublished,
            entity: Some(("doctor", d.doctor_number.clone())),
            ip: String::new(),
            at: now,
            detail: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(numbers)
}

/// A doctor's free slots from now, soonest first, at most `limit`.
pub async fn free_slots(
    db: &impl ConnectionTrait,
    doctor_id: i64,
    from: i64,
    limit: u64,
) -> Result<Vec<FreeSlot>, AppError> {
    let rows = slot::Entity::find()
        .filter(slot::Column::DoctorId.eq(doctor_id))
        .filter(slot::Column::Status.eq(OPEN))
        .filter(slot::Column::StartsAt.gt(from))
        .filter(Expr::col(slot::Column::Taken).lt(Expr::col(slot::Column::Capacity)))
        .order_by_asc(slot::Column::StartsAt)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows.iter().filter_map(free_slot).collect())
}

/// The public list of a doctor's free slots for the coming `days`.
pub async fn doctor_slots(
    state: &State,
    doctor_number: &str,
    days: i64,
    now: OffsetDateTime,
) -> Result<Vec<FreeSlot>, AppError> {
    let d = listed_doctor(&state.db, doctor_number).await?;
    let from = now.unix_timestamp();
    let rows = slot::Entity::find()
        .filter(slot::Column::DoctorId.eq(d.id))
        .filter(slot::Column::Status.eq(OPEN))
        .filter(slot::Column::StartsAt.gt(from))
        .filter(slot::Column::StartsAt.lt(from + days.clamp(1, 60) * 86_400))
        .filter(Expr::col(slot::Column::Taken).lt(Expr::col(slot::Column::Capacity)))
        .order_by_asc(slot::Column::StartsAt)
        .limit(500)
        .all(&state.db)
        .await?;
    Ok(rows.iter().filter_map(free_slot).collect())
}

/// Whose the appointment is, as the lock row and the unique index name it.
pub fn person_key(patient_id: i64, member: Option<i64>) -> String {
    match member {
        Some(m) => format!("m:{m}"),
        None => format!("p:{patient_id}"),
    }
}

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
            status: Set(HELD.to_owned()),
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
        AuditEvent {
            actor: Actor::Patient(self.patient_id),
            on_behalf_of: self.member,
            action: AuditAction::SlotHeld,
            entity: Some(("booking", self.number.clone())),
            ip: self.ip.clone(),
            at: self.now,
            detail: None,
        }
    }

    pub(crate) fn held(&self) -> Held {
        Held {
            booking_number: self.number.clone(),
            hold_expires_at: self.ts() + self.hold_secs,
        }
    }
}

/// Holds a place for the person, for `hold_secs`, or says why not. "Just taken" comes
/// with the doctor's next free slots. Checked and written with other holds made at the
/// same moment: their facts read together, each checked alone, the held ones written in
/// one transaction ([`crate::booking::hold_writer`], [`crate::booking::hold_basis`]).
pub async fn hold(
    state: &State,
    req: &HoldRequest,
    hold_secs: i64,
    ip: &str,
    now: OffsetDateTime,
) -> Result<Held, AppError> {
    let ask = crate::booking::hold_basis::HoldAsk {
        req: req.clone(),
        hold_secs,
        ip: ip.to_owned(),
        now,
        directory: state.directory.snapshot(&state.db).await?,
    };
    state
        .hold_writer
        .write(&state.db, state.payments.name(), ask)
        .await
}

/// What the transaction decides for one hold, the rows it reads already given.
pub(crate) enum Decision {
    Refused(AppError),
    /// Held; these ran-out holds of the person at that time ended first.
    Take {
        ran_out: Vec<booking::Model>,
    },
}

/// The overlap and running-holds rules for one hold, against `theirs`: the account's
/// bookings that are live (held or confirmed) and either at the person's time or
/// running holds. Those of `theirs` that do not matter are ignored.
pub(crate) fn decide(p: &PreparedHold, theirs: &[booking::Model]) -> Decision {
    let ts = p.ts();
    let (t_start, t_end) = (p.target.starts_at, p.target.ends_at);
    let running = |b: &booking::Model| b.status == HELD && b.hold_expires_at > ts;
    let live = |b: &&booking::Model| {
        b.patient_id == p.patient_id && (b.status == HELD || b.status == CONFIRMED)
    };
    // A live one at that time is an overlap; a hold of theirs there that ran out gives
    // its place back now (it would block their new one).
    let at_that_time: Vec<&booking::Model> = theirs
        .iter()
        .filter(live)
        .filter(|b| b.person_key == p.key && overlaps((b.starts_at, b.ends_at), (t_start, t_end)))
        .collect();
    if at_that_time
        .iter()
        .any(|b| b.status == CONFIRMED || running(b))
    {
        return Decision::Refused(FieldError::general(ErrorCode::BookingOverlaps).into());
    }
    if !may_hold_another(theirs.iter().filter(live).filter(|b| running(b)).count()) {
        return Decision::Refused(FieldError::general(ErrorCode::TooManyHolds).into());
    }
    Decision::Take {
        ran_out: at_that_time.into_iter().cloned().collect(),
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
        .add(booking::Column::Status.is_in([HELD, CONFIRMED]))
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
                        .add(booking::Column::Status.eq(HELD))
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

/// What writing a hold came to. "Just taken" is answered with the doctor's next free
/// slots, read by the request itself ([`slot_taken`]), not by the writer.
pub(crate) enum Written {
    Held(Held),
    /// Just taken: the doctor's id, for their next free slots.
    Taken {
        doctor_id: i64,
    },
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
    crate::orders::service::create_for_booking(
        &txn,
        provider,
        &b,
        &p.doctor,
        p.consult_type()?,
        p.fee,
        ts,
    )
    .await?;
    audit::record(&txn, p.audit_event()).await?;
    txn.commit().await?;
    Ok(Written::Held(p.held()))
}

/// Ends holds past their time (on one slot, or all), giving their places back; each
/// exactly once, whoever else runs this at the same moment.
async fn expire_in(
    db: &impl ConnectionTrait,
    only_slot: Option<i64>,
    ts: i64,
) -> Result<Vec<booking::Model>, AppError> {
    let mut candidates = booking::Entity::find()
        .filter(booking::Column::Status.eq(HELD))
        .filter(booking::Column::HoldExpiresAt.lte(ts))
        .filter(booking::Column::Id.not_in_subquery(paying_bookings()));
    if let Some(slot_id) = only_slot {
        candidates = candidates.filter(booking::Column::SlotId.eq(slot_id));
    }
    let candidates = candidates.limit(500).all(db).await?;
    let mut ended = Vec::new();
    for b in candidates {
        if end_expired_hold(db, &b, ts).await? {
            ended.push(b);
        }
    }
    Ok(ended)
}

/// The bookings whose payment began at the provider and is not settled: their holds
/// wait for the provider (only `orders::expire_paying_holds` ends them, after calling
/// the payment off).
fn paying_bookings() -> sea_orm::sea_query::SelectStatement {
    use crate::db::order;
    sea_orm::sea_query::Query::select()
        .column(order::Column::BookingId)
        .from(order::Entity)
        .and_where(order::Column::Status.eq(app::domain::order::OrderStatus::Pending.as_str()))
        .and_where(order::Column::PaymentStartedAt.is_not_null())
        .and_where(order::Column::BookingId.is_not_null())
        .to_owned()
}

/// Ends one hold past its time and gives its place back, unless someone else (the job,
/// another request) already did, or its payment is under way: `false` then. Its order
/// expires with it.
async fn end_expired_hold(
    db: &impl ConnectionTrait,
    b: &booking::Model,
    ts: i64,
) -> Result<bool, AppError> {
    let done = booking::Entity::update_many()
        .col_expr(booking::Column::Status, Expr::value(EXPIRED))
        .col_expr(booking::Column::CancelReason, Expr::value("expired"))
        .col_expr(booking::Column::CancelledAt, Expr::value(ts))
        .filter(booking::Column::Id.eq(b.id))
        .filter(booking::Column::Status.eq(HELD))
        .filter(booking::Column::HoldExpiresAt.lte(ts))
        .filter(booking::Column::Id.not_in_subquery(paying_bookings()))
        .exec(db)
        .await?
        .rows_affected;
    if done == 1 {
        give_back_place(db, b.slot_id).await?;
        order_follows(db, b.id, None, Actor::System, ts).await?;
    }
    Ok(done == 1)
}

/// The booking's order follows its end (no refund effect can come of `None`, so nothing
/// is left to do after the commit).
async fn order_follows(
    db: &impl ConnectionTrait,
    booking_id: i64,
    refund: Option<app::domain::order::RefundReason>,
    actor: Actor,
    ts: i64,
) -> Result<crate::orders::service::AfterCommit, AppError> {
    let mut after = crate::orders::service::AfterCommit::default();
    let now = OffsetDateTime::from_unix_timestamp(ts)
        .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    crate::orders::service::booking_ended(db, booking_id, refund, actor, now, &mut after).await?;
    Ok(after)
}

/// Ends a hold whose payment the provider has called off (`orders::expire_paying_holds`);
/// `false` if it was already over (paid meanwhile, cancelled).
pub async fn end_paying_hold(
    state: &Arc<State>,
    b: &booking::Model,
    now: OffsetDateTime,
) -> Result<bool, AppError> {
    let ts = now.unix_timestamp();
    let txn = db::begin_write(&state.db).await?;
    let done = booking::Entity::update_many()
        .col_expr(booking::Column::Status, Expr::value(EXPIRED))
        .col_expr(booking::Column::CancelReason, Expr::value("expired"))
        .col_expr(booking::Column::CancelledAt, Expr::value(ts))
        .filter(booking::Column::Id.eq(b.id))
        .filter(booking::Column::Status.eq(HELD))
        .filter(booking::Column::HoldExpiresAt.lte(ts))
        .exec(&txn)
        .await?
        .rows_affected;
    if done != 1 {
        txn.rollback().await?;
        return Ok(false);
    }
    give_back_place(&txn, b.slot_id).await?;
    let after = order_follows(&txn, b.id, None, Actor::System, ts).await?;
    let notice = notices::record(&txn, booking_notice(b, MessageKind::HoldExpired), now).await?;
    txn.commit().await?;
    after.run(state);
    notices::send_sms_after_commit(state.clone(), notice);
    Ok(true)
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
    let fee = crate::orders::service::consult_fee(&snapshot.prices, &d, consult_type)?;
    Ok((d, fee))
}

/// A hold or booking ended: its place is free again.
async fn give_back_place(db: &impl ConnectionTrait, slot_id: i64) -> Result<(), AppError> {
    slot::Entity::update_many()
        .col_expr(slot::Column::Taken, Expr::col(slot::Column::Taken).sub(1))
        .filter(slot::Column::Id.eq(slot_id))
        .filter(slot::Column::Taken.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

/// The background job: ends every hold past its time. Safe on several servers at once
/// (each hold ends by one conditional update) and after a restart (it reads the rows).
pub async fn expire_holds(state: &Arc<State>, now: OffsetDateTime) -> Result<usize, AppError> {
    let ts = now.unix_timestamp();
    let txn = db::begin_write(&state.db).await?;
    let ended = expire_in(&txn, None, ts).await?;
    let mut sms = Vec::new();
    for b in &ended {
        sms.push(notices::record(&txn, booking_notice(b, MessageKind::HoldExpired), now).await?);
    }
    txn.commit().await?;
    for n in sms {
        notices::send_sms_after_commit(state.clone(), n);
    }
    Ok(ended.len())
}

async fn own_booking(
    db: &impl ConnectionTrait,
    patient_id: i64,
    number: &str,
) -> Result<booking::Model, AppError> {
    booking::Entity::find()
        .filter(booking::Column::BookingNumber.eq(number))
        .filter(booking::Column::PatientId.eq(patient_id))
        .one(db)
        .await?
        .ok_or_else(|| FieldError::general(ErrorCode::NotFound).into())
}

/// What a patient's change to their booking leaves, in its transaction: the notice (its
/// SMS goes after the commit) and the audit row.
async fn patient_changed(
    txn: &impl ConnectionTrait,
    patient_id: i64,
    b: &booking::Model,
    kind: MessageKind,
    action: AuditAction,
    ip: &str,
    now: OffsetDateTime,
) -> Result<notices::Notice, AppError> {
    let notice = notices::record(
        txn,
        notices::Notice {
            patient_id,
            family_member_id: b.family_member_id,
            kind,
            params: vec![("when".into(), china_time::local(b.starts_at))],
        },
        now,
    )
    .await?;
    audit::record(
        txn,
        AuditEvent {
            actor: Actor::Patient(patient_id),
            on_behalf_of: b.family_member_id,
            action,
            entity: Some(("booking", b.booking_number.clone())),
            ip: ip.to_owned(),
            at: now,
            detail: None,
        },
    )
    .await?;
    Ok(notice)
}

/// The patient cancels a hold or booking; free until `cutoff_secs` before the start.
pub async fn cancel(
    state: &Arc<State>,
    patient_id: i64,
    number: &str,
    cutoff_secs: i64,
    ip: &str,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    let ts = now.unix_timestamp();
    let b = own_booking(&state.db, patient_id, number).await?;
    if b.status != HELD && b.status != CONFIRMED {
        return Err(FieldError::general(ErrorCode::BookingNotActive).into());
    }
    if b.starts_at <= ts {
        return Err(FieldError::general(ErrorCode::SlotStarted).into());
    }
    let refund = b.status == CONFIRMED && cancel_is_free(b.starts_at, ts, cutoff_secs);
    let txn = db::begin_write(&state.db).await?;
    let done = booking::Entity::update_many()
        .col_expr(booking::Column::Status, Expr::value(CANCELLED))
        .col_expr(booking::Column::CancelledAt, Expr::value(ts))
        .col_expr(booking::Column::CancelReason, Expr::value("patient"))
        .col_expr(booking::Column::RefundDue, Expr::value(refund))
        .filter(booking::Column::Id.eq(b.id))
        // As read: a payment confirming it meanwhile changes what cancelling means.
        .filter(booking::Column::Status.eq(&b.status))
        .exec(&txn)
        .await?
        .rows_affected;
    if done == 0 {
        txn.rollback().await?;
        return Err(FieldError::general(ErrorCode::BookingNotActive).into());
    }
    give_back_place(&txn, b.slot_id).await?;
    // Unpaid, its order expires; paid and cancelled in time, the money goes back.
    let after = order_follows(
        &txn,
        b.id,
        refund.then_some(app::domain::order::RefundReason::PatientCancelled),
        Actor::Patient(patient_id),
        ts,
    )
    .await?;
    let notice = patient_changed(
        &txn,
        patient_id,
        &b,
        MessageKind::BookingCancelled,
        AuditAction::BookingCancelled,
        ip,
        now,
    )
    .await?;
    txn.commit().await?;
    after.run(state);
    notices::send_sms_after_commit(state.clone(), notice);
    Ok(())
}

/// The doctor or an operator cancels a published slot, with a day's notice (R-BOOK-4):
/// every booking on it is cancelled, marked for a full refund, and its patient told in
/// the message centre and by SMS.
pub async fn cancel_slot(
    state: &Arc<State>,
    slot_number: &str,
    by_staff: i64,
    ip: &str,
    now: OffsetDateTime,
) -> Result<usize, AppError> {
    let ts = now.unix_timestamp();
    let s = slot::Entity::find()
        .filter(slot::Column::SlotNumber.eq(slot_number))
        .one(&state.db)
        .await?
        .ok_or(FieldError::general(ErrorCode::NotFound))?;
    if s.status != OPEN {
        return Err(FieldError::general(ErrorCode::SlotCancelled).into());
    }
    if !change_allowed(s.starts_at, ts) {
        return Err(FieldError::general(ErrorCode::ScheduleNoticeTooShort).into());
    }
    let txn = db::begin_write(&state.db).await?;
    let done = slot::Entity::update_many()
        .col_expr(slot::Column::Status, Expr::value(CANCELLED))
        .col_expr(slot::Column::CancelledAt, Expr::value(ts))
        .filter(slot::Column::Id.eq(s.id))
        .filter(slot::Column::Status.eq(OPEN))
        .exec(&txn)
        .await?
        .rows_affected;
    if done == 0 {
        txn.rollback().await?;
        return Err(FieldError::general(ErrorCode::SlotCancelled).into());
    }
    let affected = booking::Entity::find()
        .filter(booking::Column::SlotId.eq(s.id))
        .filter(booking::Column::Status.is_in([HELD, CONFIRMED]))
        .all(&txn)
        .await?;
    let mut sms = Vec::new();
    let mut after = crate::orders::service::AfterCommit::default();
    for b in &affected {
        let paid = b.status == CONFIRMED;
        booking::Entity::update_many()
            .col_expr(booking::Column::Status, Expr::value(CANCELLED))
            .col_expr(booking::Column::CancelledAt, Expr::value(ts))
            .col_expr(booking::Column::CancelReason, Expr::value("doctor"))
            .col_expr(booking::Column::RefundDue, Expr::value(paid))
            .filter(booking::Column::Id.eq(b.id))
            .exec(&txn)
            .await?;
        // R-BOOK-4, R-PAY-2: paid, the money goes back in full; unpaid, the order ends.
        crate::orders::service::booking_ended(
            &txn,
            b.id,
            Some(app::domain::order::RefundReason::SlotCancelled),
            Actor::Staff(by_staff),
            now,
            &mut after,
        )
        .await?;
        sms.push(notices::record(&txn, booking_notice(b, MessageKind::SlotCancelled), now).await?);
    }
    audit::record(
        &txn,
        AuditEvent {
            actor: Actor::Staff(by_staff),
            on_behalf_of: None,
            action: AuditAction::SlotCancelled,
            entity: Some(("slot", slot_number.to_owned())),
            ip: ip.to_owned(),
            at: now,
            detail: None,
        },
    )
    .await?;
    txn.commit().await?;
    after.run(state);
    for n in sms {
        notices::send_sms_after_commit(state.clone(), n);
    }
    Ok(affected.len())
}

/// A day word and clock for a booking list (the page localizes the word).
pub fn when(at: i64, now: i64) -> (DayWord, String) {
    (day_word(at, now), china_time::clock(at))
}

/// A doctor's free slots for the coming `days`, by China day, in the reader's words.
pub async fn slot_days(
    state: &State,
    doctor_number: &str,
    days: i64,
    locale: app::i18n::Locale,
    now: OffsetDateTime,
) -> Result<Vec<app::booking::SlotDay>, AppError> {
    use app::booking::{SlotChoice, SlotDay};
    let ts = now.unix_timestamp();
    let mut out: Vec<(Date, SlotDay)> = Vec::new();
    for s in doctor_slots(state, doctor_number, days, now).await? {
        let date = app::domain::china_time::day(s.starts_at);
        let choice = SlotChoice {
            slot_number: s.slot_number,
            consult_type: s.consult_type,
            clock: china_time::clock(s.starts_at),
            free: s.free,
        };
        match out.last_mut() {
            Some((d, day)) if *d == date => day.slots.push(choice),
            _ => {
                let word = day_word(s.starts_at, ts);
                let mut label = app::localized::day_text(locale, word);
                if !matches!(word, DayWord::On(_)) {
                    label = format!(
                        "{label} {}",
                        app::localized::day_text(locale, DayWord::On(date))
                    );
                }
                out.push((
                    date,
                    SlotDay {
                        day: label,
                        slots: vec![choice],
                    },
                ));
            }
        }
    }
    Ok(out.into_iter().map(|(_, d)| d).collect())
}

/// A booking as its owner sees it.
async fn view(
    state: &State,
    b: &booking::Model,
    locale: app::i18n::Locale,
    browser: Browser,
    now: OffsetDateTime,
) -> Result<Option<app::booking::BookingView>, AppError> {
    use app::booking::{BookingState, BookingView, MethodChoice};
    let ts = now.unix_timestamp();
    let Some(s) = slot::Entity::find_by_id(b.slot_id).one(&state.db).await? else {
        return Ok(None);
    };
    let Some(d) = doctor::Entity::find_by_id(s.doctor_id)
        .one(&state.db)
        .await?
    else {
        return Ok(None);
    };
    let (Some(consult_type), Some(department)) = (
        ConsultType::parse(&s.consult_type),
        Department::parse(&d.department),
    ) else {
        return Ok(None);
    };
    let order = crate::orders::service::of_booking(&state.db, b.id).await?;
    let fee_fen = order.as_ref().map(|o| o.amount_fen);
    let paying = order.as_ref().is_some_and(|o| {
        o.payment_started_at.is_some()
            && o.status == app::domain::order::OrderStatus::Pending.as_str()
    });
    let english = locale == app::i18n::Locale::en;
    let diagnosis = state
        .conditions
        .by_code(&b.icd10)
        .map(|c| if english { &c.name_en } else { &c.name_zh })
        .map_or_else(|| b.icd10.clone(), |n| format!("{n} ({})", b.icd10));
    let state_now = match b.status.as_str() {
        HELD if b.hold_expires_at > ts => BookingState::Held,
        HELD | EXPIRED => BookingState::Expired,
        CONFIRMED => BookingState::Confirmed,
        _ => BookingState::Cancelled,
    };
    Ok(Some(BookingView {
        booking_number: b.booking_number.clone(),
        state: state_now,
        doctor_name: d.name.clone(),
        doctor_number: d.doctor_number.clone(),
        department,
        consult_type,
        when: app::localized::when_text(
            locale,
            day_word(b.starts_at, ts),
            &china_time::clock(b.starts_at),
        ),
        person_name: crate::family::service::person_name(
            &state.db,
            b.patient_id,
            b.family_member_id,
        )
        .await?,
        diagnosis,
        hold_expires_at: b.hold_expires_at,
        hold_ends_clock: china_time::clock(b.hold_expires_at),
        seconds_left: Ord::max(b.hold_expires_at - ts, 0),
        fee_fen,
        refund_due: b.refund_due,
        upcoming: b.starts_at > ts,
        cancel_reason: b.cancel_reason.clone(),
        order_number: order.map(|o| o.order_number),
        paying,
        methods: {
            let offers = offered(browser, state.payments.methods(), state.payments.qr_only());
            let chosen = default_method(&offers);
            offers
                .into_iter()
                .map(|o| MethodChoice {
                    method: o.method,
                    unavailable: o.unavailable,
                    scan_elsewhere: o.scan_elsewhere,
                    default: Some(o.method) == chosen,
                })
                .collect()
        },
    }))
}

/// The account's bookings: upcoming (soonest first), then past (newest first).
pub async fn list_for_patient(
    state: &State,
    patient_id: i64,
    locale: app::i18n::Locale,
    now: OffsetDateTime,
) -> Result<app::booking::BookingList, AppError> {
    let rows = booking::Entity::find()
        .filter(booking::Column::PatientId.eq(patient_id))
        .order_by_asc(booking::Column::StartsAt)
        .limit(200)
        .all(&state.db)
        .await?;
    let mut list = app::booking::BookingList::default();
    let ts = now.unix_timestamp();
    for b in &rows {
        let Some(v) = view(state, b, locale, Browser::Desktop, now).await? else {
            continue;
        };
        let active = matches!(
            v.state,
            app::booking::BookingState::Held | app::booking::BookingState::Confirmed
        );
        if active && b.starts_at > ts {
            list.upcoming.push(v);
        } else {
            list.past.push(v);
        }
    }
    list.past.reverse();
    Ok(list)
}

/// One of the account's bookings; `None` for anyone else's.
pub async fn find_for_patient(
    state: &State,
    patient_id: i64,
    number: &str,
    locale: app::i18n::Locale,
    browser: Browser,
    now: OffsetDateTime,
) -> Result<Option<app::booking::BookingView>, AppError> {
    match own_booking(&state.db, patient_id, number).await {
        Ok(b) => view(state, &b, locale, browser, now).await,
        Err(AppError::Rejected { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The number of the doctor a slot belongs to (to go back to their page).
pub async fn doctor_of_slot(
    db: &impl ConnectionTrait,
    slot_number: &str,
) -> Result<Option<String>, AppError> {
    let Some(s) = slot::Entity::find()
        .filter(slot::Column::SlotNumber.eq(slot_number))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(doctor::Entity::find_by_id(s.doctor_id)
        .one(db)
        .await?
        .map(|d| d.doctor_number))
}

/// R-BOOK-3: reminds every confirmed booking starting within `lead_secs`, once (the
/// reminder is claimed by a conditional update, so two servers send it once).
pub async fn send_reminders(
    state: &Arc<State>,
    lead_secs: i64,
    now: OffsetDateTime,
) -> Result<usize, AppError> {
    let ts = now.unix_timestamp();
    let due = booking::Entity::find()
        .filter(booking::Column::Status.eq(CONFIRMED))
        .filter(booking::Column::ReminderSentAt.is_null())
        .filter(booking::Column::StartsAt.gt(ts))
        .filter(booking::Column::StartsAt.lte(ts + lead_secs))
        .limit(500)
        .all(&state.db)
        .await?;
    let mut sent = 0;
    for b in due {
        let txn = db::begin_write(&state.db).await?;
        let claimed = booking::Entity::update_many()
            .col_expr(booking::Column::ReminderSentAt, Expr::value(ts))
            .filter(booking::Column::Id.eq(b.id))
            .filter(booking::Column::Status.eq(CONFIRMED))
            .filter(booking::Column::ReminderSentAt.is_null())
            .exec(&txn)
            .await?
            .rows_affected;
        if claimed == 0 {
            txn.rollback().await?;
            continue;
        }
        let notice =
            notices::record(&txn, booking_notice(&b, MessageKind::BookingReminder), now).await?;
        txn.commit().await?;
        notices::send_sms_after_commit(state.clone(), notice);
        sent += 1;
    }
    Ok(sent)
}

/// A doctor's published, open slots for the coming `days`, with who is booked on each.
pub async fn doctor_schedule(
    db: &impl ConnectionTrait,
    doctor_id: i64,
    days: i64,
    locale: app::i18n::Locale,
    now: OffsetDateTime,
) -> Result<Vec<app::booking::DeskSlot>, AppError> {
    let ts = now.unix_timestamp();
    let slots = slot::Entity::find()
        .filter(slot::Column::DoctorId.eq(doctor_id))
        .filter(slot::Column::Status.eq(OPEN))
        .filter(slot::Column::StartsAt.gt(ts))
        .filter(slot::Column::StartsAt.lt(ts + days * 86_400))
        .order_by_asc(slot::Column::StartsAt)
        .limit(300)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(slots.len());
    for s in slots {
        let Some(consult_type) = ConsultType::parse(&s.consult_type) else {
            continue;
        };
        let mut patients = Vec::new();
        if s.taken > 0 {
            for b in booking::Entity::find()
                .filter(booking::Column::SlotId.eq(s.id))
                .filter(booking::Column::Status.is_in([HELD, CONFIRMED]))
                .all(db)
                .await?
            {
                patients.push(
                    crate::family::service::person_name(db, b.patient_id, b.family_member_id)
                        .await?,
                );
            }
        }
        out.push(app::booking::DeskSlot {
            slot_number: s.slot_number.clone(),
            when: app::localized::when_text(
                locale,
                day_word(s.starts_at, ts),
                &china_time::clock(s.starts_at),
            ),
            consult_type,
            taken: s.taken,
            capacity: s.capacity,
            patients,
            may_cancel: change_allowed(s.starts_at, ts),
        });
    }
    Ok(out)
}

/// The operators' scheduling card (R-BOOK-1): every listed doctor, and the chosen one's
/// coming two weeks. An unknown or unlisted number chooses nobody.
pub async fn scheduling(
    state: &State,
    chosen: Option<&str>,
    locale: app::i18n::Locale,
    now: OffsetDateTime,
) -> Result<app::staff::Scheduling, AppError> {
    let snapshot = state.directory.snapshot(&state.db).await?;
    let english = locale == app::i18n::Locale::en;
    let mut listed: Vec<&doctor::Model> = snapshot.doctors.iter().collect();
    listed.sort_by(|a, b| (&a.department, &a.name).cmp(&(&b.department, &b.name)));
    let doctors = listed
        .iter()
        .map(|d| {
            let department = Department::parse(&d.department)
                .map(|dep| dep.name(english))
                .unwrap_or_default();
            (
                d.doctor_number.clone(),
                format!("{} · {department}", d.name),
            )
        })
        .collect();
    let chosen = match chosen.and_then(|n| listed.iter().find(|d| d.doctor_number == n)) {
        Some(d) => Some(app::staff::ScheduledDoctor {
            number: d.doctor_number.clone(),
            name: d.name.clone(),
            schedule: doctor_schedule(&state.db, d.id, app::staff::SCHEDULING_DAYS, locale, now)
                .await?,
        }),
        None => None,
    };
    Ok(app::staff::Scheduling { doctors, chosen })
}
