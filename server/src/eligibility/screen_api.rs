//! Before a consult: the emergency screen (R-ELIG-4), then the consult's risk notice
//! and informed consent (R-REG-6).
use crate::accounts::auth::ConsentedPatient;
use crate::state::AppState;
use crate::web::api::ApiResult;
use crate::web::api::ApiRoutes;
use crate::web::client::{ClientIp, Lang};
use crate::web::extract::Json;
use crate::web::openapi::ErrorBody;
use app::domain::department::Department;
use app::domain::emergency::{RedFlag, Screen};
use app::domain::{ErrorCode, Field, FieldError};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use tower_sessions::Session;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct ScreenAnswers {
    /// Every red flag (`chest_pain`, `breathing_difficulty`, `heavy_bleeding`,
    /// `lost_consciousness`, `stroke_signs`, `seizure`, `severe_allergy`, `poisoning`,
    /// `infant_high_fever`, `self_harm`) with true for yes.
    answers: HashMap<String, bool>,
    /// Has a doctor said the person is critically ill? Required; refused only under the
    /// hospital's stricter rule (R-ELIG-5), at the consult's consent.
    critical: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ScreenResult {
    /// `clear`: go on; `emergency`: stop, call 120 or go to a hospital now.
    outcome: &'static str,
    /// The red flags answered yes.
    flags: Vec<RedFlag>,
}

/// Answer the emergency screen for the person the patient is acting for. A yes to any
/// question stops the consult (and is recorded); a clear screen counts for 30 minutes.
#[utoipa::path(post, path = "/api/v1/emergency-screen", tag = "eligibility",
    request_body = ScreenAnswers,
    responses(
        (status = 200, body = ScreenResult),
        (status = 422, description = "screen_unanswered", body = ErrorBody),
    ))]
pub(crate) async fn emergency_screen(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    session: Session,
    ClientIp(ip): ClientIp,
    Json(body): Json<ScreenAnswers>,
) -> ApiResult {
    let result = match super::screen::answer_screen(
        &state,
        patient.id,
        &session,
        &body.answers,
        body.critical,
        &ip.to_string(),
    )
    .await?
    {
        Screen::Clear => ScreenResult {
            outcome: "clear",
            flags: vec![],
        },
        Screen::Emergency(flags) => ScreenResult {
            outcome: "emergency",
            flags,
        },
    };
    Ok(Json(result).into_response())
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ConsultNotice {
    /// Send it back with the confirmation: a changed text is confirmed anew.
    version: String,
    /// In the reader's language: `# title`, then one paragraph per line.
    text: &'static str,
}

/// The risk notice each consult's confirmation covers (R-REG-6).
#[utoipa::path(get, path = "/api/v1/consult-notice", tag = "eligibility",
    responses((status = 200, body = ConsultNotice)))]
pub(crate) async fn consult_notice(State(state): State<AppState>, Lang(locale): Lang) -> ApiResult {
    Ok(Json(ConsultNotice {
        version: state.consult_notice_version.clone(),
        text: app::domain::consult_consent::notice_text(locale == app::i18n::Locale::en),
    })
    .into_response())
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct ConsultConsentRequest {
    /// The approved diagnosis to follow up (ICD-10).
    icd10: String,
    department: String,
    /// The notice's version, from `/api/v1/consult-notice`.
    version: String,
    /// The patient ticked "I agree".
    accept: bool,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ConsultConsentGiven {
    consent_number: String,
}

/// Confirm the risk notice for a consult for the person the patient is acting for,
/// after a clear emergency screen for them in the last 30 minutes. Eligibility is asked
/// again, with the screen's answers.
#[utoipa::path(post, path = "/api/v1/consult-consents", tag = "eligibility",
    request_body = ConsultConsentRequest,
    responses(
        (status = 201, body = ConsultConsentGiven),
        (status = 409, description = "screen_required, consent_outdated", body = ErrorBody),
        (status = 422, description = "consent_missing, or why the consult cannot be (eligibility_…)", body = ErrorBody),
    ))]
pub(crate) async fn give_consult_consent(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    session: Session,
    ClientIp(ip): ClientIp,
    Json(body): Json<ConsultConsentRequest>,
) -> ApiResult {
    let department = Department::parse(body.department.trim())
        .ok_or(FieldError::new(ErrorCode::InvalidForm, Field::Body))?;
    let number = super::screen::give(
        &state,
        patient.id,
        &session,
        body.icd10.trim(),
        department,
        body.accept,
        &body.version,
        &ip.to_string(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(ConsultConsentGiven {
            consent_number: number,
        }),
    )
        .into_response())
}

/// The confirmation for the API and the form alike; remembered for the booking.
pub(crate) fn routes() -> ApiRoutes {
    ApiRoutes {
        consented: OpenApiRouter::new()
            .routes(routes!(emergency_screen))
            .routes(routes!(consult_notice))
            .routes(routes!(give_consult_consent)),
        ..ApiRoutes::default()
    }
}
