//! Staff: accounts with roles and a second factor (R-SEC-1, R-SEC-3), and their desks.
pub mod api;
pub mod auth;
pub mod onboarding;
pub mod pages;
pub mod service;
pub mod totp;

use crate::config::Mode;
use crate::feature::Feature;
use crate::state::AppState;
use crate::web::api::ApiRoutes;

pub struct Staff;

impl Feature for Staff {
    fn page_data(&self, pages: &mut crate::web::pages::PageAnswers) {
        pages::answers(pages);
    }
    fn api(&self, _mode: Mode, _state: &AppState) -> ApiRoutes {
        api::routes()
    }
    fn forms(&self, state: &AppState) -> axum::Router<AppState> {
        api::form_routes(state)
    }
}
