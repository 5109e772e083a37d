use crate::accounts::{
    ChangePasswordPage, ConsentDocumentPage, ConsentPage, LoginPage, MePage, RegisterPage,
    ResetPasswordPage, SmsLoginPage,
};
use crate::assets::{AppStylesheet, IslandScripts};
use crate::booking::{BookingPage, ConsultsPage, QueuePage};
use crate::components::NotFound;
use crate::components::{Access, TabBar, TopBar, gated};
use crate::consult::{ConsultCallPage, ConsultDeskPage, ConsultPage, DoctorConsultPage};
use crate::doctors::{DoctorPage, DoctorsPage};
use crate::eligibility::{ConsultConsentPage, ConsultStartPage, EmergencyPage, ScreenPage};
use crate::family::{AddFamilyMemberPage, FamilyListPage};
use crate::home::HomePage;
use crate::i18n::*;
use crate::notices::{NoticePage, NoticesPage};
use crate::orders::{OrderPage, OrdersPage, SandboxCheckoutPage};
use crate::proofs::{NewProofPage, ProofsPage};
use crate::records::{AccessLogPage, RecordPage, RecordsPage};
use crate::staff::{
    DoctorDeskPage, StaffAccountsPage, StaffActivatePage, StaffEnrolPage, StaffHomePage,
    StaffLoginPage, StaffOrdersPage, StaffProofsPage, StaffReconciliationPage, StaffSchedulePage,
    StaffSecondFactorPage,
};
use leptos::prelude::*;
use leptos_meta::{Meta, MetaTags, Title, provide_meta_context};
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
                <AppStylesheet options=options.clone() />
                <IslandScripts options />
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

/// The pages the server may keep for visitors who are not logged in (rendered at most once
/// a second, each response still with its own CSP nonce and CSRF token): a page opts in
/// here, with its route, when it is the same for every such visitor. Each kept page varies
/// on its path, its query (every page reads `?error=`/`?notice=`) and the language. A page
/// not listed is rendered for every request.
pub const KEPT_FOR_ANONYMOUS: &[&str] = &[
    "/",
    "/register",
    "/login",
    "/login/sms",
    "/password/reset",
    "/doctors",
    "/doctors/:number",
    "/emergency",
    "/consent/:document",
];

/// Whether the page at `path` opted in to being kept for anonymous visitors.
pub fn kept_for_anonymous(path: &str) -> bool {
    let asked: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    KEPT_FOR_ANONYMOUS.iter().any(|route| {
        let parts: Vec<&str> = route.trim_end_matches('/').split('/').collect();
        parts.len() == asked.len()
            && parts
                .iter()
                .zip(&asked)
                .all(|(p, a)| p == a || (p.starts_with(':') && !a.is_empty()))
    })
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
                <PageMain>
                    // Every page says who may see it (R-REG-2); a new page is Consented
                    // unless it says otherwise.
                    <Routes fallback=|| view! { <NotFound /> }.into_any()>
                        <Route path=path!("/") ssr=SsrMode::Async view=|| gated(Access::Open, HomePage) />
                        <Route path=path!("/register") ssr=SsrMode::Async view=|| gated(Access::Open, RegisterPage) />
                        <Route path=path!("/login") ssr=SsrMode::Async view=|| gated(Access::Open, LoginPage) />
                        <Route path=path!("/login/sms") ssr=SsrMode::Async view=|| gated(Access::Open, SmsLoginPage) />
                        <Route path=path!("/password/reset") ssr=SsrMode::Async view=|| gated(Access::Open, ResetPasswordPage) />
                        <Route path=path!("/doctors") ssr=SsrMode::Async view=|| gated(Access::Open, DoctorsPage) />
                        <Route path=path!("/doctors/:number") ssr=SsrMode::Async view=|| gated(Access::Open, DoctorPage) />
                        <Route path=path!("/me") ssr=SsrMode::Async view=|| gated(Access::Consented, MePage) />
                        <Route path=path!("/me/password") ssr=SsrMode::Async view=|| gated(Access::Consented, ChangePasswordPage) />
                        <Route path=path!("/family") ssr=SsrMode::Async view=|| gated(Access::Consented, FamilyListPage) />
                        <Route path=path!("/family/new") ssr=SsrMode::Async view=|| gated(Access::Consented, AddFamilyMemberPage) />
                        // Staff (R-SEC-3): desktop-first pages of their own.
                        <Route path=path!("/staff/login") ssr=SsrMode::Async view=|| gated(Access::Anyone, StaffLoginPage) />
                        <Route path=path!("/staff/activate") ssr=SsrMode::Async view=|| gated(Access::Anyone, StaffActivatePage) />
                        <Route path=path!("/staff/second-factor") ssr=SsrMode::Async view=|| gated(Access::StaffSecondStep, StaffSecondFactorPage) />
                        <Route path=path!("/staff/enrol") ssr=SsrMode::Async view=|| gated(Access::StaffSecondStep, StaffEnrolPage) />
                        <Route path=path!("/staff") ssr=SsrMode::Async view=|| gated(Access::Staff, StaffHomePage) />
                        <Route path=path!("/staff/proofs") ssr=SsrMode::Async view=|| gated(Access::Staff, StaffProofsPage) />
                        <Route path=path!("/staff/desk") ssr=SsrMode::Async view=|| gated(Access::Staff, DoctorDeskPage) />
                        <Route path=path!("/staff/schedule") ssr=SsrMode::Async view=|| gated(Access::Staff, StaffSchedulePage) />
                        <Route path=path!("/staff/orders") ssr=SsrMode::Async view=|| gated(Access::Staff, StaffOrdersPage) />
                        <Route path=path!("/staff/reconciliation") ssr=SsrMode::Async view=|| gated(Access::Staff, StaffReconciliationPage) />
                        <Route path=path!("/staff/accounts") ssr=SsrMode::Async view=|| gated(Access::Staff, StaffAccountsPage) />
                        <Route path=path!("/staff/consults") ssr=SsrMode::Async view=|| gated(Access::Staff, ConsultDeskPage) />
                        <Route path=path!("/staff/consults/:number") ssr=SsrMode::Async view=|| gated(Access::Staff, DoctorConsultPage) />
                        <Route path=path!("/consent") ssr=SsrMode::Async view=|| gated(Access::Patient, ConsentPage) />
                        <Route path=path!("/consent/:document") ssr=SsrMode::Async view=|| gated(Access::Anyone, ConsentDocumentPage) />
                        <Route path=path!("/consults") ssr=SsrMode::Async view=|| gated(Access::Consented, ConsultsPage) />
                        <Route path=path!("/consults/:number") ssr=SsrMode::Async view=|| gated(Access::Consented, ConsultPage) />
                        <Route path=path!("/consults/:number/call") ssr=SsrMode::Async view=|| gated(Access::Consented, ConsultCallPage) />
                        <Route path=path!("/records") ssr=SsrMode::Async view=|| gated(Access::Consented, RecordsPage) />
                        <Route path=path!("/records/access") ssr=SsrMode::Async view=|| gated(Access::Consented, AccessLogPage) />
                        <Route path=path!("/records/:number") ssr=SsrMode::Async view=|| gated(Access::Consented, RecordPage) />
                        <Route path=path!("/queue/:number") ssr=SsrMode::Async view=|| gated(Access::Consented, QueuePage) />
                        <Route path=path!("/bookings/:number") ssr=SsrMode::Async view=|| gated(Access::Consented, BookingPage) />
                        <Route path=path!("/pay/sandbox/:order") ssr=SsrMode::Async view=|| gated(Access::Consented, SandboxCheckoutPage) />
                        <Route path=path!("/orders") ssr=SsrMode::Async view=|| gated(Access::Consented, OrdersPage) />
                        <Route path=path!("/orders/:number") ssr=SsrMode::Async view=|| gated(Access::Consented, OrderPage) />
                        <Route path=path!("/proofs") ssr=SsrMode::Async view=|| gated(Access::Consented, ProofsPage) />
                        <Route path=path!("/proofs/new") ssr=SsrMode::Async view=|| gated(Access::Consented, NewProofPage) />
                        <Route path=path!("/consult/start") ssr=SsrMode::Async view=|| gated(Access::Consented, ConsultStartPage) />
                        <Route path=path!("/consult/screen") ssr=SsrMode::Async view=|| gated(Access::Consented, ScreenPage) />
                        <Route path=path!("/consult/consent") ssr=SsrMode::Async view=|| gated(Access::Consented, ConsultConsentPage) />
                        <Route path=path!("/emergency") ssr=SsrMode::Async view=|| gated(Access::Anyone, EmergencyPage) />
                        <Route path=path!("/messages") ssr=SsrMode::Async view=|| gated(Access::Consented, NoticesPage) />
                        <Route path=path!("/messages/:id") ssr=SsrMode::Async view=|| gated(Access::Consented, NoticePage) />
                    </Routes>
                </PageMain>
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
    let description = t_string!(i18n, description).to_string();
    view! {
        <Title text=title />
        <Meta name="description" content=description />
        <a class="skip-link" href="#main">{skip}</a>
    }
}

/// The main landmark; staff pages get the wide, desktop-first layout.
#[component]
fn PageMain(children: Children) -> impl IntoView {
    let wide = leptos_router::hooks::use_location()
        .pathname
        .get_untracked()
        .starts_with("/staff");
    view! { <main id="main" class="page" class:page-wide=wide>{children()}</main> }
}

#[cfg(test)]
mod tests {
    use super::kept_for_anonymous;

    #[test]
    fn only_pages_that_opted_in_are_kept() {
        for kept in [
            "/",
            "/register",
            "/doctors",
            "/doctors/DR0001",
            "/consent/service_agreement",
        ] {
            assert!(kept_for_anonymous(kept), "{kept}");
        }
        for fresh in [
            "/me",
            "/staff/login",
            "/doctors/DR0001/x",
            "/doctorsx",
            "/orders",
            "/bookings/BK1",
        ] {
            assert!(!kept_for_anonymous(fresh), "{fresh}");
        }
    }
}
