//! The live queue (R-BOOK-1): doctors go online and call the next patient; patients
//! join, watch their place (server-sent events after hydration), and leave.
use crate::accounts::auth::ConsentedPatient;
use crate::booking::queue;
use crate::booking::queue::Waiting;
use crate::booking::queue_views::QueueStatus;
use crate::booking::queue_views::QueueSummary;
use crate::family::acting_for;
use crate::staff::auth::StaffMember;
use crate::state::AppState;
use crate::web::api::ApiResult;
use crate::web::api::ApiRoutes;
use crate::web::extract::Json;
use crate::web::openapi::ErrorBody;
use app::domain::schedule::ConsultType;
use app::domain::{ErrorCode, Field, FieldError};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use time::OffsetDateTime;
use tower_sessions::Session;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

fn consult_type(s: &str) -> Result<ConsultType, FieldError> {
    ConsultType::parse(s.trim()).ok_or(FieldError::new(ErrorCode::InvalidForm, Field::Body))
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct Presence {
    /// `text`, `image_text` or `video`.
    consult_type: String,
    online: bool,
}

/// A doctor goes online or offline for a consult type (their own queue). Offline
/// closes the waiting places; their patients are told.
#[utoipa::path(put, path = "/api/v1/staff/me/presence", tag = "queue",
    request_body = Presence,
    responses((status = 204), (status = 403, body = ErrorBody)))]
pub(crate) async fn set_presence(
    State(state): State<AppState>,
    member: StaffMember,
    Json(input): Json<Presence>,
) -> ApiResult {
    let d = queue::doctor_of_staff(&state.db, member.id).await?;
    queue::set_online(
        &state,
        member.id,
        d.id,
        consult_type(&input.consult_type)?,
        input.online,
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct TypeInput {
    consult_type: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Called {
    /// None: nobody is waiting.
    patient: Option<Waiting>,
}

/// The doctor calls the next patient in their queue for a type.
#[utoipa::path(post, path = "/api/v1/staff/me/queue/next", tag = "queue",
    request_body = TypeInput,
    responses((status = 200, body = Called), (status = 403, body = ErrorBody)))]
pub(crate) async fn call_next(
    State(state): State<AppState>,
    member: StaffMember,
    Json(input): Json<TypeInput>,
) -> ApiResult {
    let d = queue::doctor_of_staff(&state.db, member.id).await?;
    let patient = queue::call_next(
        &state,
        member.id,
        d.id,
        consult_type(&input.consult_type)?,
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok(Json(Called { patient }).into_response())
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct JoinInput {
    doctor_number: String,
    consult_type: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Joined {
    entry_number: String,
}

/// Join a doctor's live queue for the person the patient acts for (the consult consent
/// for them, with this doctor's department, comes first).
#[utoipa::path(post, path = "/api/v1/queue", tag = "queue",
    request_body = JoinInput,
    responses(
        (status = 201, body = Joined),
        (status = 409, description = "doctor_offline, already_queued, consult_consent_required", body = ErrorBody),
        (status = 422, description = "eligibility_…", body = ErrorBody),
    ))]
pub(crate) async fn join(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    session: Session,
    Json(input): Json<JoinInput>,
) -> ApiResult {
    let member = acting_for::member_id(&state, patient.id, &session).await?;
    let consent = crate::eligibility::screen::consult_consent_of(&session).await?;
    let entry_number = queue::join(
        &state,
        patient.id,
        member,
        input.doctor_number.trim(),
        consult_type(&input.consult_type)?,
        &consent,
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Joined { entry_number })).into_response())
}

/// The patient's place in the queue.
#[utoipa::path(get, path = "/api/v1/queue/{number}", tag = "queue",
    params(("number" = String, Path)),
    responses((status = 200, body = QueueStatus), (status = 404, body = ErrorBody)))]
pub(crate) async fn place(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    Path(number): Path<String>,
) -> ApiResult {
    Ok(
        Json(crate::booking::queue_views::status(&state.db, patient.id, &number).await?)
            .into_response(),
    )
}

/// The patient's place as server-sent events: one `place` event now and one whenever
/// it changes (checked every two seconds), until the place is no longer waiting.
#[utoipa::path(get, path = "/api/v1/queue/{number}/events", tag = "queue",
    params(("number" = String, Path)),
    responses(
        (status = 200, description = "`text/event-stream` of `place` events (QueueStatus as JSON)", content_type = "text/event-stream"),
        (status = 404, body = ErrorBody),
    ))]
pub(crate) async fn place_events(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    Path(number): Path<String>,
) -> Result<impl IntoResponse, crate::web::error::ApiError> {
    // Refuse someone else's place before the stream starts.
    let first = crate::booking::queue_views::status(&state.db, patient.id, &number).await?;
    let stream = futures_util::stream::unfold(
        (state, patient.id, number, Some(first), None::<QueueStatus>),
        |(state, patient_id, number, pending, last)| async move {
            let mut pending = pending;
            loop {
                let current = match pending.take() {
                    Some(s) => s,
                    None => {
                        if last.as_ref().is_some_and(|l| l.status != queue::WAITING) {
                            return None;
                        }
                        tokio::time::sleep(Duration::from_secs(2)).await;
                        crate::booking::queue_views::status(&state.db, patient_id, &number)
                            .await
                            .ok()?
                    }
                };
                if last.as_ref() != Some(&current) {
                    let event = Event::default()
                        .event("place")
                        .json_data(&current)
                        .unwrap_or_else(|_| Event::default());
                    return Some((
                        Ok::<_, std::convert::Infallible>(event),
                        (state, patient_id, number, None, Some(current)),
                    ));
                }
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// Leave the queue.
#[utoipa::path(delete, path = "/api/v1/queue/{number}", tag = "queue",
    params(("number" = String, Path)),
    responses(
        (status = 204),
        (status = 404, body = ErrorBody),
        (status = 409, description = "queue_entry_not_waiting", body = ErrorBody),
    ))]
pub(crate) async fn leave(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    Path(number): Path<String>,
) -> ApiResult {
    queue::leave(&state, patient.id, &number, OffsetDateTime::now_utc()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Queues {
    queues: Vec<QueueSummary>,
}

/// A doctor's open queues: which consult types, how many wait, the estimate.
#[utoipa::path(get, path = "/api/v1/doctors/{number}/queues", tag = "queue",
    params(("number" = String, Path)),
    responses((status = 200, body = Queues), (status = 404, body = ErrorBody)))]
pub(crate) async fn doctor_queues(
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> ApiResult {
    let snapshot = state.directory.snapshot(&state.db).await?;
    let d = snapshot
        .doctors
        .iter()
        .find(|d| d.doctor_number == number)
        .ok_or(FieldError::general(ErrorCode::NotFound))?;
    Ok(Json(Queues {
        queues: crate::booking::queue_views::summaries(&state.db, d.id).await?,
    })
    .into_response())
}

pub(crate) fn routes() -> ApiRoutes {
    ApiRoutes {
        public: OpenApiRouter::new().routes(routes!(doctor_queues)),
        consented: OpenApiRouter::new()
            .routes(routes!(join))
            .routes(routes!(place, leave))
            .routes(routes!(place_events)),
        staff: OpenApiRouter::new()
            .routes(routes!(set_presence))
            .routes(routes!(call_next)),
        ..ApiRoutes::default()
    }
}
