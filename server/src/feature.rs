//! What a feature is: what it adds to the app, each part optional. The list of
//! features and their assembly is [`crate::features`].
use crate::config::{Config, Mode};
use crate::parts::Parts;
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
    /// Its operations' routes for the pages' forms, under `/forms/` (session and CSRF
    /// checked like the API's).
    fn forms(&self, _state: &AppState) -> Router<AppState> {
        Router::new()
    }
    /// Its answers to what its pages ask ([`app::page_data`]).
    fn page_data(&self, _pages: &mut crate::web::pages::PageAnswers) {}
    /// What its orders pay for: one [`crate::orders::Subject`] per kind it sells.
    fn subjects(
        &self,
        _config: &Config,
    ) -> Vec<std::sync::Arc<dyn crate::orders::subject::Subject>> {
        Vec::new()
    }
    /// What it keeps for the life of the server, taken out with [`Parts::get`].
    /// Called inside the runtime, so a part may start its own tasks.
    fn parts(&self, _config: &Config, _db: &sea_orm::DatabaseConnection, _parts: &mut Parts) {}
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

/// A step of a job: its failure is logged and does not stop the steps after it (the next
/// tick tries it again).
pub fn logged<T, E: std::fmt::Debug>(step: &'static str, result: Result<T, E>) {
    if let Err(e) = result {
        tracing::warn!(error = ?e, step, "a background job's step failed");
    }
}
