//! Refunds (R-PAY-2): recorded with the move that asks for them, counted against the
//! order by one conditional update, and sent to the provider (again, with the same key,
//! until it answers).
use super::after_commit::AfterCommit;
use super::provider_events::{apply_news, process_events};
use super::refund_recovery::fail_refund;
use super::refund_rows::{REQUESTED, open_refund};
use super::runner::{locked, status_of, step};
use crate::audit::{self, AuditAction};
use crate::context::RequestContext;
use crate::db::{self, order, refund};
use crate::error::AppError;
use crate::notices::service as notices;
use crate::orders::payments::provider::News;
use crate::orders::payments::provider::RefundAsk;
use crate::state::State;
use app::domain::order::{Fen, OrderEvent, RefundReason, partial_refund};
use app::domain::{ErrorCode, Field, FieldError};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::sync::Arc;
use time::OffsetDateTime;

/// How long a refund that could not be sent waits before the next try.
fn backoff_secs(attempts: i32) -> i64 {
    std::cmp::min(30_i64 << attempts.clamp(0, 8), 3600)
}

/// Asks the provider for every refund that is due: recorded, not yet sent, its time
/// come. Each try is claimed by a conditional update, so two servers send it once; the
/// provider's idempotency key makes even a repeated send one refund.
pub async fn send_due_refunds(state: &Arc<State>, now: OffsetDateTime) -> Result<usize, AppError> {
    let ts = now.unix_timestamp();
    let due = refund::Entity::find()
        .filter(refund::Column::Status.eq(REQUESTED))
        .filter(refund::Column::ProviderRef.is_null())
        .filter(refund::Column::NextAttemptAt.lte(ts))
        .order_by_asc(refund::Column::Id)
        .limit(50)
        .all(&state.db)
        .await?;
    let mut sent = 0;
    for r in due {
        let claimed = refund::Entity::update_many()
            .col_expr(refund::Column::Attempts, Expr::value(r.attempts + 1))
            .col_expr(
                refund::Column::NextAttemptAt,
                Expr::value(ts + backoff_secs(r.attempts)),
            )
            .filter(refund::Column::Id.eq(r.id))
            .filter(refund::Column::Attempts.eq(r.attempts))
            .filter(refund::Column::Status.eq(REQUESTED))
            .filter(refund::Column::ProviderRef.is_null())
            .exec(&state.db)
            .await?
            .rows_affected;
        if claimed != 1 {
            continue;
        }
        let Some(o) = order::Entity::find_by_id(r.order_id).one(&state.db).await? else {
            continue;
        };
        // A second payment's refund returns that payment; any other, the order's.
        let (Some(payment_ref), Some(amount), Some(reason)) = (
            r.payment_ref.as_deref().or(o.provider_ref.as_deref()),
            Fen::new(r.amount_fen),
            RefundReason::parse(&r.reason),
        ) else {
            tracing::error!(
                refund = r.refund_number,
                "refund without a payment to return"
            );
            continue;
        };
        let ask = RefundAsk {
            order_number: &o.order_number,
            payment_ref,
            amount,
            reason,
            idempotency_key: &r.idempotency_key,
        };
        use crate::orders::payments::provider::RefundState;
        match state.payments.refund(&ask).await {
            Ok(reply) => {
                refund::Entity::update_many()
                    .col_expr(
                        refund::Column::ProviderRef,
                        Expr::value(&reply.provider_ref),
                    )
                    .col_expr(
                        refund::Column::LastError,
                        Expr::value(Option::<String>::None),
                    )
                    .filter(refund::Column::Id.eq(r.id))
                    .filter(refund::Column::Status.eq(REQUESTED))
                    .exec(&state.db)
                    .await?;
                if let RefundState::Failed(why) = &reply.state {
                    // Refused at once: the money is refundable again, the order back.
                    let txn = db::begin_write(&state.db).await?;
                    let mut after = AfterCommit::default();
                    let cx = RequestContext::system(now);
                    fail_refund(&txn, &r, why, &cx, &mut after).await?;
                    txn.commit().await?;
                    after.run(state);
                }
                if reply.state == RefundState::Settled {
                    let txn = db::begin_write(&state.db).await?;
                    let mut after = AfterCommit::default();
                    apply_news(
                        &txn,
                        &state.subjects,
                        &News::RefundSettled {
                            idempotency_key: r.idempotency_key.clone(),
                        },
                        &mut after,
                        now,
                    )
                    .await?;
                    txn.commit().await?;
                    after.run(state);
                }
                sent += 1;
            }
            Err(e) => {
                tracing::warn!(refund = r.refund_number, error = %e, "refund not sent; retrying later");
                refund::Entity::update_many()
                    .col_expr(
                        refund::Column::LastError,
                        Expr::value(e.to_string().chars().take(255).collect::<String>()),
                    )
                    .filter(refund::Column::Id.eq(r.id))
                    .exec(&state.db)
                    .await?;
            }
        }
    }
    // The sandbox answers refunds by an event: process it now rather than at the next tick.
    if sent > 0 {
        process_events(state, now).await?;
    }
    Ok(sent)
}

/// An operator's refund (R-PAY-2): all that is left (the order becomes refunding), or a
/// part of it (the order stays as it is), always with a written reason.
pub async fn operator_refund(
    state: &Arc<State>,
    staff_id: i64,
    order_number: &str,
    amount: Option<Fen>,
    note: &str,
    cx: &RequestContext,
) -> Result<String, AppError> {
    let note = note.trim();
    if note.is_empty() || note.chars().count() > 500 {
        return Err(FieldError::new(ErrorCode::RefundReasonMissing, Field::Note).into());
    }
    let txn = db::begin_write(&state.db).await?;
    let Some(found) = order::Entity::find()
        .filter(order::Column::OrderNumber.eq(order_number))
        .one(&txn)
        .await?
    else {
        txn.rollback().await?;
        return Err(FieldError::general(ErrorCode::NotFound).into());
    };
    let o = locked(&txn, found.id).await?;
    let status = status_of(&o)?;
    let paid = Fen::new(o.amount_fen).unwrap_or(Fen::ZERO);
    let refunded = Fen::new(o.refunded_fen).unwrap_or(Fen::ZERO);
    let asked = amount.unwrap_or(Fen::new(o.amount_fen - o.refunded_fen).unwrap_or(Fen::ZERO));
    let amount = match partial_refund(status, paid, refunded, asked) {
        Ok(a) => a,
        Err(app::domain::order::PartialRefundRefused::NothingLeft) => {
            txn.rollback().await?;
            return Err(FieldError::general(ErrorCode::NothingToRefund).into());
        }
        Err(_) => {
            txn.rollback().await?;
            return Err(FieldError::new(ErrorCode::RefundAmountInvalid, Field::AmountFen).into());
        }
    };
    let mut after = AfterCommit::default();
    let full = amount.get() == o.amount_fen - o.refunded_fen;
    let number = if full {
        // All that is left: the machine moves the order and opens the refund.
        step(
            &txn,
            o.id,
            OrderEvent::FullRefundAsked(RefundReason::OperatorDecision),
            cx,
            &mut after,
        )
        .await?;
        refund::Entity::find()
            .filter(refund::Column::OrderId.eq(o.id))
            .filter(refund::Column::FullRefund.eq(true))
            .one(&txn)
            .await?
            .map(|r| r.refund_number)
            .unwrap_or_default()
    } else {
        open_refund(
            &txn,
            &o,
            amount,
            false,
            RefundReason::OperatorDecision,
            None,
            cx,
            &mut after,
        )
        .await?
        .refund_number
    };
    // The operator's words stay on the refund record, not in the audit log (they may
    // name the patient): the log says who decided, when and from where.
    refund::Entity::update_many()
        .col_expr(refund::Column::Note, Expr::value(note))
        .col_expr(refund::Column::RequestedByStaff, Expr::value(staff_id))
        .filter(refund::Column::RefundNumber.eq(&number))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        cx.audit(AuditAction::RefundRequested)
            .on("order", &o.order_number)
            .detail(serde_json::json!({ "refund": number, "by": "operator" })),
    )
    .await?;
    txn.commit().await?;
    after.run(state);
    Ok(number)
}

// What a transaction left to do, done once it has committed: the SMS, and the refunds it
// recorded asked of the provider (here, where refunds are sent; [`AfterCommit`] itself is
// defined apart so that the runner and the subjects, which fill it, need not know this).
impl AfterCommit {
    pub fn run(self, state: &Arc<State>) {
        for task in self.tasks {
            task(state);
        }
        for n in self.sms {
            notices::send_sms_after_commit(state.clone(), n);
        }
        if self.refunds > 0 {
            let state = state.clone();
            tokio::spawn(async move {
                if let Err(e) = send_due_refunds(&state, OffsetDateTime::now_utc()).await {
                    tracing::warn!(error = ?e, "refunds not sent yet; the job retries");
                }
            });
        }
    }
}
