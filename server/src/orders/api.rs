//! Orders and refunds (R-PAY-1, R-PAY-2): the patient's own, and every order for the
//! operators, who refund in full or in part with a written reason.
use crate::accounts::auth::ConsentedPatient;
use crate::caller::Ctx;
use crate::orders;
use crate::staff::auth::StaffMember;
use crate::state::AppState;
use crate::web::api::ApiResult;
use crate::web::api::ApiRoutes;
use crate::web::extract::{Json, Query};
use crate::web::openapi::ErrorBody;
use crate::web::reply::{Input, Reply};
use app::domain::order::{Fen, OrderStatus};
use app::domain::staff::Permission;
use app::domain::{ErrorCode, Field, FieldError};
use app::orders::OrderView;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Router, routing::post};
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

/// Every order, newest first, 50 a page (operators).
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
    /// … or yuan as typed (`12.50`), as a page's form sends it.
    amount_yuan: String,
    /// Why (kept on the refund record; required).
    reason: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct RefundMade {
    refund_number: String,
}

/// Refund an order in full or in part, to the original channel, with the reason
/// (R-PAY-2; operators). Never more than what is left.
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
    cx: Ctx<StaffMember>,
    reply: Reply,
    Path(number): Path<String>,
    Input(input): Input<RefundInput>,
) -> Response {
    let result = async {
        cx.caller.require(Permission::ManagePayments)?;
        let invalid = || FieldError::new(ErrorCode::RefundAmountInvalid, Field::AmountFen);
        let amount = match (input.amount_fen, input.amount_yuan.trim()) {
            (Some(fen), _) => Some(Fen::new(fen).ok_or_else(invalid)?),
            (None, "") => None,
            (None, yuan) => Some(Fen::parse_yuan(yuan).ok_or_else(invalid)?),
        };
        let number = number.trim();
        let refund_number =
            orders::operator_refund(&state, cx.caller.id, number, amount, &input.reason, &cx)
                .await?;
        Ok(RefundMade { refund_number })
    }
    .await;
    // R-PAY-2: in full (amount left empty) or in part, with the reason.
    reply
        .back_to("/staff/orders")
        .answer(result, StatusCode::CREATED, |_| {
            "/staff/orders?notice=refund_requested".into()
        })
}
/// Refunds the provider refused, not yet sent again, oldest first (operators).
#[utoipa::path(get, path = "/api/v1/staff/refunds/failed", tag = "payments",
    responses(
        (status = 200, body = Vec<app::orders::FailedRefund>),
        (status = 403, body = ErrorBody),
    ))]
pub(crate) async fn failed_refunds(
    State(state): State<AppState>,
    member: StaffMember,
) -> ApiResult {
    member.require(Permission::ManagePayments)?;
    Ok(Json(orders::failed_refunds(&state).await?).into_response())
}

/// Send a failed refund again (operators): a new refund, with a key of its own, for
/// the same amount and reason. Once: a second try answers 404.
#[utoipa::path(post, path = "/api/v1/staff/refunds/{number}/retry", tag = "payments",
    params(("number" = String, Path, description = "The failed refund")),
    responses(
        (status = 201, body = RefundMade),
        (status = 403, body = ErrorBody),
        (status = 404, description = "No such failed refund waiting", body = ErrorBody),
        (status = 409, description = "nothing_to_refund", body = ErrorBody),
    ))]
pub(crate) async fn retry_refund(
    State(state): State<AppState>,
    cx: Ctx<StaffMember>,
    reply: Reply,
    Path(number): Path<String>,
) -> Response {
    let result = async {
        cx.caller.require(Permission::ManagePayments)?;
        let refund_number = orders::retry_refund(&state, number.trim(), &cx).await?;
        Ok(RefundMade { refund_number })
    }
    .await;
    reply
        .back_to("/staff/orders")
        .answer(result, StatusCode::CREATED, |_| {
            "/staff/orders?notice=refund_retried".into()
        })
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
    cx: Ctx<StaffMember>,
    reply: Reply,
    Path(day): Path<String>,
) -> Response {
    let page = reconciliation_page(&day);
    let result = async {
        cx.caller.require(Permission::ManagePayments)?;
        let day = day_of(&day)?;
        crate::orders::reconciliation::run_day(&state, day, &cx).await
    }
    .await;
    let onward = crate::web::forms::with_notice(&page, "reconciled");
    reply
        .back_to(page)
        .answer(result, StatusCode::OK, |_| onward)
}
#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct ResolutionInput {
    /// How the difference was resolved.
    note: String,
    /// Pages only: the difference (the API names it in the path) …
    #[schema(ignore)]
    line: Option<i64>,
    /// … and the day the page shows.
    #[schema(ignore)]
    day: String,
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
    cx: Ctx<StaffMember>,
    reply: Reply,
    id: Option<Path<i64>>,
    Input(input): Input<ResolutionInput>,
) -> Response {
    let result = async {
        cx.caller.require(Permission::ManagePayments)?;
        let id = match id {
            Some(Path(id)) => id,
            None => input
                .line
                .ok_or(FieldError::new(ErrorCode::InvalidForm, Field::Body))?,
        };
        crate::orders::reconciliation::resolve(&state, cx.caller.id, id, &input.note, &cx).await
    }
    .await;
    // R-PAY-3: an operator resolves a difference with a note.
    let page = reconciliation_page(&input.day);
    let onward = crate::web::forms::with_notice(&page, "difference_resolved");
    reply.back_to(page).done(result, || onward)
}

/// Where a reconciliation form returns to: the day it was about (well-formed only).
fn reconciliation_page(day: &str) -> String {
    match crate::orders::reconciliation::parse_day(day) {
        Some(day) => format!("/staff/reconciliation?reconcile_day={day}"),
        None => "/staff/reconciliation".to_owned(),
    }
}
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct SandboxChoice {
    /// `succeed` or `fail`; anything else abandons the payment.
    choice: String,
}

/// The sandbox checkout's buttons (dev only; pages only): succeed and fail arrive as the
/// sandbox's events; abandoning goes back with nothing sent, as closing a provider's
/// page would.
pub(crate) async fn sandbox_choice(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    reply: Reply,
    Path(order): Path<String>,
    Input(input): Input<SandboxChoice>,
) -> Response {
    use crate::orders::payments::sandbox::Choice;
    let order = crate::web::forms::record_number(&order);
    let choice = match input.choice.as_str() {
        "succeed" => Some(Choice::Succeed),
        "fail" => Some(Choice::Fail),
        _ => None,
    };
    let result = orders::sandbox_choose(
        &state,
        patient.id,
        &order,
        choice,
        OffsetDateTime::now_utc(),
    )
    .await;
    reply
        .back_to(format!("/pay/sandbox/{order}"))
        .answer(result, StatusCode::OK, |back| match choice {
            Some(Choice::Succeed) => format!("{back}?paying=1"),
            Some(Choice::Fail) => format!("{back}?error=payment_failed"),
            None => back.clone(),
        })
}

/// The pages' forms.
pub(crate) fn form_routes() -> Router<AppState> {
    Router::new()
        .route("/forms/pay/sandbox/{order}", post(sandbox_choice))
        .route("/forms/staff/orders/{number}/refunds", post(refund_order))
        .route("/forms/staff/refunds/{number}/retry", post(retry_refund))
        .route(
            "/forms/staff/reconciliation/{day}",
            post(run_reconciliation),
        )
        .route("/forms/staff/reconciliation/resolve", post(resolve_line))
}

pub(crate) fn routes() -> ApiRoutes {
    ApiRoutes {
        consented: OpenApiRouter::new()
            .routes(routes!(my_orders))
            .routes(routes!(my_order)),
        staff: OpenApiRouter::new()
            .routes(routes!(staff_orders))
            .routes(routes!(refund_order))
            .routes(routes!(failed_refunds))
            .routes(routes!(retry_refund))
            .routes(routes!(reconciliation_report, run_reconciliation))
            .routes(routes!(resolve_line)),
        providers: super::webhooks::documented().layer(axum::extract::DefaultBodyLimit::max(
            super::webhooks::WEBHOOK_BODY_LIMIT,
        )),
        ..ApiRoutes::default()
    }
}
