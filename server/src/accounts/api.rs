//! Accounts, sessions and consents: each operation answers the API and the pages' forms
//! alike ([`crate::web::reply`]).
//! Routes sit in groups by what they need: a new route in the patient groups cannot be
//! reached without a logged-in (and consented) patient.

use crate::accounts::auth;
use crate::caller::{Anonymous, Ctx};

use crate::accounts::auth::ConsentedPatient;

use crate::accounts::auth::Patient;
use crate::accounts::service as accounts;
use crate::accounts::sms_codes;
use crate::config::Mode;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::client::Lang;
use crate::web::csrf::CsrfToken;
use crate::web::extract::Json;
use crate::web::extract::Query;
use crate::web::openapi::ErrorBody;
use crate::web::reply::{Input, Reply};
use crate::web::throttle;
use app::accounts::{ConsentDocumentView, PatientProfile};
use app::domain::{ErrorCode, FieldError};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, middleware};
use axum::{Router, routing::post};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions::Session;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::web::api::{ApiResult, ApiRoutes};

/// The same operations for the pages' forms.
pub(crate) fn form_routes(state: &AppState) -> Router<AppState> {
    // What sends an SMS, judges a secret or creates an account: limited per address.
    let guessing = Router::new()
        .route("/forms/sms-code", post(send_code))
        .route("/forms/register", post(register))
        .route("/forms/login", post(login))
        .route("/forms/login-sms", post(login))
        .route("/forms/password-reset", post(reset_password))
        .route("/forms/password", post(change_password))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            throttle::limit,
        ));
    Router::new()
        .merge(guessing)
        .route("/forms/logout", post(logout))
        .route("/forms/logout-all", post(logout_everywhere))
}

pub(crate) fn routes(mode: Mode, state: &AppState) -> ApiRoutes {
    let public = OpenApiRouter::new()
        .routes(routes!(csrf))
        .routes(routes!(logout));
    let public = if mode == Mode::Dev {
        public.routes(routes!(sms_outbox))
    } else {
        public
    };
    ApiRoutes {
        public,
        guessing: OpenApiRouter::new()
            .routes(routes!(send_code))
            .routes(routes!(register))
            .routes(routes!(login))
            .routes(routes!(reset_password)),
        patient: OpenApiRouter::new().routes(routes!(logout_everywhere)),
        consented: OpenApiRouter::new().routes(routes!(me)).merge(
            OpenApiRouter::new()
                .routes(routes!(change_password))
                .route_layer(middleware::from_fn_with_state(
                    state.clone(),
                    throttle::limit,
                )),
        ),
        ..ApiRoutes::default()
    }
}

/// The token to send back in `X-CSRF-Token` on every state-changing call.
#[derive(Serialize, ToSchema)]
struct Csrf {
    csrf_token: String,
}

/// The CSRF token bound to this client's `fuzhen_csrf` cookie (set if missing).
#[utoipa::path(get, path = "/api/v1/csrf", tag = "session",
    responses((status = 200, body = Csrf)))]
async fn csrf(Extension(token): Extension<CsrfToken>) -> Json<Csrf> {
    Json(Csrf {
        csrf_token: token.0,
    })
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
struct SendCode {
    /// Mainland mobile number, 11 digits (spaces, dashes and +86 are accepted).
    phone: String,
    /// `register`, `login` or `reset_password`.
    #[schema(example = "register")]
    purpose: String,
    /// Pages only: the page that asked, to go back to.
    #[schema(ignore)]
    back: String,
}

#[derive(Serialize, ToSchema)]
struct CodeSent {
    /// Seconds until another code may be asked for this phone.
    resend_after_secs: i64,
    /// Seconds the code stays valid (R-REG-1: 5 minutes).
    expires_in_secs: i64,
}

/// Send a 6-digit SMS code (5 minutes, 5 tries, resend after 60 s). The answer is the
/// same whether or not the phone has an account (R-REG-1).
#[utoipa::path(post, path = "/api/v1/sms-codes", tag = "registration",
    request_body = SendCode,
    responses(
        (status = 202, body = CodeSent),
        (status = 400, description = "Unreadable body", body = ErrorBody),
        (status = 422, description = "Invalid phone or purpose", body = ErrorBody),
        (status = 429, description = "Too soon, or the phone's or address's quota is used", body = ErrorBody),
    ))]
async fn send_code(
    State(state): State<AppState>,
    cx: Ctx<Anonymous>,
    session: Session,
    reply: Reply,
    Input(body): Input<SendCode>,
) -> Response {
    let result = sms_codes::send(&state, &body.phone, &body.purpose, &cx.ip, cx.now).await;
    if reply.is_page() {
        // A multi-step flow has begun: this is when an anonymous visitor gets a session.
        // Kept on failure too, so the patient need not type the phone again.
        let phone = match &result {
            Ok(sent) => Some(sent.phone.as_str().to_owned()),
            Err(_) => app::domain::phone::PhoneNumber::parse(&body.phone)
                .ok()
                .map(|p| p.as_str().to_owned()),
        };
        if let Some(phone) = phone {
            let _ = session.insert(auth::CODE_PHONE, phone).await;
        }
        if result.is_ok() {
            let _ = session
                .insert(auth::CODE_SENT_AT, cx.now.unix_timestamp())
                .await;
        }
    }
    // Only our own pages may be returned to.
    let page = ["/register", "/login/sms", "/password/reset"]
        .into_iter()
        .find(|p| *p == body.back)
        .unwrap_or("/");
    let result = result.map(|sent| CodeSent {
        resend_after_secs: sent.resend_after_secs,
        expires_in_secs: sent.expires_in_secs,
    });
    reply
        .back_to(page)
        .answer(result, StatusCode::ACCEPTED, |_| {
            format!("{page}?notice=code_sent")
        })
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
struct Register {
    phone: String,
    /// The SMS code sent for `register`.
    code: String,
    password: String,
    /// As on the resident ID card.
    real_name: String,
    /// 18-character resident ID number; the registrant must be 18 or older (R-REG-7).
    id_number: String,
    /// All three current documents (R-REG-2, R-REG-3).
    consents: Vec<super::consent_api::ConsentGiven>,
    /// A page's form ticks each document as a field of its own
    /// (`consent_service_agreement=<version>`).
    #[serde(flatten)]
    #[schema(ignore)]
    fields: std::collections::HashMap<String, String>,
}

/// The logged-in patient, with what is still to be agreed to.
#[derive(Serialize, ToSchema)]
struct Me {
    patient: PatientProfile,
    consents_outstanding: Vec<ConsentDocumentView>,
    csrf_token: String,
}

/// Register with real name, ID number, SMS code and the three consents; logs in.
#[utoipa::path(post, path = "/api/v1/registrations", tag = "registration",
    request_body = Register,
    responses(
        (status = 201, body = Me),
        (status = 400, description = "Unreadable body", body = ErrorBody),
        (status = 409, description = "An account exists (told only after the SMS code is proved)", body = ErrorBody),
        (status = 422, description = "A field is invalid; `field` names it", body = ErrorBody),
        (status = 429, description = "Too many wrong codes", body = ErrorBody),
    ))]
async fn register(
    State(state): State<AppState>,
    cx: Ctx<Anonymous>,
    Extension(token): Extension<CsrfToken>,
    session: Session,
    reply: Reply,
    Input(body): Input<Register>,
) -> Response {
    let result = async {
        let input = accounts::RegisterInput {
            consents: super::consent_api::pairs(body.consents, &body.fields),
            phone: body.phone,
            code: body.code,
            password: body.password,
            real_name: body.real_name,
            id_number: body.id_number,
        };
        let id = accounts::register(&state, input, &cx).await?;
        auth::log_in(&session, id).await?;
        me_body(&state, id, &token, cx.now).await
    }
    .await;
    reply
        .back_to("/register")
        .answer(result, StatusCode::CREATED, |_| {
            "/me?notice=registered".into()
        })
}
async fn me_body(
    state: &AppState,
    id: i64,
    token: &CsrfToken,
    now: OffsetDateTime,
) -> Result<Me, AppError> {
    let (patient, consents_outstanding) = accounts::profile(state, &state.db, id, now)
        .await?
        .ok_or_else(|| FieldError::general(ErrorCode::Unauthenticated))?;
    Ok(Me {
        patient,
        consents_outstanding,
        csrf_token: token.0.clone(),
    })
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
struct Login {
    phone: String,
    /// Either `password` …
    password: Option<String>,
    /// … or an SMS code sent for `login`.
    code: Option<String>,
}

/// Log in with phone and password, or phone and SMS code. Every failure answers the
/// same `login_failed`, whether or not the phone has an account (R-REG-5).
#[utoipa::path(post, path = "/api/v1/sessions", tag = "session",
    request_body = Login,
    responses(
        (status = 200, body = Me),
        (status = 400, description = "Unreadable body", body = ErrorBody),
        (status = 401, description = "login_failed", body = ErrorBody),
        (status = 403, description = "Consent withdrawn or outdated: give it first", body = ErrorBody),
        (status = 429, description = "Paused after repeated failures", body = ErrorBody),
        (status = 503, description = "Busy; retry after `Retry-After`", body = ErrorBody),
    ))]
async fn login(
    State(state): State<AppState>,
    cx: Ctx<Anonymous>,
    Extension(token): Extension<CsrfToken>,
    session: Session,
    reply: Reply,
    Input(body): Input<Login>,
) -> Response {
    let by_code = body.code.is_some();
    let result = async {
        let id = match (body.password, body.code) {
            (_, Some(code)) => accounts::login_with_code(&state, &body.phone, &code, &cx).await,
            (password, None) => {
                let password = password.unwrap_or_default();
                accounts::login_with_password(&state, &body.phone, &password, &cx).await
            }
        }?;
        auth::log_in(&session, id).await?;
        me_body(&state, id, &token, cx.now).await
    }
    .await;
    reply
        .back_to(if by_code { "/login/sms" } else { "/login" })
        .answer(result, StatusCode::OK, |_| "/me?notice=logged_in".into())
}
/// Log out on this device.
#[utoipa::path(delete, path = "/api/v1/sessions/current", tag = "session",
    responses((status = 204, description = "Logged out")))]
async fn logout(session: Session, reply: Reply) -> Response {
    let result = auth::log_out(&session).await;
    reply
        .back_to("/me")
        .done(result, || "/login?notice=logged_out".into())
}
/// Log out on every device.
#[utoipa::path(delete, path = "/api/v1/sessions", tag = "session",
    responses(
        (status = 204, description = "Every session ended"),
        (status = 401, body = ErrorBody),
    ))]
async fn logout_everywhere(
    State(state): State<AppState>,
    cx: Ctx<Patient>,
    session: Session,
    reply: Reply,
) -> Response {
    let result = async {
        accounts::log_out_everywhere(&state, cx.caller.id, &cx).await?;
        auth::log_out(&session).await
    }
    .await;
    reply
        .back_to("/me")
        .done(result, || "/login?notice=logged_out_all".into())
}
/// The logged-in patient: ID number masked to its last four, birth date, sex, age.
#[utoipa::path(get, path = "/api/v1/me", tag = "patient",
    responses(
        (status = 200, body = Me),
        (status = 401, body = ErrorBody),
        (status = 403, description = "consent_required", body = ErrorBody),
    ))]
async fn me(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    Extension(token): Extension<CsrfToken>,
) -> ApiResult {
    let body = me_body(&state, patient.id, &token, OffsetDateTime::now_utc()).await?;
    Ok(Json(body).into_response())
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
struct ChangePassword {
    /// (A page's form names it `password`.)
    #[serde(alias = "password")]
    current_password: String,
    new_password: String,
}

/// Change the password; every other session ends.
#[utoipa::path(put, path = "/api/v1/password", tag = "patient",
    request_body = ChangePassword,
    responses(
        (status = 204, description = "Changed"),
        (status = 401, description = "Not logged in, or the current password is wrong", body = ErrorBody),
        (status = 403, description = "consent_required", body = ErrorBody),
        (status = 422, description = "The new password is too short, long or common", body = ErrorBody),
    ))]
async fn change_password(
    State(state): State<AppState>,
    cx: Ctx<ConsentedPatient>,
    session: Session,
    reply: Reply,
    Input(body): Input<ChangePassword>,
) -> Response {
    let result = accounts::change_password(
        &state,
        cx.caller.id,
        &body.current_password,
        &body.new_password,
        session.id(),
        &cx,
    )
    .await;
    reply
        .back_to("/me/password")
        .done(result, || "/me?notice=password_changed".into())
}
#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
struct ResetPassword {
    phone: String,
    /// The SMS code sent for `reset_password`.
    code: String,
    new_password: String,
}

/// Reset the password with an SMS code; every session ends.
#[utoipa::path(post, path = "/api/v1/password-resets", tag = "session",
    request_body = ResetPassword,
    responses(
        (status = 204, description = "Reset; log in with the new password"),
        (status = 422, description = "Wrong or expired code, or a weak password", body = ErrorBody),
        (status = 429, description = "Too many wrong codes", body = ErrorBody),
    ))]
async fn reset_password(
    State(state): State<AppState>,
    cx: Ctx<Anonymous>,
    session: Session,
    reply: Reply,
    Input(body): Input<ResetPassword>,
) -> Response {
    let result = async {
        accounts::reset_password(&state, &body.phone, &body.code, &body.new_password, &cx).await?;
        // This request's own session would otherwise be saved again on the way out.
        auth::log_out(&session).await
    }
    .await;
    reply
        .back_to("/password/reset")
        .done(result, || "/login?notice=password_reset".into())
}
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct OutboxQuery {
    /// The phone, as it was sent to (11 digits).
    phone: String,
}

#[derive(Serialize, ToSchema)]
struct Outbox {
    messages: Vec<OutboxEntry>,
}

#[derive(Serialize, ToSchema)]
struct OutboxEntry {
    phone: String,
    body: String,
    code: Option<String>,
    /// Unix seconds.
    sent_at: i64,
}

/// Dev mode only (the route does not exist in production), and only with the dev token
/// in `x-fuzhen-dev-token` (`<data dir>/secrets/fuzhen_dev_token`): what the console
/// SMS "sent".
#[utoipa::path(get, path = "/api/v1/dev/sms-outbox", tag = "dev",
    params(OutboxQuery),
    responses((status = 200, body = Outbox), (status = 404, body = ErrorBody)))]
async fn sms_outbox(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Lang(_): Lang,
    Query(q): Query<OutboxQuery>,
) -> ApiResult {
    let presented = headers
        .get("x-fuzhen-dev-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(outbox) = state.sms.outbox().filter(|o| o.admits(presented)) else {
        return Err(FieldError::general(ErrorCode::NotFound).into());
    };
    let messages = outbox
        .messages_for(&q.phone)
        .into_iter()
        .map(|m| OutboxEntry {
            phone: m.phone,
            body: m.body,
            code: m.code,
            sent_at: m.sent_at,
        })
        .collect();
    Ok(Json(Outbox { messages }).into_response())
}
