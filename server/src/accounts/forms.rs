//! The accounts forms: SMS codes, registration, login, password, logout, consents.
use crate::accounts::auth::{self, CODE_PHONE, CODE_SENT_AT, ConsentedPatient, Patient};
use crate::accounts::consents;
use crate::accounts::service as accounts;
use crate::accounts::sms_codes;
use crate::state::AppState;
use crate::web::client::ClientIp;
use crate::web::extract::Form;
use app::domain::consent::ALL_DOCUMENTS;
use app::domain::{ErrorCode, FieldError};
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Router, routing::post};
use time::OffsetDateTime;
use tower_sessions::Session;

use crate::web::forms::{Fields, back_with, field, outcome};

pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    // What sends an SMS, judges a secret or creates an account: limited per address.
    let guessing = Router::new()
        .route("/forms/sms-code", post(send_code))
        .route("/forms/register", post(register))
        .route("/forms/login", post(login))
        .route("/forms/login-sms", post(login_sms))
        .route("/forms/password-reset", post(reset_password))
        .route("/forms/password", post(change_password))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::web::throttle::limit,
        ));
    Router::new()
        .merge(guessing)
        .route("/forms/logout", post(logout))
        .route("/forms/logout-all", post(logout_all))
        .route("/forms/consents", post(accept_consents))
        .route("/forms/consents/withdraw", post(withdraw_consents))
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
    let now = OffsetDateTime::now_utc();
    let result = sms_codes::send(
        &state,
        field(&f, "phone"),
        field(&f, "purpose"),
        &ip.to_string(),
        now,
    )
    .await;
    // A multi-step flow has begun: this is when an anonymous visitor gets a session.
    match result {
        Ok(sent) => {
            let _ = session.insert(CODE_PHONE, sent.phone.as_str()).await;
            let _ = session.insert(CODE_SENT_AT, now.unix_timestamp()).await;
            Redirect::to(&format!("{page}?notice=code_sent")).into_response()
        }
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
        let id =
            accounts::register(&state, input, &ip.to_string(), OffsetDateTime::now_utc()).await?;
        auth::log_in(&session, id).await?;
        Ok("/me?notice=registered")
    }
    .await;
    outcome("/register", result)
}

async fn login(
    State(state): State<AppState>,
    session: Session,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let result = async {
        let id = accounts::login_with_password(
            &state,
            field(&f, "phone"),
            field(&f, "password"),
            &ip.to_string(),
            OffsetDateTime::now_utc(),
        )
        .await?;
        auth::log_in(&session, id).await?;
        Ok("/me?notice=logged_in")
    }
    .await;
    outcome("/login", result)
}

async fn login_sms(
    State(state): State<AppState>,
    session: Session,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let result = async {
        let id = accounts::login_with_code(
            &state,
            field(&f, "phone"),
            field(&f, "code"),
            &ip.to_string(),
            OffsetDateTime::now_utc(),
        )
        .await?;
        auth::log_in(&session, id).await?;
        Ok("/me?notice=logged_in")
    }
    .await;
    outcome("/login/sms", result)
}

async fn reset_password(
    State(state): State<AppState>,
    session: Session,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let result = async {
        accounts::reset_password(
            &state,
            field(&f, "phone"),
            field(&f, "code"),
            field(&f, "new_password"),
            &ip.to_string(),
            OffsetDateTime::now_utc(),
        )
        .await?;
        auth::log_out(&session).await?;
        Ok("/login?notice=password_reset")
    }
    .await;
    outcome("/password/reset", result)
}

async fn change_password(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    session: Session,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let result = accounts::change_password(
        &state,
        patient.id,
        field(&f, "password"),
        field(&f, "new_password"),
        session.id(),
        &ip.to_string(),
        OffsetDateTime::now_utc(),
    )
    .await
    .map(|()| "/me?notice=password_changed");
    outcome("/me/password", result)
}

async fn logout(session: Session) -> Response {
    let result = auth::log_out(&session)
        .await
        .map(|()| "/login?notice=logged_out");
    outcome("/me", result)
}

async fn logout_all(
    State(state): State<AppState>,
    patient: Patient,
    session: Session,
    ClientIp(ip): ClientIp,
) -> Response {
    let result = async {
        accounts::log_out_everywhere(
            &state,
            patient.id,
            &ip.to_string(),
            OffsetDateTime::now_utc(),
        )
        .await?;
        auth::log_out(&session).await?;
        Ok("/login?notice=logged_out_all")
    }
    .await;
    outcome("/me", result)
}

async fn accept_consents(
    State(state): State<AppState>,
    patient: Patient,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let given: Vec<(String, String)> = ALL_DOCUMENTS
        .iter()
        .filter_map(|d| {
            f.get(&format!("consent_{}", d.as_str()))
                .map(|v| (d.as_str().to_owned(), v.clone()))
        })
        .collect();
    let result = consents::accept_outstanding(
        &state,
        patient.id,
        &given,
        &ip.to_string(),
        OffsetDateTime::now_utc(),
    )
    .await
    .map(|()| "/me?notice=consent_recorded");
    outcome("/consent", result)
}

async fn withdraw_consents(
    State(state): State<AppState>,
    patient: Patient,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let result = async {
        if field(&f, "confirm") != "yes" {
            return Err(
                FieldError::new(ErrorCode::ConsentMissing, app::domain::Field::Consent).into(),
            );
        }
        consents::withdraw_all(
            &state,
            patient.id,
            &ip.to_string(),
            OffsetDateTime::now_utc(),
        )
        .await?;
        Ok("/consent?notice=withdrawn")
    }
    .await;
    outcome("/me", result)
}
