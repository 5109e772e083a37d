//! The proof forms: the no-JS upload and the withdrawal.
use crate::accounts::auth::ConsentedPatient;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::client::ClientIp;
use crate::web::extract::Form;
use app::domain::{ErrorCode, FieldError};
use axum::extract::State;
use axum::response::Response;
use axum::{Router, routing::post};
use time::OffsetDateTime;
use tower_sessions::Session;

use crate::web::forms::{Fields, field, outcome};

/// The no-JS upload of a proof (R-ELIG-2): a multipart form, with its own body limit.
pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/forms/proofs", post(upload_proof))
        .layer(axum::extract::DefaultBodyLimit::max(
            state.max_upload_bytes * app::domain::upload::MAX_FILES + 64 * 1024,
        ))
        .route("/forms/proofs/withdraw", post(withdraw_proof))
}

async fn upload_proof(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    session: Session,
    ClientIp(ip): ClientIp,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let result = async {
        let multipart = multipart.map_err(|_| {
            AppError::from(FieldError::new(
                ErrorCode::InvalidForm,
                app::domain::Field::Body,
            ))
        })?;
        let (input, files) =
            crate::proofs::uploads::read_upload(multipart, state.max_upload_bytes).await?;
        let member = crate::family::acting_for::member_id(&state, patient.id, &session).await?;
        crate::proofs::service::submit(
            &state,
            patient.id,
            member,
            input,
            files,
            &ip.to_string(),
            OffsetDateTime::now_utc(),
        )
        .await?;
        Ok("/proofs?notice=proof_submitted")
    }
    .await;
    outcome("/proofs/new", result)
}

async fn withdraw_proof(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let result = crate::proofs::service::withdraw(
        &state,
        patient.id,
        field(&f, "proof_number"),
        &ip.to_string(),
        OffsetDateTime::now_utc(),
    )
    .await
    .map(|()| "/proofs?notice=proof_withdrawn");
    outcome("/proofs", result)
}
