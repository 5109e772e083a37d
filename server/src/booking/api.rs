//! Schedules, holds and bookings (R-BOOK-1 … R-BOOK-4).
use crate::accounts::auth::ConsentedPatient;
use crate::booking::free_slot::FreeSlot;
use crate::booking::holds::HoldRequest;
use crate::booking::service as bookings;
use crate::caller::Ctx;
use crate::staff::auth::StaffMember;
use crate::state::AppState;
use crate::web::api::ApiResult;
use crate::web::api::ApiRoutes;
use crate::web::extract::{Json, Query};
use crate::web::forms::{record_number, with_notice};
use crate::web::openapi::ErrorBody;
use crate::web::reply::{Input, Reply};
use app::domain::schedule::{ConsultType, SessionPlan, Split};
use app::domain::{ErrorCode, Field, FieldError};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Router, routing::post};
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
    /// Pages only: the doctor (operators); empty for the doctor's own desk.
    #[schema(ignore)]
    doctor_number: String,
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

/// Publish a session of a doctor's fixed schedule (operators, or the doctor
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
    cx: Ctx<StaffMember>,
    reply: Reply,
    number: Option<Path<String>>,
    Input(input): Input<SessionInput>,
) -> Response {
    let result = async {
        let chosen = match number {
            Some(Path(n)) => n,
            None => input.doctor_number.trim().to_owned(),
        };
        // R-BOOK-1: a doctor publishes a session of their own schedule; an operator or
        // admin publishes one for the doctor they name.
        let number = if chosen.is_empty() {
            super::queue::doctor_of_staff(&state.db, cx.caller.id)
                .await?
                .doctor_number
        } else {
            super::schedule::may_schedule(&state, &cx.caller, Some(&chosen), None).await?;
            chosen
        };
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
            cx.caller.id,
            &cx,
        )
        .await?;
        Ok(Published { slot_numbers })
    }
    .await;
    let page = schedule_page(&input.doctor_number);
    let onward = with_notice(&page, "session_published");
    reply
        .back_to(page)
        .answer(result, StatusCode::CREATED, |_| onward)
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
    cx: Ctx<ConsentedPatient>,
    session: Session,
    reply: Reply,
    Input(input): Input<HoldInput>,
) -> Response {
    let slot_number = input.slot_number.trim().to_owned();
    let result = async {
        let consent = crate::eligibility::screen::consult_consent_of(&session).await?;
        let request = HoldRequest {
            patient_id: cx.caller.id,
            member: cx.acting_for,
            slot_number: slot_number.clone(),
            consult_consent: consent,
            known_birth_date: cx.caller.own_birth_date(cx.acting_for).map(str::to_owned),
        };
        let held =
            crate::booking::hold_writer::hold(&state, &request, state.hold_secs, &cx.ip, cx.now)
                .await?;
        Ok::<_, crate::error::AppError>(HoldMade {
            booking_number: held.booking_number,
            hold_expires_at: held.hold_expires_at,
        })
    }
    .await;
    let reply = match &result {
        Err(e) if starts_over(e) => reply.back_to("/consult/start"),
        Err(_) if reply.is_page() => {
            let doctor = bookings::doctor_of_slot(&state.db, &slot_number)
                .await
                .ok()
                .flatten();
            reply.back_to(doctor.map_or_else(|| "/doctors".to_owned(), |d| format!("/doctors/{d}")))
        }
        _ => reply,
    };
    // R-BOOK-2: a tap on a free slot holds it, then the booking page counts down.
    reply.answer(result, StatusCode::CREATED, |held| {
        format!("/bookings/{}", held.booking_number)
    })
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
    cx: Ctx<ConsentedPatient>,
    headers: axum::http::HeaderMap,
    reply: Reply,
    Path(number): Path<String>,
    Input(input): Input<PayInput>,
) -> Response {
    let number = record_number(&number);
    let result = super::paying::start_paying(
        &state,
        cx.caller.id,
        &number,
        &headers,
        input.payment_method.as_deref(),
        &cx,
    )
    .await
    .map(|next| match next {
        crate::orders::PayNext::Redirect(url) => PayNext::Redirect { url },
        crate::orders::PayNext::Confirmed => PayNext::Confirmed,
    });
    let page = format!("/bookings/{number}");
    reply
        .back_to(&page)
        .answer(result, StatusCode::OK, |next| match next {
            PayNext::Redirect { url } => url.clone(),
            PayNext::Confirmed => format!("{page}?notice=booking_confirmed"),
        })
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
    cx: Ctx<ConsentedPatient>,
    reply: Reply,
    Path(number): Path<String>,
) -> Response {
    let number = record_number(&number);
    let result = bookings::cancel(&state, cx.caller.id, &number, state.free_cancel_secs, &cx).await;
    reply
        .back_to(format!("/bookings/{number}"))
        .done(result, || "/consults?notice=booking_cancelled".into())
}
#[derive(Serialize, ToSchema)]
pub(crate) struct SlotCancelled {
    /// Bookings cancelled and marked for a full refund.
    bookings_cancelled: usize,
}

/// Cancel a published slot with at least a day's notice (operators, or the
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
    cx: Ctx<StaffMember>,
    reply: Reply,
    number: Option<Path<String>>,
    form: Option<Input<SlotForm>>,
) -> Response {
    let form = form.map(|Input(f)| f).unwrap_or_default();
    let number = match number {
        Some(Path(n)) => n,
        None => form.slot_number.trim().to_owned(),
    };
    let result = async {
        // R-BOOK-4: with a day's notice; the doctor's own, or any for operators.
        super::schedule::may_schedule(&state, &cx.caller, None, Some(&number)).await?;
        let n = crate::booking::schedule::cancel_slot(&state, &number, &cx).await?;
        Ok(SlotCancelled {
            bookings_cancelled: n,
        })
    }
    .await;
    let page = schedule_page(&form.doctor_number);
    let onward = with_notice(&page, "slot_cancelled");
    reply
        .back_to(page)
        .answer(result, StatusCode::OK, |_| onward)
}

/// A slot as a schedule page's form names it, and the doctor whose schedule it shows.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct SlotForm {
    slot_number: String,
    doctor_number: String,
}

/// Where a schedule form returns to: the scheduling desk with the operator's chosen
/// doctor, or the doctor's own desk. Only a well-formed doctor number goes into the
/// address.
fn schedule_page(doctor_number: &str) -> String {
    let n = doctor_number.trim();
    if n.is_empty() {
        "/staff/desk".to_owned()
    } else if n.len() <= 32 && n.bytes().all(|b| b.is_ascii_alphanumeric()) {
        format!("/staff/schedule?doctor={n}")
    } else {
        "/staff/schedule".to_owned()
    }
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

/// The screen and the consult's consent come first (R-ELIG-4, R-REG-6): a hold or a
/// queue place refused for want of them sends a page back to where the consult starts.
pub(crate) fn starts_over(e: &crate::error::AppError) -> bool {
    matches!(
        e.code(),
        ErrorCode::ConsultConsentRequired | ErrorCode::ScreenRequired
    )
}

/// The same operations for the pages' forms.
pub(crate) fn form_routes() -> Router<AppState> {
    Router::new()
        .route("/forms/holds", post(hold))
        .route("/forms/queue", post(super::queue_api::join))
        .route("/forms/queue/{number}/leave", post(super::queue_api::leave))
        .route("/forms/bookings/{number}/payment", post(pay))
        .route("/forms/bookings/{number}/cancel", post(cancel))
        .route("/forms/staff/sessions", post(publish_session))
        .route("/forms/staff/slots/cancel", post(cancel_slot))
        .route(
            "/forms/staff/presence",
            post(super::queue_api::set_presence),
        )
        .route("/forms/staff/queue/next", post(super::queue_api::call_next))
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
