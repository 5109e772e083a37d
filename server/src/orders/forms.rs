//! The sandbox checkout's form (dev only).
use crate::accounts::auth::ConsentedPatient;
use crate::state::AppState;
use crate::web::extract::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::{Router, routing::post};
use time::OffsetDateTime;

use crate::web::forms::{Fields, field, outcome, record_number};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/forms/pay/sandbox/{order}", post(sandbox_choice))
}

/// The sandbox checkout's buttons (dev only): succeed and fail arrive as the sandbox's
/// events; abandoning goes back with nothing sent, as closing a provider's page would.
async fn sandbox_choice(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    Path(order): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    use crate::orders::payments::sandbox::Choice;
    let order = record_number(&order);
    let page = format!("/pay/sandbox/{order}");
    let choice = match field(&f, "choice") {
        "succeed" => Some(Choice::Succeed),
        "fail" => Some(Choice::Fail),
        _ => None,
    };
    let now = OffsetDateTime::now_utc();
    let result = crate::orders::sandbox_choose(&state, patient.id, &order, choice, now)
        .await
        .map(|back| match choice {
            Some(Choice::Succeed) => format!("{back}?paying=1"),
            Some(Choice::Fail) => format!("{back}?error=payment_failed"),
            None => back,
        });
    outcome(&page, result)
}
