//! Pieces every page uses: the bars, the per-request viewer, form fields and alerts.
mod bars;
mod form;

pub use bars::{TabBar, TopBar};
pub use form::{CsrfField, FormAlerts, FormState, InputField};

use crate::viewer::{Viewer, get_viewer};
use leptos::prelude::*;

/// Renders `render` with the request's [`Viewer`]; server-rendered and hydrated alike.
pub fn with_viewer<V>(render: impl Fn(Viewer) -> V + Send + Sync + Clone + 'static) -> impl IntoView
where
    V: IntoView + 'static,
{
    let viewer = Resource::new(|| (), |_| async { get_viewer().await.unwrap_or_default() });
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let render = render.clone();
                // Erasing the type here keeps the server's monomorphised view types small.
                Suspend::new(async move { render(viewer.await).into_any() })
            }}
        </Suspense>
    }
}
