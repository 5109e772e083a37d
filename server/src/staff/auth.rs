//! Staff sessions (R-SEC-3): a password step leaves the session "pending"; only the
//! second factor makes it a staff session. Every staff request re-reads the account, so
//! disabling it ends its sessions at once, and a staff session ends after a shorter idle
//! time than a patient's (15 minutes by default).
use crate::accounts::auth::internal;
use crate::error::AppError;
use crate::staff::service as staff;
use crate::state::AppState;
use crate::web::error::ApiError;
use app::domain::staff::{Permission, Role};
use app::domain::{ErrorCode, FieldError};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use time::OffsetDateTime;
use tower_sessions::Session;

/// Passed the password; the second factor (or its enrolment) is owed.
pub const STAFF_PENDING: &str = "staff_pending";
/// A staff member fully logged in.
pub const STAFF_ID: &str = "staff_id";
const STAFF_TOUCHED_AT: &str = "staff_touched_at";
/// When both factors were passed: the absolute lifetime counts from it.
const STAFF_LOGIN_AT: &str = "staff_login_at";
/// The idle deadline moves at most once a minute (one write).
const TOUCH_EVERY_SECS: i64 = 60;

/// Starts the pending step after a right password: a new session id (no fixation), and
/// nothing of a patient's session carried over.
pub async fn begin(session: &Session, staff_id: i64) -> Result<(), AppError> {
    session.cycle_id().await.map_err(internal)?;
    session.clear().await;
    session
        .insert(STAFF_PENDING, staff_id)
        .await
        .map_err(internal)?;
    Ok(())
}

/// The second factor passed: the session becomes a staff session.
pub async fn complete(session: &Session, staff_id: i64) -> Result<(), AppError> {
    session.cycle_id().await.map_err(internal)?;
    session
        .remove::<i64>(STAFF_PENDING)
        .await
        .map_err(internal)?;
    session.insert(STAFF_ID, staff_id).await.map_err(internal)?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    session
        .insert(STAFF_TOUCHED_AT, now)
        .await
        .map_err(internal)?;
    session
        .insert(STAFF_LOGIN_AT, now)
        .await
        .map_err(internal)?;
    Ok(())
}

/// Someone between the password and the second factor.
#[derive(Debug, Clone, Copy)]
pub struct PendingStaff {
    pub id: i64,
}

/// A browser goes back to the staff login page; an API client gets the error shape.
pub struct StaffRejection {
    error: ApiError,
    browser: bool,
}

impl IntoResponse for StaffRejection {
    fn into_response(self) -> Response {
        if self.browser && self.error.error.code != ErrorCode::Internal {
            let to = format!("/staff/login?error={}", self.error.error.code.as_str());
            return Redirect::to(&to).into_response();
        }
        self.error.into_response()
    }
}

fn reject(parts: &Parts, error: impl Into<ApiError>) -> StaffRejection {
    StaffRejection {
        error: error.into(),
        browser: crate::accounts::auth::is_browser(parts),
    }
}

impl FromRequestParts<AppState> for PendingStaff {
    type Rejection = StaffRejection;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        let pending = async {
            let session = session_of(parts)?;
            match session.get::<i64>(STAFF_PENDING).await.map_err(internal)? {
                Some(id) => Ok(PendingStaff { id }),
                None => Err(unauthenticated()),
            }
        };
        let result = pending.await;
        result.map_err(|e| reject(parts, e))
    }
}

/// A logged-in staff member, with both factors, whose account is enabled.
#[derive(Debug, Clone)]
pub struct StaffMember {
    pub id: i64,
    pub view: staff::StaffView,
}

impl StaffMember {
    pub fn role(&self) -> Role {
        self.view.role
    }

    /// R-SEC-1: refuses what the role may not do.
    pub fn require(&self, what: Permission) -> Result<(), AppError> {
        if self.role().may(what) {
            Ok(())
        } else {
            Err(FieldError::general(ErrorCode::Forbidden).into())
        }
    }
}

impl FromRequestParts<AppState> for StaffMember {
    type Rejection = StaffRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let result = member(parts, state).await;
        result.map_err(|e| reject(parts, e))
    }
}

async fn member(parts: &mut Parts, state: &AppState) -> Result<StaffMember, AppError> {
    if let Some(found) = parts.extensions.get::<StaffMember>() {
        return Ok(found.clone());
    }
    let session = session_of(parts)?;
    let Some(id) = session.get::<i64>(STAFF_ID).await.map_err(internal)? else {
        if session
            .get::<i64>(STAFF_PENDING)
            .await
            .map_err(internal)?
            .is_some()
        {
            return Err(FieldError::general(ErrorCode::SecondFactorRequired).into());
        }
        return Err(unauthenticated());
    };
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let touched = session
        .get::<i64>(STAFF_TOUCHED_AT)
        .await
        .map_err(internal)?
        .unwrap_or(0);
    // A session without a login time began before it was kept: it ends too.
    let login_at = session
        .get::<i64>(STAFF_LOGIN_AT)
        .await
        .map_err(internal)?
        .unwrap_or(0);
    if now - touched >= state.staff_idle.whole_seconds()
        || now - login_at >= state.staff_absolute.whole_seconds()
    {
        session.flush().await.map_err(internal)?;
        return Err(unauthenticated());
    }
    let Some((_, view)) = staff::find_active(&state.db, id).await? else {
        // Disabled (or gone): this session ends now.
        session.flush().await.map_err(internal)?;
        return Err(unauthenticated());
    };
    if now - touched >= TOUCH_EVERY_SECS {
        session
            .insert(STAFF_TOUCHED_AT, now)
            .await
            .map_err(internal)?;
    }
    let member = StaffMember { id, view };
    parts.extensions.insert(member.clone());
    Ok(member)
}

fn session_of(parts: &Parts) -> Result<Session, AppError> {
    parts
        .extensions
        .get::<Session>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no session layer on this route")))
}

fn unauthenticated() -> AppError {
    FieldError::general(ErrorCode::Unauthenticated).into()
}

impl crate::caller::Caller for StaffMember {
    fn actor(&self) -> crate::audit::Actor {
        crate::audit::Actor::Staff(self.id)
    }
}
