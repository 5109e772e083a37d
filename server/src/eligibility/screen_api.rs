//! Before a consult: the emergency screen (R-ELIG-4), then the consult's risk notice
//! and informed consent (R-REG-6).
use crate::accounts::auth::ConsentedPatient;
use crate::caller::Ctx;
use crate::state::AppState;
use crate::web::api::ApiResult;
use crate::web::api::ApiRoutes;
use crate::web::client::Lang;
use crate::web::extract::Json;
use crate::web::forms::with_query;
use crate::web::openapi::ErrorBody;
use crate::web::reply::{Input, Reply};
use app::domain::consult_consent::parse_choice;
use app::domain::department::Department;
use app::domain::emergency::{RedFlag, Screen};
use app::domain::{ErrorCode, Field, FieldError};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Router, routing::post};
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
    #[serde(deserialize_with = "yes_no")]
    critical: Option<bool>,
    /// The diagnosis the page goes on with (`ICD10:department`); the API leaves it out.
    choice: Option<String>,
    /// A page's form sends each red flag as a field of its own (`chest_pain=yes`).
    #[serde(flatten)]
    #[schema(ignore)]
    fields: HashMap<String, String>,
}

impl ScreenAnswers {
    /// Every answer given, from the map or from the form's fields.
    fn answers(&self) -> HashMap<String, bool> {
        let mut answers = self.answers.clone();
        for flag in app::domain::emergency::ALL_RED_FLAGS {
            let name = flag.as_str();
            match self.fields.get(name).map(String::as_str) {
                Some("yes") => answers.insert(name.to_owned(), true),
                Some("no") => answers.insert(name.to_owned(), false),
                _ => None,
            };
        }
        answers
    }
}

/// Yes or no: `true`/`false` in JSON, `yes`/`no` from a form; anything else unanswered.
fn yes_no<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Answer {
        Bool(bool),
        Text(String),
    }
    Ok(match Option::<Answer>::deserialize(d)? {
        Some(Answer::Bool(b)) => Some(b),
        Some(Answer::Text(t)) if t == "yes" => Some(true),
        Some(Answer::Text(t)) if t == "no" => Some(false),
        _ => None,
    })
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
    cx: Ctx<ConsentedPatient>,
    session: Session,
    reply: Reply,
    Input(body): Input<ScreenAnswers>,
) -> Response {
    let result = super::screen::answer_screen(
        &state,
        cx.caller.id,
        &session,
        &body.answers(),
        body.critical,
        &cx,
    )
    .await
    .map(|screen| match screen {
        Screen::Clear => ScreenResult {
            outcome: "clear",
            flags: vec![],
        },
        Screen::Emergency(flags) => ScreenResult {
            outcome: "emergency",
            flags,
        },
    });
    // Rebuilt from its parts: nothing the client sent goes into a URL unchecked.
    let choice = body
        .choice
        .as_deref()
        .and_then(parse_choice)
        .map(|(icd10, department)| format!("choice={icd10}:{}", department.as_str()));
    reply
        .back_to(with_query("/consult/screen", choice.as_deref()))
        .answer(result, StatusCode::OK, |screen| {
            if screen.flags.is_empty() {
                // R-ELIG-4: a clear screen leads to the consult's notice for the diagnosis.
                match &choice {
                    Some(c) => format!("/consult/consent?{c}"),
                    None => "/consult/start?notice=screen_clear".to_owned(),
                }
            } else {
                let codes: Vec<&str> = screen.flags.iter().map(|f| f.as_str()).collect();
                format!("/emergency?flags={}", codes.join(","))
            }
        })
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
    #[serde(deserialize_with = "crate::web::reply::checkbox")]
    accept: bool,
    /// Pages send the diagnosis as one field, `ICD10:department`.
    #[schema(ignore)]
    choice: Option<String>,
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
    cx: Ctx<ConsentedPatient>,
    session: Session,
    reply: Reply,
    Input(body): Input<ConsultConsentRequest>,
) -> Response {
    let chosen = match body.choice.as_deref() {
        Some(choice) => parse_choice(choice),
        None => Department::parse(body.department.trim())
            .map(|department| (body.icd10.trim().to_owned(), department)),
    };
    let Some((icd10, department)) = chosen else {
        return reply.back_to("/consult/start").answer::<()>(
            Err(FieldError::new(ErrorCode::InvalidForm, Field::Body).into()),
            StatusCode::OK,
            |_| String::new(),
        );
    };
    let icd10 = icd10.as_str();
    let result = super::screen::give(
        &state,
        cx.caller.id,
        &session,
        icd10,
        department,
        body.accept,
        &body.version,
        &cx,
    )
    .await
    .map(|number| ConsultConsentGiven {
        consent_number: number,
    });
    // The diagnosis goes back into the page's address only as parsed.
    let choice = parse_choice(&format!("{icd10}:{}", department.as_str()))
        .map(|(icd10, department)| format!("{icd10}:{}", department.as_str()))
        .unwrap_or_default();
    reply
        .back_to(format!("/consult/consent?choice={choice}"))
        .answer(result, StatusCode::CREATED, |_| {
            format!(
                "/doctors?mine=1&department={}&notice=consult_ready",
                department.as_str()
            )
        })
}
/// The confirmation for the API and the form alike; remembered for the booking.
/// The same operations for the pages' forms.
pub(crate) fn form_routes() -> Router<AppState> {
    Router::new()
        .route("/forms/consult/screen", post(emergency_screen))
        .route("/forms/consult/consent", post(give_consult_consent))
}

pub(crate) fn routes() -> ApiRoutes {
    ApiRoutes {
        consented: OpenApiRouter::new()
            .routes(routes!(emergency_screen))
            .routes(routes!(consult_notice))
            .routes(routes!(give_consult_consent)),
        ..ApiRoutes::default()
    }
}
