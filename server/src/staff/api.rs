//! Staff login with a second factor, enrolment, and staff accounts (R-SEC-1, R-SEC-3).
use super::pages::FLASH_RECOVERY_CODES;
use crate::accounts::auth::internal;
use crate::caller::{Anonymous, Ctx};
use crate::staff::auth as staff_auth;
use crate::staff::auth::PendingStaff;
use crate::staff::auth::StaffMember;
use crate::staff::onboarding;
use crate::staff::service as staff;
use crate::staff::service::Enrolment;
use crate::staff::service::NewStaff;
use crate::staff::service::StaffView;
use crate::state::AppState;
use crate::web::api::ApiResult;
use crate::web::api::ApiRoutes;
use crate::web::extract::Json;
use crate::web::openapi::ErrorBody;
use crate::web::reply::{Input, Reply};
use app::domain::staff::Permission;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Router, routing::post};
use serde::{Deserialize, Serialize};
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
    cx: Ctx<Anonymous>,
    session: Session,
    reply: Reply,
    Input(body): Input<StaffLogin>,
) -> Response {
    let result = async {
        let (id, enrolled) =
            staff::check_password(&state, &body.username, &body.password, &cx).await?;
        staff_auth::begin(&session, id).await?;
        let second_factor = if enrolled { "verify" } else { "enrol" };
        Ok(SecondFactorOwed { second_factor })
    }
    .await;
    reply
        .back_to("/staff/login")
        .answer(result, StatusCode::OK, |owed| match owed.second_factor {
            "verify" => "/staff/second-factor".into(),
            _ => "/staff/enrol".into(),
        })
}
/// Log a staff session out.
#[utoipa::path(delete, path = "/api/v1/staff/sessions", tag = "staff",
    responses((status = 204)))]
pub(crate) async fn staff_logout(session: Session, reply: Reply) -> Response {
    let result = session.flush().await.map_err(internal);
    reply
        .back_to("/staff")
        .done(result, || "/staff/login?notice=logged_out".into())
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
    cx: Ctx<Anonymous>,
    pending: PendingStaff,
    session: Session,
    reply: Reply,
    Input(body): Input<FactorCode>,
) -> Response {
    let result = async {
        staff::verify_second_factor(&state, pending.id, &body.code, &cx).await?;
        staff_auth::complete(&session, pending.id).await
    }
    .await;
    reply
        .back_to("/staff/second-factor")
        .done(result, || "/staff".into())
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
    cx: Ctx<Anonymous>,
    pending: PendingStaff,
    session: Session,
    reply: Reply,
    Input(body): Input<FactorCode>,
) -> Response {
    let page = reply.is_page();
    let result = async {
        let recovery_codes = staff::confirm_enrolment(&state, pending.id, &body.code, &cx).await?;
        staff_auth::complete(&session, pending.id).await?;
        if page {
            // The page shows them once, after the redirect.
            session
                .insert(FLASH_RECOVERY_CODES, &recovery_codes)
                .await
                .map_err(internal)?;
        }
        Ok(RecoveryCodes { recovery_codes })
    }
    .await;
    reply
        .back_to("/staff/enrol")
        .answer(result, StatusCode::OK, |_| "/staff?notice=enrolled".into())
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
    Ok(Json(staff::list(&state).await?).into_response())
}

/// Ask for a staff account (admin only). It waits for a second admin's approval; then
/// its owner gets a one-time activation code by SMS on the phone given here and sets
/// their own password. The answer holds no password and no code.
#[utoipa::path(post, path = "/api/v1/staff/accounts", tag = "staff",
    request_body = NewStaff,
    responses(
        (status = 201, body = StaffView),
        (status = 403, body = ErrorBody),
        (status = 409, description = "staff_username_taken", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub(crate) async fn create_staff(
    State(state): State<AppState>,
    cx: Ctx<StaffMember>,
    reply: Reply,
    Input(body): Input<NewStaff>,
) -> Response {
    let result = async {
        cx.caller.require(Permission::ManageStaff)?;
        onboarding::request_account(&state, cx.caller.id, body, &cx).await
    }
    .await;
    reply
        .back_to("/staff/accounts")
        .answer(result, StatusCode::CREATED, |_| {
            "/staff/accounts?notice=staff_created".into()
        })
}

/// Approve an account another admin asked for, new or re-enabled (admin only; four
/// eyes: never the admin who asked). A new account's owner is then sent the code.
#[utoipa::path(post, path = "/api/v1/staff/accounts/{id}/approval", tag = "staff",
    params(("id" = i64, Path, description = "The staff account")),
    responses(
        (status = 204),
        (status = 403, description = "forbidden, or second_admin_required", body = ErrorBody),
        (status = 404, description = "No such account waiting", body = ErrorBody),
    ))]
pub(crate) async fn approve_staff(
    State(state): State<AppState>,
    cx: Ctx<StaffMember>,
    reply: Reply,
    Path(id): Path<i64>,
) -> Response {
    let result = async {
        cx.caller.require(Permission::ManageStaff)?;
        onboarding::approve(&state, cx.caller.id, id, &cx).await
    }
    .await;
    reply
        .back_to("/staff/accounts")
        .done(result, || "/staff/accounts?notice=staff_approved".into())
}

/// Send a new activation code to an approved account's owner (admin only). It goes to
/// the phone on file; the answer holds nothing of it.
#[utoipa::path(post, path = "/api/v1/staff/accounts/{id}/activation-code", tag = "staff",
    params(("id" = i64, Path, description = "The staff account")),
    responses(
        (status = 204),
        (status = 403, body = ErrorBody),
        (status = 404, description = "No such account waiting for activation", body = ErrorBody),
    ))]
pub(crate) async fn resend_activation(
    State(state): State<AppState>,
    cx: Ctx<StaffMember>,
    reply: Reply,
    Path(id): Path<i64>,
) -> Response {
    let result = async {
        cx.caller.require(Permission::ManageStaff)?;
        onboarding::resend_activation(&state, cx.caller.id, id, &cx).await
    }
    .await;
    reply
        .back_to("/staff/accounts")
        .done(result, || "/staff/accounts?notice=activation_sent".into())
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct Activation {
    username: String,
    /// The one-time code from the SMS (`xxxxx-xxxxx`).
    code: String,
    /// The password the owner chooses.
    password: String,
}

/// A new staff member sets their own password with the one-time code from the SMS;
/// the login then continues at enrolment (`second_factor: enrol`). Unknown username and
/// a wrong, used or expired code answer alike (`activation_failed`).
#[utoipa::path(post, path = "/api/v1/staff/activation", tag = "staff",
    request_body = Activation,
    responses(
        (status = 200, body = SecondFactorOwed),
        (status = 401, description = "activation_failed", body = ErrorBody),
        (status = 422, description = "The password is too short or common", body = ErrorBody),
    ))]
pub(crate) async fn activate(
    State(state): State<AppState>,
    cx: Ctx<Anonymous>,
    session: Session,
    reply: Reply,
    Input(body): Input<Activation>,
) -> Response {
    let result = async {
        let id =
            onboarding::activate(&state, &body.username, &body.code, &body.password, &cx).await?;
        staff_auth::begin(&session, id).await?;
        Ok(SecondFactorOwed {
            second_factor: "enrol",
        })
    }
    .await;
    reply
        .back_to("/staff/activate")
        .answer(result, StatusCode::OK, |_| "/staff/enrol".into())
}

#[derive(Serialize, ToSchema)]
pub(crate) struct AccountChange {
    /// `disabled`, or `enable_requested`: another admin must approve it.
    change: onboarding::Change,
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct Disabled {
    #[serde(deserialize_with = "crate::web::reply::checkbox")]
    disabled: bool,
}

/// Disable a staff account (its sessions end at once), or ask for it to be re-enabled
/// (admin only): re-enabling waits for a second admin's approval.
#[utoipa::path(put, path = "/api/v1/staff/accounts/{id}/disabled", tag = "staff",
    params(("id" = i64, Path, description = "The staff account")),
    request_body = Disabled,
    responses(
        (status = 200, body = AccountChange),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub(crate) async fn set_disabled(
    State(state): State<AppState>,
    cx: Ctx<StaffMember>,
    reply: Reply,
    Path(id): Path<i64>,
    Input(body): Input<Disabled>,
) -> Response {
    let result = async {
        cx.caller.require(Permission::ManageStaff)?;
        onboarding::set_disabled(&state, cx.caller.id, id, body.disabled, &cx).await
    }
    .await;
    reply.back_to("/staff/accounts").answer(
        result.map(|change| AccountChange { change }),
        StatusCode::OK,
        |c| {
            let notice = match c.change {
                onboarding::Change::Disabled => "staff_disabled",
                onboarding::Change::EnableRequested => "staff_enable_requested",
            };
            format!("/staff/accounts?notice={notice}")
        },
    )
}
/// The same operations for the staff pages' forms.
pub(crate) fn form_routes(state: &AppState) -> Router<AppState> {
    // What judges a secret: limited per address, as the patients' logins are.
    let guessing = Router::new()
        .route("/forms/staff/login", post(staff_login))
        .route("/forms/staff/second-factor", post(second_factor))
        .route("/forms/staff/enrol", post(confirm_enrolment))
        .route("/forms/staff/activate", post(activate))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::web::throttle::limit,
        ));
    Router::new()
        .merge(guessing)
        .route("/forms/staff/logout", post(staff_logout))
        .route("/forms/staff/accounts", post(create_staff))
        .route("/forms/staff/accounts/{id}/disabled", post(set_disabled))
        .route("/forms/staff/accounts/{id}/approval", post(approve_staff))
        .route(
            "/forms/staff/accounts/{id}/activation-code",
            post(resend_activation),
        )
}

pub(crate) fn routes() -> ApiRoutes {
    ApiRoutes {
        guessing: OpenApiRouter::new()
            .routes(routes!(staff_login, staff_logout))
            .routes(routes!(second_factor))
            .routes(routes!(enrolment, confirm_enrolment))
            .routes(routes!(activate)),
        staff: OpenApiRouter::new()
            .routes(routes!(staff_me))
            .routes(routes!(list_staff, create_staff))
            .routes(routes!(set_disabled))
            .routes(routes!(approve_staff))
            .routes(routes!(resend_activation)),
        ..ApiRoutes::default()
    }
}
