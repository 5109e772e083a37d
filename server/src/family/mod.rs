//! Family members (就诊人): a guardian adds a child or a person in their care and acts
//! for them (R-FAM-…).
pub mod acting_for;
pub mod api;
pub mod pages;
pub mod service;

use crate::config::Mode;
use crate::feature::Feature;
use crate::state::AppState;
use crate::web::api::ApiRoutes;

pub struct Family;

impl Feature for Family {
    fn page_data(&self, pages: &mut crate::web::pages::PageAnswers) {
        pages::answers(pages);
    }
    fn api(&self, _mode: Mode, _state: &AppState) -> ApiRoutes {
        api::routes()
    }
    fn forms(&self, _state: &AppState) -> axum::Router<AppState> {
        api::form_routes()
    }
}
