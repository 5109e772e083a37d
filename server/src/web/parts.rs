//! What the web layer keeps between requests. The app's [`crate::state::State`] holds
//! it and hands each piece to the layers and extractors that use it through `FromRef`,
//! so nothing in the web layer names the app's state.
use super::client::TrustedProxies;
use super::cookies::CookieNames;
use super::csrf::CsrfKey;
use super::page_cache::PageCache;
use super::throttle::Throttle;

#[derive(Clone)]
pub struct WebParts {
    pub csrf_key: CsrfKey,
    pub cookies: CookieNames,
    pub trusted_proxies: TrustedProxies,
    /// Requests one address may make per minute on the guessing routes.
    pub throttle: Throttle,
    /// Pages for visitors who are not logged in, rendered once a second.
    pub page_cache: PageCache,
}
