use crate::i18n::*;
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_location};

#[component]
pub fn TopBar() -> impl IntoView {
    let i18n = use_i18n();
    let location = use_location();
    // Language links go through the server so the choice persists without JavaScript.
    let href = move |tag: &str| format!("/lang/{tag}?back={}", location.pathname.get());
    let is_zh = move || i18n.get_locale() == Locale::zh_CN;
    view! {
        <header class="top-bar">
            <a class="brand" href="/">
                <span class="brand-mark" aria-hidden="true">"复"</span>
                <span class="brand-name">{t_string!(i18n, app_name)}</span>
            </a>
            <nav class="lang-switch" aria-label=move || t_string!(i18n, lang.label)>
                <a href=move || href("zh-CN") hreflang="zh-CN" lang="zh-CN" rel="external"
                    aria-current=move || is_zh().then_some("true")>"中文"</a>
                <a href=move || href("en") hreflang="en" lang="en" rel="external"
                    aria-current=move || (!is_zh()).then_some("true")>"EN"</a>
            </nav>
        </header>
    }
}

#[component]
pub fn TabBar() -> impl IntoView {
    let i18n = use_i18n();
    // Staff pages are not the patients' app: no patient tabs there.
    if use_location()
        .pathname
        .get_untracked()
        .starts_with("/staff")
    {
        return ().into_any();
    }
    let viewer = crate::viewer::current_viewer();
    let unread = viewer.unread_notices;
    let unread_consult = viewer.unread_consult;
    let badge = |n: u32, id: &'static str| {
        (n > 0).then(|| view! { <span class="tab-badge" data-testid=id>{if n > 99 { "99+".to_owned() } else { n.to_string() }}</span> })
    };
    view! {
        <nav class="tab-bar" aria-label=move || t_string!(i18n, nav.main)>
            <A href="/" exact=true>
                <svg aria-hidden="true" viewBox="0 0 24 24"><path d="M3 11 12 3l9 8v10h-6v-6H9v6H3z" /></svg>
                <span>{t_string!(i18n, nav.home)}</span>
            </A>
            <A href="/consults">
                <svg aria-hidden="true" viewBox="0 0 24 24"><path d="M4 4h16v12H8l-4 4z" /></svg>
                <span>{t_string!(i18n, nav.consults)}</span>
                {badge(unread_consult, "consult-badge")}
            </A>
            <A href="/messages">
                <svg aria-hidden="true" viewBox="0 0 24 24"><path d="M12 3a6 6 0 0 0-6 6v5l-2 3h16l-2-3V9a6 6 0 0 0-6-6zm-2 16a2 2 0 0 0 4 0" /></svg>
                <span>{t_string!(i18n, nav.messages)}</span>
                {badge(unread, "unread-badge")}
            </A>
            <A href="/me">
                <svg aria-hidden="true" viewBox="0 0 24 24"><path d="M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm-8 9a8 8 0 0 1 16 0z" /></svg>
                <span>{t_string!(i18n, nav.me)}</span>
            </A>
        </nav>
    }
    .into_any()
}
