//! Orders and refunds (R-PAY-1, R-PAY-2): the patient's own, and every order for the
//! operators, who refund in full or in part with a written reason.
use crate::accounts::auth::ConsentedPatient;
use crate::orders;
use crate::staff::auth::StaffMember;
use crate::state::AppState;
use crate::web::api::ApiResult;
use crate::web::api::ApiRoutes;
use crate::web::client::ClientIp;
use crate::web::extract::{Json, Query};
use crate::web::openapi::ErrorBody;
use app::domain::order::{Fen, OrderStatus};
use app::domain::staff::Permission;
use app::domain::{ErrorCode, Field, FieldError};
use app::orders::OrderView;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The account's orders, newest first, with their refunds.
#[utoipa::path(get, path = "/api/v1/orders", tag = "payments",
    responses((status = 200, body = Vec<OrderView>)))]
pub(crate) async fn my_orders(
    State(state): State<AppState>,
    patient: ConsentedPatient,
) -> ApiResult {
    let list = orders::list_for_patient(&state, patient.id).await?;
    Ok(Json(list).into_response())
}

/// One of the account's orders: its receipt and refund status.
#[utoipa::path(get, path = "/api/v1/orders/{number}", tag = "payments",
    params(("number" = String, Path)),
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody)))]
pub(crate) async fn my_order(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    Path(number): Path<String>,
) -> ApiResult {
    let view = orders::view_for_patient(&state, patient.id, &number)
        .await?
        .ok_or(FieldError::general(ErrorCode::NotFound))?;
    Ok(Json(view).into_response())
}

#[derive(Deserialize, Default, IntoParams)]
#[serde(default)]
pub(crate) struct OrderFilter {
    /// Only orders in this status (`pending`, `paid`, `refunding`, …).
    status: Option<String>,
    /// 1-based.
    page: Option<i64>,
}

/// Every order, newest first, 50 a page (operators and admins).
#[utoipa::path(get, path = "/api/v1/staff/orders", tag = "payments",
    params(OrderFilter),
    responses(
        (status = 200, body = Vec<OrderView>),
        (status = 400, description = "invalid_query", body = ErrorBody),
        (status = 403, body = ErrorBody),
    ))]
pub(crate) async fn staff_orders(
    State(state): State<AppState>,
    member: StaffMember,
    Query(filter): Query<OrderFilter>,
) -> ApiResult {
    member.require(Permission::ManagePayments)?;
    let status = match filter.status.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(
            OrderStatus::parse(s).ok_or(FieldError::new(ErrorCode::InvalidQuery, Field::Query))?,
        ),
    };
    let page = app::domain::doctor::page_number(filter.page)?;
    let list = orders::list_for_staff(&state, status, page, 50).await?;
    Ok(Json(list).into_response())
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct RefundInput {
    /// Fen to refund; all that is left when left out.
    amount_fen: Option<i64>,
    /// Why (kept on the refund record; required).
    reason: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct RefundMade {
    refund_number: String,
}

/// Refund an order in full or in part, to the original channel, with the reason
/// (R-PAY-2; operators and admins). Never more than what is left.
#[utoipa::path(post, path = "/api/v1/staff/orders/{number}/refunds", tag = "payments",
    params(("number" = String, Path)),
    request_body = RefundInput,
    responses(
        (status = 201, body = RefundMade),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "nothing_to_refund", body = ErrorBody),
        (status = 422, description = "refund_amount_invalid, refund_reason_missing", body = ErrorBody),
    ))]
pub(crate) async fn refund_order(
    State(state): State<AppState>,
    member: StaffMember,
    ClientIp(ip): ClientIp,
    Path(number): Path<String>,
    Json(input): Json<RefundInput>,
) -> ApiResult {
    member.require(Permission::ManagePayments)?;
    let amount = match input.amount_fen {
        None => None,
        Some(fen) => Some(Fen::new(fen).ok_or(FieldError::new(
            ErrorCode::RefundAmountInvalid,
            Field::AmountFen,
        ))?),
    };
    let refund_number = orders::operator_refund(
        &state,
        member.id,
        &number,
        amount,
        &input.reason,
        &ip.to_string(),
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(RefundMade { refund_number })).into_response())
}

fn day_of(text: &str) -> Result<time::Date, FieldError> {
    crate::orders::reconciliation::parse_day(text)
        .ok_or(FieldError::new(ErrorCode::InvalidQuery, Field::Query))
}

/// A day's reconciliation report (R-PAY-3), if it has run: matched count and every
/// difference, resolved or not.
#[utoipa::path(get, path = "/api/v1/staff/reconciliation/{day}", tag = "payments",
    params(("day" = String, Path, description = "China date, YYYY-MM-DD")),
    responses(
        (status = 200, body = crate::orders::reconciliation::Report),
        (status = 403, body = ErrorBody),
        (status = 404, description = "not run yet", body = ErrorBody),
    ))]
pub(crate) async fn reconciliation_report(
    State(state): State<AppState>,
    member: StaffMember,
    Path(day): Path<String>,
) -> ApiResult {
    member.require(Permission::ManagePayments)?;
    let report = crate::orders::reconciliation::report(&state, day_of(&day)?)
        .await?
        .ok_or(FieldError::general(ErrorCode::NotFound))?;
    Ok(Json(report).into_response())
}

/// Reconcile a day now (again): the provider's transactions against our books.
#[utoipa::path(post, path = "/api/v1/staff/reconciliation/{day}", tag = "payments",
    params(("day" = String, Path, description = "China date, YYYY-MM-DD")),
    responses(
        (status = 200, body = crate::orders::reconciliation::Report),
        (status = 403, body = ErrorBody),
    ))]
pub(crate) async fn run_reconciliation(
    State(state): State<AppState>,
    member: StaffMember,
    Path(day): Path<String>,
) -> ApiResult {
    member.require(Permission::ManagePayments)?;
    let report =
        crate::orders::reconciliation::run_day(&state, day_of(&day)?, OffsetDateTime::now_utc())
            .await?;
    Ok(Json(report).into_response())
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct ResolutionInput {
    /// How the difference was resolved.
    note: String,
}

/// Resolve one difference with a note (once).
#[utoipa::path(post, path = "/api/v1/staff/reconciliation/lines/{id}/resolution", tag = "payments",
    params(("id" = i64, Path)),
    request_body = ResolutionInput,
    responses(
        (status = 204),
        (status = 403, body = ErrorBody),
        (status = 404, description = "no such unresolved difference", body = ErrorBody),
        (status = 422, description = "resolution_missing", body = ErrorBody),
    ))]
pub(crate) async fn resolve_line(
    State(state): State<AppState>,
    member: StaffMember,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    Json(input): Json<ResolutionInput>,
) -> ApiResult {
    member.require(Permission::ManagePayments)?;
    crate::orders::reconciliation::resolve(
        &state,
        member.id,
        id,
        &input.note,
        &ip.to_string(),
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) fn routes() -> ApiRoutes {
    ApiRoutes {
        consented: OpenApiRouter::new()
            .routes(routes!(my_orders))
            .routes(routes!(my_order)),
        staff: OpenApiRouter::new()
            .routes(routes!(staff_orders))
            .routes(routes!(refund_order))
            .routes(routes!(reconciliation_report, run_reconciliation))
            .routes(routes!(resolve_line)),
        providers: super::webhooks::documented().layer(axum::extract::DefaultBodyLimit::max(
            super::webhooks::WEBHOOK_BODY_LIMIT,
        )),
        ..ApiRoutes::default()
    }
}
