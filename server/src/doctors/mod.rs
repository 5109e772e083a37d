//! The doctor directory and the price list (R-DOC-1).
pub mod api;
pub mod directory;
pub mod pages;
pub mod service;

use crate::config::Mode;
use crate::feature::Feature;
use crate::state::AppState;
use crate::web::api::ApiRoutes;

pub struct Doctors;

impl Feature for Doctors {
    fn page_data(&self, pages: &mut crate::web::pages::PageAnswers) {
        pages::answers(pages);
    }
    fn api(&self, _mode: Mode, _state: &AppState) -> ApiRoutes {
        api::routes()
    }
}
