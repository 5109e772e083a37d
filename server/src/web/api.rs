//! The JSON API under /api/v1: the same operations as the forms, the same services.
use super::client::{ClientIp, Lang};
use super::error::{ApiJson, api_error};
use super::sessions::{self, check_csrf, csrf_token, require_patient};
use crate::config::Mode;
use crate::services::{AppError, accounts, consents, sms_codes};
use crate::state::AppState;
use app::domain::{ErrorCode, FieldError};
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;
use tower_sessions::Session;

type ApiResult = Result<Response, Response>;

pub fn routes(mode: Mode) -> Router<AppState> {
    let mut router = Router::new()
        .route("/api/v1/csrf", get(csrf))
        .route("/api/v1/sms-codes", post(send_code))
        .route("/api/v1/registrations", post(register))
        .route("/api/v1/sessions", post(login).delete(logout_everywhere))
        .route("/api/v1/sessions/current", delete(logout))
        .route("/api/v1/me", get(me))
        .route("/api/v1/consents", get(list_consents).post(accept_consents))
        .route("/api/v1/consents/withdrawal", post(withdraw_consents))
        .route("/api/v1/password", put(change_password))
        .route("/api/v1/password-resets", post(reset_password))
        .route("/api/v1/openapi.json", get(super::openapi::document));
    if mode == Mode::Dev {
        router = router.route("/api/v1/dev/sms-outbox", get(sms_outbox));
    }
    router
        // Unknown API paths answer in the API's error shape, not with an HTML page.
        .route("/api/v1/{*rest}", any(not_found))
        .layer(middleware::from_fn(require_csrf_header))
        .layer(DefaultBodyLimit::max(16 * 1024))
}

/// Every state-changing API call carries this session's token in `X-CSRF-Token`.
async fn require_csrf_header(
    Lang(lang): Lang,
    session: Session,
    req: Request,
    next: Next,
) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let given = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match check_csrf(&session, given.as_deref()).await {
        Ok(()) => next.run(req).await,
        Err(e) => api_error(lang, e),
    }
}

async fn not_found(Lang(lang): Lang) -> Response {
    api_error(lang, FieldError::general(ErrorCode::NotFound).into())
}

fn fail(lang: app::i18n::Locale) -> impl Fn(AppError) -> Response {
    move |e| api_error(lang, e)
}

async fn csrf(Lang(lang): Lang, session: Session) -> ApiResult {
    let token = csrf_token(&session).await.map_err(fail(lang))?;
    Ok(Json(json!({ "csrf_token": token })).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SendCode {
    phone: String,
    purpose: String,
}

async fn send_code(
    State(state): State<AppState>,
    Lang(lang): Lang,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<SendCode>,
) -> ApiResult {
    let sent = sms_codes::send(
        &state,
        &body.phone,
        &body.purpose,
        &ip,
        OffsetDateTime::now_utc(),
    )
    .await
    .map_err(fail(lang))?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "resend_after_secs": sent.resend_after_secs, "expires_in_secs": sent.expires_in_secs }))).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ConsentGiven {
    document: String,
    version: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Register {
    phone: String,
    code: String,
    password: String,
    real_name: String,
    id_number: String,
    consents: Vec<ConsentGiven>,
}

fn pairs(given: Vec<ConsentGiven>) -> Vec<(String, String)> {
    given.into_iter().map(|c| (c.document, c.version)).collect()
}

async fn register(
    State(state): State<AppState>,
    Lang(lang): Lang,
    ClientIp(ip): ClientIp,
    session: Session,
    ApiJson(body): ApiJson<Register>,
) -> ApiResult {
    let now = OffsetDateTime::now_utc();
    let input = accounts::RegisterInput {
        phone: body.phone,
        code: body.code,
        password: body.password,
        real_name: body.real_name,
        id_number: body.id_number,
        consents: pairs(body.consents),
    };
    let id = accounts::register(&state, input, &ip, now)
        .await
        .map_err(fail(lang))?;
    sessions::log_in(&session, id).await.map_err(fail(lang))?;
    let me = me_body(&state, &session, id, now)
        .await
        .map_err(fail(lang))?;
    Ok((StatusCode::CREATED, Json(me)).into_response())
}

async fn me_body(
    state: &AppState,
    session: &Session,
    id: i64,
    now: OffsetDateTime,
) -> Result<serde_json::Value, AppError> {
    let (profile, outstanding) = accounts::profile(state, id, now)
        .await?
        .ok_or_else(|| FieldError::general(ErrorCode::Unauthenticated))?;
    Ok(
        json!({ "patient": profile, "consents_outstanding": outstanding, "csrf_token": csrf_token(session).await? }),
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Login {
    phone: String,
    password: Option<String>,
    code: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    Lang(lang): Lang,
    session: Session,
    ApiJson(body): ApiJson<Login>,
) -> ApiResult {
    let now = OffsetDateTime::now_utc();
    let id = match (body.password, body.code) {
        (_, Some(code)) => accounts::login_with_code(&state, &body.phone, &code, now).await,
        (password, None) => {
            accounts::login_with_password(
                &state,
                &body.phone,
                password.as_deref().unwrap_or_default(),
                now,
            )
            .await
        }
    }
    .map_err(fail(lang))?;
    sessions::log_in(&session, id).await.map_err(fail(lang))?;
    Ok(Json(
        me_body(&state, &session, id, now)
            .await
            .map_err(fail(lang))?,
    )
    .into_response())
}

async fn logout(Lang(lang): Lang, session: Session) -> ApiResult {
    sessions::log_out(&session).await.map_err(fail(lang))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn logout_everywhere(
    State(state): State<AppState>,
    Lang(lang): Lang,
    session: Session,
) -> ApiResult {
    let id = require_patient(&session).await.map_err(fail(lang))?;
    state
        .sessions
        .revoke_patient(id, None)
        .await
        .map_err(|e| fail(lang)(e.into()))?;
    sessions::log_out(&session).await.map_err(fail(lang))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The logged-in patient, who must have agreed to the current texts (R-REG-2).
async fn consented_patient(
    state: &AppState,
    session: &Session,
    now: OffsetDateTime,
) -> Result<i64, AppError> {
    let id = require_patient(session).await?;
    let rows = consents::effective(&state.db, id).await?;
    if !consents::outstanding_views(state, &rows).is_empty() {
        return Err(FieldError::general(ErrorCode::ConsentRequired).into());
    }
    let _ = now;
    Ok(id)
}

async fn me(State(state): State<AppState>, Lang(lang): Lang, session: Session) -> ApiResult {
    let now = OffsetDateTime::now_utc();
    let id = consented_patient(&state, &session, now)
        .await
        .map_err(fail(lang))?;
    Ok(Json(
        me_body(&state, &session, id, now)
            .await
            .map_err(fail(lang))?,
    )
    .into_response())
}

async fn list_consents(
    State(state): State<AppState>,
    Lang(lang): Lang,
    session: Session,
) -> ApiResult {
    let current = state.current_consent_views();
    let Some(id) = sessions::patient_id(&session).await else {
        return Ok(Json(json!({ "current": current })).into_response());
    };
    let rows = consents::effective(&state.db, id)
        .await
        .map_err(fail(lang))?;
    Ok(Json(json!({
        "current": current,
        "accepted": consents::record_views(&rows),
        "outstanding": consents::outstanding_views(&state, &rows),
    }))
    .into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AcceptConsents {
    consents: Vec<ConsentGiven>,
}

async fn accept_consents(
    State(state): State<AppState>,
    Lang(lang): Lang,
    ClientIp(ip): ClientIp,
    session: Session,
    ApiJson(body): ApiJson<AcceptConsents>,
) -> ApiResult {
    let id = require_patient(&session).await.map_err(fail(lang))?;
    consents::accept_outstanding(
        &state,
        id,
        &pairs(body.consents),
        &ip,
        OffsetDateTime::now_utc(),
    )
    .await
    .map_err(fail(lang))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Withdraw {
    confirm: bool,
}

async fn withdraw_consents(
    State(state): State<AppState>,
    Lang(lang): Lang,
    ClientIp(ip): ClientIp,
    session: Session,
    ApiJson(body): ApiJson<Withdraw>,
) -> ApiResult {
    let id = require_patient(&session).await.map_err(fail(lang))?;
    if !body.confirm {
        return Err(api_error(
            lang,
            FieldError::new(ErrorCode::ConsentMissing, app::domain::Field::Consent).into(),
        ));
    }
    consents::withdraw_all(&state, id, &ip, OffsetDateTime::now_utc())
        .await
        .map_err(fail(lang))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ChangePassword {
    current_password: String,
    new_password: String,
}

async fn change_password(
    State(state): State<AppState>,
    Lang(lang): Lang,
    session: Session,
    ApiJson(body): ApiJson<ChangePassword>,
) -> ApiResult {
    let id = consented_patient(&state, &session, OffsetDateTime::now_utc())
        .await
        .map_err(fail(lang))?;
    accounts::change_password(&state, id, &body.current_password, &body.new_password)
        .await
        .map_err(fail(lang))?;
    state
        .sessions
        .revoke_patient(id, session.id())
        .await
        .map_err(|e| fail(lang)(e.into()))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResetPassword {
    phone: String,
    code: String,
    new_password: String,
}

async fn reset_password(
    State(state): State<AppState>,
    Lang(lang): Lang,
    session: Session,
    ApiJson(body): ApiJson<ResetPassword>,
) -> ApiResult {
    let id = accounts::reset_password(
        &state,
        &body.phone,
        &body.code,
        &body.new_password,
        OffsetDateTime::now_utc(),
    )
    .await
    .map_err(fail(lang))?;
    state
        .sessions
        .revoke_patient(id, None)
        .await
        .map_err(|e| fail(lang)(e.into()))?;
    // This request's own session would otherwise be saved again on the way out.
    sessions::log_out(&session).await.map_err(fail(lang))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
struct OutboxQuery {
    phone: String,
}

/// Dev only (the route does not exist in production): what the console SMS "sent".
async fn sms_outbox(State(state): State<AppState>, Query(q): Query<OutboxQuery>) -> Response {
    let messages = state
        .sms
        .outbox()
        .map(|o| o.messages_for(&q.phone))
        .unwrap_or_default();
    Json(json!({ "messages": messages })).into_response()
}
