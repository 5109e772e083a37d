//! HTML form posts (progressive enhancement: they work without JavaScript).
//! Each answers 303: onward on success, back to its page with `?error=` otherwise.
use super::client::{ClientIp, LOCALE_COOKIE};
use super::sessions::{self, CODE_PHONE, CODE_SENT_AT, check_csrf, require_patient};
use crate::services::{AppError, accounts, consents, sms_codes};
use crate::state::AppState;
use app::domain::consent::ALL_DOCUMENTS;
use app::domain::{ErrorCode, FieldError};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{
    Form, Router,
    routing::{get, post},
};
use serde::Deserialize;
use std::collections::HashMap;
use time::OffsetDateTime;
use tower_sessions::Session;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/forms/sms-code", post(send_code))
        .route("/forms/register", post(register))
        .route("/forms/login", post(login))
        .route("/forms/login-sms", post(login_sms))
        .route("/forms/password-reset", post(reset_password))
        .route("/forms/password", post(change_password))
        .route("/forms/logout", post(logout))
        .route("/forms/logout-all", post(logout_all))
        .route("/forms/consents", post(accept_consents))
        .route("/forms/consents/withdraw", post(withdraw_consents))
        .route("/lang/{tag}", get(switch_language))
}

type Fields = HashMap<String, String>;

fn field<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.get(name).map(String::as_str).unwrap_or_default()
}

/// Back to `page` with the error in the query; the page shows it by its field.
fn back_with(page: &str, err: AppError) -> Response {
    let (error, retry) = match err {
        AppError::Rejected {
            error,
            retry_after_secs,
        } => (error, retry_after_secs),
        AppError::Internal(e) => {
            tracing::error!(error = ?e, "form failed");
            (FieldError::general(ErrorCode::Internal), None)
        }
    };
    let mut url = format!("{page}?error={}", error.code.as_str());
    if let Some(f) = error.field {
        url.push_str(&format!("&field={}", f.as_str()));
    }
    if let Some(secs) = retry {
        url.push_str(&format!("&retry={}", (secs + 59) / 60));
    }
    Redirect::to(&url).into_response()
}

fn outcome(page: &str, result: Result<&str, AppError>) -> Response {
    match result {
        Ok(to) => Redirect::to(to).into_response(),
        Err(e) => back_with(page, e),
    }
}

/// Only our own pages may be returned to.
fn safe_back(back: &str) -> &'static str {
    ["/register", "/login/sms", "/password/reset"]
        .into_iter()
        .find(|p| *p == back)
        .unwrap_or("/")
}

async fn send_code(
    State(state): State<AppState>,
    session: Session,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let page = safe_back(field(&f, "back"));
    let result = async {
        check_csrf(&session, f.get("csrf_token").map(String::as_str)).await?;
        let now = OffsetDateTime::now_utc();
        let sent =
            sms_codes::send(&state, field(&f, "phone"), field(&f, "purpose"), &ip, now).await?;
        let _ = session.insert(CODE_PHONE, sent.phone.as_str()).await;
        let _ = session.insert(CODE_SENT_AT, now.unix_timestamp()).await;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to(&format!("{page}?notice=code_sent")).into_response(),
        Err(e) => {
            // Keep what was typed so the patient need not type it again.
            if let Ok(phone) = app::domain::phone::PhoneNumber::parse(field(&f, "phone")) {
                let _ = session.insert(CODE_PHONE, phone.as_str()).await;
            }
            back_with(page, e)
        }
    }
}

async fn register(
    State(state): State<AppState>,
    session: Session,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let result = async {
        check_csrf(&session, f.get("csrf_token").map(String::as_str)).await?;
        let input = accounts::RegisterInput {
            phone: field(&f, "phone").into(),
            code: field(&f, "code").into(),
            password: field(&f, "password").into(),
            real_name: field(&f, "real_name").into(),
            id_number: field(&f, "id_number").into(),
            consents: ALL_DOCUMENTS
                .iter()
                .filter_map(|d| {
                    f.get(&format!("consent_{}", d.as_str()))
                        .map(|v| (d.as_str().to_owned(), v.clone()))
                })
                .collect(),
        };
        let id = accounts::register(&state, input, &ip, OffsetDateTime::now_utc()).await?;
        sessions::log_in(&session, id).await?;
        Ok("/me?notice=registered")
    }
    .await;
    outcome("/register", result)
}

async fn login(State(state): State<AppState>, session: Session, Form(f): Form<Fields>) -> Response {
    let result = async {
        check_csrf(&session, f.get("csrf_token").map(String::as_str)).await?;
        let id = accounts::login_with_password(
            &state,
            field(&f, "phone"),
            field(&f, "password"),
            OffsetDateTime::now_utc(),
        )
        .await?;
        sessions::log_in(&session, id).await?;
        Ok("/me?notice=logged_in")
    }
    .await;
    outcome("/login", result)
}

async fn login_sms(
    State(state): State<AppState>,
    session: Session,
    Form(f): Form<Fields>,
) -> Response {
    let result = async {
        check_csrf(&session, f.get("csrf_token").map(String::as_str)).await?;
        let id = accounts::login_with_code(
            &state,
            field(&f, "phone"),
            field(&f, "code"),
            OffsetDateTime::now_utc(),
        )
        .await?;
        sessions::log_in(&session, id).await?;
        Ok("/me?notice=logged_in")
    }
    .await;
    outcome("/login/sms", result)
}

async fn reset_password(
    State(state): State<AppState>,
    session: Session,
    Form(f): Form<Fields>,
) -> Response {
    let result = async {
        check_csrf(&session, f.get("csrf_token").map(String::as_str)).await?;
        let now = OffsetDateTime::now_utc();
        let id = accounts::reset_password(
            &state,
            field(&f, "phone"),
            field(&f, "code"),
            field(&f, "new_password"),
            now,
        )
        .await?;
        state.sessions.revoke_patient(id, None).await?;
        sessions::log_out(&session).await?;
        Ok("/login?notice=password_reset")
    }
    .await;
    outcome("/password/reset", result)
}

async fn change_password(
    State(state): State<AppState>,
    session: Session,
    Form(f): Form<Fields>,
) -> Response {
    let result = async {
        check_csrf(&session, f.get("csrf_token").map(String::as_str)).await?;
        let id = require_patient(&session).await?;
        accounts::change_password(&state, id, field(&f, "password"), field(&f, "new_password"))
            .await?;
        state.sessions.revoke_patient(id, session.id()).await?;
        Ok("/me?notice=password_changed")
    }
    .await;
    outcome("/me/password", result)
}

async fn logout(session: Session, Form(f): Form<Fields>) -> Response {
    let result = async {
        check_csrf(&session, f.get("csrf_token").map(String::as_str)).await?;
        sessions::log_out(&session).await?;
        Ok("/login?notice=logged_out")
    }
    .await;
    outcome("/me", result)
}

async fn logout_all(
    State(state): State<AppState>,
    session: Session,
    Form(f): Form<Fields>,
) -> Response {
    let result = async {
        check_csrf(&session, f.get("csrf_token").map(String::as_str)).await?;
        let id = require_patient(&session).await?;
        state.sessions.revoke_patient(id, None).await?;
        sessions::log_out(&session).await?;
        Ok("/login?notice=logged_out_all")
    }
    .await;
    outcome("/me", result)
}

async fn accept_consents(
    State(state): State<AppState>,
    session: Session,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let result = async {
        check_csrf(&session, f.get("csrf_token").map(String::as_str)).await?;
        let id = require_patient(&session).await?;
        let given: Vec<(String, String)> = ALL_DOCUMENTS
            .iter()
            .filter_map(|d| {
                f.get(&format!("consent_{}", d.as_str()))
                    .map(|v| (d.as_str().to_owned(), v.clone()))
            })
            .collect();
        consents::accept_outstanding(&state, id, &given, &ip, OffsetDateTime::now_utc()).await?;
        Ok("/me?notice=consent_recorded")
    }
    .await;
    outcome("/consent", result)
}

async fn withdraw_consents(
    State(state): State<AppState>,
    session: Session,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let result = async {
        check_csrf(&session, f.get("csrf_token").map(String::as_str)).await?;
        let id = require_patient(&session).await?;
        if field(&f, "confirm") != "yes" {
            return Err(
                FieldError::new(ErrorCode::ConsentMissing, app::domain::Field::Consent).into(),
            );
        }
        consents::withdraw_all(&state, id, &ip, OffsetDateTime::now_utc()).await?;
        Ok("/consent?notice=withdrawn")
    }
    .await;
    outcome("/me", result)
}

#[derive(Deserialize)]
struct Back {
    back: Option<String>,
}

/// Sets the language cookie leptos_i18n reads, then returns to the page.
async fn switch_language(Path(tag): Path<String>, Query(q): Query<Back>) -> Response {
    let locale = match tag.as_str() {
        "en" => "en",
        _ => "zh-CN",
    };
    let back = q
        .back
        .filter(|b| b.starts_with('/') && !b.starts_with("//"))
        .unwrap_or_else(|| "/".into());
    let mut res = Redirect::to(&back).into_response();
    let cookie = format!("{LOCALE_COOKIE}={locale}; Path=/; Max-Age=31536000; SameSite=Lax");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}
