//! Calls over HTTP: a consult's calls with their recordings (both sides), a recording's
//! file (a staff read is logged, R-EMR-2), and the doctor's page's upload of a backup
//! call's recording in resumable pieces (R-CONS-7). Calls themselves move over the
//! consult connection.
use super::recording::{self, CallRecord, Progress, RecordingView};
use crate::accounts::auth::ConsentedPatient;
use crate::caller::Ctx;
use crate::consult::access::{self, Participant};
use crate::error::AppError;
use crate::staff::auth::StaffMember;
use crate::state::AppState;
use crate::web::api::ApiRoutes;
use crate::web::extract::RawBody;
use crate::web::openapi::ErrorBody;
use crate::web::reply::{Input, Reply};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

fn json<T: serde::Serialize>(result: Result<T, AppError>, status: StatusCode) -> Response {
    Reply::Json.answer(result, status, |_| String::new())
}

fn file(result: Result<(bytes::Bytes, String), AppError>) -> Response {
    match result {
        Ok((bytes, content_type)) => (
            [
                (header::CONTENT_TYPE, content_type),
                (header::CACHE_CONTROL, "private, no-store".to_owned()),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => json::<()>(Err(e), StatusCode::OK),
    }
}

/// The account's consult's calls and what was recorded of each.
#[utoipa::path(get, path = "/api/v1/consults/{number}/calls", tag = "calls",
    params(("number" = String, Path)),
    responses((status = 200, body = Vec<CallRecord>), (status = 404, body = ErrorBody)))]
pub(crate) async fn patient_calls(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    Path(number): Path<String>,
) -> Response {
    let result = async {
        let c = access::find(&state.db, Participant::patient(&patient), &number).await?;
        recording::of_consult(&state.db, c.id).await
    }
    .await;
    json(result, StatusCode::OK)
}

/// The doctor's consult's calls and what was recorded of each.
#[utoipa::path(get, path = "/api/v1/staff/consults/{number}/calls", tag = "calls",
    params(("number" = String, Path)),
    responses((status = 200, body = Vec<CallRecord>), (status = 404, body = ErrorBody)))]
pub(crate) async fn doctor_calls(
    State(state): State<AppState>,
    staff: StaffMember,
    Path(number): Path<String>,
) -> Response {
    let result = async {
        let who = Participant::doctor(&state.db, &staff).await?;
        let c = access::find(&state.db, who, &number).await?;
        recording::of_consult(&state.db, c.id).await
    }
    .await;
    json(result, StatusCode::OK)
}

/// A recording of one of the account's consults.
#[utoipa::path(get, path = "/api/v1/consults/{number}/recordings/{recording}", tag = "calls",
    params(("number" = String, Path), ("recording" = String, Path)),
    responses((status = 200, description = "The recording", content_type = "video/webm"),
        (status = 404, body = ErrorBody)))]
pub(crate) async fn patient_recording(
    State(state): State<AppState>,
    cx: Ctx<ConsentedPatient>,
    Path((number, rec)): Path<(String, String)>,
) -> Response {
    let who = Participant::patient(&cx.caller);
    file(recording::read(&state, who, &number, &rec, &cx).await)
}

/// A recording of one of the doctor's consults; the read is logged (R-EMR-2).
#[utoipa::path(get, path = "/api/v1/staff/consults/{number}/recordings/{recording}", tag = "calls",
    params(("number" = String, Path), ("recording" = String, Path)),
    responses((status = 200, description = "The recording", content_type = "video/webm"),
        (status = 404, body = ErrorBody)))]
pub(crate) async fn doctor_recording(
    State(state): State<AppState>,
    cx: Ctx<StaffMember>,
    Path((number, rec)): Path<(String, String)>,
) -> Response {
    let result = async {
        let who = Participant::doctor(&state.db, &cx.caller).await?;
        recording::read(&state, who, &number, &rec, &cx).await
    }
    .await;
    file(result)
}

/// What the server holds of a backup call's recording (to resume an upload).
#[utoipa::path(get, path = "/api/v1/staff/calls/{call}/recording", tag = "calls",
    params(("call" = String, Path)),
    responses((status = 200, body = Progress), (status = 404, body = ErrorBody)))]
pub(crate) async fn progress(
    State(state): State<AppState>,
    staff: StaffMember,
    Path(call): Path<String>,
) -> Response {
    let result = async {
        let who = Participant::doctor(&state.db, &staff).await?;
        recording::progress(&state, who, &call).await
    }
    .await;
    json(result, StatusCode::OK)
}

/// One piece (at most 4 MiB) of part `part` of a backup call's recording, as the doctor's
/// page records it; the same piece again is stored once.
#[utoipa::path(put, path = "/api/v1/staff/calls/{call}/recording/{part}/{piece}", tag = "calls",
    params(("call" = String, Path), ("part" = i32, Path), ("piece" = i32, Path)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(crate) async fn put_piece(
    State(state): State<AppState>,
    cx: Ctx<StaffMember>,
    Path((call, part, piece)): Path<(String, i32, i32)>,
    RawBody(body): RawBody,
) -> Response {
    let result = async {
        let who = Participant::doctor(&state.db, &cx.caller).await?;
        recording::put_chunk(&state, who, &call, part, piece, body, &cx).await
    }
    .await;
    json(result, StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct FinishInput {
    /// How many pieces the part has (0 … pieces − 1).
    pieces: i32,
    /// How long the page recorded, in milliseconds.
    duration_ms: i64,
}

/// Part `part` is complete: its pieces become one recording of the consult's record.
#[utoipa::path(post, path = "/api/v1/staff/calls/{call}/recording/{part}/finish", tag = "calls",
    params(("call" = String, Path), ("part" = i32, Path)),
    request_body = FinishInput,
    responses((status = 201, body = RecordingView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(crate) async fn finish(
    State(state): State<AppState>,
    cx: Ctx<StaffMember>,
    Path((call, part)): Path<(String, i32)>,
    Input(input): Input<FinishInput>,
) -> Response {
    let result = async {
        let who = Participant::doctor(&state.db, &cx.caller).await?;
        recording::finish(
            &state,
            who,
            &call,
            part,
            input.pieces,
            input.duration_ms,
            &cx,
        )
        .await
    }
    .await;
    json(result, StatusCode::CREATED)
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct UnavailableInput {
    /// Why the page could not record (shown in the call's record).
    reason: String,
}

/// The doctor's page cannot record this backup call, and why.
#[utoipa::path(post, path = "/api/v1/staff/calls/{call}/recording/unavailable", tag = "calls",
    params(("call" = String, Path)),
    request_body = UnavailableInput,
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub(crate) async fn unavailable(
    State(state): State<AppState>,
    cx: Ctx<StaffMember>,
    Path(call): Path<String>,
    Input(input): Input<UnavailableInput>,
) -> Response {
    let result = async {
        let who = Participant::doctor(&state.db, &cx.caller).await?;
        recording::unavailable(&state, who, &call, &input.reason, &cx).await
    }
    .await;
    json(result, StatusCode::NO_CONTENT)
}

pub(crate) fn routes() -> ApiRoutes {
    ApiRoutes {
        consented: OpenApiRouter::new()
            .routes(routes!(patient_calls))
            .routes(routes!(patient_recording)),
        staff: OpenApiRouter::new()
            .routes(routes!(doctor_calls))
            .routes(routes!(doctor_recording))
            .routes(routes!(progress))
            .routes(routes!(finish))
            .routes(routes!(unavailable))
            .merge(OpenApiRouter::new().routes(routes!(put_piece)).layer(
                axum::extract::DefaultBodyLimit::max(recording::MAX_CHUNK_BYTES + 1024),
            )),
        providers: super::events::routes(),
        ..ApiRoutes::default()
    }
}
