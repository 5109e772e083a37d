//! Builds the [`Viewer`] for page requests and enforces the page gates: log in for
//! personal pages, and fresh consent before anything else (R-REG-2).
use super::sessions::{CODE_PHONE, CODE_SENT_AT, csrf_token, patient_id};
use crate::services::{accounts, today_in_china};
use crate::state::AppState;
use app::viewer::Viewer;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use time::OffsetDateTime;
use tower_sessions::Session;

const PERSONAL: [&str; 3] = ["/me", "/me/password", "/consent"];

fn is_page(path: &str) -> bool {
    let excluded = ["/api/", "/pkg/", "/forms/", "/lang/", "/healthz", "/readyz"];
    let last = path.rsplit('/').next().unwrap_or_default();
    !excluded.iter().any(|p| path.starts_with(p)) && !last.contains('.')
}

pub async fn attach_viewer(
    State(state): State<AppState>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_owned();
    if !is_page(&path) {
        return next.run(req).await;
    }
    let now = OffsetDateTime::now_utc();
    let viewer = match build(&state, &session, now).await {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = ?e, "building the viewer failed");
            Viewer::default()
        }
    };
    let is_get = req.method() == axum::http::Method::GET;
    if is_get && !path.starts_with("/sfn/") {
        if viewer.patient.is_none() && PERSONAL.contains(&path.as_str()) {
            return Redirect::to("/login?error=unauthenticated").into_response();
        }
        let consent_page = path == "/consent" || path.starts_with("/consent/");
        if viewer.patient.is_some() && !viewer.consents_outstanding.is_empty() && !consent_page {
            return Redirect::to("/consent").into_response();
        }
    }
    req.extensions_mut().insert(viewer);
    next.run(req).await
}

async fn build(
    state: &AppState,
    session: &Session,
    now: OffsetDateTime,
) -> Result<Viewer, crate::services::AppError> {
    let mut viewer = Viewer {
        csrf_token: csrf_token(session).await?,
        current_consents: state.current_consent_views(),
        today: today_in_china(now).to_string(),
        ..Viewer::default()
    };
    if let Some(id) = patient_id(session).await {
        if let Some((profile, outstanding)) = accounts::profile(state, id, now).await? {
            viewer.patient = Some(profile);
            viewer.consents_outstanding = outstanding;
        }
    }
    viewer.code_phone = session.get::<String>(CODE_PHONE).await.ok().flatten();
    if let Some(sent) = session.get::<i64>(CODE_SENT_AT).await.ok().flatten() {
        viewer.resend_in_secs =
            (sent + state.sms_policy.resend_after.whole_seconds() - now.unix_timestamp()).max(0);
    }
    Ok(viewer)
}
