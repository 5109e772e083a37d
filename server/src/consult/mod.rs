//! The consult (R-CONS-1 … R-CONS-3, R-ELIG-4, R-PAY-2): opened from a paid booking or a
//! queue call, moved by one machine, timed against the doctor's answer limit (an
//! unanswered consult closes and refunds itself), ended by the doctor as completed
//! (with the record, `crate::records`) or referred offline. The conversation is
//! `crate::chat`.
pub mod access;
pub mod api;
pub mod life;
pub mod pages;
pub mod unanswered;
pub mod views;

use crate::config::{Config, Mode};
use crate::feature::{Feature, Job};
use crate::parts::Parts;
use crate::state::AppState;
use crate::web::api::ApiRoutes;
use std::time::Duration;

pub struct Consults;

impl Feature for Consults {
    fn page_data(&self, pages: &mut crate::web::pages::PageAnswers) {
        pages::answers(pages);
    }
    fn api(&self, _mode: Mode, _state: &AppState) -> ApiRoutes {
        api::routes()
    }
    fn forms(&self, _state: &AppState) -> axum::Router<AppState> {
        api::form_routes()
    }
    fn parts(&self, config: &Config, _db: &sea_orm::DatabaseConnection, parts: &mut Parts) {
        parts.insert(life::ConsultSettings::from_config(config));
    }
    fn jobs(&self) -> Vec<Job> {
        vec![Job {
            // R-CONS-3: runs at start too, so a restart catches up.
            name: "closing unanswered consults",
            every: Duration::from_secs(30),
            first_after: Duration::ZERO,
            run: |state, now| {
                Box::pin(async move {
                    unanswered::close_unanswered(&state, now).await?;
                    Ok(())
                })
            },
        }]
    }
}
