//! The consult's entry forms: the emergency screen and the consult notice.
use crate::accounts::auth::ConsentedPatient;
use crate::state::AppState;
use crate::web::client::ClientIp;
use crate::web::extract::Form;
use app::domain::consult_consent::parse_choice;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Router, routing::post};
use std::collections::HashMap;
use tower_sessions::Session;

use crate::web::forms::{Fields, back_with, field, outcome, with_query};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/forms/consult/screen", post(emergency_screen))
        .route("/forms/consult/consent", post(consult_consent))
}

/// R-ELIG-4: each question is a yes/no radio named by its red flag, and `critical`
/// (R-ELIG-5). A clear screen leads to the consult's notice for the chosen diagnosis.
async fn emergency_screen(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    session: Session,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    use app::domain::emergency::{ALL_RED_FLAGS, Screen};
    let yes_no = |name: &str| match field(&f, name) {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    let answers: HashMap<String, bool> = ALL_RED_FLAGS
        .iter()
        .filter_map(|flag| yes_no(flag.as_str()).map(|a| (flag.as_str().to_owned(), a)))
        .collect();
    // Rebuilt from its parts: nothing the client sent goes into a URL unchecked.
    let choice = parse_choice(field(&f, "choice"))
        .map(|(icd10, department)| format!("choice={icd10}:{}", department.as_str()));
    let screen = crate::eligibility::screen::answer_screen(
        &state,
        patient.id,
        &session,
        &answers,
        yes_no("critical"),
        &ip.to_string(),
    )
    .await;
    match screen {
        Ok(Screen::Clear) => match &choice {
            Some(c) => Redirect::to(&format!("/consult/consent?{c}")).into_response(),
            None => Redirect::to("/consult/start?notice=screen_clear").into_response(),
        },
        Ok(Screen::Emergency(flags)) => {
            let codes: Vec<&str> = flags.iter().map(|f| f.as_str()).collect();
            Redirect::to(&format!("/emergency?flags={}", codes.join(","))).into_response()
        }
        Err(e) => back_with(&with_query("/consult/screen", choice.as_deref()), e),
    }
}

/// R-REG-6: the consult's risk notice, confirmed.
async fn consult_consent(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    session: Session,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let Some((icd10, department)) = parse_choice(field(&f, "choice")) else {
        return Redirect::to("/consult/start").into_response();
    };
    let page = format!("/consult/consent?choice={icd10}:{}", department.as_str());
    let result = crate::eligibility::screen::give(
        &state,
        patient.id,
        &session,
        &icd10,
        department,
        field(&f, "accept") == "yes",
        field(&f, "version"),
        &ip.to_string(),
    )
    .await
    .map(|_| {
        format!(
            "/doctors?mine=1&department={}&notice=consult_ready",
            department.as_str()
        )
    });
    outcome(&page, result)
}
