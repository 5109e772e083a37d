//! The doctor directory (R-DOC-1): public lists, profiles and photos; the patient's
//! own filter (doctors for their approved diagnoses, R-ELIG-3); operators add doctors
//! and publish the price list.
use crate::accounts::auth::ConsentedPatient;
use crate::caller::Ctx;
use crate::doctors::service as doctors;
use crate::doctors::service::Filter;
use crate::doctors::service::NewDoctor;
use crate::error::AppError;
use crate::family::acting_for;
use crate::staff::auth::StaffMember;
use crate::state::AppState;
use crate::web::api::ApiResult;
use crate::web::api::ApiRoutes;
use crate::web::extract::{Json, Query};
use crate::web::openapi::ErrorBody;
use app::doctors::{DoctorList, DoctorProfile};
use app::domain::department::Department;
use app::domain::doctor::page_number;
use app::domain::schedule::{ConsultType, DoctorTitle};
use app::domain::staff::Permission;
use app::domain::{ErrorCode, Field, FieldError};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions::Session;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(crate) struct DirectoryParams {
    /// Name, specialty or condition: Chinese, pinyin initials or ICD-10 code.
    q: String,
    /// A department code (`cardiology`, …).
    department: Option<String>,
    /// 1-based; at most 1000.
    page: Option<i64>,
}

impl DirectoryParams {
    fn filter(&self) -> Result<Filter, AppError> {
        let department = match self.department.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(code) => Some(
                Department::parse(code)
                    .ok_or(FieldError::new(ErrorCode::InvalidQuery, Field::Query))?,
            ),
        };
        Ok(Filter {
            department,
            q: self.q.clone(),
            departments: None,
            page: page_number(self.page)?,
        })
    }
}

/// Listed doctors, 20 a page.
#[utoipa::path(get, path = "/api/v1/doctors", tag = "doctors",
    params(DirectoryParams),
    responses(
        (status = 200, body = DoctorList),
        (status = 400, description = "invalid_query: a bad page or department", body = ErrorBody),
    ))]
pub(crate) async fn list_doctors(
    State(state): State<AppState>,
    Query(params): Query<DirectoryParams>,
) -> ApiResult {
    let list = doctors::list(&state, &params.filter()?, OffsetDateTime::now_utc()).await?;
    Ok(Json(list).into_response())
}

/// Doctors who may follow up an approved diagnosis of the person the patient acts for.
#[utoipa::path(get, path = "/api/v1/me/doctors", tag = "doctors",
    params(DirectoryParams),
    responses((status = 200, body = DoctorList)))]
pub(crate) async fn my_doctors(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    session: Session,
    Query(params): Query<DirectoryParams>,
) -> ApiResult {
    let member = acting_for::member_id(&state, patient.id, &session).await?;
    let mut filter = params.filter()?;
    filter.departments =
        Some(super::service::treating_departments(&state, patient.id, member).await?);
    let list = doctors::list(&state, &filter, OffsetDateTime::now_utc()).await?;
    Ok(Json(list).into_response())
}

/// A doctor's public profile.
#[utoipa::path(get, path = "/api/v1/doctors/{number}", tag = "doctors",
    params(("number" = String, Path)),
    responses((status = 200, body = DoctorProfile), (status = 404, body = ErrorBody)))]
pub(crate) async fn doctor_profile(
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> ApiResult {
    let profile = doctors::profile(&state, &number, OffsetDateTime::now_utc())
        .await?
        .ok_or(FieldError::general(ErrorCode::NotFound))?;
    Ok(Json(profile).into_response())
}

/// A doctor's photo (public, cached for a day).
#[utoipa::path(get, path = "/api/v1/doctors/{number}/photo", tag = "doctors",
    params(("number" = String, Path)),
    responses(
        (status = 200, description = "A JPEG", content_type = "image/jpeg"),
        (status = 404, body = ErrorBody),
    ))]
pub(crate) async fn doctor_photo(
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> ApiResult {
    let bytes = doctors::photo(&state, &number)
        .await?
        .ok_or(FieldError::general(ErrorCode::NotFound))?;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    Ok(res)
}

#[derive(Serialize, ToSchema)]
pub(crate) struct DoctorCreated {
    doctor_number: String,
}

/// Add a doctor to the directory (operators). A doctor with fewer than
/// three years of practice is listed but cannot be scheduled online.
#[utoipa::path(post, path = "/api/v1/staff/doctors", tag = "doctors",
    request_body = NewDoctor,
    responses(
        (status = 201, body = DoctorCreated),
        (status = 403, body = ErrorBody),
        (status = 409, description = "licence_number_taken", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub(crate) async fn create_doctor(
    State(state): State<AppState>,
    cx: Ctx<StaffMember>,
    Json(input): Json<NewDoctor>,
) -> ApiResult {
    cx.caller.require(Permission::ManageDirectory)?;
    let number = doctors::create(&state, input, &cx).await?;
    Ok((
        StatusCode::CREATED,
        Json(DoctorCreated {
            doctor_number: number,
        }),
    )
        .into_response())
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct PriceInput {
    /// `chief`, `associate_chief`, `attending` or `resident`.
    title: String,
    /// `text`, `image_text` or `video`.
    consult_type: String,
    /// Integer fen, 1 to 1,000,000; 0 only with `free`.
    fee_fen: i64,
    /// A free consult, on purpose: then `fee_fen` must be 0.
    free: bool,
}

/// Publish a fee on the price list (operators).
#[utoipa::path(put, path = "/api/v1/staff/consult-prices", tag = "doctors",
    request_body = PriceInput,
    responses(
        (status = 204),
        (status = 403, body = ErrorBody),
        (status = 422, description = "fee_zero_not_free, fee_out_of_range", body = ErrorBody),
    ))]
pub(crate) async fn publish_price(
    State(state): State<AppState>,
    cx: Ctx<StaffMember>,
    Json(input): Json<PriceInput>,
) -> ApiResult {
    cx.caller.require(Permission::ManageDirectory)?;
    let bad = || FieldError::new(ErrorCode::InvalidForm, Field::Body);
    let title = DoctorTitle::parse(input.title.trim()).ok_or_else(bad)?;
    let consult_type = ConsultType::parse(input.consult_type.trim()).ok_or_else(bad)?;
    doctors::publish_price(&state, title, consult_type, input.fee_fen, input.free, &cx).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct AccountInput {
    /// A staff account with the doctor role.
    username: String,
}

/// Link a doctor's directory entry to their staff account (operators): the
/// doctor then runs their own live queue.
#[utoipa::path(put, path = "/api/v1/staff/doctors/{number}/account", tag = "doctors",
    params(("number" = String, Path)),
    request_body = AccountInput,
    responses(
        (status = 204),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "staff_role_invalid: not a doctor's account", body = ErrorBody),
    ))]
pub(crate) async fn link_account(
    State(state): State<AppState>,
    cx: Ctx<StaffMember>,
    Path(number): Path<String>,
    Json(input): Json<AccountInput>,
) -> ApiResult {
    cx.caller.require(Permission::ManageDirectory)?;
    doctors::link_account(&state, &number, &input.username, &cx).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A clinical department, by its code and its name in the request's language.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct DepartmentView {
    department: app::domain::department::Department,
    name: &'static str,
}

/// The hospital's clinical departments, as the directory filters by them (R-ELIG-3).
#[utoipa::path(get, path = "/api/v1/departments", tag = "doctors",
    responses((status = 200, body = Vec<DepartmentView>)))]
pub(crate) async fn departments(
    crate::web::client::Lang(locale): crate::web::client::Lang,
) -> ApiResult {
    let english = locale == app::i18n::Locale::en;
    let list: Vec<DepartmentView> = app::domain::department::ALL_DEPARTMENTS
        .iter()
        .map(|d| DepartmentView {
            department: *d,
            name: d.name(english),
        })
        .collect();
    Ok(Json(list).into_response())
}

pub(crate) fn routes() -> ApiRoutes {
    ApiRoutes {
        public: OpenApiRouter::new()
            .routes(routes!(departments))
            .routes(routes!(list_doctors))
            .routes(routes!(doctor_profile))
            .routes(routes!(doctor_photo)),
        consented: OpenApiRouter::new().routes(routes!(my_doctors)),
        staff: OpenApiRouter::new()
            .routes(routes!(create_doctor))
            .routes(routes!(publish_price))
            .routes(routes!(link_account)),
        ..ApiRoutes::default()
    }
}
