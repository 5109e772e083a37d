//! May the person the patient acts for start a follow-up consult? (R-ELIG-1, R-ELIG-3,
//! R-ELIG-5.) A "no" is a successful answer: it says why, in the patient's language.
use crate::accounts::auth::ConsentedPatient;
use crate::eligibility::service as eligibility;
use crate::family::acting_for;
use crate::state::AppState;
use crate::web::api::ApiResult;
use crate::web::api::ApiRoutes;
use crate::web::client::Lang;
use crate::web::extract::Json;
use crate::web::extract::Query;
use crate::web::openapi::ErrorBody;
use app::domain::department::Department;
use app::domain::{ErrorCode, Field, FieldError};
use app::localized::refusal_message;
use axum::extract::State;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions::Session;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct EligibilityQuestion {
    /// The diagnosis to follow up (ICD-10).
    icd10: String,
    /// The department asked for.
    department: String,
    /// The person says they are in a critical condition.
    critical: bool,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct EligibilityAnswer {
    eligible: bool,
    /// Eligible: the approved proof the consult is booked against.
    #[serde(skip_serializing_if = "Option::is_none")]
    proof_number: Option<String>,
    /// Under 18: only the guardian acts (R-REG-7).
    guardian_acts: bool,
    /// Under 6: a guardian and a relevant specialist must be present (R-RX-3).
    guardian_and_specialist_present: bool,
    /// Not eligible: the reason's code (`eligibility_first_visit`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    /// Not eligible: what to tell the patient.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

/// Check a consult for the person the patient is acting for.
#[utoipa::path(post, path = "/api/v1/eligibility", tag = "eligibility",
    request_body = EligibilityQuestion,
    responses(
        (status = 200, body = EligibilityAnswer),
        (status = 422, description = "An unknown department", body = ErrorBody),
    ))]
pub(crate) async fn check_eligibility(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    session: Session,
    Lang(locale): Lang,
    Json(q): Json<EligibilityQuestion>,
) -> ApiResult {
    let department = Department::parse(q.department.trim())
        .ok_or(FieldError::new(ErrorCode::InvalidForm, Field::Body))?;
    let member = acting_for::member_id(&state, patient.id, &session).await?;
    let answer = match eligibility::check(
        &state,
        patient.id,
        member,
        &q.icd10,
        department,
        q.critical,
        OffsetDateTime::now_utc(),
    )
    .await?
    {
        Ok((e, number)) => EligibilityAnswer {
            eligible: true,
            proof_number: Some(number),
            guardian_acts: e.guardian_acts,
            guardian_and_specialist_present: e.guardian_and_specialist_present,
            reason: None,
            message: None,
        },
        Err(refusal) => EligibilityAnswer {
            eligible: false,
            proof_number: None,
            guardian_acts: false,
            guardian_and_specialist_present: false,
            reason: Some(refusal.code().as_str()),
            message: Some(refusal_message(locale, refusal)),
        },
    };
    Ok(Json(answer).into_response())
}

pub(crate) fn routes() -> ApiRoutes {
    ApiRoutes {
        public: OpenApiRouter::new().routes(routes!(search_conditions)),
        consented: OpenApiRouter::new().routes(routes!(check_eligibility)),
        ..ApiRoutes::default()
    }
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
struct ConditionQuery {
    /// Chinese, pinyin initials, English or an ICD-10 code: `高血压`, `gxy`, `I10`.
    q: String,
}

#[derive(Serialize, ToSchema)]
struct ConditionMatches {
    /// Best first; at most 20.
    conditions: Vec<crate::eligibility::conditions::Condition>,
}

/// Search the list of common and chronic conditions (ICD-10) a diagnosis is picked from.
#[utoipa::path(get, path = "/api/v1/conditions", tag = "eligibility",
    params(ConditionQuery),
    responses((status = 200, body = ConditionMatches)))]
async fn search_conditions(
    State(state): State<AppState>,
    Query(query): Query<ConditionQuery>,
) -> ApiResult {
    let conditions = state
        .conditions
        .search(&query.q)
        .into_iter()
        .cloned()
        .collect();
    Ok(Json(ConditionMatches { conditions }).into_response())
}
