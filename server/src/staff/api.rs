//! Staff login with a second factor, enrolment, and staff accounts (R-SEC-1, R-SEC-3).
use crate::accounts::auth::internal;
use crate::staff::auth as staff_auth;
use crate::staff::auth::PendingStaff;
use crate::staff::auth::StaffMember;
use crate::staff::service as staff;
use crate::staff::service::Created;
use crate::staff::service::Enrolment;
use crate::staff::service::NewStaff;
use crate::staff::service::StaffView;
use crate::state::AppState;
use crate::web::api::ApiResult;
use crate::web::api::ApiRoutes;
use crate::web::client::ClientIp;
use crate::web::extract::Json;
use crate::web::openapi::ErrorBody;
use app::domain::staff::Permission;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions::Session;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct StaffLogin {
    username: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct SecondFactorOwed {
    /// `verify`: send a code to /api/v1/staff/second-factor; `enrol`: set one up first
    /// at /api/v1/staff/enrolment.
    second_factor: &'static str,
}

/// Staff login, step one: username and password. Unknown user, wrong password and a
/// disabled or locked account answer alike (`login_failed`).
#[utoipa::path(post, path = "/api/v1/staff/sessions", tag = "staff",
    request_body = StaffLogin,
    responses(
        (status = 200, body = SecondFactorOwed),
        (status = 401, description = "login_failed", body = ErrorBody),
    ))]
pub(crate) async fn staff_login(
    State(state): State<AppState>,
    session: Session,
    ClientIp(ip): ClientIp,
    Json(body): Json<StaffLogin>,
) -> ApiResult {
    let (id, enrolled) = staff::check_password(
        &state,
        &body.username,
        &body.password,
        &ip.to_string(),
        OffsetDateTime::now_utc(),
    )
    .await?;
    staff_auth::begin(&session, id).await?;
    let second_factor = if enrolled { "verify" } else { "enrol" };
    Ok(Json(SecondFactorOwed { second_factor }).into_response())
}

/// Log a staff session out.
#[utoipa::path(delete, path = "/api/v1/staff/sessions", tag = "staff",
    responses((status = 204)))]
pub(crate) async fn staff_logout(session: Session) -> ApiResult {
    session.flush().await.map_err(internal)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct FactorCode {
    /// A 6-digit authenticator code, or a recovery code (`xxxx-xxxx`).
    code: String,
}

/// Staff login, step two: an authenticator code (each accepted once) or a one-time
/// recovery code.
#[utoipa::path(post, path = "/api/v1/staff/second-factor", tag = "staff",
    request_body = FactorCode,
    responses(
        (status = 204),
        (status = 401, description = "second_factor_wrong, or no password step", body = ErrorBody),
        (status = 429, description = "Too many wrong codes", body = ErrorBody),
    ))]
pub(crate) async fn second_factor(
    State(state): State<AppState>,
    pending: PendingStaff,
    session: Session,
    ClientIp(ip): ClientIp,
    Json(body): Json<FactorCode>,
) -> ApiResult {
    staff::verify_second_factor(
        &state,
        pending.id,
        &body.code,
        &ip.to_string(),
        OffsetDateTime::now_utc(),
    )
    .await?;
    staff_auth::complete(&session, pending.id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A new authenticator secret to enrol (first login): the QR code and the secret.
#[utoipa::path(get, path = "/api/v1/staff/enrolment", tag = "staff",
    responses(
        (status = 200, body = Enrolment),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Already enrolled", body = ErrorBody),
    ))]
pub(crate) async fn enrolment(State(state): State<AppState>, pending: PendingStaff) -> ApiResult {
    Ok(Json(staff::begin_enrolment(&state, pending.id).await?).into_response())
}

#[derive(Serialize, ToSchema)]
pub(crate) struct RecoveryCodes {
    /// One-time codes for when the phone is lost: shown this once.
    recovery_codes: Vec<String>,
}

/// Confirm enrolment with a code from the new secret; completes the login.
#[utoipa::path(post, path = "/api/v1/staff/enrolment", tag = "staff",
    request_body = FactorCode,
    responses(
        (status = 200, body = RecoveryCodes),
        (status = 401, description = "second_factor_wrong", body = ErrorBody),
    ))]
pub(crate) async fn confirm_enrolment(
    State(state): State<AppState>,
    pending: PendingStaff,
    session: Session,
    ClientIp(ip): ClientIp,
    Json(body): Json<FactorCode>,
) -> ApiResult {
    let recovery_codes = staff::confirm_enrolment(
        &state,
        pending.id,
        &body.code,
        &ip.to_string(),
        OffsetDateTime::now_utc(),
    )
    .await?;
    staff_auth::complete(&session, pending.id).await?;
    Ok(Json(RecoveryCodes { recovery_codes }).into_response())
}

/// The logged-in staff member.
#[utoipa::path(get, path = "/api/v1/staff/me", tag = "staff",
    responses(
        (status = 200, body = StaffView),
        (status = 401, description = "unauthenticated or second_factor_required", body = ErrorBody),
    ))]
pub(crate) async fn staff_me(member: StaffMember) -> ApiResult {
    Ok(Json(member.view).into_response())
}

/// Every staff account (admin only).
#[utoipa::path(get, path = "/api/v1/staff/accounts", tag = "staff",
    responses(
        (status = 200, body = Vec<StaffView>),
        (status = 403, body = ErrorBody),
    ))]
pub(crate) async fn list_staff(State(state): State<AppState>, member: StaffMember) -> ApiResult {
    member.require(Permission::ManageStaff)?;
    Ok(Json(staff::list(&state.db).await?).into_response())
}

/// Create a staff account (admin only); the first password is in the answer, once.
#[utoipa::path(post, path = "/api/v1/staff/accounts", tag = "staff",
    request_body = NewStaff,
    responses(
        (status = 201, body = Created),
        (status = 403, body = ErrorBody),
        (status = 409, description = "staff_username_taken", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub(crate) async fn create_staff(
    State(state): State<AppState>,
    member: StaffMember,
    ClientIp(ip): ClientIp,
    Json(body): Json<NewStaff>,
) -> ApiResult {
    member.require(Permission::ManageStaff)?;
    let created = staff::create(
        &state,
        Some(member.id),
        body,
        &ip.to_string(),
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct Disabled {
    disabled: bool,
}

/// Disable (its sessions end at once) or re-enable a staff account (admin only).
#[utoipa::path(put, path = "/api/v1/staff/accounts/{id}/disabled", tag = "staff",
    params(("id" = i64, Path, description = "The staff account")),
    request_body = Disabled,
    responses(
        (status = 204),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub(crate) async fn set_disabled(
    State(state): State<AppState>,
    member: StaffMember,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    Json(body): Json<Disabled>,
) -> ApiResult {
    member.require(Permission::ManageStaff)?;
    staff::set_disabled(
        &state,
        member.id,
        id,
        body.disabled,
        &ip.to_string(),
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) fn routes() -> ApiRoutes {
    ApiRoutes {
        guessing: OpenApiRouter::new()
            .routes(routes!(staff_login, staff_logout))
            .routes(routes!(second_factor))
            .routes(routes!(enrolment, confirm_enrolment)),
        staff: OpenApiRouter::new()
            .routes(routes!(staff_me))
            .routes(routes!(list_staff, create_staff))
            .routes(routes!(set_disabled)),
        ..ApiRoutes::default()
    }
}
