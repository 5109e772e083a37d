//! Whom a patient is acting for this session: themselves or one of their family
//! members (R-REG-7). Shared by the API, the forms and the pages, and read into every
//! patient's request context ([`crate::caller::Ctx`]).
use crate::accounts::auth::{CARE_FOR, ConsentedPatient, Patient, internal};
use crate::audit::Actor;
use crate::caller::Caller;
use crate::error::AppError;
use crate::family::service as family;
use crate::state::AppState;
use app::domain::{ErrorCode, Field, FieldError};
use app::family::FamilyMemberView;
use tower_sessions::Session;

/// Records the choice in the session, after checking the member is the patient's own.
pub async fn choose(
    state: &AppState,
    patient_id: i64,
    session: &Session,
    member_number: Option<String>,
) -> Result<(), AppError> {
    match member_number.filter(|m| !m.trim().is_empty()) {
        None => {
            session.remove::<String>(CARE_FOR).await.map_err(internal)?;
        }
        Some(number) => {
            if family::find(&state.db, patient_id, number.trim())
                .await?
                .is_none()
            {
                return Err(FieldError::new(ErrorCode::NotFound, Field::MemberNumber).into());
            }
            session
                .insert(CARE_FOR, number.trim().to_owned())
                .await
                .map_err(internal)?;
        }
    }
    Ok(())
}

/// The session's choice, if it still names one of `members` (a removed member is
/// forgotten).
pub async fn current(
    session: &Session,
    members: &[FamilyMemberView],
) -> Result<Option<String>, AppError> {
    let chosen = session.get::<String>(CARE_FOR).await.map_err(internal)?;
    Ok(chosen.filter(|c| members.iter().any(|m| &m.member_number == c)))
}

/// The `family_member.id` the patient is acting for, checked again now; `None`:
/// themselves. A member removed meanwhile (from another device) refuses this action with
/// `family_member_removed` and is forgotten, so the session never acts for the guardian
/// without saying so.
pub async fn member_id(
    state: &AppState,
    patient_id: i64,
    session: &Session,
) -> Result<Option<i64>, AppError> {
    let Some(number) = session.get::<String>(CARE_FOR).await.map_err(internal)? else {
        return Ok(None);
    };
    match family::find(&state.db, patient_id, &number).await? {
        Some(member) => Ok(Some(member.id)),
        None => {
            session.remove::<String>(CARE_FOR).await.map_err(internal)?;
            Err(FieldError::general(ErrorCode::FamilyMemberRemoved).into())
        }
    }
}

/// [`member_id`] for a page being shown: a removed member shows the guardian's own
/// page, and the choice stays, so the next action says what happened.
pub async fn shown_member_id(
    state: &AppState,
    patient_id: i64,
    session: &Session,
) -> Result<Option<i64>, AppError> {
    let Some(number) = session.get::<String>(CARE_FOR).await.map_err(internal)? else {
        return Ok(None);
    };
    Ok(family::find(&state.db, patient_id, &number)
        .await?
        .map(|m| m.id))
}

/// After a member is removed: if the session was acting for them, back to oneself.
pub async fn forget(session: &Session, member_number: &str) -> Result<(), AppError> {
    if session
        .get::<String>(CARE_FOR)
        .await
        .map_err(internal)?
        .as_deref()
        == Some(member_number)
    {
        session.remove::<String>(CARE_FOR).await.map_err(internal)?;
    }
    Ok(())
}

/// A patient acts for the family member chosen in their session, checked again now.
async fn session_member(
    parts: &mut axum::http::request::Parts,
    state: &AppState,
    patient_id: i64,
) -> Result<Option<i64>, AppError> {
    match parts.extensions.get::<Session>().cloned() {
        Some(session) => member_id(state, patient_id, &session).await,
        None => Ok(None),
    }
}

impl Caller for ConsentedPatient {
    fn actor(&self) -> Actor {
        Actor::Patient(self.id)
    }
    async fn acting_for(
        &self,
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Option<i64>, AppError> {
        session_member(parts, state, self.id).await
    }
}

impl Caller for Patient {
    fn actor(&self) -> Actor {
        Actor::Patient(self.id)
    }
    async fn acting_for(
        &self,
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Option<i64>, AppError> {
        session_member(parts, state, self.id).await
    }
}
