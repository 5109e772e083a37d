//! Orders (R-PAY-1, R-PAY-2, R-PAY-4): made with the hold they pay for, moved only by
//! `app::domain::order::apply` — under a row lock, by an update conditional on the
//! status it read — and followed by what the move implies (a booking confirmed, a refund
//! asked) in the same transaction. Provider events are stored first and processed here,
//! each exactly once: the event is marked processed in the transaction that applies it.
use crate::audit::{self, Actor, AuditAction, AuditEvent};
use crate::db::{self, booking, doctor, order, order_line, payment_event, refund};
use crate::error::AppError;
use crate::notices::service as notices;
use crate::orders::payments::provider::CallOff;
use crate::orders::payments::provider::News;
use crate::orders::payments::provider::NextStep;
use crate::orders::payments::provider::PaymentAsk;
use crate::orders::payments::provider::ProviderError;
use crate::orders::payments::provider::RefundAsk;
use crate::state::State;
use app::domain::message::MessageKind;
use app::domain::order::{
    Effect, Fen, OrderEvent, OrderStatus, Outcome, RefundReason, apply, partial_refund,
};
use app::domain::payment_method::{Browser, PaymentMethod, may_use};
use app::domain::schedule::ConsultType;
use app::domain::{ErrorCode, Field, FieldError};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use std::sync::Arc;
use time::OffsetDateTime;

pub const CONSULT: &str = "consult";
pub const CNY: &str = "CNY";
/// Refund records' states.
pub const REQUESTED: &str = "requested";
pub const SUCCEEDED: &str = "succeeded";
pub const FAILED: &str = "failed";
/// An event that still cannot be applied (its order is not there, or it comes before
/// what it follows) is tried again until it is this old, then set aside as such.
const EVENT_PATIENCE_SECS: i64 = 24 * 3600;

/// The published fee for a doctor's consult type (R-DOC-1), from the price list.
pub fn consult_fee(
    prices: &[crate::db::consult_price::Model],
    d: &doctor::Model,
    consult_type: ConsultType,
) -> Result<Fen, AppError> {
    prices
        .iter()
        .find(|p| p.title == d.title && p.consult_type == consult_type.as_str())
        .and_then(|p| Fen::new(p.fee_fen))
        .ok_or_else(|| FieldError::general(ErrorCode::PriceNotPublished).into())
}

/// The order for a hold, made in the hold's transaction: one line, the consult fee.
pub async fn create_for_booking(
    txn: &impl ConnectionTrait,
    provider: &str,
    b: &booking::Model,
    d: &doctor::Model,
    consult_type: ConsultType,
    fee: Fen,
    now: i64,
) -> Result<order::Model, AppError> {
    let (o, description) = new_order(provider, b, d, consult_type, fee, now);
    let o = o.insert(txn).await?;
    new_line(o.id, description, fee).insert(txn).await?;
    Ok(o)
}

/// [`create_for_booking`] for several bookings at once (made at their `held_at`): a
/// statement for the orders and one for their lines.
pub async fn create_for_bookings(
    txn: &impl ConnectionTrait,
    provider: &str,
    bookings: &[(&booking::Model, &doctor::Model, ConsultType, Fen)],
) -> Result<(), AppError> {
    if bookings.is_empty() {
        return Ok(());
    }
    let mut descriptions = Vec::with_capacity(bookings.len());
    let mut orders = Vec::with_capacity(bookings.len());
    for (b, d, consult_type, fee) in bookings {
        let (o, description) = new_order(provider, b, d, *consult_type, *fee, b.held_at);
        descriptions.push((b.id, description, *fee));
        orders.push(o);
    }
    let made = order::Entity::insert_many(orders)
        .exec_with_returning(txn)
        .await?;
    let mut lines = Vec::with_capacity(made.len());
    for (booking_id, description, fee) in descriptions {
        let o = made
            .iter()
            .find(|o| o.booking_id == Some(booking_id))
            .ok_or_else(|| anyhow::anyhow!("the order of booking {booking_id} was not returned"))?;
        lines.push(new_line(o.id, description, fee));
    }
    order_line::Entity::insert_many(lines)
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// A booking's order, pending, for the doctor's fee; and the description its line repeats.
fn new_order(
    provider: &str,
    b: &booking::Model,
    d: &doctor::Model,
    consult_type: ConsultType,
    fee: Fen,
    now: i64,
) -> (order::ActiveModel, String) {
    let description = format!("{} · {}", d.name, consult_type.name(false));
    let o = order::ActiveModel {
        order_number: Set(crate::db::new_number("OD")),
        patient_id: Set(b.patient_id),
        booking_id: Set(Some(b.id)),
        kind: Set(CONSULT.to_owned()),
        status: Set(OrderStatus::Pending.as_str().to_owned()),
        amount_fen: Set(fee.get()),
        refunded_fen: Set(0),
        currency: Set(CNY.to_owned()),
        description: Set(description.clone()),
        provider: Set(provider.to_owned()),
        method: Set(None),
        provider_ref: Set(None),
        payment_started_at: Set(None),
        paid_fen: Set(None),
        created_at: Set(now),
        paid_at: Set(None),
        ended_at: Set(None),
        updated_at: Set(now),
        ..Default::default()
    };
    (o, description)
}

/// The order's one line: the consult fee.
fn new_line(order_id: i64, description: String, fee: Fen) -> order_line::ActiveModel {
    order_line::ActiveModel {
        order_id: Set(order_id),
        line_no: Set(1),
        item: Set("consult_fee".to_owned()),
        description: Set(description),
        unit_fen: Set(fee.get()),
        quantity: Set(1),
        amount_fen: Set(fee.get()),
        ..Default::default()
    }
}

fn status_of(o: &order::Model) -> Result<OrderStatus, AppError> {
    OrderStatus::parse(&o.status)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("order {} has no known status", o.id)))
}

/// What one step of the machine did.
#[derive(Debug)]
pub enum Step {
    Moved { to: OrderStatus },
    Stale,
    Illegal,
}

/// What a transaction's steps leave to do once it has committed.
#[derive(Default)]
pub struct AfterCommit {
    pub sms: Vec<notices::Notice>,
    /// Refunds recorded and to be asked of the provider.
    pub refunds: usize,
}

impl AfterCommit {
    pub fn run(self, state: &Arc<State>) {
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

/// Locks the order row for the rest of the transaction (PostgreSQL; SQLite's write
/// transaction already holds the database).
async fn locked(txn: &impl ConnectionTrait, id: i64) -> Result<order::Model, AppError> {
    order::Entity::find_by_id(id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("order {id} vanished")))
}

/// Applies `event` to the order and follows its effect, inside `txn`.
pub async fn step(
    txn: &impl ConnectionTrait,
    order_id: i64,
    event: OrderEvent,
    actor: Actor,
    now: OffsetDateTime,
    after: &mut AfterCommit,
) -> Result<Step, AppError> {
    let o = locked(txn, order_id).await?;
    step_locked(txn, o, event, actor, now, after).await
}

/// [`step`], for an order this transaction has locked already.
async fn step_locked(
    txn: &impl ConnectionTrait,
    o: order::Model,
    event: OrderEvent,
    actor: Actor,
    now: OffsetDateTime,
    after: &mut AfterCommit,
) -> Result<Step, AppError> {
    let from = status_of(&o)?;
    let (to, effect) = match apply(from, event) {
        Err(_) => return Ok(Step::Illegal),
        Ok(Outcome::Stale) => return Ok(Step::Stale),
        Ok(Outcome::Move { to, effect }) => (to, effect),
    };
    let ts = now.unix_timestamp();
    let mut update = order::Entity::update_many()
        .col_expr(order::Column::Status, Expr::value(to.as_str()))
        .col_expr(order::Column::UpdatedAt, Expr::value(ts))
        .filter(order::Column::Id.eq(o.id))
        .filter(order::Column::Status.eq(from.as_str()));
    if to == OrderStatus::Paid {
        update = update.col_expr(order::Column::PaidAt, Expr::value(ts));
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
            AuditEvent {
                actor,
                on_behalf_of: None,
                action,
                entity: Some(("order", o.order_number.clone())),
                ip: String::new(),
                at: now,
                detail: Some(serde_json::json!({ "from": from.as_str(), "to": to.as_str() })),
            },
        )
        .await?;
    }
    match effect {
        Effect::Nothing => {}
        Effect::Confirm => {
            if !confirm_booking(txn, &o, actor, now, after).await? {
                // Its booking ended before the money came: the money goes back.
                Box::pin(step(
                    txn,
                    o.id,
                    OrderEvent::FullRefundAsked(RefundReason::PaidAfterExpiry),
                    Actor::System,
                    now,
                    after,
                ))
                .await?;
            }
        }
        Effect::Refund(reason) => {
            let left = o.amount_fen - o.refunded_fen;
            match Fen::new(left) {
                Some(amount) if amount > Fen::ZERO => {
                    open_refund(txn, &o, amount, true, reason, None, actor, now, after).await?;
                }
                // Nothing was taken (a free consult) or all went back already.
                _ => {
                    Box::pin(step(
                        txn,
                        o.id,
                        OrderEvent::RefundSettled,
                        actor,
                        now,
                        after,
                    ))
                    .await?;
                }
            }
        }
    }
    Ok(Step::Moved { to })
}

/// The paid order's booking, held until now, is confirmed; `false` if it is not held.
async fn confirm_booking(
    txn: &impl ConnectionTrait,
    o: &order::Model,
    actor: Actor,
    now: OffsetDateTime,
    after: &mut AfterCommit,
) -> Result<bool, AppError> {
    let Some(booking_id) = o.booking_id else {
        return Ok(true);
    };
    let ts = now.unix_timestamp();
    let done = booking::Entity::update_many()
        .col_expr(
            booking::Column::Status,
            Expr::value(crate::booking::service::CONFIRMED),
        )
        .col_expr(booking::Column::ConfirmedAt, Expr::value(ts))
        .filter(booking::Column::Id.eq(booking_id))
        .filter(booking::Column::Status.eq(crate::booking::service::HELD))
        .exec(txn)
        .await?
        .rows_affected;
    if done != 1 {
        return Ok(false);
    }
    let Some(b) = booking::Entity::find_by_id(booking_id).one(txn).await? else {
        return Ok(false);
    };
    after.sms.push(
        notices::record(
            txn,
            crate::booking::service::booking_notice(&b, MessageKind::BookingConfirmed),
            now,
        )
        .await?,
    );
    audit::record(
        txn,
        AuditEvent {
            actor,
            on_behalf_of: b.family_member_id,
            action: AuditAction::BookingConfirmed,
            entity: Some(("booking", b.booking_number.clone())),
            ip: String::new(),
            at: now,
            detail: None,
        },
    )
    .await?;
    Ok(true)
}

/// Records a refund of `amount` and counts it against the order, by one update that
/// refuses to refund more than was paid (the CHECK refuses it too).
#[allow(clippy::too_many_arguments)]
async fn open_refund(
    txn: &impl ConnectionTrait,
    o: &order::Model,
    amount: Fen,
    full: bool,
    reason: RefundReason,
    note: Option<String>,
    actor: Actor,
    now: OffsetDateTime,
    after: &mut AfterCommit,
) -> Result<refund::Model, AppError> {
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
    // refunded before it, which the update above just serialised.
    let key = if full {
        format!("{}:full", o.order_number)
    } else {
        format!("{}:part:{}", o.order_number, o.refunded_fen)
    };
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
        ..Default::default()
    }
    .insert(txn)
    .await?;
    audit::record(
        txn,
        AuditEvent {
            actor,
            on_behalf_of: None,
            action: AuditAction::RefundRequested,
            entity: Some(("refund", r.refund_number.clone())),
            ip: String::new(),
            at: now,
            detail: Some(serde_json::json!({
                "order": o.order_number,
                "amount_fen": amount.get(),
                "reason": reason.as_str(),
                "full": full,
            })),
        },
    )
    .await?;
    let family_member_id = match o.booking_id {
        Some(id) => booking::Entity::find_by_id(id)
            .one(txn)
            .await?
            .and_then(|b| b.family_member_id),
        None => None,
    };
    after.sms.push(
        notices::record(
            txn,
            notices::Notice {
                patient_id: o.patient_id,
                family_member_id,
                kind: MessageKind::RefundStarted,
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

/// The order of a booking, if it has one.
pub async fn of_booking(
    db: &impl ConnectionTrait,
    booking_id: i64,
) -> Result<Option<order::Model>, AppError> {
    Ok(order::Entity::find()
        .filter(order::Column::BookingId.eq(booking_id))
        .one(db)
        .await?)
}

/// A booking ended (expired, cancelled by the patient or the doctor): its order follows,
/// in the same transaction — unpaid, it expires; paid, `paid_refund` decides whether the
/// money goes back.
pub async fn booking_ended(
    txn: &impl ConnectionTrait,
    booking_id: i64,
    paid_refund: Option<RefundReason>,
    actor: Actor,
    now: OffsetDateTime,
    after: &mut AfterCommit,
) -> Result<(), AppError> {
    // Read and locked in one statement: this runs on every cancel and expiry.
    let Some(o) = order::Entity::find()
        .filter(order::Column::BookingId.eq(booking_id))
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
    step_locked(txn, o, event, actor, now, after).await?;
    Ok(())
}

/// Where paying sends the patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayNext {
    /// To the provider's page.
    Redirect(String),
    /// Nothing to pay (or paid already): the booking is confirmed.
    Confirmed,
}

/// The patient starts paying for their held booking: the provider is asked (with a key
/// derived from the order, so asking again continues the same payment), and from then
/// on the hold waits for the provider's answer instead of running out.
pub async fn start_payment(
    state: &Arc<State>,
    patient_id: i64,
    booking_number: &str,
    method: PaymentMethod,
    browser: Browser,
    ip: &str,
    now: OffsetDateTime,
) -> Result<PayNext, AppError> {
    let ts = now.unix_timestamp();
    let b = booking::Entity::find()
        .filter(booking::Column::BookingNumber.eq(booking_number))
        .filter(booking::Column::PatientId.eq(patient_id))
        .one(&state.db)
        .await?
        .ok_or(FieldError::general(ErrorCode::NotFound))?;
    if b.status == crate::booking::service::CONFIRMED {
        return Ok(PayNext::Confirmed);
    }
    let o = of_booking(&state.db, b.id)
        .await?
        .ok_or(FieldError::general(ErrorCode::NotFound))?;
    let started = o.payment_started_at.is_some();
    // A hold that ran out cannot be paid, unless a payment began in time (it waits).
    if b.status != crate::booking::service::HELD || (b.hold_expires_at <= ts && !started) {
        return Err(FieldError::general(ErrorCode::HoldExpired).into());
    }
    if status_of(&o)? != OrderStatus::Pending {
        return Ok(PayNext::Confirmed);
    }
    if o.amount_fen == 0 {
        let txn = db::begin_write(&state.db).await?;
        let mut after = AfterCommit::default();
        step(
            &txn,
            o.id,
            OrderEvent::PaymentSucceeded,
            Actor::Patient(patient_id),
            now,
            &mut after,
        )
        .await?;
        txn.commit().await?;
        after.run(state);
        return Ok(PayNext::Confirmed);
    }
    if !may_use(browser, state.payments.methods(), method) {
        return Err(
            FieldError::new(ErrorCode::PaymentMethodUnavailable, Field::PaymentMethod).into(),
        );
    }
    let amount = Fen::new(o.amount_fen)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("order amount out of range")))?;
    let return_url = format!("{}/bookings/{}", state.public_origin, b.booking_number);
    let key = format!("{}:pay:{}", o.order_number, method.as_str());
    let ask = PaymentAsk {
        order_number: &o.order_number,
        amount,
        description: &o.description,
        method,
        return_url: &return_url,
        idempotency_key: &key,
        existing_ref: o.provider_ref.as_deref(),
    };
    let started = state.payments.start(&ask).await.map_err(provider_error)?;
    // Marked started only while the order still waits and the hold still runs (or a
    // payment was already under way): the expiry job cannot have ended it meanwhile.
    let txn = db::begin_write(&state.db).await?;
    // The method is the one of the payment under way: a payment continued (or found
    // paid) keeps the method it was begun with.
    let same_payment = o.provider_ref.as_deref() == Some(started.provider_ref.as_str());
    let method_text = match (&o.method, same_payment) {
        (Some(m), true) => m.clone(),
        _ => method.as_str().to_owned(),
    };
    let marked = order::Entity::update_many()
        .col_expr(
            order::Column::ProviderRef,
            Expr::value(&started.provider_ref),
        )
        .col_expr(order::Column::Method, Expr::value(method_text))
        .col_expr(
            order::Column::PaymentStartedAt,
            Expr::value(o.payment_started_at.unwrap_or(ts)),
        )
        .col_expr(order::Column::UpdatedAt, Expr::value(ts))
        .filter(order::Column::Id.eq(o.id))
        .filter(order::Column::Status.eq(OrderStatus::Pending.as_str()))
        .exec(&txn)
        .await?
        .rows_affected;
    let still_held = booking::Entity::find_by_id(b.id)
        .one(&txn)
        .await?
        .is_some_and(|now_b| now_b.status == crate::booking::service::HELD);
    if marked != 1 || !still_held {
        txn.rollback().await?;
        // The hold ended while the provider opened the payment: call it off, so it
        // cannot take money (if it already did, the event refunds it).
        let payments = state.payments.clone();
        let provider_ref = started.provider_ref.clone();
        tokio::spawn(async move {
            if let Err(e) = payments.call_off(&provider_ref).await {
                tracing::warn!(error = %e, "calling off a payment begun too late failed");
            }
        });
        return Err(FieldError::general(ErrorCode::HoldExpired).into());
    }
    audit::record(
        &txn,
        AuditEvent {
            actor: Actor::Patient(patient_id),
            on_behalf_of: b.family_member_id,
            action: AuditAction::PaymentStarted,
            entity: Some(("order", o.order_number.clone())),
            ip: ip.to_owned(),
            at: now,
            detail: Some(serde_json::json!({ "method": method.as_str() })),
        },
    )
    .await?;
    txn.commit().await?;
    match started.next {
        NextStep::Redirect(url) => Ok(PayNext::Redirect(url)),
    }
}

fn provider_error(e: ProviderError) -> AppError {
    match e {
        ProviderError::Unavailable(why) => {
            tracing::warn!(why, "payment provider unavailable");
            FieldError::general(ErrorCode::PaymentUnavailable).into()
        }
        ProviderError::Refused(why) => {
            tracing::warn!(why, "payment provider refused");
            FieldError::general(ErrorCode::PaymentFailed).into()
        }
    }
}

/// Holds whose payment began at the provider and whose time is up: each is called off at
/// the provider first, and ends only if the provider says no money can come any more.
/// What is still being decided there keeps its hold.
pub async fn expire_paying_holds(
    state: &Arc<State>,
    now: OffsetDateTime,
) -> Result<usize, AppError> {
    let ts = now.unix_timestamp();
    let due = booking::Entity::find()
        .filter(booking::Column::Status.eq(crate::booking::service::HELD))
        .filter(booking::Column::HoldExpiresAt.lte(ts))
        .limit(100)
        .all(&state.db)
        .await?;
    let mut ended = 0;
    for b in due {
        let Some(o) = of_booking(&state.db, b.id).await? else {
            continue;
        };
        let (Some(provider_ref), OrderStatus::Pending) = (&o.provider_ref, status_of(&o)?) else {
            continue;
        };
        match state.payments.call_off(provider_ref).await {
            Ok(CallOff::CalledOff) => {
                if crate::booking::service::end_paying_hold(state, &b, now).await? {
                    ended += 1;
                }
            }
            Ok(CallOff::AlreadyPaid | CallOff::StillProcessing) => {}
            Err(e) => tracing::warn!(error = %e, "calling off a payment failed; retrying later"),
        }
    }
    Ok(ended)
}

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
    let outcome = apply_news(&txn, &news, &mut after, now).await?;
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
async fn apply_news(
    txn: &impl ConnectionTrait,
    news: &News,
    after: &mut AfterCommit,
    now: OffsetDateTime,
) -> Result<Option<&'static str>, AppError> {
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
            order::Entity::update_many()
                .col_expr(order::Column::PaidFen, Expr::value(*amount_fen))
                .col_expr(order::Column::ProviderRef, Expr::value(provider_ref))
                .filter(order::Column::Id.eq(o.id))
                .filter(order::Column::PaidFen.is_null())
                .exec(txn)
                .await?;
            let s = step(
                txn,
                o.id,
                OrderEvent::PaymentSucceeded,
                Actor::System,
                now,
                after,
            )
            .await?;
            Ok(described(s))
        }
        News::Failed { order_number } => {
            let Some(o) = by_number(order_number).await? else {
                return Ok(None);
            };
            let s = step(
                txn,
                o.id,
                OrderEvent::PaymentFailed,
                Actor::System,
                now,
                after,
            )
            .await?;
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
                    AuditEvent {
                        actor: Actor::System,
                        on_behalf_of: None,
                        action: AuditAction::RefundSettled,
                        entity: Some(("refund", r.refund_number.clone())),
                        ip: String::new(),
                        at: now,
                        detail: None,
                    },
                )
                .await?;
                return Ok(Some("applied"));
            }
            let s = step(
                txn,
                r.order_id,
                OrderEvent::RefundSettled,
                Actor::System,
                now,
                after,
            )
            .await?;
            Ok(described(s))
        }
        News::RefundFailed {
            idempotency_key,
            why,
        } => {
            let failed = refund::Entity::update_many()
                .col_expr(refund::Column::Status, Expr::value(FAILED))
                .col_expr(
                    refund::Column::LastError,
                    Expr::value(why.chars().take(255).collect::<String>()),
                )
                .filter(refund::Column::IdempotencyKey.eq(idempotency_key))
                .filter(refund::Column::Status.eq(REQUESTED))
                .exec(txn)
                .await?
                .rows_affected;
            Ok(Some(if failed == 1 { "applied" } else { "stale" }))
        }
    }
}

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
        let (Some(payment_ref), Some(amount), Some(reason)) = (
            o.provider_ref.as_deref(),
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
                let mut update = refund::Entity::update_many()
                    .col_expr(
                        refund::Column::ProviderRef,
                        Expr::value(&reply.provider_ref),
                    )
                    .col_expr(
                        refund::Column::LastError,
                        Expr::value(Option::<String>::None),
                    )
                    .filter(refund::Column::Id.eq(r.id))
                    .filter(refund::Column::Status.eq(REQUESTED));
                if let RefundState::Failed(why) = &reply.state {
                    update = update
                        .col_expr(refund::Column::Status, Expr::value(FAILED))
                        .col_expr(
                            refund::Column::LastError,
                            Expr::value(why.chars().take(255).collect::<String>()),
                        );
                }
                update.exec(&state.db).await?;
                if reply.state == RefundState::Settled {
                    let txn = db::begin_write(&state.db).await?;
                    let mut after = AfterCommit::default();
                    apply_news(
                        &txn,
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
    ip: &str,
    now: OffsetDateTime,
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
            Actor::Staff(staff_id),
            now,
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
            Actor::Staff(staff_id),
            now,
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
        AuditEvent {
            actor: Actor::Staff(staff_id),
            on_behalf_of: None,
            action: AuditAction::RefundRequested,
            entity: Some(("order", o.order_number.clone())),
            ip: ip.to_owned(),
            at: now,
            detail: Some(serde_json::json!({ "refund": number, "by": "operator" })),
        },
    )
    .await?;
    txn.commit().await?;
    after.run(state);
    Ok(number)
}

/// The sandbox checkout of one of the patient's orders; `None` for anyone else's, or
/// when the sandbox is not the provider.
pub async fn sandbox_checkout(
    state: &State,
    patient_id: i64,
    order_number: &str,
    method: &str,
) -> Result<Option<app::orders::SandboxCheckout>, AppError> {
    if state.payments.name() != crate::orders::payments::sandbox::NAME {
        return Ok(None);
    }
    let Some(o) = own_order(&state.db, patient_id, order_number).await? else {
        return Ok(None);
    };
    let Some(booking_id) = o.booking_id else {
        return Ok(None);
    };
    let Some(b) = booking::Entity::find_by_id(booking_id)
        .one(&state.db)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(app::orders::SandboxCheckout {
        order_number: o.order_number,
        booking_number: b.booking_number,
        description: o.description,
        amount: Fen::new(o.amount_fen).unwrap_or(Fen::ZERO).yuan_text(),
        method: PaymentMethod::parse(method).unwrap_or(PaymentMethod::Card),
    }))
}

/// One of the patient's orders.
pub async fn own_order(
    db: &impl ConnectionTrait,
    patient_id: i64,
    order_number: &str,
) -> Result<Option<order::Model>, AppError> {
    Ok(order::Entity::find()
        .filter(order::Column::OrderNumber.eq(order_number))
        .filter(order::Column::PatientId.eq(patient_id))
        .one(db)
        .await?)
}

/// The tester's choice on the sandbox checkout (none: abandoned), for one of the
/// patient's orders: stored as the sandbox's event and processed like any provider's. Returns the booking's
/// number, to go back to.
pub async fn sandbox_choose(
    state: &Arc<State>,
    patient_id: i64,
    order_number: &str,
    choice: Option<crate::orders::payments::sandbox::Choice>,
    now: OffsetDateTime,
) -> Result<String, AppError> {
    let not_found = || AppError::from(FieldError::general(ErrorCode::NotFound));
    if state.payments.name() != crate::orders::payments::sandbox::NAME {
        return Err(not_found());
    }
    let o = own_order(&state.db, patient_id, order_number)
        .await?
        .ok_or_else(not_found)?;
    let b = match o.booking_id {
        Some(id) => booking::Entity::find_by_id(id).one(&state.db).await?,
        None => None,
    }
    .ok_or_else(not_found)?;
    // Abandoning sends nothing, as closing a provider's page would.
    if let Some(choice) = choice {
        crate::orders::payments::sandbox::choose(
            &state.db,
            &o.order_number,
            o.amount_fen,
            choice,
            now.unix_timestamp(),
        )
        .await?;
        process_events(state, now).await?;
    }
    Ok(b.booking_number)
}

/// Orders as their pages and the API show them, with their refunds and bookings.
async fn views(
    db: &impl ConnectionTrait,
    rows: Vec<order::Model>,
) -> Result<Vec<app::orders::OrderView>, AppError> {
    use app::orders::{OrderView, RefundView};
    let ids: Vec<i64> = rows.iter().map(|o| o.id).collect();
    let refunds = refund::Entity::find()
        .filter(refund::Column::OrderId.is_in(ids.clone()))
        .order_by_asc(refund::Column::Id)
        .all(db)
        .await?;
    let booking_ids: Vec<i64> = rows.iter().filter_map(|o| o.booking_id).collect();
    let bookings = booking::Entity::find()
        .filter(booking::Column::Id.is_in(booking_ids))
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for o in rows {
        let Some(status) = OrderStatus::parse(&o.status) else {
            continue;
        };
        out.push(OrderView {
            amount: Fen::new(o.amount_fen).unwrap_or(Fen::ZERO).yuan_text(),
            status,
            amount_fen: o.amount_fen,
            refunded_fen: o.refunded_fen,
            currency: o.currency.clone(),
            method: o.method.as_deref().and_then(PaymentMethod::parse),
            created: app::domain::china_time::local(o.created_at),
            paid: o.paid_at.map(app::domain::china_time::local),
            booking_number: bookings
                .iter()
                .find(|b| Some(b.id) == o.booking_id)
                .map(|b| b.booking_number.clone()),
            refunds: refunds
                .iter()
                .filter(|r| r.order_id == o.id)
                .filter_map(|r| {
                    Some(RefundView {
                        refund_number: r.refund_number.clone(),
                        amount_fen: r.amount_fen,
                        amount: Fen::new(r.amount_fen)?.yuan_text(),
                        reason: RefundReason::parse(&r.reason)?,
                        status: r.status.clone(),
                        requested: app::domain::china_time::local(r.requested_at),
                        settled: r.settled_at.map(app::domain::china_time::local),
                    })
                })
                .collect(),
            order_number: o.order_number,
            description: o.description,
        });
    }
    Ok(out)
}

/// The patient's orders, newest first.
pub async fn list_for_patient(
    state: &State,
    patient_id: i64,
) -> Result<Vec<app::orders::OrderView>, AppError> {
    let rows = order::Entity::find()
        .filter(order::Column::PatientId.eq(patient_id))
        .order_by_desc(order::Column::Id)
        .limit(200)
        .all(&state.db)
        .await?;
    views(&state.db, rows).await
}

/// One of the patient's orders (its receipt); `None` for anyone else's.
pub async fn view_for_patient(
    state: &State,
    patient_id: i64,
    order_number: &str,
) -> Result<Option<app::orders::OrderView>, AppError> {
    let Some(o) = own_order(&state.db, patient_id, order_number).await? else {
        return Ok(None);
    };
    Ok(views(&state.db, vec![o]).await?.pop())
}

/// Every order, newest first, optionally in one status, a page of `per_page`.
pub async fn list_for_staff(
    state: &State,
    status: Option<OrderStatus>,
    page: u64,
    per_page: u64,
) -> Result<Vec<app::orders::OrderView>, AppError> {
    let mut q = order::Entity::find().order_by_desc(order::Column::Id);
    if let Some(s) = status {
        q = q.filter(order::Column::Status.eq(s.as_str()));
    }
    let rows = q
        .offset(page.saturating_sub(1).saturating_mul(per_page))
        .limit(per_page)
        .all(&state.db)
        .await?;
    views(&state.db, rows).await
}

/// How long after its service an order stays open to a complaint before it closes.
pub const CLOSE_AFTER_SECS: i64 = 7 * 86_400;

/// Paid orders whose appointment has ended are served (the appointment was kept for the
/// patient; until the consult issue says whether the doctor answered, the end of the
/// slot is the service); served orders older than [`CLOSE_AFTER_SECS`] close. A refund
/// stays possible while served (an unanswered consult, an operator's decision). Each
/// move is the machine's, under the order's lock, so two servers make it once.
pub async fn serve_and_close(state: &Arc<State>, now: OffsetDateTime) -> Result<usize, AppError> {
    let ts = now.unix_timestamp();
    let ended: Vec<i64> = order::Entity::find()
        .select_only()
        .column(order::Column::Id)
        .filter(order::Column::Status.eq(OrderStatus::Paid.as_str()))
        .filter(
            order::Column::BookingId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(booking::Column::Id)
                    .from(booking::Entity)
                    .and_where(booking::Column::Status.eq(crate::booking::service::CONFIRMED))
                    .and_where(booking::Column::EndsAt.lte(ts))
                    .to_owned(),
            ),
        )
        .limit(200)
        .into_tuple()
        .all(&state.db)
        .await?;
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
    for (ids, event) in [
        (ended, OrderEvent::ServiceGiven),
        (closing, OrderEvent::Close),
    ] {
        for id in ids {
            let txn = db::begin_write(&state.db).await?;
            let mut after = AfterCommit::default();
            let step = step(&txn, id, event, Actor::System, now, &mut after).await?;
            txn.commit().await?;
            after.run(state);
            moved += usize::from(matches!(step, Step::Moved { .. }));
        }
    }
    Ok(moved)
}
