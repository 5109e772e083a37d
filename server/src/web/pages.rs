//! The server's answers to the pages' questions ([`app::page_data`]), assembled from the
//! features once at start and provided as context to every render.
use crate::accounts::auth::ConsentedPatient;
use crate::error::AppError;
use crate::state::AppState;
use app::page_data::{Answers, PageQuery};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::future::Future;
use std::sync::Arc;

type Provide = Box<dyn Fn() + Send + Sync>;

/// Every feature's answers; [`PageAnswers::provide`] puts them in a render's context.
pub struct PageAnswers {
    state: AppState,
    provides: Vec<Provide>,
}

impl PageAnswers {
    pub fn new(state: &AppState) -> Self {
        Self {
            state: state.clone(),
            provides: Vec::new(),
        }
    }

    /// Answers `Q` for anyone (the page decides what to show whom).
    pub fn answer<Q, F, Fut>(&mut self, f: F)
    where
        Q: PageQuery,
        F: Fn(AppState, Parts, Q) -> Fut + Send + Sync + Copy + 'static,
        Fut: Future<Output = Result<Option<Q::Answer>, AppError>> + Send + 'static,
    {
        let state = self.state.clone();
        let answers = Answers::<Q>(Arc::new(move |parts, query| {
            let state = state.clone();
            Box::pin(async move { f(state, parts, query).await.map_err(logged) })
        }));
        self.provides.push(Box::new(move || {
            leptos::context::provide_context(answers.clone())
        }));
    }

    /// Answers `Q` only for a logged-in patient who has agreed to the texts in force (the
    /// same extractor as the API's, R-REG-2); anyone else gets `None`.
    pub fn answer_consented<Q, F, Fut>(&mut self, f: F)
    where
        Q: PageQuery,
        F: Fn(AppState, Parts, ConsentedPatient, Q) -> Fut + Send + Sync + Copy + 'static,
        Fut: Future<Output = Result<Option<Q::Answer>, AppError>> + Send + 'static,
    {
        self.answer(
            move |state: AppState, mut parts: Parts, query: Q| async move {
                let Ok(patient) = ConsentedPatient::from_request_parts(&mut parts, &state).await
                else {
                    return Ok(None);
                };
                f(state, parts, patient, query).await
            },
        );
    }

    pub fn provide(&self) {
        for provide in &self.provides {
            provide();
        }
    }
}

/// A page shows "not found" for a failed load; the reason goes to the log, once.
fn logged(e: AppError) -> String {
    let _ = super::error::ApiError::from(e); // logs it
    "internal".into()
}
