//! A consult booking as what an order pays for (R-PAY-1, R-BOOK-2): its fee from the price
//! list, its order made with the hold, paying while the hold runs, the hold confirmed when
//! the money comes (its consult opens then), a payment begun too late called off. The
//! order is served when the doctor answers (`crate::consult`).
use super::expiry::end_paying_hold;
use super::row::booking_notice;
use super::row::moving;
use super::row::subject;
use crate::audit::{self, AuditAction};
use crate::context::RequestContext;
use crate::db::{booking, consult_price, doctor};
use crate::error::AppError;
use crate::notices::service as notices;
use crate::orders::payments::provider::CallOff;
use crate::orders::{self, AfterCommit, NewLine, NewOrder, PayNext, Subject};
use crate::state::State;
use app::domain::booking::BookingEvent;
use app::domain::booking::BookingStatus;
use app::domain::notice::NoticeKind;
use app::domain::order::{Fen, SubjectKind};
use app::domain::payment_method::{Browser, PaymentMethod};
use app::domain::schedule::ConsultType;
use app::domain::{ErrorCode, FieldError};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect,
};
use std::sync::Arc;
use time::OffsetDateTime;

/// The published fee for a doctor's consult type (R-DOC-1), from the price list.
pub fn consult_fee(
    prices: &[consult_price::Model],
    d: &doctor::Model,
    consult_type: ConsultType,
) -> Result<Fen, AppError> {
    prices
        .iter()
        .find(|p| p.title == d.title && p.consult_type == consult_type.as_str())
        .and_then(|p| Fen::new(p.fee_fen))
        .ok_or_else(|| FieldError::general(ErrorCode::PriceNotPublished).into())
}

/// The order a hold is paid by, made with it: one line, the consult fee.
pub fn consult_order(
    provider: &str,
    b: &booking::Model,
    d: &doctor::Model,
    consult_type: ConsultType,
    fee: Fen,
    now: i64,
) -> NewOrder {
    let description = format!("{} · {}", d.name, consult_type.name(false));
    NewOrder {
        patient_id: b.patient_id,
        family_member_id: b.family_member_id,
        subject: subject(b.id),
        provider: provider.to_owned(),
        description: description.clone(),
        lines: vec![NewLine {
            item: "consult_fee",
            description,
            unit: fee,
            quantity: 1,
        }],
        now,
    }
}

/// The patient starts paying for their held booking: only while the hold runs, or when a
/// payment began in time (the hold then waits for it).
pub async fn start_payment(
    state: &Arc<State>,
    patient_id: i64,
    booking_number: &str,
    method: PaymentMethod,
    browser: Browser,
    cx: &RequestContext,
) -> Result<PayNext, AppError> {
    let now = cx.now;
    let b = booking::Entity::find()
        .filter(booking::Column::BookingNumber.eq(booking_number))
        .filter(booking::Column::PatientId.eq(patient_id))
        .one(&state.db)
        .await?
        .ok_or(FieldError::general(ErrorCode::NotFound))?;
    if b.status == BookingStatus::Confirmed.as_str() {
        return Ok(PayNext::Confirmed);
    }
    let o = orders::of_subject(&state.db, subject(b.id))
        .await?
        .ok_or(FieldError::general(ErrorCode::NotFound))?;
    let started = o.payment_started_at.is_some();
    // A hold that ran out cannot be paid, unless a payment began in time (it waits).
    if b.status != BookingStatus::Held.as_str()
        || (b.hold_expires_at <= now.unix_timestamp() && !started)
    {
        return Err(FieldError::general(ErrorCode::HoldExpired).into());
    }
    orders::start_payment(
        state,
        o,
        &b.booking_number,
        orders::PaymentStart {
            method,
            browser,
            cx,
        },
    )
    .await
}

/// Holds whose payment began at the provider and whose time is up: each is called off at
/// the provider first, and ends only if the provider says no money can come any more.
/// What is still being decided there keeps its hold.
pub async fn expire_paying_holds(
    state: &Arc<State>,
    now: OffsetDateTime,
) -> Result<usize, AppError> {
    let due = booking::Entity::find()
        .filter(booking::Column::Status.eq(BookingStatus::Held.as_str()))
        .filter(booking::Column::HoldExpiresAt.lte(now.unix_timestamp()))
        .filter(booking::Column::Id.in_subquery(orders::paying_subjects(SubjectKind::Consult)))
        .limit(100)
        .all(&state.db)
        .await?;
    let mut ended = 0;
    for b in due {
        let Some(o) = orders::of_subject(&state.db, subject(b.id)).await? else {
            continue;
        };
        if orders::call_off(state, &o).await? == Some(CallOff::CalledOff)
            && end_paying_hold(state, &b, now).await?
        {
            ended += 1;
        }
    }
    Ok(ended)
}

/// A consult booking, as the order runner sees it: paid, it opens its consult.
pub struct ConsultBooking {
    pub consults: crate::consult::life::ConsultSettings,
}

#[async_trait::async_trait]
impl Subject for ConsultBooking {
    fn kind(&self) -> SubjectKind {
        SubjectKind::Consult
    }

    /// The paid order's booking, held until now, is confirmed; `false` if it is not held.
    async fn paid(
        &self,
        txn: &DatabaseTransaction,
        id: i64,
        cx: &RequestContext,
        after: &mut AfterCommit,
    ) -> Result<bool, AppError> {
        let now = cx.now;
        let done = moving(BookingEvent::Paid)
            .col_expr(
                booking::Column::ConfirmedAt,
                Expr::value(now.unix_timestamp()),
            )
            .filter(booking::Column::Id.eq(id))
            .exec(txn)
            .await?
            .rows_affected;
        if done != 1 {
            return Ok(false);
        }
        let Some(b) = booking::Entity::find_by_id(id).one(txn).await? else {
            return Ok(false);
        };
        after.sms.push(
            notices::record(txn, booking_notice(&b, NoticeKind::BookingConfirmed), now).await?,
        );
        let c = crate::consult::life::open_for_booking(txn, &b, self.consults, cx).await?;
        crate::chat::publish_after(after, c.id, c.last_seq.max(1));
        audit::record(
            txn,
            cx.audit(AuditAction::BookingConfirmed)
                .on("booking", &b.booking_number)
                .about_member(b.family_member_id),
        )
        .await?;
        Ok(true)
    }

    async fn awaits_payment(&self, txn: &DatabaseTransaction, id: i64) -> Result<bool, AppError> {
        Ok(booking::Entity::find_by_id(id)
            .one(txn)
            .await?
            .is_some_and(|b| b.status == BookingStatus::Held.as_str()))
    }

    async fn numbers(
        &self,
        db: &DatabaseConnection,
        ids: &[i64],
    ) -> Result<Vec<(i64, String)>, AppError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(booking::Entity::find()
            .select_only()
            .column(booking::Column::Id)
            .column(booking::Column::BookingNumber)
            .filter(booking::Column::Id.is_in(ids.iter().copied()))
            .into_tuple()
            .all(db)
            .await?)
    }

    fn page(&self, number: &str) -> String {
        format!("/bookings/{number}")
    }
}

/// Starts paying for one of the patient's bookings with the method asked for (or the
/// one this browser gets by default): the API's and the form's way in.
pub(crate) async fn start_paying(
    state: &std::sync::Arc<crate::state::State>,
    patient_id: i64,
    booking_number: &str,
    headers: &axum::http::HeaderMap,
    asked: Option<&str>,
    cx: &RequestContext,
) -> Result<crate::orders::PayNext, crate::error::AppError> {
    let browser = crate::web::client::browser_of(headers);
    let method = choose_method(state, browser, asked)?;
    super::paying::start_payment(state, patient_id, booking_number, method, browser, cx).await
}

/// The method asked for, or the first that works in this browser.
pub(crate) fn choose_method(
    state: &crate::state::State,
    browser: app::domain::payment_method::Browser,
    asked: Option<&str>,
) -> Result<app::domain::payment_method::PaymentMethod, FieldError> {
    use app::domain::payment_method::{PaymentMethod, default_method, offered};
    let unavailable = FieldError::new(
        ErrorCode::PaymentMethodUnavailable,
        app::domain::Field::PaymentMethod,
    );
    match asked.map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => PaymentMethod::parse(m).ok_or(unavailable),
        None => default_method(&offered(
            browser,
            state.payments.methods(),
            state.payments.qr_only(),
        ))
        .ok_or(unavailable),
    }
}
