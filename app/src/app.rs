use crate::components::{TabBar, TopBar};
use crate::i18n::*;
use crate::pages::*;
use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
// Async: the whole page is rendered before it is sent, so it is complete without
// JavaScript (out-of-order streaming would need JS to place Suspense content).
use leptos_router::{
    SsrMode,
    components::{Route, Router, Routes},
    path,
};

/// The HTML document around the app, rendered only on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    provide_request_nonce();
    view! {
        <!DOCTYPE html>
        <html lang="zh-CN">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover" />
                <meta name="theme-color" content="#0b7a75" />
                <meta name="format-detection" content="telephone=no" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HashedStylesheet options=options.clone() id="leptos" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The server's CSP middleware puts a per-request nonce in the request; Leptos' inline
/// scripts must carry the same one.
#[cfg(feature = "ssr")]
fn provide_request_nonce() {
    if let Some(nonce) = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<CspNonce>().cloned())
    {
        provide_context(leptos::nonce::Nonce::from_value(nonce.0));
    }
}

/// A per-request Content-Security-Policy nonce, made by the server.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <I18nContextProvider>
            <Router>
                <PageChrome />
                <TopBar />
                <main id="main" class="page">
                    <Routes fallback=|| view! { <NotFound /> }.into_any()>
                        <Route path=path!("/") ssr=SsrMode::Async view=|| view! { <HomePage /> }.into_any() />
                        <Route path=path!("/register") ssr=SsrMode::Async view=|| view! { <RegisterPage /> }.into_any() />
                        <Route path=path!("/login") ssr=SsrMode::Async view=|| view! { <LoginPage /> }.into_any() />
                        <Route path=path!("/login/sms") ssr=SsrMode::Async view=|| view! { <SmsLoginPage /> }.into_any() />
                        <Route path=path!("/password/reset") ssr=SsrMode::Async view=|| view! { <ResetPasswordPage /> }.into_any() />
                        <Route path=path!("/me") ssr=SsrMode::Async view=|| view! { <MePage /> }.into_any() />
                        <Route path=path!("/me/password") ssr=SsrMode::Async view=|| view! { <ChangePasswordPage /> }.into_any() />
                        <Route path=path!("/consent") ssr=SsrMode::Async view=|| view! { <ConsentPage /> }.into_any() />
                        <Route path=path!("/consent/:document") ssr=SsrMode::Async view=|| view! { <ConsentDocumentPage /> }.into_any() />
                        <Route path=path!("/consults") ssr=SsrMode::Async view=|| view! { <ConsultsPage /> }.into_any() />
                        <Route path=path!("/messages") ssr=SsrMode::Async view=|| view! { <MessagesPage /> }.into_any() />
                    </Routes>
                </main>
                <TabBar />
            </Router>
        </I18nContextProvider>
    }
}

/// The title and skip link. Their text is resolved here, inside the i18n provider:
/// leptos_meta renders the title after the body, where a lazy lookup finds no context.
#[component]
fn PageChrome() -> impl IntoView {
    let i18n = use_i18n();
    let title = t_string!(i18n, app_name).to_string();
    let skip = t_string!(i18n, skip_to_content).to_string();
    view! {
        <Title text=title />
        <a class="skip-link" href="#main">{skip}</a>
    }
}
