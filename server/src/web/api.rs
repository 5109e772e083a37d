//! The JSON API under /api/v1 is assembled from the features' route groups
//! ([`crate::features::api_routes`]). A group says who may call it, and the layer that
//! enforces that is added there, once: a route a feature puts in the patient groups
//! cannot be reached without a logged-in (and consented) patient.
use super::error::ApiError;
use crate::state::AppState;
use axum::response::Response;
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
