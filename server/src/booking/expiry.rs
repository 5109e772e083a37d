//! Holds end by a conditional update from `held`, so an expiry job on several servers
//! frees each place exactly once, and catches up after a restart because it looks only at
//! the clock and the rows (R-BOOK-2). A hold whose payment began waits for the provider.
use super::row::booking_notice;
use super::row::moving;
use crate::audit::Actor;
use crate::context::RequestContext;
use crate::db::{self, booking, slot};
use crate::error::AppError;
use crate::notices::service as notices;
use crate::state::State;
use app::domain::booking::BookingEvent;
use app::domain::booking::BookingStatus;
use app::domain::notice::NoticeKind;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::sync::Arc;
use time::OffsetDateTime;

/// Ends holds past their time (on one slot, or all), giving their places back; each
/// exactly once, whoever else runs this at the same moment.
pub(crate) async fn expire_in(
    db: &impl ConnectionTrait,
    only_slot: Option<i64>,
    ts: i64,
) -> Result<Vec<booking::Model>, AppError> {
    let mut candidates = booking::Entity::find()
        .filter(booking::Column::Status.eq(BookingStatus::Held.as_str()))
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
/// wait for the provider (only `paying::expire_paying_holds` ends them, after calling
/// the payment off).
fn paying_bookings() -> sea_orm::sea_query::SelectStatement {
    crate::orders::paying_subjects(app::domain::order::SubjectKind::Consult)
}

/// Ends one hold past its time and gives its place back, unless someone else (the job,
/// another request) already did, or its payment is under way: `false` then. Its order
/// expires with it.
pub(crate) async fn end_expired_hold(
    db: &impl ConnectionTrait,
    b: &booking::Model,
    ts: i64,
) -> Result<bool, AppError> {
    let done = moving(BookingEvent::HoldRanOut)
        .col_expr(booking::Column::CancelReason, Expr::value("expired"))
        .col_expr(booking::Column::CancelledAt, Expr::value(ts))
        .filter(booking::Column::Id.eq(b.id))
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
pub(crate) async fn order_follows(
    db: &impl ConnectionTrait,
    booking_id: i64,
    refund: Option<app::domain::order::RefundReason>,
    actor: Actor,
    ts: i64,
) -> Result<crate::orders::AfterCommit, AppError> {
    let mut after = crate::orders::AfterCommit::default();
    let now = OffsetDateTime::from_unix_timestamp(ts)
        .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    crate::orders::subject_ended(
        db,
        super::row::subject(booking_id),
        refund,
        &RequestContext::system(now).as_actor(actor),
        &mut after,
    )
    .await?;
    Ok(after)
}

/// Ends a hold whose payment the provider has called off (`paying::expire_paying_holds`);
/// `false` if it was already over (paid meanwhile, cancelled).
pub async fn end_paying_hold(
    state: &Arc<State>,
    b: &booking::Model,
    now: OffsetDateTime,
) -> Result<bool, AppError> {
    let ts = now.unix_timestamp();
    let txn = db::begin_write(&state.db).await?;
    let done = moving(BookingEvent::HoldRanOut)
        .col_expr(booking::Column::CancelReason, Expr::value("expired"))
        .col_expr(booking::Column::CancelledAt, Expr::value(ts))
        .filter(booking::Column::Id.eq(b.id))
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
    let notice = notices::record(&txn, booking_notice(b, NoticeKind::HoldExpired), now).await?;
    txn.commit().await?;
    after.run(state);
    notices::send_sms_after_commit(state.clone(), notice);
    Ok(true)
}

/// A hold or booking ended: its place is free again.
pub(crate) async fn give_back_place(
    db: &impl ConnectionTrait,
    slot_id: i64,
) -> Result<(), AppError> {
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
        sms.push(notices::record(&txn, booking_notice(b, NoticeKind::HoldExpired), now).await?);
    }
    txn.commit().await?;
    for n in sms {
        notices::send_sms_after_commit(state.clone(), n);
    }
    Ok(ended.len())
}
