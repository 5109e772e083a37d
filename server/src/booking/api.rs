//! Schedules, holds and bookings (R-BOOK-1 … R-BOOK-4).
use crate::accounts::auth::ConsentedPatient;
use crate::booking::free_slot::FreeSlot;
use crate::booking::holds::HoldRequest;
use crate::booking::service as bookings;
use crate::family::acting_for;
use crate::staff::auth::StaffMember;
use crate::state::AppState;
use crate::web::api::ApiResult;
use crate::web::api::ApiRoutes;
use crate::web::client::ClientIp;
use crate::web::extract::{Json, Query};
use crate::web::openapi::ErrorBody;
use app::domain::schedule::{ConsultType, SessionPlan, Split};
use app::domain::{ErrorCode, Field, FieldError};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use tower_sessions::Session;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct SessionInput {
    /// China date, `YYYY-MM-DD`.
    date: String,
    /// China time, `HH:MM`.
    start: String,
    end: String,
    /// `text`, `image_text` or `video`.
    consult_type: String,
    /// Appointments of this many minutes (one patient each) …
    slot_minutes: Option<u16>,
    /// … or one block with this many places.
    capacity: Option<u16>,
}

fn minutes(hh_mm: &str) -> Option<u16> {
    let (h, m) = hh_mm.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Published {
    slot_numbers: Vec<String>,
}

/// Publish a session of a doctor's fixed schedule (operators and admins, or the doctor
/// for themselves). Refused for
/// a doctor with fewer than three years of practice, in the past, or too far ahead.
#[utoipa::path(post, path = "/api/v1/staff/doctors/{number}/sessions", tag = "booking",
    params(("number" = String, Path)),
    request_body = SessionInput,
    responses(
        (status = 201, body = Published),
        (status = 403, body = ErrorBody),
        (status = 422, description = "doctor_practice_too_short, schedule_…", body = ErrorBody),
    ))]
pub(crate) async fn publish_session(
    State(state): State<AppState>,
    member: StaffMember,
    Path(number): Path<String>,
    Json(input): Json<SessionInput>,
) -> ApiResult {
    super::schedule::may_schedule(&state, &member, Some(&number), None).await?;
    let bad = || FieldError::new(ErrorCode::ScheduleTimesInvalid, Field::Body);
    let date = Date::parse(
        input.date.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| bad())?;
    let split = match (input.slot_minutes, input.capacity) {
        (Some(m), None) => Split::SlotMinutes(m),
        (None, Some(c)) => Split::Capacity(c),
        _ => return Err(FieldError::new(ErrorCode::InvalidForm, Field::Body).into()),
    };
    let consult_type = ConsultType::parse(input.consult_type.trim())
        .ok_or(FieldError::new(ErrorCode::InvalidForm, Field::Body))?;
    let plan = SessionPlan {
        date,
        start_minute: minutes(&input.start).ok_or_else(bad)?,
        end_minute: minutes(&input.end).ok_or_else(bad)?,
        split,
    };
    let slot_numbers = crate::booking::schedule::publish_session(
        &state,
        &number,
        consult_type,
        plan,
        member.id,
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Published { slot_numbers })).into_response())
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(crate) struct SlotQuery {
    /// How many days ahead (1–60, default 14).
    days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Slots {
    slots: Vec<FreeSlot>,
}

/// A doctor's free slots for the coming days.
#[utoipa::path(get, path = "/api/v1/doctors/{number}/slots", tag = "booking",
    params(("number" = String, Path), SlotQuery),
    responses((status = 200, body = Slots), (status = 404, body = ErrorBody)))]
pub(crate) async fn doctor_slots(
    State(state): State<AppState>,
    Path(number): Path<String>,
    Query(q): Query<SlotQuery>,
) -> ApiResult {
    let slots = crate::booking::schedule::doctor_slots(
        &state,
        &number,
        q.days.unwrap_or(14),
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok(Json(Slots { slots }).into_response())
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct HoldInput {
    slot_number: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct HoldMade {
    booking_number: String,
    /// Unix seconds: pay before then, or the place goes back.
    hold_expires_at: i64,
}

/// Hold a slot for the person the patient acts for, pending payment. Needs the consult
/// consent given for them (`POST /api/v1/consult-consents`) with this doctor's department.
#[utoipa::path(post, path = "/api/v1/holds", tag = "booking",
    request_body = HoldInput,
    responses(
        (status = 201, body = HoldMade),
        (status = 409, description = "slot_taken (with `next_slots`), booking_overlaps, too_many_holds (3 unpaid holds running), slot_cancelled", body = ErrorBody),
        (status = 422, description = "consult_consent_required, eligibility_…", body = ErrorBody),
    ))]
pub(crate) async fn hold(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    session: Session,
    ClientIp(ip): ClientIp,
    Json(input): Json<HoldInput>,
) -> ApiResult {
    let member = acting_for::member_id(&state, patient.id, &session).await?;
    let consent = crate::eligibility::screen::consult_consent_of(&session).await?;
    let held = crate::booking::hold_writer::hold(
        &state,
        &HoldRequest {
            patient_id: patient.id,
            member,
            slot_number: input.slot_number.trim().to_owned(),
            consult_consent: consent,
            known_birth_date: patient.own_birth_date(member).map(str::to_owned),
        },
        state.hold_secs,
        &ip.to_string(),
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(HoldMade {
            booking_number: held.booking_number,
            hold_expires_at: held.hold_expires_at,
        }),
    )
        .into_response())
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct PayInput {
    /// `wechat_pay`, `alipay` or `card`; the first that works here when left out.
    payment_method: Option<String>,
}

/// Where paying goes next.
#[derive(Serialize, ToSchema)]
#[serde(tag = "next", rename_all = "snake_case")]
pub(crate) enum PayNext {
    /// Send the patient to `url` (the provider's page; the sandbox's in dev). They come
    /// back to the booking, which shows the result once the provider has told us.
    Redirect { url: String },
    /// Nothing (more) to pay: the booking is confirmed.
    Confirmed,
}

/// Start paying for a held booking (R-PAY-1). From then on the hold waits for the
/// provider's answer instead of running out. Starting again continues the same payment.
#[utoipa::path(post, path = "/api/v1/bookings/{number}/payment", tag = "booking",
    params(("number" = String, Path)),
    request_body = PayInput,
    responses(
        (status = 200, body = PayNext),
        (status = 404, body = ErrorBody),
        (status = 409, description = "hold_expired", body = ErrorBody),
        (status = 422, description = "payment_method_unavailable (e.g. Alipay inside WeChat)", body = ErrorBody),
        (status = 503, description = "payment_unavailable: the provider cannot be reached; nothing was charged", body = ErrorBody),
    ))]
pub(crate) async fn pay(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
    Path(number): Path<String>,
    Json(input): Json<PayInput>,
) -> ApiResult {
    let next = super::paying::start_paying(
        &state,
        patient.id,
        &number,
        &headers,
        input.payment_method.as_deref(),
        &ip.to_string(),
    )
    .await?;
    let next = match next {
        crate::orders::PayNext::Redirect(url) => PayNext::Redirect { url },
        crate::orders::PayNext::Confirmed => PayNext::Confirmed,
    };
    Ok((StatusCode::OK, Json(next)).into_response())
}

/// Cancel a hold or booking (free until the configured cut-off before the start).
#[utoipa::path(delete, path = "/api/v1/bookings/{number}", tag = "booking",
    params(("number" = String, Path)),
    responses(
        (status = 204),
        (status = 404, body = ErrorBody),
        (status = 409, description = "booking_not_active", body = ErrorBody),
    ))]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    ClientIp(ip): ClientIp,
    Path(number): Path<String>,
) -> ApiResult {
    bookings::cancel(
        &state,
        patient.id,
        &number,
        state.free_cancel_secs,
        &ip.to_string(),
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Serialize, ToSchema)]
pub(crate) struct SlotCancelled {
    /// Bookings cancelled and marked for a full refund.
    bookings_cancelled: usize,
}

/// Cancel a published slot with at least a day's notice (operators and admins, or the
/// slot's doctor): its
/// patients are told and refunded in full.
#[utoipa::path(delete, path = "/api/v1/staff/slots/{number}", tag = "booking",
    params(("number" = String, Path)),
    responses(
        (status = 200, body = SlotCancelled),
        (status = 409, description = "schedule_notice_too_short, slot_cancelled", body = ErrorBody),
    ))]
pub(crate) async fn cancel_slot(
    State(state): State<AppState>,
    member: StaffMember,
    ClientIp(ip): ClientIp,
    Path(number): Path<String>,
) -> ApiResult {
    super::schedule::may_schedule(&state, &member, None, Some(&number)).await?;
    let n = crate::booking::schedule::cancel_slot(
        &state,
        &number,
        member.id,
        &ip.to_string(),
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok(Json(SlotCancelled {
        bookings_cancelled: n,
    })
    .into_response())
}

/// The account's bookings (the 问诊 tab): upcoming first, then the past, times in words
/// in the request's language.
#[utoipa::path(get, path = "/api/v1/bookings", tag = "booking",
    responses(
        (status = 200, body = app::booking::BookingList),
        (status = 401, body = ErrorBody),
    ))]
pub(crate) async fn my_bookings(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    crate::web::client::Lang(locale): crate::web::client::Lang,
) -> ApiResult {
    let list =
        super::views::list_for_patient(&state, patient.id, locale, OffsetDateTime::now_utc())
            .await?;
    Ok(Json(list).into_response())
}

/// One of the account's bookings: its state, the hold's time left, the order that pays
/// for it and the ways to pay in this browser.
#[utoipa::path(get, path = "/api/v1/bookings/{number}", tag = "booking",
    params(("number" = String, Path, description = "The booking number")),
    responses(
        (status = 200, body = app::booking::BookingView),
        (status = 404, description = "Not this account's booking", body = ErrorBody),
    ))]
pub(crate) async fn my_booking(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    crate::web::client::Lang(locale): crate::web::client::Lang,
    headers: axum::http::HeaderMap,
    Path(number): Path<String>,
) -> ApiResult {
    let view = super::views::find_for_patient(
        &state,
        patient.id,
        &number,
        locale,
        crate::web::client::browser_of(&headers),
        OffsetDateTime::now_utc(),
    )
    .await?
    .ok_or(FieldError::general(ErrorCode::NotFound))?;
    Ok(Json(view).into_response())
}

pub(crate) fn routes() -> ApiRoutes {
    ApiRoutes {
        public: OpenApiRouter::new().routes(routes!(doctor_slots)),
        consented: OpenApiRouter::new()
            .routes(routes!(my_bookings))
            .routes(routes!(my_booking))
            .routes(routes!(hold))
            .routes(routes!(pay))
            .routes(routes!(cancel)),
        staff: OpenApiRouter::new()
            .routes(routes!(publish_session))
            .routes(routes!(cancel_slot)),
        ..ApiRoutes::default()
    }
}
