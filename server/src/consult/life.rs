//! A consult's life (R-CONS-1, R-CONS-3, R-ELIG-4, R-PAY-2): opened from a paid booking or
//! a queue call, moved only by `app::domain::consult::apply` — under the row's lock, by an
//! update conditional on the status it read — and followed in the same transaction by
//! what the move implies: the order served or refunded, the move written to the consult's
//! log, the patient told.
use crate::audit::{self, AuditAction};
use crate::chat::log::{self, NewEntry};
use crate::context::RequestContext;
use crate::db::{self, booking, consult, queue_entry, slot};
use crate::error::AppError;
use crate::notices::notice::Notice;
use crate::notices::service as notices;
use crate::orders::{self, AfterCommit};
use app::domain::consult::{
    AnswerClock, ConsultEffect, ConsultEvent, ConsultOutcome, ConsultStatus, Origin, apply,
    opens_at,
};
use app::domain::notice::NoticeKind;
use app::domain::order::OrderEvent;
use app::domain::schedule::ConsultType;
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QuerySelect,
};

/// The consult rules' settings (R-CONS-3), pinned into each consult when it opens.
#[derive(Debug, Clone, Copy)]
pub struct ConsultSettings {
    /// With no doctor answer this long after opening, the consult closes and is refunded.
    pub unanswered_secs: i64,
    /// A text consult stays open to the patient this long after the first answer.
    pub text_window_secs: i64,
}

impl ConsultSettings {
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self {
            unanswered_secs: config.consult_unanswered_hours.clamp(1, 7 * 24) * 3600,
            text_window_secs: config.consult_text_window_hours.clamp(1, 30 * 24) * 3600,
        }
    }
}

pub(crate) fn status_of(c: &consult::Model) -> Result<ConsultStatus, AppError> {
    ConsultStatus::parse(&c.status)
        .ok_or_else(|| anyhow::anyhow!("consult {} has no known status", c.id).into())
}

pub(crate) fn type_of(c: &consult::Model) -> Result<ConsultType, AppError> {
    ConsultType::parse(&c.consult_type)
        .ok_or_else(|| anyhow::anyhow!("consult {} has no known type", c.id).into())
}

/// The facts a consult opens with.
struct Opening {
    booking_id: Option<i64>,
    queue_entry_id: Option<i64>,
    patient_id: i64,
    family_member_id: Option<i64>,
    person_key: String,
    doctor_id: i64,
    consult_type: ConsultType,
    icd10: String,
    proof_id: i64,
    origin: Origin,
}

async fn open(
    txn: &impl ConnectionTrait,
    o: Opening,
    settings: ConsultSettings,
    cx: &RequestContext,
) -> Result<consult::Model, AppError> {
    let now = cx.now.unix_timestamp();
    let opens = opens_at(o.consult_type, o.origin, now);
    let clock = AnswerClock::new(opens, settings.unanswered_secs);
    let c = consult::ActiveModel {
        consult_number: Set(db::new_number("CS")),
        booking_id: Set(o.booking_id),
        queue_entry_id: Set(o.queue_entry_id),
        patient_id: Set(o.patient_id),
        family_member_id: Set(o.family_member_id),
        person_key: Set(o.person_key),
        doctor_id: Set(o.doctor_id),
        consult_type: Set(o.consult_type.as_str().to_owned()),
        icd10: Set(o.icd10),
        proof_id: Set(o.proof_id),
        status: Set(ConsultStatus::Waiting.as_str().to_owned()),
        opens_at: Set(opens),
        answer_promised_by: Set(clock.promised_by),
        closes_unanswered_at: Set(clock.closes_at),
        text_window_secs: Set(settings.text_window_secs),
        first_answer_at: Set(None),
        ended_at: Set(None),
        ended_by: Set(None),
        end_reason: Set(None),
        last_seq: Set(0),
        patient_read_seq: Set(0),
        doctor_read_seq: Set(0),
        patient_nudged_at: Set(None),
        doctor_nudged_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    log::append(
        txn,
        c.id,
        NewEntry::moved(ConsultStatus::Waiting, None, None),
        now,
    )
    .await?;
    audit::record(
        txn,
        cx.audit(AuditAction::ConsultOpened)
            .on("consult", &c.consult_number)
            .about_member(c.family_member_id),
    )
    .await?;
    Ok(c)
}

/// The consult of a booking just paid, in the transaction that confirms it.
pub async fn open_for_booking(
    txn: &impl ConnectionTrait,
    b: &booking::Model,
    settings: ConsultSettings,
    cx: &RequestContext,
) -> Result<consult::Model, AppError> {
    let s = slot::Entity::find_by_id(b.slot_id)
        .one(txn)
        .await?
        .ok_or_else(|| anyhow::anyhow!("booking {} has no slot", b.id))?;
    let consult_type = ConsultType::parse(&s.consult_type)
        .ok_or_else(|| anyhow::anyhow!("slot {} has no known type", s.id))?;
    open(
        txn,
        Opening {
            booking_id: Some(b.id),
            queue_entry_id: None,
            patient_id: b.patient_id,
            family_member_id: b.family_member_id,
            person_key: b.person_key.clone(),
            doctor_id: s.doctor_id,
            consult_type,
            icd10: b.icd10.clone(),
            proof_id: b.proof_id,
            origin: Origin::Slot {
                starts_at: b.starts_at,
            },
        },
        settings,
        cx,
    )
    .await
}

/// The consult of a live-queue place the doctor has just called: open at once.
pub async fn open_for_queue_call(
    txn: &impl ConnectionTrait,
    e: &queue_entry::Model,
    settings: ConsultSettings,
    cx: &RequestContext,
) -> Result<consult::Model, AppError> {
    let consult_type = ConsultType::parse(&e.consult_type)
        .ok_or_else(|| anyhow::anyhow!("queue entry {} has no known type", e.id))?;
    open(
        txn,
        Opening {
            booking_id: None,
            queue_entry_id: Some(e.id),
            patient_id: e.patient_id,
            family_member_id: e.family_member_id,
            person_key: e.person_key.clone(),
            doctor_id: e.doctor_id,
            consult_type,
            icd10: e.icd10.clone(),
            proof_id: e.proof_id,
            origin: Origin::QueueCall,
        },
        settings,
        cx,
    )
    .await
}

/// Locks the consult's row for the rest of the transaction (PostgreSQL; SQLite's write
/// transaction holds the database already).
pub(crate) async fn locked(
    txn: &impl ConnectionTrait,
    id: i64,
) -> Result<consult::Model, AppError> {
    consult::Entity::find_by_id(id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| anyhow::anyhow!("consult {id} vanished").into())
}

/// What a move did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moved {
    To(ConsultStatus),
    Stale,
}

/// One move of the consult by `event`, in `txn`: the row locked, the machine asked, the
/// status changed only from the one read, the move logged and followed. `by` is the
/// doctor's staff id when the doctor moves it; `reason` the referral's.
pub async fn step(
    txn: &impl ConnectionTrait,
    consult_id: i64,
    event: ConsultEvent,
    by: Option<i64>,
    reason: Option<String>,
    cx: &RequestContext,
    after: &mut AfterCommit,
) -> Result<Moved, AppError> {
    let c = locked(txn, consult_id).await?;
    let from = status_of(&c)?;
    let (to, effect) = match apply(from, event) {
        Ok(ConsultOutcome::Move { to, effect }) => (to, effect),
        Ok(ConsultOutcome::Stale) => return Ok(Moved::Stale),
        Err(_) => return Err(ended_error(from)),
    };
    let now = cx.now.unix_timestamp();
    let mut update = consult::Entity::update_many()
        .col_expr(consult::Column::Status, Expr::value(to.as_str()))
        .col_expr(consult::Column::UpdatedAt, Expr::value(now));
    let ends = !to.is_open();
    for (col, value) in [
        (
            consult::Column::FirstAnswerAt,
            (event == ConsultEvent::DoctorAnswered).then_some(now),
        ),
        (consult::Column::EndedAt, ends.then_some(now)),
        (consult::Column::EndedBy, by.filter(|_| ends)),
    ] {
        if let Some(v) = value {
            update = update.col_expr(col, SimpleExpr::from(v));
        }
    }
    if let Some(r) = reason.clone() {
        update = update.col_expr(consult::Column::EndReason, Expr::value(r));
    }
    let done = update
        .filter(consult::Column::Id.eq(c.id))
        .filter(consult::Column::Status.eq(from.as_str()))
        .exec(txn)
        .await?
        .rows_affected;
    if done != 1 {
        return Ok(Moved::Stale);
    }
    let entry = log::append(txn, c.id, NewEntry::moved(to, reason.clone(), by), now).await?;
    crate::chat::publish_after(after, c.id, entry.seq);
    if ends {
        // A call still running ends with its consult.
        crate::call::ending::end_with_consult(txn, &c, cx, after).await?;
    }
    follow(txn, &c, effect, cx, after).await?;
    if let Some(kind) = notice_of(to) {
        let params = reason
            .map(|r| vec![("reason".to_owned(), r)])
            .unwrap_or_default();
        after.sms.push(
            notices::record(
                txn,
                Notice {
                    patient_id: c.patient_id,
                    family_member_id: c.family_member_id,
                    kind,
                    params,
                },
                cx.now,
            )
            .await?,
        );
    }
    audit::record(
        txn,
        cx.audit(AuditAction::ConsultMoved)
            .on("consult", &c.consult_number)
            .about_member(c.family_member_id)
            .detail(serde_json::json!({ "status": to.as_str() })),
    )
    .await?;
    Ok(Moved::To(to))
}

/// The patient hears of the moves that end a consult.
fn notice_of(to: ConsultStatus) -> Option<NoticeKind> {
    match to {
        ConsultStatus::Unanswered => Some(NoticeKind::ConsultUnanswered),
        ConsultStatus::Referred => Some(NoticeKind::ConsultReferred),
        ConsultStatus::Completed => Some(NoticeKind::ConsultCompleted),
        _ => None,
    }
}

fn ended_error(from: ConsultStatus) -> AppError {
    use app::domain::{ErrorCode, FieldError};
    let code = if from.is_open() {
        ErrorCode::Forbidden
    } else {
        ErrorCode::ConsultEnded
    };
    FieldError::general(code).into()
}

/// What the move implies for the money (R-PAY-2): the order of the booking served when
/// the doctor gives the service, refunded in full when none was given.
async fn follow(
    txn: &impl ConnectionTrait,
    c: &consult::Model,
    effect: ConsultEffect,
    cx: &RequestContext,
    after: &mut AfterCommit,
) -> Result<(), AppError> {
    let Some(booking_id) = c.booking_id else {
        // A live-queue consult has no order.
        return Ok(());
    };
    let subject = crate::booking::row::subject(booking_id);
    match effect {
        ConsultEffect::Nothing => {}
        ConsultEffect::ServeOrder => {
            if let Some(o) = orders::of_subject(txn, subject).await? {
                orders::step(txn, o.id, OrderEvent::ServiceGiven, cx, after).await?;
            }
        }
        ConsultEffect::Refund(reason) => {
            orders::subject_ended(txn, subject, Some(reason), cx, after).await?;
        }
    }
    Ok(())
}

/// The booking behind a consult that has not begun was cancelled: the consult is too
/// (its money follows the booking's cancellation). A consult the doctor has answered
/// cannot lose its booking: `booking_not_active`, and the cancellation rolls back.
pub async fn booking_cancelled(
    txn: &impl ConnectionTrait,
    booking_id: i64,
    cx: &RequestContext,
    after: &mut AfterCommit,
) -> Result<(), AppError> {
    let found: Option<(i64, String)> = consult::Entity::find()
        .select_only()
        .column(consult::Column::Id)
        .column(consult::Column::Status)
        .filter(consult::Column::BookingId.eq(booking_id))
        .into_tuple()
        .one(txn)
        .await?;
    let Some((id, _)) = found else {
        return Ok(());
    };
    match step(txn, id, ConsultEvent::Cancel, None, None, cx, after).await {
        Ok(_) => Ok(()),
        Err(_) => {
            Err(app::domain::FieldError::general(app::domain::ErrorCode::BookingNotActive).into())
        }
    }
}
