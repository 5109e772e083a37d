//! The JSON API under /api/v1, assembled from the features' route groups. A group says
//! who may call it, and the layer that enforces that is added here, once: a route a
//! feature puts in the patient groups cannot be reached without a logged-in (and
//! consented) patient.
use super::auth::{ConsentedPatient, Patient};
use super::error::ApiError;
use super::openapi;
use super::throttle;
use crate::config::Mode;
use crate::features::FEATURES;
use crate::staff::auth::StaffMember;
use crate::state::AppState;
use app::domain::{ErrorCode, FieldError};
use axum::response::Response;
use axum::routing::any;
use axum::{Extension, Router, middleware};
use utoipa_axum::router::OpenApiRouter;

pub type ApiResult = Result<Response, ApiError>;

/// One feature's REST routes, by who may call them.
pub struct ApiRoutes {
    /// Anyone.
    pub public: OpenApiRouter<AppState>,
    /// What sends an SMS, judges a secret or creates an account: limited per address.
    pub guessing: OpenApiRouter<AppState>,
    /// A logged-in patient; consent may be outstanding (how it is given or withdrawn).
    pub patient: OpenApiRouter<AppState>,
    /// A logged-in patient who agreed to the texts in force (R-REG-2).
    pub consented: OpenApiRouter<AppState>,
    /// Staff with both factors (R-SEC-3); each handler checks its role's permission.
    pub staff: OpenApiRouter<AppState>,
    /// Payment providers: the signature is the credential; no session, no CSRF, and
    /// the feature's own body limit.
    pub providers: OpenApiRouter<AppState>,
}

impl ApiRoutes {
    /// Both sets of routes, group by group.
    pub fn merge(self, other: ApiRoutes) -> ApiRoutes {
        ApiRoutes {
            public: self.public.merge(other.public),
            guessing: self.guessing.merge(other.guessing),
            patient: self.patient.merge(other.patient),
            consented: self.consented.merge(other.consented),
            staff: self.staff.merge(other.staff),
            providers: self.providers.merge(other.providers),
        }
    }
}

impl Default for ApiRoutes {
    fn default() -> Self {
        Self {
            public: OpenApiRouter::new(),
            guessing: OpenApiRouter::new(),
            patient: OpenApiRouter::new(),
            consented: OpenApiRouter::new(),
            staff: OpenApiRouter::new(),
            providers: OpenApiRouter::new(),
        }
    }
}

/// Every feature's routes with their layers, and the OpenAPI document built from the
/// same declarations (a handler is routed through `routes!`, which also documents it).
/// The providers' routes come back apart: they are served outside the session.
pub fn routes(mode: Mode, state: &AppState) -> (Router<AppState>, Router<AppState>) {
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
