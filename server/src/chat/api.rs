//! The consult's conversation over HTTP: the history (for gaps, and for pages without
//! WebAssembly), sending, recalling and reading, and the WebSocket upgrade. Patients use
//! `/api/v1/consults/…`, the consult's doctor `/api/v1/staff/consults/…`; both reach
//! the same operations.
use super::service::{self, Body};
use crate::accounts::auth::ConsentedPatient;
use crate::caller::Ctx;
use crate::consult::access::{self, Participant};
use crate::error::AppError;
use crate::staff::auth::StaffMember;
use crate::state::AppState;
use crate::web::api::ApiRoutes;
use crate::web::extract::Query;
use crate::web::forms::record_number;
use crate::web::openapi::ErrorBody;
use crate::web::reply::{Input, Reply};
use app::chat::protocol::Entry;
use app::domain::{ErrorCode, Field, FieldError};
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Router, routing::post};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Deserialize, Default, IntoParams)]
#[serde(default)]
pub(crate) struct HistoryQuery {
    /// Entries after this seq (0: from the start).
    after: i64,
}

/// A page of a consult's log.
#[derive(Serialize, ToSchema)]
pub(crate) struct History {
    entries: Vec<Entry>,
    /// The consult's last seq: more pages follow while the last entry's seq is below it.
    last_seq: i64,
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct MessageInput {
    /// The client's UUID for this message; a resend carries the same one.
    client_id: String,
    /// The text; or, for a file uploaded to the consult first, empty and `file` set.
    text: String,
    /// The number of a file uploaded to this consult (`POST …/files`).
    file: String,
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct RecallInput {
    /// The client's UUID for the recall.
    client_id: String,
    seq: i64,
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct ReadInput {
    seq: i64,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Stored {
    seq: i64,
}

async fn history(
    state: &AppState,
    who: Participant,
    number: &str,
    after: i64,
) -> Result<History, AppError> {
    let c = access::find(&state.db, who, number).await?;
    let entries = service::entries(&state.db, &c, after.max(0), who.side()).await?;
    Ok(History {
        entries,
        last_seq: c.last_seq,
    })
}

/// A page (100) of the consult's log after `after`, in order.
#[utoipa::path(get, path = "/api/v1/consults/{number}/messages", tag = "consults",
    params(("number" = String, Path), HistoryQuery),
    responses((status = 200, body = History), (status = 404, body = ErrorBody)))]
pub(crate) async fn patient_history(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    Path(number): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Response {
    Reply::Json.answer(
        history(&state, Participant::patient(&patient), &number, q.after).await,
        StatusCode::OK,
        |_| String::new(),
    )
}

/// The doctor's view of the same log; reading it from the start is logged (R-EMR-2).
#[utoipa::path(get, path = "/api/v1/staff/consults/{number}/messages", tag = "consults",
    params(("number" = String, Path), HistoryQuery),
    responses((status = 200, body = History), (status = 404, body = ErrorBody)))]
pub(crate) async fn doctor_history(
    State(state): State<AppState>,
    cx: Ctx<StaffMember>,
    Path(number): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Response {
    let result = async {
        let who = Participant::doctor(&state.db, &cx.caller).await?;
        if q.after <= 0 {
            // Reading the whole conversation is a read of the patient's consult (R-EMR-2);
            // the gap checks that follow (`after` > 0) are not logged again.
            let c = access::find(&state.db, who, &number).await?;
            access::log_access(&state.db, &c, cx.caller.id, access::Access::Read, None, &cx)
                .await?;
        }
        history(&state, who, &number, q.after).await
    }
    .await;
    Reply::Json.answer(result, StatusCode::OK, |_| String::new())
}

/// Send a text message. A resend with the same `client_id` answers the same seq.
#[utoipa::path(post, path = "/api/v1/consults/{number}/messages", tag = "consults",
    params(("number" = String, Path)), request_body = MessageInput,
    responses(
        (status = 200, body = Stored),
        (status = 409, description = "consult_ended, consult_not_yet_open, consult_window_passed", body = ErrorBody),
        (status = 422, description = "message_empty, message_too_long, text_blocked", body = ErrorBody),
    ))]
pub(crate) async fn patient_send(
    State(state): State<AppState>,
    cx: Ctx<ConsentedPatient>,
    reply: Reply,
    Path(number): Path<String>,
    Input(input): Input<MessageInput>,
) -> Response {
    let who = Participant::patient(&cx.caller);
    send(&state, who, &number, input, &cx, reply, "/consults").await
}

/// The doctor sends a message; the first one starts the service (the order is served).
#[utoipa::path(post, path = "/api/v1/staff/consults/{number}/messages", tag = "consults",
    params(("number" = String, Path)), request_body = MessageInput,
    responses((status = 200, body = Stored), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn doctor_send(
    State(state): State<AppState>,
    cx: Ctx<StaffMember>,
    reply: Reply,
    Path(number): Path<String>,
    Input(input): Input<MessageInput>,
) -> Response {
    match Participant::doctor(&state.db, &cx.caller).await {
        Ok(who) => send(&state, who, &number, input, &cx, reply, "/staff/consults").await,
        Err(e) => reply.answer::<()>(Err(e), StatusCode::OK, |_| String::new()),
    }
}

async fn send(
    state: &AppState,
    who: Participant,
    number: &str,
    input: MessageInput,
    cx: &crate::context::RequestContext,
    reply: Reply,
    pages: &str,
) -> Response {
    let number = record_number(number);
    let page = format!("{pages}/{number}");
    let body = if input.file.trim().is_empty() {
        Body::Text(input.text)
    } else {
        Body::File(input.file.trim().to_owned())
    };
    let result = service::send(state, who, &number, &input.client_id, body, cx)
        .await
        .map(|s| Stored { seq: s.seq });
    reply
        .back_to(page.clone())
        .answer(result, StatusCode::OK, |s| format!("{page}#m{}", s.seq))
}

/// Recall one's own message within 2 minutes.
#[utoipa::path(post, path = "/api/v1/consults/{number}/recall", tag = "consults",
    params(("number" = String, Path)), request_body = RecallInput,
    responses((status = 200, body = Stored), (status = 409, description = "recall_refused", body = ErrorBody)))]
pub(crate) async fn patient_recall(
    State(state): State<AppState>,
    cx: Ctx<ConsentedPatient>,
    reply: Reply,
    Path(number): Path<String>,
    Input(input): Input<RecallInput>,
) -> Response {
    let who = Participant::patient(&cx.caller);
    let number = record_number(&number);
    let page = format!("/consults/{number}");
    let result = service::recall(&state, who, &number, &input.client_id, input.seq, &cx)
        .await
        .map(|s| Stored { seq: s.seq });
    reply
        .back_to(page.clone())
        .answer(result, StatusCode::OK, |_| page.clone())
}

/// The doctor recalls their own message within 2 minutes.
#[utoipa::path(post, path = "/api/v1/staff/consults/{number}/recall", tag = "consults",
    params(("number" = String, Path)), request_body = RecallInput,
    responses((status = 200, body = Stored), (status = 409, body = ErrorBody)))]
pub(crate) async fn doctor_recall(
    State(state): State<AppState>,
    cx: Ctx<StaffMember>,
    reply: Reply,
    Path(number): Path<String>,
    Input(input): Input<RecallInput>,
) -> Response {
    let number = record_number(&number);
    let page = format!("/staff/consults/{number}");
    let result = async {
        let who = Participant::doctor(&state.db, &cx.caller).await?;
        service::recall(&state, who, &number, &input.client_id, input.seq, &cx).await
    }
    .await
    .map(|s| Stored { seq: s.seq });
    reply
        .back_to(page.clone())
        .answer(result, StatusCode::OK, |_| page.clone())
}

async fn read(state: &AppState, who: Participant, number: &str, seq: i64) -> Result<(), AppError> {
    let c = access::find(&state.db, who, number).await?;
    if service::mark_read(&state.db, c.id, who.side(), seq).await? {
        let what = super::hub::What::Read {
            side: who.side(),
            seq,
        };
        super::news(
            state,
            super::hub::News {
                consult_id: c.id,
                what,
                fresh: None,
            },
        );
    }
    Ok(())
}

/// Everything up to `seq` has been read (a read receipt for the other side).
#[utoipa::path(post, path = "/api/v1/consults/{number}/read", tag = "consults",
    params(("number" = String, Path)), request_body = ReadInput,
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub(crate) async fn patient_read(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    Path(number): Path<String>,
    Input(input): Input<ReadInput>,
) -> Response {
    let r = read(&state, Participant::patient(&patient), &number, input.seq).await;
    Reply::Json.done(r, String::new)
}

/// The doctor has read up to `seq`.
#[utoipa::path(post, path = "/api/v1/staff/consults/{number}/read", tag = "consults",
    params(("number" = String, Path)), request_body = ReadInput,
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub(crate) async fn doctor_read(
    State(state): State<AppState>,
    staff: StaffMember,
    Path(number): Path<String>,
    Input(input): Input<ReadInput>,
) -> Response {
    let r = async {
        let who = Participant::doctor(&state.db, &staff).await?;
        read(&state, who, &number, input.seq).await
    }
    .await;
    Reply::Json.done(r, String::new)
}

/// The consult connection (WebSocket; docs/chat-protocol.md), for the patient.
#[utoipa::path(get, path = "/api/v1/consults/socket", tag = "consults",
    responses((status = 101, description = "Switching to the consult protocol"), (status = 403, description = "Another site's page")))]
pub(crate) async fn patient_socket(
    State(state): State<AppState>,
    cx: Ctx<ConsentedPatient>,
    session: Session,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let who = Participant::patient(&cx.caller);
    super::socket::upgrade(state, who, Some(session), headers, ws, cx.ip.clone()).await
}

/// The consult connection, for the doctor.
#[utoipa::path(get, path = "/api/v1/staff/consults/socket", tag = "consults",
    responses((status = 101, description = "Switching to the consult protocol"), (status = 403, description = "Not a doctor, or another site's page")))]
pub(crate) async fn doctor_socket(
    State(state): State<AppState>,
    cx: Ctx<StaffMember>,
    session: Session,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    match Participant::doctor(&state.db, &cx.caller).await {
        Ok(who) => {
            super::socket::upgrade(state, who, Some(session), headers, ws, cx.ip.clone()).await
        }
        Err(e) => Reply::Json.answer::<()>(Err(e), StatusCode::OK, |_| String::new()),
    }
}

/// The multipart form of a consult upload (documentation only: the handler reads it).
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct ConsultUpload {
    /// Made by the client per upload (8–64 of `A-Z a-z 0-9 - _`); a retry sends the same.
    upload_key: String,
    /// Pages without WebAssembly: the message's UUID, so the file is sent as a message.
    client_id: Option<String>,
    /// One JPEG, PNG, WebP or PDF within the size limit.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// A stored file.
#[derive(Serialize, ToSchema)]
pub(crate) struct Uploaded {
    file: app::chat::protocol::FileRef,
    /// The message's seq, when the upload was also sent (the page's form).
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<i64>,
}

/// Reads `upload_key`, `client_id` and one `file`, refusing a file over the limit as soon
/// as it passes it.
async fn read_upload(
    multipart: Result<Multipart, MultipartRejection>,
    max_bytes: usize,
) -> Result<(String, String, Vec<u8>), AppError> {
    let bad = || AppError::from(FieldError::new(ErrorCode::InvalidForm, Field::Body));
    let mut multipart = multipart.map_err(|_| {
        AppError::from(FieldError::new(
            ErrorCode::UnsupportedMediaType,
            Field::Body,
        ))
    })?;
    let (mut key, mut client_id, mut file) = (String::new(), String::new(), Vec::new());
    while let Some(mut part) = multipart.next_field().await.map_err(|_| bad())? {
        match part.name().unwrap_or_default() {
            "file" if file.is_empty() => {
                while let Some(chunk) = part.chunk().await.map_err(|_| bad())? {
                    if file.len() + chunk.len() > max_bytes {
                        return Err(FieldError::new(ErrorCode::FileTooLarge, Field::Files).into());
                    }
                    file.extend_from_slice(&chunk);
                }
            }
            "upload_key" => key = part.text().await.map_err(|_| bad())?,
            "client_id" => client_id = part.text().await.map_err(|_| bad())?,
            _ => {}
        }
    }
    Ok((key, client_id, file))
}

async fn upload(
    state: &AppState,
    who: Participant,
    number: &str,
    multipart: Result<Multipart, MultipartRejection>,
    cx: &crate::context::RequestContext,
) -> Result<(bool, Uploaded), AppError> {
    let (key, client_id, bytes) = read_upload(multipart, state.max_upload_bytes).await?;
    let (file, created) = super::files::upload(state, who, number, &key, bytes, cx).await?;
    let seq = if client_id.trim().is_empty() {
        None
    } else {
        let body = Body::File(file.number.clone());
        Some(
            service::send(state, who, number, &client_id, body, cx)
                .await?
                .seq,
        )
    };
    Ok((created, Uploaded { file, seq }))
}

fn uploaded(reply: Reply, page: String, result: Result<(bool, Uploaded), AppError>) -> Response {
    let status = match &result {
        Ok((true, _)) => StatusCode::CREATED,
        _ => StatusCode::OK,
    };
    reply
        .back_to(page.clone())
        .answer(result.map(|(_, u)| u), status, |u| match u.seq {
            Some(seq) => format!("{page}#m{seq}"),
            None => page.clone(),
        })
}

/// Upload an image or PDF to the consult (then send it as a message with its number).
#[utoipa::path(post, path = "/api/v1/consults/{number}/files", tag = "consults",
    params(("number" = String, Path)),
    request_body(content = ConsultUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = Uploaded), (status = 200, description = "A retry", body = Uploaded),
        (status = 413, description = "file_too_large", body = ErrorBody),
        (status = 422, description = "file_type_refused, …", body = ErrorBody)))]
pub(crate) async fn patient_upload(
    State(state): State<AppState>,
    cx: Ctx<ConsentedPatient>,
    reply: Reply,
    Path(number): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let number = record_number(&number);
    let who = Participant::patient(&cx.caller);
    let result = upload(&state, who, &number, multipart, &cx).await;
    uploaded(reply, format!("/consults/{number}"), result)
}

/// The doctor uploads an image or PDF to the consult.
#[utoipa::path(post, path = "/api/v1/staff/consults/{number}/files", tag = "consults",
    params(("number" = String, Path)),
    request_body(content = ConsultUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = Uploaded), (status = 200, body = Uploaded), (status = 422, body = ErrorBody)))]
pub(crate) async fn doctor_upload(
    State(state): State<AppState>,
    cx: Ctx<StaffMember>,
    reply: Reply,
    Path(number): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let number = record_number(&number);
    let result = async {
        let who = Participant::doctor(&state.db, &cx.caller).await?;
        upload(&state, who, &number, multipart, &cx).await
    }
    .await;
    uploaded(reply, format!("/staff/consults/{number}"), result)
}

#[derive(Deserialize, Default, IntoParams)]
#[serde(default)]
pub(crate) struct FileQuery {
    /// The thumbnail of an image.
    thumbnail: bool,
}

fn file_answer(
    result: Result<(app::domain::upload::FileKind, bytes::Bytes), AppError>,
    name: &str,
) -> Response {
    match result {
        Ok((kind, bytes)) => crate::proofs::api::file_response(kind, bytes, name),
        Err(e) => Reply::Json.answer::<()>(Err(e), StatusCode::OK, |_| String::new()),
    }
}

/// A file of one of the account's consults.
#[utoipa::path(get, path = "/api/v1/consults/{number}/files/{file}", tag = "consults",
    params(("number" = String, Path), ("file" = String, Path), FileQuery),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 404, body = ErrorBody)))]
pub(crate) async fn patient_file(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    Path((number, file)): Path<(String, String)>,
    Query(q): Query<FileQuery>,
) -> Response {
    let who = Participant::patient(&patient);
    file_answer(
        super::files::read(&state, who, &number, &file, q.thumbnail).await,
        &file,
    )
}

/// A file of one of the doctor's consults.
#[utoipa::path(get, path = "/api/v1/staff/consults/{number}/files/{file}", tag = "consults",
    params(("number" = String, Path), ("file" = String, Path), FileQuery),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 404, body = ErrorBody)))]
pub(crate) async fn doctor_file(
    State(state): State<AppState>,
    staff: StaffMember,
    Path((number, file)): Path<(String, String)>,
    Query(q): Query<FileQuery>,
) -> Response {
    let result = async {
        let who = Participant::doctor(&state.db, &staff).await?;
        super::files::read(&state, who, &number, &file, q.thumbnail).await
    }
    .await;
    file_answer(result, &file)
}

/// One file of the configured size and the form's fields.
fn upload_limit(state: &AppState) -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(state.max_upload_bytes + 64 * 1024)
}

pub(crate) fn form_routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/forms/consults/{number}/files", post(patient_upload))
        .route("/forms/staff/consults/{number}/files", post(doctor_upload))
        .layer(upload_limit(state))
        .route("/forms/consults/{number}/messages", post(patient_send))
        .route("/forms/consults/{number}/recall", post(patient_recall))
        .route("/forms/staff/consults/{number}/messages", post(doctor_send))
        .route("/forms/staff/consults/{number}/recall", post(doctor_recall))
}

pub(crate) fn routes(state: &AppState) -> ApiRoutes {
    ApiRoutes {
        consented: OpenApiRouter::new()
            .routes(routes!(patient_socket))
            .routes(routes!(patient_history))
            .routes(routes!(patient_send))
            .routes(routes!(patient_recall))
            .routes(routes!(patient_read))
            .routes(routes!(patient_file))
            .merge(
                OpenApiRouter::new()
                    .routes(routes!(patient_upload))
                    .layer(upload_limit(state)),
            ),
        staff: OpenApiRouter::new()
            .routes(routes!(doctor_socket))
            .routes(routes!(doctor_history))
            .routes(routes!(doctor_send))
            .routes(routes!(doctor_recall))
            .routes(routes!(doctor_read))
            .routes(routes!(doctor_file))
            .merge(
                OpenApiRouter::new()
                    .routes(routes!(doctor_upload))
                    .layer(upload_limit(state)),
            ),
        ..ApiRoutes::default()
    }
}
