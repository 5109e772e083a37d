//! Family members (就诊人) and which one the patient is acting for (R-REG-7).
use crate::accounts::auth::ConsentedPatient;
use crate::caller::Ctx;
use crate::family::acting_for;
use crate::family::service as family;
use crate::family::service::AddInput;
use crate::state::AppState;
use crate::web::api::ApiResult;
use crate::web::api::ApiRoutes;
use crate::web::extract::Json;
use crate::web::openapi::ErrorBody;
use crate::web::reply::{Input, Reply};
use app::family::FamilyMemberView;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Router, routing::post};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions::Session;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Serialize, ToSchema)]
pub(crate) struct FamilyMembers {
    members: Vec<FamilyMemberView>,
    /// The member the patient is acting for this session; none: themselves.
    acting_for: Option<String>,
}

/// The patient's family members, and whom they are acting for.
#[utoipa::path(get, path = "/api/v1/family-members", tag = "family",
    responses(
        (status = 200, body = FamilyMembers),
        (status = 401, body = ErrorBody),
        (status = 403, description = "consent_required", body = ErrorBody),
    ))]
pub(crate) async fn list_family(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    session: Session,
) -> ApiResult {
    let members = family::list(&state.db, patient.id, OffsetDateTime::now_utc()).await?;
    let acting_for = acting_for::current(&session, &members).await?;
    Ok(Json(FamilyMembers {
        members,
        acting_for,
    })
    .into_response())
}

/// Add a child under 18, or an adult without full capacity, whose legal guardian the
/// patient declares to be (R-REG-7). The ID number is checked as at registration, and
/// cannot be one already on file.
#[utoipa::path(post, path = "/api/v1/family-members", tag = "family",
    request_body = AddInput,
    responses(
        (status = 201, body = FamilyMemberView),
        (status = 409, description = "family_member_on_file or family_limit_reached", body = ErrorBody),
        (status = 422, description = "Invalid name, ID number or relationship; declaration missing; an adult with full capacity", body = ErrorBody),
        (status = 429, description = "Too many attempts today", body = ErrorBody),
    ))]
pub(crate) async fn add_family_member(
    State(state): State<AppState>,
    cx: Ctx<ConsentedPatient>,
    reply: Reply,
    Input(body): Input<AddInput>,
) -> Response {
    let result = family::add(&state, cx.caller.id, body, &cx).await;
    reply
        .back_to("/family/new")
        .answer(result, StatusCode::CREATED, |_| {
            "/family?notice=family_added".into()
        })
}

/// Remove a family member from the account (their records stay).
#[utoipa::path(delete, path = "/api/v1/family-members/{member_number}", tag = "family",
    params(("member_number" = String, Path, description = "The member's public id")),
    responses(
        (status = 204),
        (status = 404, description = "Not this patient's family member", body = ErrorBody),
    ))]
pub(crate) async fn remove_family_member(
    State(state): State<AppState>,
    cx: Ctx<ConsentedPatient>,
    session: Session,
    reply: Reply,
    Path(member_number): Path<String>,
) -> Response {
    let result = async {
        family::remove(&state, cx.caller.id, &member_number, &cx).await?;
        acting_for::forget(&session, &member_number).await
    }
    .await;
    reply
        .back_to("/family")
        .done(result, || "/family?notice=family_removed".into())
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct ActingFor {
    /// A family member's number; none (or empty) to act for oneself.
    member_number: Option<String>,
}

/// Choose whom the following uploads, checks and bookings are for; remembered for the
/// session.
#[utoipa::path(put, path = "/api/v1/acting-for", tag = "family",
    request_body = ActingFor,
    responses(
        (status = 204),
        (status = 404, description = "Not this patient's family member", body = ErrorBody),
    ))]
pub(crate) async fn choose_acting_for(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    session: Session,
    reply: Reply,
    Input(body): Input<ActingFor>,
) -> Response {
    let result = acting_for::choose(&state, patient.id, &session, body.member_number).await;
    reply
        .back_to("/family")
        .done(result, || "/family?notice=acting_for".into())
}

/// The same operations for the pages' forms.
pub(crate) fn form_routes() -> Router<AppState> {
    Router::new()
        .route("/forms/family", post(add_family_member))
        .route(
            "/forms/family/{member_number}/remove",
            post(remove_family_member),
        )
        .route("/forms/acting-for", post(choose_acting_for))
}

pub(crate) fn routes() -> ApiRoutes {
    ApiRoutes {
        consented: OpenApiRouter::new()
            .routes(routes!(list_family, add_family_member))
            .routes(routes!(remove_family_member))
            .routes(routes!(choose_acting_for)),
        ..ApiRoutes::default()
    }
}
