//! Provider events (R-PAY-4): stored first, then processed here, each exactly once: the
//! event is marked processed in the transaction that applies it.
use super::after_commit::AfterCommit;
use super::refund_rows::{REQUESTED, SUCCEEDED};
use super::runner::{Step, pay, step};
use super::subject::Subjects;
use crate::audit::{self, AuditAction};
use crate::context::RequestContext;
use crate::db::{self, order, payment_event, refund};
use crate::error::AppError;
use crate::orders::payments::provider::News;
use crate::state::State;
use app::domain::order::OrderEvent;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::sync::Arc;
use time::OffsetDateTime;

/// An event that still cannot be applied (its order is not there, or it comes before
/// what it follows) is tried again until it is this old, then set aside as such.
const EVENT_PATIENCE_SECS: i64 = 24 * 3600;

/// Processes stored provider events, oldest first, each exactly once; returns how many
/// were settled (applied, stale, or set aside).
pub async fn process_events(state: &Arc<State>, now: OffsetDateTime) -> Result<usize, AppError> {
    let ids: Vec<i64> = payment_event::Entity::find()
        .select_only()
        .column(payment_event::Column::Id)
        .filter(payment_event::Column::ProcessedAt.is_null())
        .order_by_asc(payment_event::Column::Id)
        .limit(200)
        .into_tuple()
        .all(&state.db)
        .await?;
    let mut done = 0;
    for id in ids {
        if process_event(state, id, now).await? {
            done += 1;
        }
    }
    Ok(done)
}

/// One stored event: interpreted by its provider, applied, and marked processed with its
/// outcome in the same transaction; `false` if another server did it first or it must
/// wait for what it follows.
pub async fn process_event(
    state: &Arc<State>,
    id: i64,
    now: OffsetDateTime,
) -> Result<bool, AppError> {
    let ts = now.unix_timestamp();
    let txn = db::begin_write(&state.db).await?;
    let Some(e) = payment_event::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .filter(|e| e.processed_at.is_none())
    else {
        txn.rollback().await?;
        return Ok(false);
    };
    let news = if e.provider == state.payments.name() {
        state.payments.interpret(&e.event_type, &e.payload)
    } else {
        News::Irrelevant
    };
    let mut after = AfterCommit::default();
    let outcome = apply_news(&txn, &state.subjects, &news, &mut after, now).await?;
    let outcome = match outcome {
        Some(o) => o,
        None if ts - e.received_at < EVENT_PATIENCE_SECS => {
            // It comes before what it follows: try again later.
            txn.rollback().await?;
            return Ok(false);
        }
        None => "set_aside",
    };
    let marked = payment_event::Entity::update_many()
        .col_expr(payment_event::Column::ProcessedAt, Expr::value(ts))
        .col_expr(payment_event::Column::Outcome, Expr::value(outcome))
        .filter(payment_event::Column::Id.eq(id))
        .filter(payment_event::Column::ProcessedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if marked != 1 {
        txn.rollback().await?;
        return Ok(false);
    }
    txn.commit().await?;
    after.run(state);
    Ok(true)
}

/// What the news does to its order; `None` when it cannot be applied yet.
pub(crate) async fn apply_news(
    txn: &DatabaseTransaction,
    subjects: &Subjects,
    news: &News,
    after: &mut AfterCommit,
    now: OffsetDateTime,
) -> Result<Option<&'static str>, AppError> {
    // News comes from the provider: the server applies it.
    let cx = RequestContext::system(now);
    let ts = now.unix_timestamp();
    let by_number = |n: &str| {
        order::Entity::find()
            .filter(order::Column::OrderNumber.eq(n.to_owned()))
            .one(txn)
    };
    let described = |s: Step| match s {
        Step::Moved { .. } => Some("applied"),
        Step::Stale => Some("stale"),
        Step::Illegal => None,
    };
    match news {
        News::Irrelevant => Ok(Some("irrelevant")),
        News::Unreadable => Ok(Some("unreadable")),
        News::Paid {
            order_number,
            provider_ref,
            amount_fen,
        } => {
            let Some(o) = by_number(order_number).await? else {
                return Ok(None);
            };
            if *amount_fen != o.amount_fen {
                // Reconciliation reports it; nothing is confirmed on a wrong amount.
                tracing::warn!(order = o.order_number, "paid amount differs from the order");
                return Ok(Some("amount_mismatch"));
            }
            if o.paid_fen.is_some() && o.provider_ref.as_deref() != Some(provider_ref.as_str()) {
                // Paid already by another payment: this one goes back by itself.
                let o = super::runner::locked(txn, o.id).await?;
                return super::refund_recovery::refund_second_payment(
                    txn,
                    &o,
                    provider_ref,
                    *amount_fen,
                    &cx,
                    after,
                )
                .await
                .map(Some);
            }
            order::Entity::update_many()
                .col_expr(order::Column::PaidFen, Expr::value(*amount_fen))
                .col_expr(order::Column::ProviderRef, Expr::value(provider_ref))
                .filter(order::Column::Id.eq(o.id))
                .filter(order::Column::PaidFen.is_null())
                .exec(txn)
                .await?;
            let s = pay(txn, subjects, o.id, &cx, after).await?;
            Ok(described(s))
        }
        News::Failed { order_number } => {
            let Some(o) = by_number(order_number).await? else {
                return Ok(None);
            };
            let s = step(txn, o.id, OrderEvent::PaymentFailed, &cx, after).await?;
            Ok(described(s).map(|_| "failed"))
        }
        News::RefundSettled { idempotency_key } => {
            let Some(r) = refund::Entity::find()
                .filter(refund::Column::IdempotencyKey.eq(idempotency_key))
                .one(txn)
                .await?
            else {
                return Ok(None);
            };
            let settled = refund::Entity::update_many()
                .col_expr(refund::Column::Status, Expr::value(SUCCEEDED))
                .col_expr(refund::Column::SettledAt, Expr::value(ts))
                .filter(refund::Column::Id.eq(r.id))
                .filter(refund::Column::Status.eq(REQUESTED))
                .exec(txn)
                .await?
                .rows_affected;
            if settled == 0 {
                return Ok(Some("stale"));
            }
            if !r.full_refund {
                audit::record(
                    txn,
                    cx.audit(AuditAction::RefundSettled)
                        .on("refund", &r.refund_number)
                        .about_member(None),
                )
                .await?;
                return Ok(Some("applied"));
            }
            let s = step(txn, r.order_id, OrderEvent::RefundSettled, &cx, after).await?;
            Ok(described(s))
        }
        News::RefundFailed {
            idempotency_key,
            why,
        } => {
            let Some(r) = refund::Entity::find()
                .filter(refund::Column::IdempotencyKey.eq(idempotency_key))
                .one(txn)
                .await?
            else {
                return Ok(None);
            };
            let failed = super::refund_recovery::fail_refund(txn, &r, why, &cx, after).await?;
            Ok(Some(if failed { "applied" } else { "stale" }))
        }
    }
}
