//! Booking: doctors' schedules, holds (written in batches by the hold writer), the live
//! queue, expiry and reminders (R-BOOK-1 … R-BOOK-4).
pub mod api;
pub mod desk;
pub mod expiry;
pub mod free_slot;
pub mod hold_basis;
pub mod hold_writer;
pub mod holds;
pub mod pages;
pub mod paying;
pub mod queue;
pub mod queue_api;
pub mod queue_streams;
pub mod queue_views;
pub mod row;
pub mod schedule;
pub mod service;
pub mod views;

use crate::config::Mode;
use crate::feature::{Feature, Job, logged};
use crate::state::AppState;
use crate::web::api::ApiRoutes;
use std::time::Duration;

pub struct Booking;

impl Feature for Booking {
    fn page_data(&self, pages: &mut crate::web::pages::PageAnswers) {
        pages::answers(pages);
    }
    fn api(&self, _mode: Mode, _state: &AppState) -> ApiRoutes {
        api::routes().merge(queue_api::routes())
    }
    fn forms(&self, _state: &AppState) -> axum::Router<AppState> {
        api::form_routes()
    }
    fn subjects(
        &self,
        config: &crate::config::Config,
    ) -> Vec<std::sync::Arc<dyn crate::orders::Subject>> {
        vec![std::sync::Arc::new(paying::ConsultBooking {
            consults: crate::consult::life::ConsultSettings::from_config(config),
        })]
    }
    fn parts(
        &self,
        config: &crate::config::Config,
        _db: &sea_orm::DatabaseConnection,
        parts: &mut crate::parts::Parts,
    ) {
        parts.insert(hold_writer::HoldWriter::new(
            Duration::from_millis(config.hold_gather_ms.min(1_000)),
            config.eligibility.clone(),
        ));
        parts.insert(queue_streams::QueueStreams::default());
    }
    fn jobs(&self) -> Vec<Job> {
        vec![Job {
            // Holds past their time give their places back within seconds; the job runs
            // at start too, so a restart catches up (R-BOOK-2). Reminders (R-BOOK-3).
            name: "expiring holds, sending reminders",
            every: Duration::from_secs(10),
            first_after: Duration::ZERO,
            run: |state, now| {
                Box::pin(async move {
                    logged("expiring holds", expiry::expire_holds(&state, now).await);
                    logged(
                        "calling off payments of ended holds",
                        paying::expire_paying_holds(&state, now).await,
                    );
                    logged(
                        "sending reminders",
                        service::send_reminders(&state, state.reminder_secs, now).await,
                    );
                    Ok(())
                })
            },
        }]
    }
}
