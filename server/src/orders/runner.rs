//! The order runner (R-PAY-1, R-PAY-2): an order is made for a subject, moved only by
//! `app::domain::order::apply` — under a row lock, by an update conditional on the status
//! it read — and followed by what the move implies (the subject told it is paid, a refund
//! asked) in the same transaction. Nothing here knows what the subject is: its feature
//! answers through [`Subject`].
use super::after_commit::AfterCommit;
use super::refund_rows::open_refund;
use super::subject::{Subject, SubjectRef, Subjects};
use crate::audit::{self, Actor, AuditAction};
use crate::context::RequestContext;
use crate::db::{self, order, order_line};
use crate::error::AppError;
use crate::state::State;
use app::domain::order::{
    Effect, Fen, OrderEvent, OrderStatus, Outcome, RefundReason, SubjectKind, apply,
};
use sea_orm::sea_query::{Expr, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    EntityTrait, QueryFilter, QuerySelect,
};
use std::sync::Arc;
use time::OffsetDateTime;

pub const CNY: &str = "CNY";

pub(crate) fn status_of(o: &order::Model) -> Result<OrderStatus, AppError> {
    OrderStatus::parse(&o.status)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("order {} has no known status", o.id)))
}

pub(crate) fn subject_of(o: &order::Model) -> Result<SubjectRef, AppError> {
    let kind = SubjectKind::parse(&o.kind)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("order {} has no known kind", o.id)))?;
    Ok(SubjectRef {
        kind,
        id: o.subject_id,
    })
}

/// What one step of the machine did.
#[derive(Debug)]
pub enum Step {
    Moved { to: OrderStatus },
    Stale,
    Illegal,
}

/// An order to make: whose, for what and for whom, and its lines.
pub struct NewOrder {
    pub patient_id: i64,
    /// The family member the subject is for; `None`: the account holder.
    pub family_member_id: Option<i64>,
    pub subject: SubjectRef,
    /// The provider chosen when the order is made (`sandbox`, `stripe`).
    pub provider: String,
    pub description: String,
    pub lines: Vec<NewLine>,
    /// Unix seconds.
    pub now: i64,
}

/// One line of an order: `quantity` of `item` at `unit` each.
pub struct NewLine {
    pub item: &'static str,
    pub description: String,
    pub unit: Fen,
    pub quantity: i32,
}

impl NewOrder {
    fn amount(&self) -> Result<Fen, AppError> {
        self.lines
            .iter()
            .try_fold(0i64, |sum, l| {
                sum.checked_add(l.unit.get().checked_mul(i64::from(l.quantity))?)
            })
            .and_then(Fen::new)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("order amount out of range")))
    }

    fn row(&self) -> Result<order::ActiveModel, AppError> {
        Ok(order::ActiveModel {
            order_number: Set(db::new_number("OD")),
            patient_id: Set(self.patient_id),
            family_member_id: Set(self.family_member_id),
            subject_id: Set(self.subject.id),
            kind: Set(self.subject.kind.as_str().to_owned()),
            status: Set(OrderStatus::Pending.as_str().to_owned()),
            amount_fen: Set(self.amount()?.get()),
            refunded_fen: Set(0),
            currency: Set(CNY.to_owned()),
            description: Set(self.description.clone()),
            provider: Set(self.provider.clone()),
            method: Set(None),
            provider_ref: Set(None),
            payment_started_at: Set(None),
            paid_fen: Set(None),
            created_at: Set(self.now),
            paid_at: Set(None),
            ended_at: Set(None),
            updated_at: Set(self.now),
            ..Default::default()
        })
    }

    fn line_rows(&self, order_id: i64) -> impl Iterator<Item = order_line::ActiveModel> + '_ {
        self.lines
            .iter()
            .zip(1..)
            .map(move |(l, line_no)| order_line::ActiveModel {
                order_id: Set(order_id),
                line_no: Set(line_no),
                item: Set(l.item.to_owned()),
                description: Set(l.description.clone()),
                unit_fen: Set(l.unit.get()),
                quantity: Set(l.quantity),
                amount_fen: Set(l.unit.get() * i64::from(l.quantity)),
                ..Default::default()
            })
    }
}

/// Makes a pending order, in the transaction that makes its subject.
pub async fn create(txn: &impl ConnectionTrait, new: NewOrder) -> Result<order::Model, AppError> {
    let o = new.row()?.insert(txn).await?;
    order_line::Entity::insert_many(new.line_rows(o.id).collect::<Vec<_>>())
        .exec_without_returning(txn)
        .await?;
    Ok(o)
}

/// [`create`] for several orders at once: a statement for the orders and one for their
/// lines.
pub async fn create_many(txn: &impl ConnectionTrait, news: &[NewOrder]) -> Result<(), AppError> {
    if news.is_empty() {
        return Ok(());
    }
    let rows = news
        .iter()
        .map(NewOrder::row)
        .collect::<Result<Vec<_>, _>>()?;
    let made = order::Entity::insert_many(rows)
        .exec_with_returning(txn)
        .await?;
    let mut lines = Vec::new();
    for new in news {
        let o = made
            .iter()
            .find(|o| o.kind == new.subject.kind.as_str() && o.subject_id == new.subject.id)
            .ok_or_else(|| anyhow::anyhow!("the order of {:?} was not returned", new.subject))?;
        lines.extend(new.line_rows(o.id));
    }
    order_line::Entity::insert_many(lines)
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// The order of a subject, if it has one.
pub async fn of_subject(
    db: &impl ConnectionTrait,
    subject: SubjectRef,
) -> Result<Option<order::Model>, AppError> {
    Ok(order::Entity::find()
        .filter(order::Column::Kind.eq(subject.kind.as_str()))
        .filter(order::Column::SubjectId.eq(subject.id))
        .one(db)
        .await?)
}

/// The ids of the subjects of `kind` whose orders are in `status`, as a subquery for the
/// subject's own queries.
pub fn subjects_in(kind: SubjectKind, status: OrderStatus) -> SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(order::Column::SubjectId)
        .from(order::Entity)
        .and_where(order::Column::Kind.eq(kind.as_str()))
        .and_where(order::Column::Status.eq(status.as_str()))
        .to_owned()
}

/// The ids of the subjects of `kind` whose payment began at the provider and is not
/// settled: they wait for the provider (until the payment is called off).
pub fn paying_subjects(kind: SubjectKind) -> SelectStatement {
    subjects_in(kind, OrderStatus::Pending)
        .and_where(order::Column::PaymentStartedAt.is_not_null())
        .to_owned()
}

/// Locks the order row for the rest of the transaction (PostgreSQL; SQLite's write
/// transaction already holds the database).
pub(crate) async fn locked(txn: &impl ConnectionTrait, id: i64) -> Result<order::Model, AppError> {
    order::Entity::find_by_id(id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("order {id} vanished")))
}

/// Applies `event` to the order and follows its effect, inside `txn`. A payment is
/// applied by [`pay`], which tells the subject.
pub async fn step(
    txn: &impl ConnectionTrait,
    order_id: i64,
    event: OrderEvent,
    cx: &RequestContext,
    after: &mut AfterCommit,
) -> Result<Step, AppError> {
    let o = locked(txn, order_id).await?;
    step_locked(txn, o, event, cx, after).await
}

/// The provider took the money: the order is paid and its subject told, in `txn`. A
/// subject that ended before the money came cannot take it, and the money goes back.
pub async fn pay(
    txn: &DatabaseTransaction,
    subjects: &Subjects,
    order_id: i64,
    cx: &RequestContext,
    after: &mut AfterCommit,
) -> Result<Step, AppError> {
    let o = locked(txn, order_id).await?;
    let SubjectRef { kind, id } = subject_of(&o)?;
    let (moved, effect) = move_locked(txn, &o, OrderEvent::PaymentSucceeded, cx).await?;
    if effect != Some(Effect::Confirm) {
        // Money for an order that had expired goes back by itself.
        follow(txn, &o, effect, cx, after).await?;
    } else if !subjects.get(kind)?.paid(txn, id, cx, after).await? {
        Box::pin(step(
            txn,
            o.id,
            OrderEvent::FullRefundAsked(RefundReason::PaidAfterExpiry),
            &cx.as_actor(Actor::System),
            after,
        ))
        .await?;
    }
    Ok(moved)
}

/// [`step`], for an order this transaction has locked already.
async fn step_locked(
    txn: &impl ConnectionTrait,
    o: order::Model,
    event: OrderEvent,
    cx: &RequestContext,
    after: &mut AfterCommit,
) -> Result<Step, AppError> {
    let (moved, effect) = move_locked(txn, &o, event, cx).await?;
    follow(txn, &o, effect, cx, after).await?;
    Ok(moved)
}

/// What a move implies, but for telling the subject it is paid ([`pay`] does that).
async fn follow(
    txn: &impl ConnectionTrait,
    o: &order::Model,
    effect: Option<Effect>,
    cx: &RequestContext,
    after: &mut AfterCommit,
) -> Result<(), AppError> {
    match effect {
        None | Some(Effect::Nothing) => Ok(()),
        Some(Effect::Confirm) => Err(AppError::Internal(anyhow::anyhow!(
            "order {}: a payment is applied by `pay`, which tells its subject",
            o.order_number
        ))),
        Some(Effect::Refund(reason)) => {
            let left = o.amount_fen - o.refunded_fen;
            match Fen::new(left) {
                Some(amount) if amount > Fen::ZERO => {
                    open_refund(txn, o, amount, true, reason, None, cx, after).await?;
                }
                // Nothing was taken (a free consult) or all went back already.
                _ => {
                    Box::pin(step(txn, o.id, OrderEvent::RefundSettled, cx, after)).await?;
                }
            }
            Ok(())
        }
    }
}

/// The move itself: the conditional update and its audit row; the effect is left to the
/// caller (`None`: no move).
async fn move_locked(
    txn: &impl ConnectionTrait,
    o: &order::Model,
    event: OrderEvent,
    cx: &RequestContext,
) -> Result<(Step, Option<Effect>), AppError> {
    let now = cx.now;
    let from = status_of(o)?;
    let (to, effect) = match apply(from, event) {
        Err(_) => return Ok((Step::Illegal, None)),
        Ok(Outcome::Stale) => return Ok((Step::Stale, None)),
        Ok(Outcome::Move { to, effect }) => (to, effect),
    };
    let ts = now.unix_timestamp();
    let mut update = order::Entity::update_many()
        .col_expr(order::Column::Status, Expr::value(to.as_str()))
        .col_expr(order::Column::UpdatedAt, Expr::value(ts))
        .filter(order::Column::Id.eq(o.id))
        .filter(order::Column::Status.eq(from.as_str()));
    if from == OrderStatus::Pending && to == OrderStatus::Paid {
        update = update.col_expr(order::Column::PaidAt, Expr::value(ts));
    }
    // A failed full refund returns the order to where it was: remembered here.
    if to == OrderStatus::Refunding {
        update = update.col_expr(order::Column::RefundingFrom, Expr::value(from.as_str()));
    } else if from == OrderStatus::Refunding {
        update = update.col_expr(
            order::Column::RefundingFrom,
            Expr::value(Option::<String>::None),
        );
    }
    if to.is_final() || to == OrderStatus::Expired {
        update = update.col_expr(order::Column::EndedAt, Expr::value(ts));
    }
    if update.exec(txn).await?.rows_affected != 1 {
        return Err(AppError::Internal(anyhow::anyhow!(
            "order {} moved under its lock",
            o.order_number
        )));
    }
    let action = match to {
        OrderStatus::Paid => Some(AuditAction::OrderPaid),
        OrderStatus::Expired => Some(AuditAction::OrderExpired),
        OrderStatus::Refunded => Some(AuditAction::RefundSettled),
        _ => None,
    };
    if let Some(action) = action {
        audit::record(
            txn,
            cx.audit(action)
                .on("order", &o.order_number)
                .about_member(None)
                .detail(serde_json::json!({ "from": from.as_str(), "to": to.as_str() })),
        )
        .await?;
    }
    Ok((Step::Moved { to }, Some(effect)))
}

/// A subject ended (a hold expired, a booking cancelled by the patient or the doctor):
/// its order follows, in the same transaction — unpaid, it expires; paid, `paid_refund`
/// decides whether the money goes back.
pub async fn subject_ended(
    txn: &impl ConnectionTrait,
    subject: SubjectRef,
    paid_refund: Option<RefundReason>,
    cx: &RequestContext,
    after: &mut AfterCommit,
) -> Result<(), AppError> {
    // Read and locked in one statement: this runs on every cancel and expiry.
    let Some(o) = order::Entity::find()
        .filter(order::Column::Kind.eq(subject.kind.as_str()))
        .filter(order::Column::SubjectId.eq(subject.id))
        .lock_exclusive()
        .one(txn)
        .await?
    else {
        return Ok(());
    };
    let event = match (status_of(&o)?, paid_refund) {
        (OrderStatus::Pending, _) => OrderEvent::HoldExpired,
        (_, Some(reason)) => OrderEvent::FullRefundAsked(reason),
        (_, None) => return Ok(()),
    };
    step_locked(txn, o, event, cx, after).await?;
    Ok(())
}

/// The subject's service was given: its paid order is served (from then a refund is an
/// operator's decision or an unanswered consult's). Each move is the machine's, under the
/// order's lock, so two servers make it once; `true` if this call moved it.
pub async fn served(
    state: &Arc<State>,
    subject: SubjectRef,
    now: OffsetDateTime,
) -> Result<bool, AppError> {
    let Some(o) = of_subject(&state.db, subject).await? else {
        return Ok(false);
    };
    run_step(state, o.id, OrderEvent::ServiceGiven, now).await
}

/// How long after its service an order stays open to a complaint before it closes.
pub const CLOSE_AFTER_SECS: i64 = 7 * 86_400;

/// Served orders older than [`CLOSE_AFTER_SECS`] close.
pub async fn close_served(state: &Arc<State>, now: OffsetDateTime) -> Result<usize, AppError> {
    let ts = now.unix_timestamp();
    let closing: Vec<i64> = order::Entity::find()
        .select_only()
        .column(order::Column::Id)
        .filter(order::Column::Status.eq(OrderStatus::Served.as_str()))
        .filter(order::Column::UpdatedAt.lte(ts - CLOSE_AFTER_SECS))
        .limit(200)
        .into_tuple()
        .all(&state.db)
        .await?;
    let mut moved = 0;
    for id in closing {
        moved += usize::from(run_step(state, id, OrderEvent::Close, now).await?);
    }
    Ok(moved)
}

/// One step in a transaction of its own, by the system; `true` if the order moved.
async fn run_step(
    state: &Arc<State>,
    order_id: i64,
    event: OrderEvent,
    now: OffsetDateTime,
) -> Result<bool, AppError> {
    let txn = db::begin_write(&state.db).await?;
    let mut after = AfterCommit::default();
    let step = step(
        &txn,
        order_id,
        event,
        &RequestContext::system(now),
        &mut after,
    )
    .await?;
    txn.commit().await?;
    after.run(state);
    Ok(matches!(step, Step::Moved { .. }))
}

/// The subject of one kind, from the registry (an order of a kind no feature answers
/// for is a bug).
impl Subjects {
    pub fn get(&self, kind: SubjectKind) -> Result<&dyn Subject, AppError> {
        self.find(kind).ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
                "no feature answers for {} orders",
                kind.as_str()
            ))
        })
    }
}
