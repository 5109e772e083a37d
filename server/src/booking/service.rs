//! Fixed schedules and bookings (R-BOOK-1, R-BOOK-2, R-BOOK-3, R-BOOK-4, R-ELIG-3).
//!
//! The database keeps every promise under any concurrency, on SQLite and PostgreSQL:
//! a place is taken by one conditional update (`taken < capacity`), checked again by a
//! CHECK constraint; one person's holds are serialised by a lock row taken first in the
//! same transaction, so an overlapping booking is always seen; a partial unique index
//! refuses the same slot twice. Holds end by a conditional update from `held`, so an
//! expiry job on several servers frees each place exactly once, and catches up after a
//! restart because it looks only at the clock and the rows.
use super::expiry::{give_back_place, order_follows};
use super::row::{booking_notice, moving};
use crate::audit::{self, Actor, AuditAction};
use crate::context::RequestContext;
use crate::db::{self, booking, doctor, slot};
use crate::error::AppError;
use crate::notices::service as notices;
use crate::state::State;
use app::domain::booking as booking_machine;
use app::domain::booking::BookingEvent;
use app::domain::booking::BookingStatus;
use app::domain::china_time;
use app::domain::doctor::practice_years;
use app::domain::notice::NoticeKind;
use app::domain::schedule::cancel_is_free;
use app::domain::{ErrorCode, FieldError};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::sync::Arc;
use time::{Date, OffsetDateTime};

pub(crate) fn years_of(d: &doctor::Model, now: OffsetDateTime) -> u32 {
    Date::parse(
        &d.practicing_since,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map(|since| practice_years(since, china_time::today(now)))
    .unwrap_or(0)
}

pub(crate) async fn own_booking(
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
    kind: NoticeKind,
    action: AuditAction,
    cx: &RequestContext,
) -> Result<notices::Notice, AppError> {
    let now = cx.now;
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
        cx.audit(action)
            .on("booking", &b.booking_number)
            .about_member(b.family_member_id),
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
    cx: &RequestContext,
) -> Result<(), AppError> {
    let now = cx.now;
    let ts = now.unix_timestamp();
    let b = own_booking(&state.db, patient_id, number).await?;
    let status = BookingStatus::parse(&b.status)
        .and_then(|s| booking_machine::apply(s, BookingEvent::CancelledByPatient).map(|_| s))
        .ok_or(FieldError::general(ErrorCode::BookingNotActive))?;
    if b.starts_at <= ts {
        return Err(FieldError::general(ErrorCode::SlotStarted).into());
    }
    let refund = status == BookingStatus::Confirmed && cancel_is_free(b.starts_at, ts, cutoff_secs);
    let txn = db::begin_write(&state.db).await?;
    let done = moving(BookingEvent::CancelledByPatient)
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
    let mut after = order_follows(
        &txn,
        b.id,
        refund.then_some(app::domain::order::RefundReason::PatientCancelled),
        Actor::Patient(patient_id),
        ts,
    )
    .await?;
    crate::consult::life::booking_cancelled(&txn, b.id, cx, &mut after).await?;
    let notice = patient_changed(
        &txn,
        patient_id,
        &b,
        NoticeKind::BookingCancelled,
        AuditAction::BookingCancelled,
        cx,
    )
    .await?;
    txn.commit().await?;
    after.run(state);
    notices::send_sms_after_commit(state.clone(), notice);
    Ok(())
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
        .filter(booking::Column::Status.eq(BookingStatus::Confirmed.as_str()))
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
            .filter(booking::Column::Status.eq(BookingStatus::Confirmed.as_str()))
            .filter(booking::Column::ReminderSentAt.is_null())
            .exec(&txn)
            .await?
            .rows_affected;
        if claimed == 0 {
            txn.rollback().await?;
            continue;
        }
        let notice =
            notices::record(&txn, booking_notice(&b, NoticeKind::BookingReminder), now).await?;
        txn.commit().await?;
        notices::send_sms_after_commit(state.clone(), notice);
        sent += 1;
    }
    Ok(sent)
}
