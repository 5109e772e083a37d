//! How a page gets its data: it asks a question (a [`PageQuery`]) and the server answers
//! it. The app crate knows no database: for each question the server provides an
//! [`Answers`] as context, and a page calls [`load`]. A feature adds its questions next to
//! its view types and its answers in its server folder; nothing else changes.
//!
//! Pages render on the server only (islands mode): in the browser's build every answer is
//! `None`, and no page's data is ever fetched from the browser.
#[cfg(feature = "ssr")]
use leptos::prelude::*;

/// A question a page asks the server about this request, and the type of its answer.
pub trait PageQuery: Send + Sync + 'static {
    type Answer: Send + 'static;
}

/// A boxed future, as the server's answers are.
#[cfg(feature = "ssr")]
pub type Loading<T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, String>> + Send>>;

/// How the server answers one kind of question for a request.
#[cfg(feature = "ssr")]
pub type Answer<Q> =
    dyn Fn(http::request::Parts, Q) -> Loading<Option<<Q as PageQuery>::Answer>> + Send + Sync;

/// The server's answer to one kind of question, provided as context for each render.
#[cfg(feature = "ssr")]
pub struct Answers<Q: PageQuery>(pub std::sync::Arc<Answer<Q>>);

#[cfg(feature = "ssr")]
impl<Q: PageQuery> Clone for Answers<Q> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

/// The answer to `query` for this request; `None` when the server has none (not logged
/// in, someone else's record, not found), and always in the browser's build.
pub async fn load<Q: PageQuery>(query: Q) -> Option<Q::Answer> {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<http::request::Parts>()?;
        let answers = use_context::<Answers<Q>>()?;
        (answers.0)(parts, query).await.ok().flatten()
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = query;
        None
    }
}
