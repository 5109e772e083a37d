//! Who is logged in, as extractors: a handler, form or server function states what it
//! needs in its signature ([`Patient`], [`ConsentedPatient`]) and cannot forget it.
//! Sessions are written only when someone logs in, starts an SMS flow, or — at most once
//! a minute — when the idle expiry needs moving.
use crate::accounts::consents;
use crate::accounts::patient_context;
use crate::accounts::patient_context::PatientContext;
use crate::accounts::session_store::PATIENT_ID;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::error::ApiError;
use app::domain::{ErrorCode, FieldError};
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Arc;
use time::OffsetDateTime;
use tower_sessions::Session;

const LOGIN_AT: &str = "login_at";
const TOUCHED_AT: &str = "touched_at";
pub const CODE_PHONE: &str = "code_phone";
pub const CODE_SENT_AT: &str = "code_sent_at";
/// The family member (就诊人) the patient acts for this session (R-REG-7); absent: themselves.
pub const CARE_FOR: &str = "care_for";

/// The idle expiry moves only when it is at least this stale: one write a minute at most.
const TOUCH_EVERY_SECS: i64 = 60;

pub fn internal(e: tower_sessions::session::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("session store: {e}"))
}

/// The logged-in patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Patient {
    pub id: i64,
}

/// The logged-in patient, who has agreed to the texts now in force (R-REG-2), as this
/// request read them.
#[derive(Debug, Clone)]
pub struct ConsentedPatient {
    pub id: i64,
    pub found: Arc<PatientContext>,
}

impl ConsentedPatient {
    /// The birth date of whom a consult is for, when it is the patient themselves (a
    /// family member's is read with the member).
    pub fn own_birth_date(&self, member: Option<i64>) -> Option<&str> {
        member
            .is_none()
            .then_some(self.found.patient.birth_date.as_str())
    }
}

/// Resolved once per request and kept in its extensions.
#[derive(Clone, Copy)]
struct Resolved(Option<Patient>);

/// The session's patient, if any: applies the absolute lifetime and refreshes the idle
/// expiry when it is stale.
pub async fn current_patient(
    parts: &mut Parts,
    state: &AppState,
) -> Result<Option<Patient>, AppError> {
    if let Some(Resolved(p)) = parts.extensions.get::<Resolved>() {
        return Ok(*p);
    }
    let patient = match parts.extensions.get::<Session>().cloned() {
        Some(session) => resolve(&session, state, OffsetDateTime::now_utc()).await?,
        None => None,
    };
    parts.extensions.insert(Resolved(patient));
    Ok(patient)
}

async fn resolve(
    session: &Session,
    state: &AppState,
    now: OffsetDateTime,
) -> Result<Option<Patient>, AppError> {
    let Some(id) = session.get::<i64>(PATIENT_ID).await.map_err(internal)? else {
        return Ok(None);
    };
    let ts = now.unix_timestamp();
    let login_at = session
        .get::<i64>(LOGIN_AT)
        .await
        .map_err(internal)?
        .unwrap_or(0);
    if ts - login_at >= state.session_absolute.whole_seconds() {
        session.flush().await.map_err(internal)?;
        return Ok(None);
    }
    let touched = session
        .get::<i64>(TOUCHED_AT)
        .await
        .map_err(internal)?
        .unwrap_or(0);
    if ts - touched >= TOUCH_EVERY_SECS {
        // Marks the session changed, so the store saves it with a fresh idle expiry.
        session.insert(TOUCHED_AT, ts).await.map_err(internal)?;
    }
    Ok(Some(Patient { id }))
}

/// A new session id on login (no fixation), the login time for the absolute lifetime.
pub async fn log_in(session: &Session, patient_id: i64) -> Result<(), AppError> {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    session.cycle_id().await.map_err(internal)?;
    session.clear().await;
    session
        .insert(PATIENT_ID, patient_id)
        .await
        .map_err(internal)?;
    session.insert(LOGIN_AT, now).await.map_err(internal)?;
    session.insert(TOUCHED_AT, now).await.map_err(internal)?;
    Ok(())
}

pub async fn log_out(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(internal)
}

/// Why an extractor refused. Browsers (forms, page loads) are sent where they can act;
/// API clients get the error shape.
pub struct AuthRejection {
    error: ApiError,
    browser: bool,
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        if !self.browser {
            return self.error.into_response();
        }
        match self.error.error.code {
            ErrorCode::Unauthenticated => {
                Redirect::to("/login?error=unauthenticated").into_response()
            }
            ErrorCode::ConsentRequired => Redirect::to("/consent").into_response(),
            _ => self.error.into_response(),
        }
    }
}

/// A browser navigating (it asks for HTML): answered with a redirect, not JSON.
pub(crate) fn is_browser(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

fn reject(parts: &Parts, error: impl Into<ApiError>) -> AuthRejection {
    AuthRejection {
        error: error.into(),
        browser: is_browser(parts),
    }
}

impl FromRequestParts<AppState> for Patient {
    type Rejection = AuthRejection;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match current_patient(parts, state).await {
            Ok(Some(p)) => Ok(p),
            Ok(None) => Err(reject(
                parts,
                FieldError::general(ErrorCode::Unauthenticated),
            )),
            Err(e) => Err(reject(parts, e)),
        }
    }
}

impl FromRequestParts<AppState> for ConsentedPatient {
    type Rejection = AuthRejection;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Patient { id } = Patient::from_request_parts(parts, state).await?;
        match patient_context(parts, state, id).await {
            Ok(Some(found)) if consents::outstanding_views(state, &found.consents).is_empty() => {
                Ok(ConsentedPatient { id, found })
            }
            Ok(Some(_)) => Err(reject(
                parts,
                FieldError::general(ErrorCode::ConsentRequired),
            )),
            // The account behind the session is gone.
            Ok(None) => Err(reject(
                parts,
                FieldError::general(ErrorCode::Unauthenticated),
            )),
            Err(e) => Err(reject(parts, e)),
        }
    }
}

/// The patient's account, consents in force and unread count, read once per request in
/// one statement and kept in its extensions (the viewer, the consent gate, the profile
/// and the eligibility rule all need them).
#[derive(Clone)]
struct Found(i64, Option<Arc<PatientContext>>);

pub async fn patient_context(
    parts: &mut Parts,
    state: &AppState,
    patient_id: i64,
) -> Result<Option<Arc<PatientContext>>, AppError> {
    if let Some(Found(id, found)) = parts.extensions.get::<Found>()
        && *id == patient_id
    {
        return Ok(found.clone());
    }
    // Read with the session already, as a rule (`DbSessionStore::load`).
    let read_with_session = parts
        .extensions
        .get::<Session>()
        .and_then(Session::id)
        .and_then(|id| state.sessions.take_context(&id, patient_id));
    let found = match read_with_session {
        Some(found) => Some(found),
        None => patient_context::load(&state.db, patient_id)
            .await?
            .map(Arc::new),
    };
    parts.extensions.insert(Found(patient_id, found.clone()));
    Ok(found)
}
