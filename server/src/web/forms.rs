//! What the pages' forms share: the way back to a page with an error, the numbers and
//! paths that may go into an address, and the language switch. The forms themselves are
//! the features' operations ([`super::reply`]); CSRF is checked by the group's layer
//! before any of them run.
use super::client::LOCALE_COOKIE;
use super::error::ApiError;
use super::extract::Query;
use crate::error::AppError;
use app::domain::ErrorCode;
use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Router, routing::get};
use serde::Deserialize;

/// Not state-changing and needs no session: the language switch.
pub fn language_routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/lang/{tag}", get(switch_language))
}

/// Back to `page` with the error in the query; the page shows it by its field.
pub(crate) fn back_with(page: &str, err: AppError) -> Response {
    let e = ApiError::from(err);
    let sep = if page.contains('?') { '&' } else { '?' };
    let mut url = format!("{page}{sep}error={}", e.error.code.as_str());
    if let Some(f) = e.error.field {
        url.push_str(&format!("&field={}", f.as_str()));
    }
    if let Some(secs) = e.retry_after_secs {
        url.push_str(&format!("&retry={}", (secs + 59) / 60));
    }
    Redirect::to(&url).into_response()
}

/// A booking, queue or doctor number from a form, reduced to what numbers are made of,
/// so it can go back into a redirect.
pub(crate) fn record_number(raw: &str) -> String {
    raw.chars()
        .filter(char::is_ascii_alphanumeric)
        .take(32)
        .collect()
}

/// `page` telling what was done (`?notice=`).
pub(crate) fn with_notice(page: &str, notice: &str) -> String {
    let sep = if page.contains('?') { '&' } else { '?' };
    format!("{page}{sep}notice={notice}")
}

pub(crate) fn with_query(path: &str, query: Option<&str>) -> String {
    match query {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    }
}

#[derive(Deserialize)]
struct Back {
    back: Option<String>,
}

/// Sends a browser form back to the page it came from, with the reason in `?error=`.
pub fn is_browser_form(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// Back to the page a form was posted from (only a path of ours), with `?error=code`.
pub fn back_with_error(headers: &axum::http::HeaderMap, code: ErrorCode) -> Response {
    let back = headers
        .get(axum::http::header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(local_path)
        .unwrap_or_else(|| "/".to_owned());
    let sep = if back.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{back}{sep}error={}", code.as_str())).into_response()
}

/// A path of this app to return to, or `None`. Refuses anything a browser could read as
/// another origin: `//evil`, `/\evil`, and the same hidden behind percent-escapes or
/// control characters (`/%5Cevil.com`, `/%09/evil.com`).
pub fn local_path(target: &str) -> Option<String> {
    // A full URL of ours (a Referer): keep its path and query.
    let target = match target.split_once("://") {
        Some((_, rest)) => &rest[rest.find('/')?..],
        None => target,
    };
    let decoded: String = percent_decode(target)?;
    let bytes = decoded.as_bytes();
    let ok = bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/' | b'\\'))
        && !decoded.chars().any(|c| c.is_control() || c == '\\');
    ok.then(|| target.to_owned())
}

fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Sets the language cookie leptos_i18n reads, then returns to the page.
async fn switch_language(Path(tag): Path<String>, Query(q): Query<Back>) -> Response {
    let locale = match tag.as_str() {
        "en" => "en",
        _ => "zh-CN",
    };
    let back = q
        .back
        .and_then(|b| local_path(&b))
        .unwrap_or_else(|| "/".into());
    let mut res = Redirect::to(&back).into_response();
    let cookie = format!("{LOCALE_COOKIE}={locale}; Path=/; Max-Age=31536000; SameSite=Lax");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::local_path;

    // R-SEC: redirect targets are the app's own paths only.
    #[test]
    fn only_local_paths_are_returned_to() {
        for ok in ["/", "/me", "/register?x=1", "/consent/sensitive_info"] {
            assert_eq!(local_path(ok).as_deref(), Some(ok), "{ok}");
        }
        for bad in [
            "//evil.com",
            "/\\evil.com",
            "/%5Cevil.com",
            "/%5cevil.com",
            "/%09/evil.com",
            "/%2F/evil.com",
            "/\t/evil.com",
            "https:evil.com",
            "evil.com",
            "",
            "/%zz",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
        assert_eq!(
            local_path("http://127.0.0.1:3000/me?x=1").as_deref(),
            Some("/me?x=1")
        );
    }
}
