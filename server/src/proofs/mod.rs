//! Diagnosis proofs: uploads checked by content, staff review, and the sweep of files
//! that never became a proof (R-ELIG-2).
pub mod api;
pub mod decodes;
pub mod orphans;
pub mod pages;
pub mod pdf;
pub mod quotas;
pub mod reach;
pub mod service;
pub mod uploads;

use crate::config::Mode;
use crate::feature::{Feature, Job};
use crate::state::AppState;
use crate::web::api::ApiRoutes;
use std::time::Duration;

pub struct Proofs;

impl Feature for Proofs {
    fn page_data(&self, pages: &mut crate::web::pages::PageAnswers) {
        pages::answers(pages);
    }
    fn api(&self, _mode: Mode, state: &AppState) -> ApiRoutes {
        api::routes(state)
    }
    fn forms(&self, state: &AppState) -> axum::Router<AppState> {
        api::form_routes(state)
    }
    fn parts(
        &self,
        config: &crate::config::Config,
        _db: &sea_orm::DatabaseConnection,
        parts: &mut crate::parts::Parts,
    ) {
        parts.insert(decodes::Decodes::new(
            config.decode_memory_mib,
            config.decode_queue,
        ));
    }
    fn jobs(&self) -> Vec<Job> {
        vec![Job {
            name: "sweeping files without a proof",
            every: Duration::from_secs(300),
            first_after: Duration::ZERO,
            run: |state, now| {
                Box::pin(async move {
                    orphans::sweep(&state, now.unix_timestamp()).await?;
                    Ok(())
                })
            },
        }]
    }
}
