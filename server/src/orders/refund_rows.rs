//! Refund records (R-PAY-2): opened with the move that asks for them, inside its
//! transaction, and counted against the order by one conditional update.
use super::after_commit::AfterCommit;
use crate::audit::{self, Actor, AuditAction};
use crate::context::RequestContext;
use crate::db::{order, refund};
use crate::error::AppError;
use crate::notices::service as notices;
use app::domain::notice::NoticeKind;
use app::domain::order::{Fen, RefundReason};
use app::domain::{ErrorCode, FieldError};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};

/// Refund records' states.
pub const REQUESTED: &str = "requested";
pub const SUCCEEDED: &str = "succeeded";
pub const FAILED: &str = "failed";

/// Records a refund of `amount` and counts it against the order, by one update that
/// refuses to refund more than was paid (the CHECK refuses it too).
#[expect(
    clippy::too_many_arguments,
    reason = "the refund's facts, each its own"
)]
pub(crate) async fn open_refund(
    txn: &impl ConnectionTrait,
    o: &order::Model,
    amount: Fen,
    full: bool,
    reason: RefundReason,
    note: Option<String>,
    cx: &RequestContext,
    after: &mut AfterCommit,
) -> Result<refund::Model, AppError> {
    let actor = cx.actor;
    let now = cx.now;
    let ts = now.unix_timestamp();
    let counted = order::Entity::update_many()
        .col_expr(
            order::Column::RefundedFen,
            Expr::col(order::Column::RefundedFen).add(amount.get()),
        )
        .col_expr(order::Column::UpdatedAt, Expr::value(ts))
        .filter(order::Column::Id.eq(o.id))
        .filter(
            Expr::col(order::Column::RefundedFen)
                .add(amount.get())
                .lte(Expr::col(order::Column::AmountFen)),
        )
        .exec(txn)
        .await?
        .rows_affected;
    if counted != 1 {
        return Err(FieldError::general(ErrorCode::NothingToRefund).into());
    }
    // A full refund happens once per order; each partial one is numbered by what was
    // refunded before it, which the update above just serialised. A failed one sent
    // again is a new attempt with a key of its own.
    let base = if full {
        format!("{}:full", o.order_number)
    } else {
        format!("{}:part:{}", o.order_number, o.refunded_fen)
    };
    let key = attempt_key(txn, o.id, base).await?;
    let staff = match actor {
        Actor::Staff(id) => Some(id),
        _ => None,
    };
    let r = refund::ActiveModel {
        refund_number: Set(crate::db::new_number("RF")),
        order_id: Set(o.id),
        amount_fen: Set(amount.get()),
        full_refund: Set(full),
        reason: Set(reason.as_str().to_owned()),
        note: Set(note),
        requested_by_staff: Set(staff),
        idempotency_key: Set(key),
        status: Set(REQUESTED.to_owned()),
        provider_ref: Set(None),
        attempts: Set(0),
        next_attempt_at: Set(ts),
        last_error: Set(None),
        requested_at: Set(ts),
        settled_at: Set(None),
        payment_ref: Set(None),
        retried_at: Set(None),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    audit::record(
        txn,
        cx.audit(AuditAction::RefundRequested)
            .on("refund", &r.refund_number)
            .about_member(None)
            .detail(serde_json::json!({
                "order": o.order_number,
                "amount_fen": amount.get(),
                "reason": reason.as_str(),
                "full": full,
            })),
    )
    .await?;
    let family_member_id = o.family_member_id;
    after.sms.push(
        notices::record(
            txn,
            notices::Notice {
                patient_id: o.patient_id,
                family_member_id,
                kind: NoticeKind::RefundStarted,
                params: vec![
                    ("order".into(), o.order_number.clone()),
                    ("amount".into(), amount.yuan_text()),
                ],
            },
            now,
        )
        .await?,
    );
    after.refunds += 1;
    Ok(r)
}

/// `base` for a first attempt; when a refund with that key exists (it failed and is sent
/// again), `base:tryN`, N counting the order's refunds (the order is locked: serial).
pub(crate) async fn attempt_key(
    txn: &impl ConnectionTrait,
    order_id: i64,
    base: String,
) -> Result<String, AppError> {
    use sea_orm::PaginatorTrait;
    let taken = refund::Entity::find()
        .filter(refund::Column::IdempotencyKey.eq(&base))
        .count(txn)
        .await?;
    if taken == 0 {
        return Ok(base);
    }
    let n = refund::Entity::find()
        .filter(refund::Column::OrderId.eq(order_id))
        .count(txn)
        .await?;
    Ok(format!("{base}:try{n}"))
}
