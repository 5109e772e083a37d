//! The booking forms: hold a slot, join or leave a live queue, pay or cancel a booking.
use crate::accounts::auth::ConsentedPatient;
use crate::state::AppState;
use crate::web::client::ClientIp;
use crate::web::extract::Form;
use app::domain::{ErrorCode, FieldError};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Router, routing::post};
use time::OffsetDateTime;
use tower_sessions::Session;

use crate::web::forms::{Fields, back_with, field, outcome, record_number};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/forms/holds", post(hold_slot))
        .route("/forms/queue", post(join_queue))
        .route("/forms/queue/{number}/leave", post(leave_queue))
        .route("/forms/bookings/{number}/payment", post(pay_booking))
        .route("/forms/bookings/{number}/cancel", post(cancel_booking))
}

/// R-BOOK-2: a tap on a free slot holds it, then the booking page counts down.
async fn hold_slot(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    session: Session,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    use crate::booking::holds::HoldRequest;
    let slot_number = field(&f, "slot_number").trim().to_owned();
    let result = async {
        let member = crate::family::acting_for::member_id(&state, patient.id, &session).await?;
        let consent = crate::eligibility::screen::consult_consent_of(&session).await?;
        crate::booking::hold_writer::hold(
            &state,
            &HoldRequest {
                patient_id: patient.id,
                member,
                slot_number: slot_number.clone(),
                consult_consent: consent,
                known_birth_date: patient.own_birth_date(member).map(str::to_owned),
            },
            state.hold_secs,
            &ip.to_string(),
            OffsetDateTime::now_utc(),
        )
        .await
    }
    .await;
    match result {
        Ok(held) => Redirect::to(&format!("/bookings/{}", held.booking_number)).into_response(),
        // The screen and the consult's consent come first (R-ELIG-4, R-REG-6).
        Err(e) if e.code() == ErrorCode::ConsultConsentRequired => back_with("/consult/start", e),
        Err(e) => {
            let back = crate::booking::service::doctor_of_slot(&state.db, &slot_number)
                .await
                .ok()
                .flatten()
                .map_or_else(|| "/doctors".to_owned(), |d| format!("/doctors/{d}"));
            back_with(&back, e)
        }
    }
}

/// R-BOOK-1: join a doctor's live queue, then watch the place.
async fn join_queue(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    session: Session,
    Form(f): Form<Fields>,
) -> Response {
    let doctor = field(&f, "doctor_number").trim().to_owned();
    let result = async {
        let consult_type = app::domain::schedule::ConsultType::parse(field(&f, "consult_type"))
            .ok_or(FieldError::general(ErrorCode::InvalidForm))?;
        let member = crate::family::acting_for::member_id(&state, patient.id, &session).await?;
        let consent = crate::eligibility::screen::consult_consent_of(&session).await?;
        crate::booking::queue::join(
            &state,
            patient.id,
            member,
            &doctor,
            consult_type,
            &consent,
            OffsetDateTime::now_utc(),
        )
        .await
    }
    .await;
    match result {
        Ok(number) => Redirect::to(&format!("/queue/{number}")).into_response(),
        Err(e) if e.code() == ErrorCode::ConsultConsentRequired => back_with("/consult/start", e),
        Err(e) => {
            let doctor = record_number(&doctor);
            back_with(&format!("/doctors/{doctor}"), e)
        }
    }
}

async fn leave_queue(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    Path(number): Path<String>,
) -> Response {
    let number = record_number(&number);
    let result =
        crate::booking::queue::leave(&state, patient.id, &number, OffsetDateTime::now_utc())
            .await
            .map(|()| format!("/queue/{number}"));
    outcome(&format!("/queue/{number}"), result)
}

async fn pay_booking(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
    Path(number): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    use crate::orders::PayNext;
    let number = record_number(&number);
    let page = format!("/bookings/{number}");
    let result = async {
        let next = crate::booking::paying::start_paying(
            &state,
            patient.id,
            &number,
            &headers,
            Some(field(&f, "payment_method")),
            &ip.to_string(),
        )
        .await?;
        Ok::<_, crate::error::AppError>(match next {
            PayNext::Redirect(url) => url,
            PayNext::Confirmed => format!("{page}?notice=booking_confirmed"),
        })
    }
    .await;
    outcome(&page, result)
}

async fn cancel_booking(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    ClientIp(ip): ClientIp,
    Path(number): Path<String>,
) -> Response {
    let number = record_number(&number);
    let result = crate::booking::service::cancel(
        &state,
        patient.id,
        &number,
        state.free_cancel_secs,
        &ip.to_string(),
        OffsetDateTime::now_utc(),
    )
    .await
    .map(|()| "/consults?notice=booking_cancelled");
    outcome(&format!("/bookings/{number}"), result)
}
