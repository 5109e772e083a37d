use crate::i18n::*;
use leptos::prelude::*;

#[component]
pub fn ConsultsPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <h1>{t_string!(i18n, consults.title)}</h1>
        <div class="card empty">
            <p>{t_string!(i18n, consults.empty)}</p>
            <p class="hint">{t_string!(i18n, consults.next)}</p>
        </div>
    }
}

#[component]
pub fn MessagesPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <h1>{t_string!(i18n, messages.title)}</h1>
        <div class="card empty"><p>{t_string!(i18n, messages.empty)}</p></div>
    }
}

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
