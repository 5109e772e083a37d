//! The emergency screen before a consult (R-ELIG-4).
use super::{ApiResult, ErrorBody};
use crate::services::screen;
use crate::state::AppState;
use crate::web::acting_for;
use crate::web::auth::{ConsentedPatient, internal};
use crate::web::client::ClientIp;
use crate::web::extract::Json;
use app::domain::emergency::{RedFlag, Screen};
use axum::extract::State;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use time::OffsetDateTime;
use tower_sessions::Session;
use utoipa::ToSchema;

/// When the last clear screen was answered, in the session (unix seconds).
pub const SCREEN_PASSED_AT: &str = "screen_passed_at";

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(super) struct ScreenAnswers {
    /// Every red flag (`chest_pain`, `breathing_difficulty`, `heavy_bleeding`,
    /// `lost_consciousness`, `stroke_signs`, `seizure`, `severe_allergy`, `poisoning`,
    /// `infant_high_fever`, `self_harm`) with true for yes.
    answers: HashMap<String, bool>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct ScreenResult {
    /// `clear`: go on; `emergency`: stop, call 120 or go to a hospital now.
    outcome: &'static str,
    /// The red flags answered yes.
    flags: Vec<RedFlag>,
}

/// Answer the emergency screen for the person the patient is acting for. A yes to any
/// question stops the consult (and is recorded).
#[utoipa::path(post, path = "/api/v1/emergency-screen", tag = "eligibility",
    request_body = ScreenAnswers,
    responses(
        (status = 200, body = ScreenResult),
        (status = 422, description = "screen_unanswered", body = ErrorBody),
    ))]
pub(super) async fn emergency_screen(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    session: Session,
    ClientIp(ip): ClientIp,
    Json(body): Json<ScreenAnswers>,
) -> ApiResult {
    let member = acting_for::member_id(&state, patient.id, &session).await?;
    let now = OffsetDateTime::now_utc();
    let result = match screen::submit(
        &state,
        patient.id,
        member,
        &body.answers,
        &ip.to_string(),
        now,
    )
    .await?
    {
        Screen::Clear => {
            session
                .insert(SCREEN_PASSED_AT, now.unix_timestamp())
                .await
                .map_err(internal)?;
            ScreenResult {
                outcome: "clear",
                flags: vec![],
            }
        }
        Screen::Emergency(flags) => {
            session
                .remove::<i64>(SCREEN_PASSED_AT)
                .await
                .map_err(internal)?;
            ScreenResult {
                outcome: "emergency",
                flags,
            }
        }
    };
    Ok(Json(result).into_response())
}
