//! Stateless CSRF protection (signed double submit): a random secret in a cookie, and
//! a token = HMAC(server key, secret) in every form and in `X-CSRF-Token`. Showing a
//! page therefore writes nothing; an attacker can neither read the cookie nor compute
//! a token for it, and (with the `__Host-` prefix in production) cannot plant one.
use super::client::cookie;
use super::cookies::CookieNames;
use super::error::ApiError;
use app::domain::{ErrorCode, FieldError};
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// The token for this request's secret, for pages to put in their forms.
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

#[derive(Clone)]
pub struct CsrfKey([u8; 32]);

impl CsrfKey {
    pub fn derive(cookie_key: &[u8]) -> Self {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(cookie_key).expect("HMAC takes any key length");
        mac.update(b"fuzhen-csrf-v1");
        Self(mac.finalize().into_bytes().into())
    }

    fn token(&self, secret: &str) -> String {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(secret.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    fn matches(&self, secret: &str, given: &str) -> bool {
        let Ok(given) = hex::decode(given) else {
            return false;
        };
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(secret.as_bytes());
        mac.verify_slice(&given).is_ok()
    }
}

fn valid_secret(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Makes sure the request has a secret (a new one is set as a cookie, nothing is
/// stored) and gives handlers and pages its token.
pub async fn issue(
    State(key): State<CsrfKey>,
    State(cookies): State<CookieNames>,
    mut req: Request,
    next: Next,
) -> Response {
    let name = cookies.csrf_name();
    let existing = cookie(req.headers(), name)
        .filter(|s| valid_secret(s))
        .map(str::to_owned);
    let (secret, fresh) = match existing {
        Some(s) => (s, false),
        None => {
            let mut bytes = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            (hex::encode(bytes), true)
        }
    };
    req.extensions_mut().insert(CsrfToken(key.token(&secret)));
    req.extensions_mut().insert(CsrfSecret(secret.clone()));
    let mut res = next.run(req).await;
    if fresh {
        let cookie = format!(
            "{name}={secret}; Path=/; HttpOnly; SameSite=Lax{}",
            if cookies.secure { "; Secure" } else { "" }
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

#[derive(Clone)]
struct CsrfSecret(String);

/// Form bodies are small; a bigger one is refused before it is buffered.
const FORM_LIMIT: usize = 16 * 1024;

/// Refuses a state-changing request whose token (header, or `csrf_token` form field)
/// does not belong to its cookie. Goes on every state-changing route group, inside
/// [`issue`].
pub async fn require(State(key): State<CsrfKey>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let secret = req.extensions().get::<CsrfSecret>().map(|s| s.0.clone());
    let header_token = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (req, given) = match header_token {
        Some(t) => (req, Some(t)),
        None if is_form => {
            let (parts, body) = req.into_parts();
            let Ok(bytes) = to_bytes(body, FORM_LIMIT).await else {
                return ApiError::new(ErrorCode::PayloadTooLarge, Some(app::domain::Field::Body))
                    .into_response();
            };
            let token = form_urlencoded::parse(&bytes)
                .find(|(k, _)| k == "csrf_token")
                .map(|(_, v)| v.into_owned());
            (Request::from_parts(parts, Body::from(bytes)), token)
        }
        // A multipart form (a no-JS file upload) carries the token in its action's query:
        // the body is files, read only by the handler. The token is bound to the cookie,
        // so one seen in a log is useless on its own.
        None if is_multipart(&req) => {
            let token = req.uri().query().and_then(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .find(|(k, _)| k == "csrf_token")
                    .map(|(_, v)| v.into_owned())
            });
            (req, token)
        }
        None => (req, None),
    };
    let ok = matches!((&secret, &given), (Some(s), Some(g)) if key.matches(s, g));
    if ok {
        return next.run(req).await;
    }
    if is_form || is_multipart(&req) {
        // A browser form (an old tab, cleared cookies): back to the page, with the reason.
        return super::forms::back_with_error(req.headers(), ErrorCode::CsrfMissing);
    }
    ApiError::from(FieldError::general(ErrorCode::CsrfMissing)).into_response()
}

fn is_multipart(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"))
}

/// For server functions, which Leptos' client posts without our token: the browser's
/// own `Sec-Fetch-Site` / `Origin` say whether the request came from our pages.
pub async fn require_same_origin(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let h = req.headers();
    let site = h.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let same = match site {
        Some(s) => s == "same-origin",
        None => {
            let host = h.get(header::HOST).and_then(|v| v.to_str().ok());
            let origin = h.get(header::ORIGIN).and_then(|v| v.to_str().ok());
            matches!((host, origin), (Some(host), Some(origin))
                if origin.split_once("://").is_some_and(|(_, o)| o == host))
        }
    };
    if same {
        next.run(req).await
    } else {
        ApiError::from(FieldError::general(ErrorCode::CsrfMissing)).into_response()
    }
}
