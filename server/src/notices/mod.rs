//! The message centre: notices to a patient about their own records, with an SMS where
//! it matters.
pub mod api;
pub mod notice;
pub mod pages;
pub mod service;

use crate::config::Mode;
use crate::feature::Feature;
use crate::state::AppState;
use crate::web::api::ApiRoutes;

pub struct Notices;

impl Feature for Notices {
    fn page_data(&self, pages: &mut crate::web::pages::PageAnswers) {
        pages::answers(pages);
    }
    fn api(&self, _mode: Mode, _state: &AppState) -> ApiRoutes {
        api::routes()
    }
}
