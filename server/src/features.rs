//! The features, and the lists they are assembled from: the API, the forms, the page
//! data and the background jobs each come from [`FEATURES`]. A new feature is a folder
//! with a [`Feature`] and one entry here (see docs/architecture.md, "Adding a feature").
use crate::config::Mode;
use crate::state::AppState;
use crate::web::api::ApiRoutes;
use axum::Router;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use time::OffsetDateTime;

/// What a feature adds to the app. Everything has a default: a feature adds only what
/// it has.
pub trait Feature: Sync {
    /// Its REST routes, by who may call them.
    fn api(&self, _mode: Mode, _state: &AppState) -> ApiRoutes {
        ApiRoutes::default()
    }
    /// Its HTML form handlers under `/forms/` (session and CSRF checked like the API's).
    fn forms(&self, _state: &AppState) -> Router<AppState> {
        Router::new()
    }
    /// Its answers to what its pages ask ([`app::page_data`]).
    fn page_data(&self, _pages: &mut crate::web::pages::PageAnswers) {}
    /// What its orders pay for: one [`crate::orders::Subject`] per kind it sells.
    fn subjects(&self) -> Vec<std::sync::Arc<dyn crate::orders::Subject>> {
        Vec::new()
    }
    /// Its background jobs.
    fn jobs(&self) -> Vec<Job> {
        Vec::new()
    }
}

pub type JobRun =
    fn(AppState, OffsetDateTime) -> Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;

/// Work done on a timer, on every server: each job is safe to run on several servers at
/// once and catches up after a restart, because it looks only at the clock and the rows.
pub struct Job {
    /// What it does, for the log when it fails.
    pub name: &'static str,
    pub every: Duration,
    /// The first run this long after start (zero: at once).
    pub first_after: Duration,
    pub run: JobRun,
}

pub static FEATURES: &[&dyn Feature] = &[
    &crate::accounts::Accounts,
    &crate::family::Family,
    &crate::proofs::Proofs,
    &crate::eligibility::Eligibility,
    &crate::doctors::Doctors,
    &crate::booking::Booking,
    &crate::orders::Orders,
    &crate::staff::Staff,
    &crate::notices::Notices,
];

/// Every feature's order subjects.
pub fn subjects() -> crate::orders::Subjects {
    crate::orders::Subjects::new(FEATURES.iter().flat_map(|f| f.subjects()).collect())
}

/// A step of a job: its failure is logged and does not stop the steps after it (the next
/// tick tries it again).
pub fn logged<T, E: std::fmt::Debug>(step: &'static str, result: Result<T, E>) {
    if let Err(e) = result {
        tracing::warn!(error = ?e, step, "a background job's step failed");
    }
}

/// Starts every feature's jobs; a failed run is logged and tried at the next tick.
pub fn start_jobs(state: &AppState) {
    for job in FEATURES.iter().flat_map(|f| f.jobs()) {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick =
                tokio::time::interval_at(tokio::time::Instant::now() + job.first_after, job.every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = (job.run)(state.clone(), OffsetDateTime::now_utc()).await {
                    tracing::warn!(error = ?e, job = job.name, "a background job failed");
                }
            }
        });
    }
}
