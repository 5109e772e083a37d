//! The [`Viewer`] for pages and server functions: a layer on the page group only.
//! It reads (the session, the patient, their consents) and writes nothing, except the
//! once-a-minute idle refresh of a logged-in session.
use crate::accounts::auth::{CODE_PHONE, CODE_SENT_AT, current_patient, patient_context};
use crate::accounts::consents;
use crate::error::AppError;
use crate::staff::auth::{STAFF_ID, STAFF_PENDING, StaffMember};
use crate::staff::service as staff;
use crate::state::AppState;
use crate::web::csrf::CsrfToken;
use app::domain::china_time;
use app::viewer::{SignedIn, StaffSignedIn, Viewer};
use axum::extract::FromRequestParts;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use time::OffsetDateTime;
use tower_sessions::Session;

pub async fn attach_viewer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let viewer = match build(&state, &mut parts, OffsetDateTime::now_utc()).await {
        Ok(v) => v,
        Err(e) => {
            let _ = crate::web::error::ApiError::from(e);
            Viewer::default()
        }
    };
    parts.extensions.insert(viewer);
    next.run(Request::from_parts(parts, body)).await
}

async fn build(
    state: &AppState,
    parts: &mut axum::http::request::Parts,
    now: OffsetDateTime,
) -> Result<Viewer, AppError> {
    let mut viewer = Viewer {
        csrf_token: parts
            .extensions
            .get::<CsrfToken>()
            .map(|t| t.0.clone())
            .unwrap_or_default(),
        current_consents: state.current_consent_views(),
        today: china_time::today(now).to_string(),
        ..Viewer::default()
    };
    if let Some(patient) = current_patient(parts, state).await?
        && let Some(found) = patient_context(parts, state, patient.id).await?
    {
        viewer.consents_outstanding = consents::outstanding_views(state, &found.consents);
        viewer.signed_in = Some(SignedIn {
            consents_withdrawn: found.consents.is_empty(),
        });
        if viewer.consents_outstanding.is_empty() {
            viewer.unread_notices = found.unread;
            viewer.unread_consult = found.unread_consult;
        }
    }
    if let Some(session) = parts.extensions.get::<Session>().cloned()
        && session.id().is_some()
    {
        let staff_id = session.get::<i64>(STAFF_ID).await.ok().flatten();
        if staff_id.is_some()
            && let Ok(member) = StaffMember::from_request_parts(parts, state).await
        {
            viewer.staff = Some(StaffSignedIn {
                display_name: member.view.display_name.clone(),
                role: member.view.role,
            });
        }
        if let Some(id) = session.get::<i64>(STAFF_PENDING).await.ok().flatten()
            && let Some((_, view)) = staff::find_active(&state.db, id).await?
        {
            viewer.staff_pending = Some(view.enrolled);
        }
    }
    if let Some(session) = parts.extensions.get::<Session>() {
        // Only a session that already exists is read: no cookie, no query.
        if session.id().is_some() {
            viewer.code_phone = session.get::<String>(CODE_PHONE).await.ok().flatten();
            if let Some(sent) = session.get::<i64>(CODE_SENT_AT).await.ok().flatten() {
                viewer.resend_in_secs = (sent + state.sms_policy.resend_after.whole_seconds()
                    - now.unix_timestamp())
                .max(0);
            }
        }
    }
    Ok(viewer)
}
