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
    text: String,
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
    let result = service::send(
        state,
        who,
        &number,
        &input.client_id,
        Body::Text(input.text),
        cx,
    )
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
                row: None,
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

pub(crate) fn form_routes() -> Router<AppState> {
    Router::new()
        .route("/forms/consults/{number}/messages", post(patient_send))
        .route("/forms/consults/{number}/recall", post(patient_recall))
        .route("/forms/staff/consults/{number}/messages", post(doctor_send))
        .route("/forms/staff/consults/{number}/recall", post(doctor_recall))
}

pub(crate) fn routes() -> ApiRoutes {
    ApiRoutes {
        consented: OpenApiRouter::new()
            .routes(routes!(patient_socket))
            .routes(routes!(patient_history))
            .routes(routes!(patient_send))
            .routes(routes!(patient_recall))
            .routes(routes!(patient_read)),
        staff: OpenApiRouter::new()
            .routes(routes!(doctor_socket))
            .routes(routes!(doctor_history))
            .routes(routes!(doctor_send))
            .routes(routes!(doctor_recall))
            .routes(routes!(doctor_read)),
        ..ApiRoutes::default()
    }
}
