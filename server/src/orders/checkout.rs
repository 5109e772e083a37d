//! Paying (R-PAY-1): the provider is asked for the payment of a pending order (with a key
//! derived from the order, so asking again continues the same payment), a payment begun
//! for a subject that ended meanwhile is called off, and the sandbox's checkout in
//! development.
use super::after_commit::AfterCommit;
use super::provider_events::process_events;
use super::runner::{pay, status_of, subject_of};
use super::views::own_order;
use crate::audit::{self, AuditAction};
use crate::context::RequestContext;
use crate::db::{self, order};
use crate::error::AppError;
use crate::orders::payments::provider::{CallOff, NextStep, PaymentAsk, ProviderError};
use crate::state::State;
use app::domain::order::{Fen, OrderStatus};
use app::domain::payment_method::{Browser, PaymentMethod, may_use};
use app::domain::{ErrorCode, Field, FieldError};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::sync::Arc;
use time::OffsetDateTime;

/// Where paying sends the patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayNext {
    /// To the provider's page.
    Redirect(String),
    /// Nothing to pay (or paid already): the subject has taken the payment.
    Confirmed,
}

/// Who pays, how, from where.
pub struct PaymentStart<'a> {
    pub method: PaymentMethod,
    pub browser: Browser,
    pub cx: &'a RequestContext,
}

/// The patient starts paying a pending order whose subject (numbered `number`, for the
/// page the provider returns to) waits for it; from then on the subject waits for the
/// provider's answer instead of running out. The subject's feature has checked that it
/// may still be paid.
pub async fn start_payment(
    state: &Arc<State>,
    o: order::Model,
    number: &str,
    start: PaymentStart<'_>,
) -> Result<PayNext, AppError> {
    let PaymentStart {
        method,
        browser,
        cx,
    } = start;
    let now = cx.now;
    let ts = now.unix_timestamp();
    let kind = subject_of(&o)?.kind;
    if status_of(&o)? != OrderStatus::Pending {
        return Ok(PayNext::Confirmed);
    }
    if o.amount_fen == 0 {
        let txn = db::begin_write(&state.db).await?;
        let mut after = AfterCommit::default();
        pay(&txn, &state.subjects, o.id, cx, &mut after).await?;
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
    let subject = state.subjects.get(kind)?;
    let return_url = format!("{}{}", state.public_origin, subject.page(number));
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
    if marked != 1 || !subject.awaits_payment(&txn, o.subject_id).await? {
        txn.rollback().await?;
        // The subject ended while the provider opened the payment: call it off, so it
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
        cx.audit(AuditAction::PaymentStarted)
            .on("order", &o.order_number)
            .about_member(o.family_member_id)
            .detail(serde_json::json!({ "method": method.as_str() })),
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

/// Calls off the payment begun for a pending order whose subject's time is up: the
/// subject may end only when the provider says no money can come any more.
pub async fn call_off(state: &State, o: &order::Model) -> Result<Option<CallOff>, AppError> {
    let (Some(provider_ref), OrderStatus::Pending) = (&o.provider_ref, status_of(o)?) else {
        return Ok(None);
    };
    match state.payments.call_off(provider_ref).await {
        Ok(answer) => Ok(Some(answer)),
        Err(e) => {
            tracing::warn!(error = %e, "calling off a payment failed; retrying later");
            Ok(None)
        }
    }
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
    let Some(back) = subject_page(state, &o).await? else {
        return Ok(None);
    };
    Ok(Some(app::orders::SandboxCheckout {
        order_number: o.order_number,
        back,
        description: o.description,
        amount: Fen::new(o.amount_fen).unwrap_or(Fen::ZERO).yuan_text(),
        method: PaymentMethod::parse(method).unwrap_or(PaymentMethod::Card),
    }))
}

/// The tester's choice on the sandbox checkout (none: abandoned), for one of the
/// patient's orders: stored as the sandbox's event and processed like any provider's.
/// Returns the subject's page, to go back to.
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
    let back = subject_page(state, &o).await?.ok_or_else(not_found)?;
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
    Ok(back)
}

/// The patient's page of the order's subject.
async fn subject_page(state: &State, o: &order::Model) -> Result<Option<String>, AppError> {
    let subject = state.subjects.get(super::runner::subject_of(o)?.kind)?;
    Ok(subject
        .numbers(&state.db, &[o.subject_id])
        .await?
        .pop()
        .map(|(_, number)| subject.page(&number)))
}
