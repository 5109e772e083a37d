//! The live queue (R-BOOK-1): doctors go online and call the next patient; patients
//! join, watch their place (server-sent events after hydration), and leave.
use crate::accounts::auth::ConsentedPatient;
use crate::booking::queue;
use crate::booking::queue::Waiting;
use crate::booking::queue_views::QueueStatus;
use crate::booking::queue_views::QueueSummary;
use crate::caller::Ctx;
use crate::staff::auth::StaffMember;
use crate::state::AppState;
use crate::web::api::ApiResult;
use crate::web::api::ApiRoutes;
use crate::web::extract::Json;
use crate::web::forms::record_number;
use crate::web::openapi::ErrorBody;
use crate::web::reply::{Input, Reply};
use app::domain::schedule::ConsultType;
use app::domain::{ErrorCode, Field, FieldError};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::time::Duration;
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
    #[serde(deserialize_with = "crate::web::reply::checkbox")]
    online: bool,
}

/// A doctor goes online or offline for a consult type (their own queue). Offline
/// closes the waiting places; their patients are told.
#[utoipa::path(put, path = "/api/v1/staff/me/presence", tag = "queue",
    request_body = Presence,
    responses((status = 204), (status = 403, body = ErrorBody)))]
pub(crate) async fn set_presence(
    State(state): State<AppState>,
    cx: Ctx<StaffMember>,
    reply: Reply,
    Input(input): Input<Presence>,
) -> Response {
    let result = async {
        let d = queue::doctor_of_staff(&state.db, cx.caller.id).await?;
        let kind = consult_type(&input.consult_type)?;
        queue::set_online(&state, d.id, kind, input.online, &cx).await
    }
    .await;
    // R-BOOK-1: a doctor goes online or offline for a consult type.
    reply
        .back_to("/staff/desk")
        .done(result, || "/staff/desk?notice=presence_changed".into())
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
    cx: Ctx<StaffMember>,
    reply: Reply,
    Input(input): Input<TypeInput>,
) -> Response {
    let result = async {
        let d = queue::doctor_of_staff(&state.db, cx.caller.id).await?;
        let kind = consult_type(&input.consult_type)?;
        let patient = queue::call_next(&state, d.id, kind, &cx).await?;
        Ok(Called { patient })
    }
    .await;
    reply
        .back_to("/staff/desk")
        .answer(result, StatusCode::OK, |called| {
            if called.patient.is_some() {
                "/staff/desk?notice=called_next".into()
            } else {
                "/staff/desk?notice=queue_empty".into()
            }
        })
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
    cx: Ctx<ConsentedPatient>,
    session: Session,
    reply: Reply,
    Input(input): Input<JoinInput>,
) -> Response {
    let doctor = input.doctor_number.trim().to_owned();
    let result = async {
        let consent = crate::eligibility::screen::consult_consent_of(&session).await?;
        let kind = consult_type(&input.consult_type)?;
        let entry_number = queue::join(
            &state,
            cx.caller.id,
            cx.acting_for,
            &doctor,
            kind,
            &consent,
            &cx,
        )
        .await?;
        Ok::<_, crate::error::AppError>(Joined { entry_number })
    }
    .await;
    let reply = match &result {
        Err(e) if super::api::starts_over(e) => reply.back_to("/consult/start"),
        _ => reply.back_to(format!("/doctors/{}", record_number(&doctor))),
    };
    // R-BOOK-1: join a doctor's live queue, then watch the place.
    reply.answer(result, StatusCode::CREATED, |joined| {
        format!("/queue/{}", joined.entry_number)
    })
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
/// it changes (checked every two seconds), until the place is no longer waiting or the
/// session ends (logout, expiry). An account keeps at most
/// [`STREAMS_PER_ACCOUNT`](crate::booking::queue_streams::STREAMS_PER_ACCOUNT) open.
#[utoipa::path(get, path = "/api/v1/queue/{number}/events", tag = "queue",
    params(("number" = String, Path)),
    responses(
        (status = 200, description = "`text/event-stream` of `place` events (QueueStatus as JSON)", content_type = "text/event-stream"),
        (status = 404, body = ErrorBody),
        (status = 429, description = "rate_limited: this account has the most streams open", body = ErrorBody),
    ))]
pub(crate) async fn place_events(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    session: Session,
    Path(number): Path<String>,
) -> Result<impl IntoResponse, crate::web::error::ApiError> {
    // Refuse someone else's place before the stream starts.
    let first = crate::booking::queue_views::status(&state.db, patient.id, &number).await?;
    let slot = state
        .parts
        .get::<crate::booking::queue_streams::QueueStreams>()?
        .open(patient.id)
        .ok_or_else(|| {
            crate::error::AppError::retry(FieldError::general(ErrorCode::RateLimited), 10)
        })?;
    let session_id = session
        .id()
        .map(|id| crate::accounts::session_store::stored_id(&id))
        .ok_or_else(|| FieldError::general(ErrorCode::Unauthenticated))?;
    let watch = Watch {
        state,
        patient_id: patient.id,
        number,
        session_id,
        _slot: slot,
    };
    let stream = futures_util::stream::unfold(
        (watch, Some(first), None::<QueueStatus>),
        |(watch, pending, last)| async move {
            let mut pending = pending;
            loop {
                let current = match pending.take() {
                    Some(s) => s,
                    None => {
                        if last.as_ref().is_some_and(|l| l.status != queue::WAITING) {
                            return None;
                        }
                        tokio::time::sleep(Duration::from_secs(2)).await;
                        if !watch.session_lives().await {
                            return None;
                        }
                        crate::booking::queue_views::status(
                            &watch.state.db,
                            watch.patient_id,
                            &watch.number,
                        )
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
                        (watch, None, Some(current)),
                    ));
                }
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// What one open place stream watches; its slot is given back when it is dropped.
struct Watch {
    state: AppState,
    patient_id: i64,
    number: String,
    /// The session's stored id: the stream ends when the row is gone or expired.
    session_id: String,
    _slot: crate::booking::queue_streams::StreamSlot,
}

impl Watch {
    async fn session_lives(&self) -> bool {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        crate::db::session::Entity::find_by_id(self.session_id.clone())
            .filter(crate::db::session::Column::ExpiresAt.gt(now))
            .one(&self.state.db)
            .await
            .is_ok_and(|row| row.is_some())
    }
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
    cx: Ctx<ConsentedPatient>,
    reply: Reply,
    Path(number): Path<String>,
) -> Response {
    let number = record_number(&number);
    let result = queue::leave(&state, cx.caller.id, &number, &cx).await;
    let page = format!("/queue/{number}");
    reply.back_to(&page).done(result, || page.clone())
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
