//! Pieces every page uses: the bars, the per-request viewer, form fields and alerts.
mod bars;
mod form;
mod gate;
mod not_found;

pub use bars::{TabBar, TopBar};
pub use form::{CsrfField, FormAlerts, FormState, InputField};
pub use gate::{Access, gated, redirect_for};
pub use not_found::NotFound;

use crate::viewer::{Viewer, current_viewer};
use leptos::prelude::*;

/// Renders `render` with the request's [`Viewer`] (pages render on the server only).
/// Erasing the type keeps the server's monomorphised view types shallow.
pub fn with_viewer<V: IntoView + 'static>(render: impl FnOnce(Viewer) -> V) -> AnyView {
    render(current_viewer()).into_any()
}
