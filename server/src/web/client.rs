//! Who is asking: their address and their language.
use app::i18n::Locale;
use app::messages::parse_locale;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::{HeaderMap, request::Parts};
use std::net::SocketAddr;

/// The cookie leptos_i18n keeps the chosen language in.
pub const LOCALE_COOKIE: &str = "i18n_pref_locale";

pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // Behind a load balancer this would read its forwarded header instead.
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        Ok(ClientIp(ip))
    }
}

pub struct Lang(pub Locale);

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang(locale_of(&parts.headers)))
    }
}

/// The language cookie, else the first language of `Accept-Language` we have, else zh-CN.
pub fn locale_of(headers: &HeaderMap) -> Locale {
    let from_cookie = headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == LOCALE_COOKIE)
        .and_then(|(_, value)| parse_locale(value));
    from_cookie
        .or_else(|| {
            headers
                .get(axum::http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| {
                    v.split(',')
                        .find_map(|tag| parse_locale(tag.split(';').next().unwrap_or_default()))
                })
        })
        .unwrap_or(Locale::zh_CN)
}
