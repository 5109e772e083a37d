//! Accounts and sessions: SMS codes, registration under the real name, login, password
//! changes, consent to the texts in force (R-REG-1 … R-REG-5), and the patient context
//! read with each session.
pub mod api;
pub mod auth;
pub mod consent_api;
pub mod consent_rows;
pub mod consents;
pub mod pages;
pub mod patient_context;
pub mod service;
pub mod session_store;
pub mod sms_codes;

use crate::config::Mode;
use crate::feature::{Feature, Job, logged};
use crate::state::AppState;
use crate::web::api::ApiRoutes;
use std::time::Duration;

pub struct Accounts;

impl Feature for Accounts {
    fn page_data(&self, pages: &mut crate::web::pages::PageAnswers) {
        pages::answers(pages);
    }
    fn api(&self, mode: Mode, state: &AppState) -> ApiRoutes {
        api::routes(mode, state).merge(consent_api::routes())
    }
    fn forms(&self, state: &AppState) -> axum::Router<AppState> {
        api::form_routes(state).merge(consent_api::form_routes())
    }
    fn jobs(&self) -> Vec<Job> {
        vec![Job {
            name: "deleting expired sessions and ended rate counters",
            every: Duration::from_secs(300),
            first_after: Duration::ZERO,
            run: |state, now| {
                Box::pin(async move {
                    let now = now.unix_timestamp();
                    logged(
                        "deleting expired sessions",
                        state.sessions.delete_expired(now).await,
                    );
                    logged(
                        "deleting ended rate counters",
                        crate::db::delete_ended_counts(&state.db, now).await,
                    );
                    Ok(())
                })
            },
        }]
    }
}
