//! Pieces every page uses: the bars, the per-request viewer, form fields and alerts.
mod bars;
mod form;
mod gate;

pub use bars::{TabBar, TopBar};
pub use form::{CsrfField, FormAlerts, FormState, InputField};
pub use gate::{Access, gated, redirect_for};

use crate::viewer::{Viewer, get_viewer};
use leptos::prelude::*;

/// Renders `render` with the request's [`Viewer`]; server-rendered and hydrated alike.
pub fn with_viewer<V>(render: impl Fn(Viewer) -> V + Send + Sync + Clone + 'static) -> impl IntoView
where
    V: IntoView + 'static,
{
    // The page's gate already fetched it; a component outside a gated page fetches its own.
    let viewer = use_context::<ViewerResource>()
        .map(|r| r.0)
        .unwrap_or_else(|| {
            Resource::new(|| (), |_| async { get_viewer().await.unwrap_or_default() })
        });
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

/// The viewer fetched once for the current page.
#[derive(Clone, Copy)]
pub struct ViewerResource(pub Resource<Viewer>);
