use crate::i18n::*;
use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(http::StatusCode::NOT_FOUND);
    }
    let i18n = use_i18n();
    view! {
        <h1>{t_string!(i18n, not_found.title)}</h1>
        <p><a class="button" href="/">{t_string!(i18n, not_found.back)}</a></p>
    }
}
