//! Orders and payments: what a patient pays for, the payment providers, provider events
//! applied exactly once, refunds and the daily reconciliation (R-PAY-1 … R-PAY-4).
pub mod api;
pub mod forms;
pub mod pages;
pub mod payments;
pub mod reconciliation;
pub mod service;
pub mod webhooks;

use crate::config::Mode;
use crate::features::{Feature, Job};
use crate::state::AppState;
use crate::web::api::ApiRoutes;
use std::time::Duration;

pub struct Orders;

impl Feature for Orders {
    fn page_data(&self, pages: &mut crate::web::pages::PageAnswers) {
        pages::answers(pages);
    }
    fn api(&self, _mode: Mode, _state: &AppState) -> ApiRoutes {
        api::routes()
    }
    fn forms(&self, _state: &AppState) -> axum::Router<AppState> {
        forms::routes()
    }
    fn jobs(&self) -> Vec<Job> {
        vec![
            Job {
                name: "calling off payments of ended subjects, serving and closing orders",
                every: Duration::from_secs(10),
                first_after: Duration::ZERO,
                run: |state, now| {
                    Box::pin(async move {
                        service::expire_paying_holds(&state, now).await?;
                        service::serve_and_close(&state, now).await?;
                        Ok(())
                    })
                },
            },
            Job {
                // Provider events not yet applied (a webhook answered before processing,
                // a restart) and refunds not yet sent are caught up within seconds (R-PAY-4).
                name: "processing payment events and sending refunds",
                every: Duration::from_secs(2),
                first_after: Duration::ZERO,
                run: |state, now| {
                    Box::pin(async move {
                        service::process_events(&state, now).await?;
                        service::send_due_refunds(&state, now).await?;
                        Ok(())
                    })
                },
            },
            Job {
                // R-PAY-3: yesterday's reconciliation, once a day; checked hourly, so a
                // server that was down at midnight catches up.
                name: "the daily reconciliation",
                every: Duration::from_secs(3600),
                first_after: Duration::from_secs(300),
                run: |state, now| {
                    Box::pin(async move {
                        reconciliation::run_yesterday_if_due(&state, now).await?;
                        Ok(())
                    })
                },
            },
        ]
    }
}
