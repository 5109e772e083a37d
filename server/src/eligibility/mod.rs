//! Who may consult online: approved diagnoses, the emergency screen and the consult
//! notice (R-ELIG-…, R-REG-6).
pub mod api;
pub mod conditions;
pub mod consult_consents;
pub mod pages;
pub mod screen;
pub mod screen_api;
pub mod service;

use crate::config::Mode;
use crate::feature::Feature;
use crate::state::AppState;
use crate::web::api::ApiRoutes;

pub struct Eligibility;

impl Feature for Eligibility {
    fn page_data(&self, pages: &mut crate::web::pages::PageAnswers) {
        pages::answers(pages);
    }
    fn api(&self, _mode: Mode, _state: &AppState) -> ApiRoutes {
        api::routes().merge(screen_api::routes())
    }
    fn forms(&self, _state: &AppState) -> axum::Router<AppState> {
        screen_api::form_routes()
    }
}
