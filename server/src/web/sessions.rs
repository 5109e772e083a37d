//! What we keep in a session, and CSRF tokens (synchronizer pattern).
use crate::services::AppError;
use crate::session_store::PATIENT_ID;
use app::domain::{ErrorCode, FieldError};
use rand::RngCore;
use tower_sessions::Session;

const CSRF: &str = "csrf";
pub const CODE_PHONE: &str = "code_phone";
pub const CODE_SENT_AT: &str = "code_sent_at";

fn internal(e: tower_sessions::session::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("session store: {e}"))
}

pub async fn csrf_token(session: &Session) -> Result<String, AppError> {
    if let Some(token) = session.get::<String>(CSRF).await.map_err(internal)? {
        return Ok(token);
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    session.insert(CSRF, &token).await.map_err(internal)?;
    Ok(token)
}

/// Refuses a state-changing request whose token is missing or not this session's.
pub async fn check_csrf(session: &Session, given: Option<&str>) -> Result<(), AppError> {
    let expected = session.get::<String>(CSRF).await.map_err(internal)?;
    match (expected, given) {
        (Some(expected), Some(given))
            if constant_time_eq(expected.as_bytes(), given.as_bytes()) =>
        {
            Ok(())
        }
        _ => Err(FieldError::general(ErrorCode::CsrfMissing).into()),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub async fn patient_id(session: &Session) -> Option<i64> {
    session.get::<i64>(PATIENT_ID).await.ok().flatten()
}

pub async fn require_patient(session: &Session) -> Result<i64, AppError> {
    patient_id(session)
        .await
        .ok_or_else(|| FieldError::general(ErrorCode::Unauthenticated).into())
}

/// A new session id on login (no fixation) and a new CSRF token.
pub async fn log_in(session: &Session, patient_id: i64) -> Result<(), AppError> {
    session.cycle_id().await.map_err(internal)?;
    session.remove::<String>(CSRF).await.map_err(internal)?;
    session
        .remove::<String>(CODE_PHONE)
        .await
        .map_err(internal)?;
    session
        .insert(PATIENT_ID, patient_id)
        .await
        .map_err(internal)?;
    csrf_token(session).await?;
    Ok(())
}

pub async fn log_out(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(internal)
}
