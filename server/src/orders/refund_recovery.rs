//! When money does not go back as asked (security review item 8). A refund the
//! provider refuses fails once: its amount is refundable again and a full refund's
//! order returns to the status it left; operators see it among the failed refunds and
//! send it again as a new attempt with a key of its own. A second payment for an order
//! already paid goes back by itself.
use super::after_commit::AfterCommit;
use super::refund_rows::{FAILED, REQUESTED, attempt_key, open_refund};
use super::runner::{locked, status_of, step};
use crate::audit::{self, AuditAction};
use crate::context::RequestContext;
use crate::db::{self, order, refund};
use crate::error::AppError;
use crate::notices::service as notices;
use crate::state::State;
use app::domain::notice::NoticeKind;
use app::domain::order::{Fen, OrderEvent, OrderStatus, RefundReason, partial_refund};
use app::domain::{ErrorCode, FieldError};
use app::orders::FailedRefund;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use std::sync::Arc;

/// The refund failed at the provider: marked failed (once: a repeat of the news changes
/// nothing), its amount refundable again, a full refund's order back where it was.
/// Returns whether this call failed it.
pub(crate) async fn fail_refund(
    txn: &impl ConnectionTrait,
    r: &refund::Model,
    why: &str,
    cx: &RequestContext,
    after: &mut AfterCommit,
) -> Result<bool, AppError> {
    let failed = refund::Entity::update_many()
        .col_expr(refund::Column::Status, Expr::value(FAILED))
        .col_expr(
            refund::Column::LastError,
            Expr::value(why.chars().take(255).collect::<String>()),
        )
        .filter(refund::Column::Id.eq(r.id))
        .filter(refund::Column::Status.eq(REQUESTED))
        .exec(txn)
        .await?
        .rows_affected;
    if failed != 1 {
        return Ok(false);
    }
    // A second payment's refund was never counted against the order.
    if r.payment_ref.is_none() {
        order::Entity::update_many()
            .col_expr(
                order::Column::RefundedFen,
                Expr::col(order::Column::RefundedFen).sub(r.amount_fen),
            )
            .filter(order::Column::Id.eq(r.order_id))
            .filter(order::Column::RefundedFen.gte(r.amount_fen))
            .exec(txn)
            .await?;
    }
    let o = locked(txn, r.order_id).await?;
    if r.full_refund && status_of(&o)? == OrderStatus::Refunding {
        let back = o
            .refunding_from
            .as_deref()
            .and_then(OrderStatus::parse)
            .unwrap_or(OrderStatus::Paid);
        step(txn, o.id, OrderEvent::RefundFailed(back), cx, after).await?;
    }
    audit::record(
        txn,
        cx.audit(AuditAction::RefundFailed)
            .on("refund", &r.refund_number)
            .about_member(None)
            .detail(serde_json::json!({
                "order": o.order_number,
                "amount_fen": r.amount_fen,
                "full": r.full_refund,
            })),
    )
    .await?;
    Ok(true)
}

/// An operator sends a failed refund again: a new refund for the same amount and
/// reason, with a new idempotency key; the failed one is marked as sent again (once:
/// two operators at once send it once). Returns the new refund's number.
pub async fn retry_refund(
    state: &Arc<State>,
    refund_number: &str,
    cx: &RequestContext,
) -> Result<String, AppError> {
    let not_found = || AppError::from(FieldError::general(ErrorCode::NotFound));
    let txn = db::begin_write(&state.db).await?;
    let Some(r) = refund::Entity::find()
        .filter(refund::Column::RefundNumber.eq(refund_number))
        .one(&txn)
        .await?
    else {
        txn.rollback().await?;
        return Err(not_found());
    };
    let o = locked(&txn, r.order_id).await?;
    let marked = refund::Entity::update_many()
        .col_expr(
            refund::Column::RetriedAt,
            Expr::value(cx.now.unix_timestamp()),
        )
        .filter(refund::Column::Id.eq(r.id))
        .filter(refund::Column::Status.eq(FAILED))
        .filter(refund::Column::RetriedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if marked != 1 {
        txn.rollback().await?;
        return Err(not_found());
    }
    let reason = RefundReason::parse(&r.reason)
        .ok_or_else(|| anyhow::anyhow!("refund {}: stored reason unknown", r.refund_number))?;
    let amount = Fen::new(r.amount_fen)
        .ok_or_else(|| anyhow::anyhow!("refund {}: stored amount invalid", r.refund_number))?;
    let mut after = AfterCommit::default();
    let again = match &r.payment_ref {
        Some(payment) => second_payment_refund(&txn, &o, payment, amount, cx, &mut after).await?,
        None if r.full_refund => {
            step(
                &txn,
                o.id,
                OrderEvent::FullRefundAsked(reason),
                cx,
                &mut after,
            )
            .await?;
            newest_refund(&txn, o.id).await?
        }
        None => {
            let paid = Fen::new(o.amount_fen).unwrap_or(Fen::ZERO);
            let refunded = Fen::new(o.refunded_fen).unwrap_or(Fen::ZERO);
            if partial_refund(status_of(&o)?, paid, refunded, amount).is_err() {
                txn.rollback().await?;
                return Err(FieldError::general(ErrorCode::NothingToRefund).into());
            }
            open_refund(
                &txn,
                &o,
                amount,
                false,
                reason,
                r.note.clone(),
                cx,
                &mut after,
            )
            .await?
            .refund_number
        }
    };
    audit::record(
        &txn,
        cx.audit(AuditAction::RefundRetried)
            .on("refund", &r.refund_number)
            .about_member(None)
            .detail(serde_json::json!({ "order": o.order_number, "again": again })),
    )
    .await?;
    txn.commit().await?;
    after.run(state);
    Ok(again)
}

async fn newest_refund(txn: &impl ConnectionTrait, order_id: i64) -> Result<String, AppError> {
    Ok(refund::Entity::find()
        .filter(refund::Column::OrderId.eq(order_id))
        .order_by_desc(refund::Column::Id)
        .one(txn)
        .await?
        .map(|r| r.refund_number)
        .unwrap_or_default())
}

/// A payment that succeeded for an order already paid by another payment (two started
/// at once, both paid): it goes back in full, by itself, and the patient is told.
/// A repeat of the same news finds its refund and does nothing. Returns the outcome.
pub(crate) async fn refund_second_payment(
    txn: &impl ConnectionTrait,
    o: &order::Model,
    payment_ref: &str,
    amount_fen: i64,
    cx: &RequestContext,
    after: &mut AfterCommit,
) -> Result<&'static str, AppError> {
    let already = refund::Entity::find()
        .filter(refund::Column::OrderId.eq(o.id))
        .filter(refund::Column::PaymentRef.eq(payment_ref))
        .one(txn)
        .await?;
    let Some(amount) = Fen::new(amount_fen).filter(|a| *a > Fen::ZERO) else {
        return Ok("stale");
    };
    if already.is_some() {
        return Ok("stale");
    }
    let number = second_payment_refund(txn, o, payment_ref, amount, cx, after).await?;
    audit::record(
        txn,
        cx.audit(AuditAction::DuplicatePaymentRefunded)
            .on("order", &o.order_number)
            .about_member(None)
            .detail(serde_json::json!({ "refund": number, "amount_fen": amount_fen })),
    )
    .await?;
    Ok("duplicate_refunded")
}

/// The refund of a second payment: of that payment, not counted against the order.
async fn second_payment_refund(
    txn: &impl ConnectionTrait,
    o: &order::Model,
    payment_ref: &str,
    amount: Fen,
    cx: &RequestContext,
    after: &mut AfterCommit,
) -> Result<String, AppError> {
    let ts = cx.now.unix_timestamp();
    // Short enough for the column whatever the provider's ids look like.
    let key = attempt_key(txn, o.id, format!("{}:second", o.order_number)).await?;
    let r = refund::ActiveModel {
        refund_number: Set(crate::db::new_number("RF")),
        order_id: Set(o.id),
        amount_fen: Set(amount.get()),
        full_refund: Set(false),
        reason: Set(RefundReason::DuplicatePayment.as_str().to_owned()),
        note: Set(None),
        requested_by_staff: Set(None),
        idempotency_key: Set(key),
        status: Set(REQUESTED.to_owned()),
        provider_ref: Set(None),
        attempts: Set(0),
        next_attempt_at: Set(ts),
        last_error: Set(None),
        requested_at: Set(ts),
        settled_at: Set(None),
        payment_ref: Set(Some(payment_ref.to_owned())),
        retried_at: Set(None),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    after.sms.push(
        notices::record(
            txn,
            notices::Notice {
                patient_id: o.patient_id,
                family_member_id: o.family_member_id,
                kind: NoticeKind::RefundStarted,
                params: vec![
                    ("order".into(), o.order_number.clone()),
                    ("amount".into(), amount.yuan_text()),
                ],
            },
            cx.now,
        )
        .await?,
    );
    after.refunds += 1;
    Ok(r.refund_number)
}

/// Failed refunds not yet sent again, oldest first: the operators' list.
pub async fn failed_refunds(state: &State) -> Result<Vec<FailedRefund>, AppError> {
    let rows = refund::Entity::find()
        .filter(refund::Column::Status.eq(FAILED))
        .filter(refund::Column::RetriedAt.is_null())
        .order_by_asc(refund::Column::Id)
        .limit(100)
        .all(&state.db)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.order_id).collect();
    let orders = order::Entity::find()
        .filter(order::Column::Id.is_in(ids))
        .all(&state.db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let order_number = orders
                .iter()
                .find(|o| o.id == r.order_id)?
                .order_number
                .clone();
            Some(FailedRefund {
                refund_number: r.refund_number,
                order_number,
                amount_fen: r.amount_fen,
                amount: Fen::new(r.amount_fen).unwrap_or(Fen::ZERO).yuan_text(),
                reason: RefundReason::parse(&r.reason)?,
                error: r.last_error.unwrap_or_default(),
                requested: app::domain::china_time::local(r.requested_at),
            })
        })
        .collect())
}
