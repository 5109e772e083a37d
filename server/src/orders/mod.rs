//! Orders and payments: an order pays for a subject of another feature (a consult
//! booking; a drug order next), through the payment providers; provider events applied
//! exactly once, refunds and the daily reconciliation (R-PAY-1 … R-PAY-4). What a subject
//! is, is its own feature's business ([`Subject`]).
mod after_commit;
pub mod api;
mod checkout;
pub mod pages;
pub mod payments;
mod provider_events;
pub mod reconciliation;
mod refund_recovery;
mod refund_rows;
mod refunds;
mod runner;
pub mod subject;
mod views;
pub mod webhooks;

pub use after_commit::AfterCommit;
pub use checkout::{
    PayNext, PaymentStart, call_off, sandbox_checkout, sandbox_choose, start_payment,
};
pub use provider_events::{process_event, process_events};
pub use refund_recovery::{failed_refunds, retry_refund};
pub use refund_rows::SUCCEEDED;
pub use refunds::{operator_refund, send_due_refunds};
pub use runner::{
    CLOSE_AFTER_SECS, NewLine, NewOrder, Step, close_served, create, create_many, of_subject,
    paying_subjects, served, step, subject_ended, subjects_in,
};
pub use subject::{Subject, SubjectRef, Subjects};
pub use views::{list_for_patient, list_for_staff, own_order, view_for_patient};

use crate::config::Mode;
use crate::feature::{Feature, Job, logged};
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
        api::form_routes()
    }
    fn jobs(&self) -> Vec<Job> {
        vec![
            Job {
                name: "closing served orders",
                every: Duration::from_secs(10),
                first_after: Duration::ZERO,
                run: |state, now| {
                    Box::pin(async move {
                        close_served(&state, now).await?;
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
                        logged(
                            "processing payment events",
                            process_events(&state, now).await,
                        );
                        logged("sending refunds", send_due_refunds(&state, now).await);
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
