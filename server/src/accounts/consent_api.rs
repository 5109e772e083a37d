//! The consents (R-REG-2, R-REG-3): the texts in force, agreeing to them again, and
//! withdrawing (PIPL art. 15); for the API and the pages' forms alike.
use crate::accounts::auth;
use crate::accounts::auth::Patient;
use crate::accounts::consents;
use crate::caller::Ctx;
use crate::state::AppState;
use crate::web::api::{ApiResult, ApiRoutes};
use crate::web::extract::Json;
use crate::web::openapi::ErrorBody;
use crate::web::reply::{Input, Reply};
use app::accounts::{ConsentDocumentView, ConsentRecordView};
use app::domain::consent::ALL_DOCUMENTS;
use app::domain::{ErrorCode, Field, FieldError};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::{Router, routing::post};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(crate) fn routes() -> ApiRoutes {
    ApiRoutes {
        public: OpenApiRouter::new().routes(routes!(list_consents)),
        patient: OpenApiRouter::new()
            .routes(routes!(accept_consents))
            .routes(routes!(withdraw_consents)),
        ..ApiRoutes::default()
    }
}

/// The same operations for the pages' forms.
pub(crate) fn form_routes() -> Router<AppState> {
    Router::new()
        .route("/forms/consents", post(accept_consents))
        .route("/forms/consents/withdraw", post(withdraw_consents))
}

#[derive(Serialize, Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct ConsentGiven {
    /// `service_agreement`, `informed_consent` or `sensitive_info`.
    document: String,
    /// The version in force (from `GET /api/v1/consents`).
    version: String,
}

/// The documents agreed to, from the list or from a form's fields.
pub(crate) fn pairs(
    given: Vec<ConsentGiven>,
    fields: &std::collections::HashMap<String, String>,
) -> Vec<(String, String)> {
    let ticked = ALL_DOCUMENTS.iter().filter_map(|d| {
        let version = fields.get(&format!("consent_{}", d.as_str()))?;
        Some((d.as_str().to_owned(), version.clone()))
    });
    given
        .into_iter()
        .map(|c| (c.document, c.version))
        .chain(ticked)
        .collect()
}

#[derive(Serialize, ToSchema)]
struct Consents {
    /// The documents and versions in force.
    current: Vec<ConsentDocumentView>,
    /// Logged in only: what this patient agreed to and when.
    #[serde(skip_serializing_if = "Option::is_none")]
    accepted: Option<Vec<ConsentRecordView>>,
    /// Logged in only: what is still to be agreed to.
    #[serde(skip_serializing_if = "Option::is_none")]
    outstanding: Option<Vec<ConsentDocumentView>>,
}

/// The consent texts in force; for a logged-in patient also what they accepted.
#[utoipa::path(get, path = "/api/v1/consents", tag = "consent",
    responses((status = 200, body = Consents)))]
async fn list_consents(
    State(state): State<AppState>,
    mut parts: axum::http::request::Parts,
) -> ApiResult {
    let current = state.current_consent_views();
    let Some(patient) = auth::current_patient(&mut parts, &state).await? else {
        let body = Consents {
            current,
            accepted: None,
            outstanding: None,
        };
        return Ok(Json(body).into_response());
    };
    let rows = consents::effective(&state.db, patient.id).await?;
    Ok(Json(Consents {
        current,
        accepted: Some(consents::record_views(&rows)),
        outstanding: Some(consents::outstanding_views(&state, &rows)),
    })
    .into_response())
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
struct AcceptConsents {
    /// Every outstanding document with the version in force.
    consents: Vec<ConsentGiven>,
    /// A page's form ticks each document as a field of its own.
    #[serde(flatten)]
    #[schema(ignore)]
    fields: std::collections::HashMap<String, String>,
}

/// Agree to every outstanding text (after an update, or to resume after withdrawing).
#[utoipa::path(post, path = "/api/v1/consents", tag = "consent",
    request_body = AcceptConsents,
    responses(
        (status = 204, description = "Agreed"),
        (status = 401, body = ErrorBody),
        (status = 409, description = "A version is no longer in force", body = ErrorBody),
        (status = 422, description = "A document is missing", body = ErrorBody),
    ))]
async fn accept_consents(
    State(state): State<AppState>,
    cx: Ctx<Patient>,
    reply: Reply,
    Input(body): Input<AcceptConsents>,
) -> Response {
    let given = pairs(body.consents, &body.fields);
    let result = consents::accept_outstanding(&state, cx.caller.id, &given, &cx).await;
    reply
        .back_to("/consent")
        .done(result, || "/me?notice=consent_recorded".into())
}
#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
struct Withdraw {
    /// Must be `true`: withdrawing stops the service until consent is given again.
    #[serde(deserialize_with = "crate::web::reply::checkbox")]
    confirm: bool,
}

/// Withdraw consent (PIPL art. 15); the service stops until it is given again.
#[utoipa::path(post, path = "/api/v1/consents/withdrawal", tag = "consent",
    request_body = Withdraw,
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 401, body = ErrorBody),
        (status = 422, description = "`confirm` was not true", body = ErrorBody),
    ))]
async fn withdraw_consents(
    State(state): State<AppState>,
    cx: Ctx<Patient>,
    reply: Reply,
    Input(body): Input<Withdraw>,
) -> Response {
    let result = async {
        if !body.confirm {
            return Err(FieldError::new(ErrorCode::ConsentMissing, Field::Consent).into());
        }
        consents::withdraw_all(&state, cx.caller.id, &cx).await
    }
    .await;
    reply
        .back_to("/me")
        .done(result, || "/consent?notice=withdrawn".into())
}
