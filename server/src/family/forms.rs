//! The family forms: add or remove a member, choose whom to act for.
use crate::accounts::auth::ConsentedPatient;
use crate::family::service as family;
use crate::state::AppState;
use crate::web::client::ClientIp;
use crate::web::extract::Form;
use axum::extract::State;
use axum::response::Response;
use axum::{Router, routing::post};
use time::OffsetDateTime;
use tower_sessions::Session;

use crate::web::forms::{Fields, checked, field, outcome};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/forms/family", post(add_family_member))
        .route("/forms/family/remove", post(remove_family_member))
        .route("/forms/acting-for", post(choose_acting_for))
}

async fn add_family_member(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let input = family::AddInput {
        real_name: field(&f, "real_name").into(),
        id_number: field(&f, "id_number").into(),
        relationship: field(&f, "relationship").into(),
        guardian_confirmed: checked(&f, "guardian_confirmed"),
        adult_lacks_capacity: checked(&f, "adult_lacks_capacity"),
    };
    let result = family::add(
        &state,
        patient.id,
        input,
        &ip.to_string(),
        OffsetDateTime::now_utc(),
    )
    .await
    .map(|_| "/family?notice=family_added");
    outcome("/family/new", result)
}

async fn remove_family_member(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    session: Session,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let number = field(&f, "member_number");
    let result = async {
        family::remove(
            &state,
            patient.id,
            number,
            &ip.to_string(),
            OffsetDateTime::now_utc(),
        )
        .await?;
        crate::family::acting_for::forget(&session, number).await?;
        Ok("/family?notice=family_removed")
    }
    .await;
    outcome("/family", result)
}

async fn choose_acting_for(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    session: Session,
    Form(f): Form<Fields>,
) -> Response {
    let chosen = Some(field(&f, "member_number").to_owned());
    let result = crate::family::acting_for::choose(&state, patient.id, &session, chosen)
        .await
        .map(|()| "/family?notice=acting_for");
    outcome("/family", result)
}
