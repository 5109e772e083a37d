//! The medical record (R-EMR-1 … R-EMR-4): written by the consult's doctor as revisions,
//! archived for good when the consult is completed, corrected only by addenda, read and
//! printed by the patient, and every staff access logged for the patient to see.
pub mod api;
pub mod pages;
pub mod service;
pub mod views;

use crate::config::Mode;
use crate::feature::Feature;
use crate::state::AppState;
use crate::web::api::ApiRoutes;

pub struct Records;

impl Feature for Records {
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
