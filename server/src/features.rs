//! The features, and what is assembled from their list: the API, the forms, the page
//! data, the background jobs, the order subjects and the parts each come from
//! [`FEATURES`]. A new feature is a folder with a [`Feature`] and one entry here (see
//! docs/architecture.md, "Adding a feature").
use crate::accounts::auth::{ConsentedPatient, Patient};
use crate::config::{Config, Mode};
use crate::feature::Feature;
use crate::parts::Parts;
use crate::staff::auth::StaffMember;
use crate::state::{AppState, State};
use crate::web::api::ApiRoutes;
use crate::web::error::ApiError;
use crate::web::{openapi, throttle};
use app::domain::{ErrorCode, FieldError};
use axum::routing::any;
use axum::{Extension, Router, middleware};
use time::OffsetDateTime;
use utoipa_axum::router::OpenApiRouter;

pub static FEATURES: &[&dyn Feature] = &[
    &crate::accounts::Accounts,
    &crate::family::Family,
    &crate::proofs::Proofs,
    &crate::eligibility::Eligibility,
    &crate::doctors::Doctors,
    &crate::booking::Booking,
    &crate::orders::Orders,
    &crate::staff::Staff,
    &crate::notices::Notices,
    &crate::consult::Consults,
    &crate::chat::Chat,
    &crate::call::Calls,
    &crate::records::Records,
    &crate::db::checkpoint::SqliteLog,
];

/// The server's state with every feature's order subjects and parts.
pub async fn state(
    config: &Config,
    db: sea_orm::DatabaseConnection,
    leptos_options: leptos::config::LeptosOptions,
) -> anyhow::Result<State> {
    let subjects =
        crate::orders::Subjects::new(FEATURES.iter().flat_map(|f| f.subjects(config)).collect());
    let mut parts = Parts::default();
    for feature in FEATURES {
        feature.parts(config, &db, &mut parts);
    }
    State::new(config, db, leptos_options, subjects, parts).await
}

/// Starts every feature's jobs; a failed run is logged and tried at the next tick.
pub fn start_jobs(state: &AppState) {
    for job in FEATURES.iter().flat_map(|f| f.jobs()) {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick =
                tokio::time::interval_at(tokio::time::Instant::now() + job.first_after, job.every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = (job.run)(state.clone(), OffsetDateTime::now_utc()).await {
                    tracing::warn!(error = ?e, job = job.name, "a background job failed");
                }
            }
        });
    }
}

/// Every feature's routes with their layers, and the OpenAPI document built from the
/// same declarations (a handler is routed through `routes!`, which also documents it).
/// The providers' routes come back apart: they are served outside the session.
pub fn api_routes(mode: Mode, state: &AppState) -> (Router<AppState>, Router<AppState>) {
    let all = FEATURES
        .iter()
        .fold(ApiRoutes::default(), |all, f| all.merge(f.api(mode, state)));
    let (router, mut doc) = OpenApiRouter::with_openapi(openapi::base())
        .routes(utoipa_axum::routes!(openapi::document))
        .merge(all.public)
        .merge(all.guessing.route_layer(middleware::from_fn_with_state(
            state.clone(),
            throttle::limit,
        )))
        .merge(
            all.patient
                .route_layer(middleware::from_extractor_with_state::<Patient, _>(
                    state.clone(),
                )),
        )
        .merge(
            all.consented.route_layer(
                middleware::from_extractor_with_state::<ConsentedPatient, _>(state.clone()),
            ),
        )
        .merge(
            all.staff
                .route_layer(middleware::from_extractor_with_state::<StaffMember, _>(
                    state.clone(),
                )),
        )
        .split_for_parts();
    let (providers, hooks) = all.providers.split_for_parts();
    doc.merge(hooks);
    let doc = openapi::finish(doc);
    let api = router
        // Unknown API paths answer in the API's error shape, not with an HTML page.
        .route("/api/v1/{*rest}", any(not_found))
        .layer(Extension(doc));
    (api, providers)
}

async fn not_found() -> ApiError {
    FieldError::general(ErrorCode::NotFound).into()
}
