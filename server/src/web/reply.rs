//! One handler per operation for both ways in: the REST API (JSON in, JSON out) and the
//! HTML forms of pages that work without JavaScript (a form in, a 303 out: onward on
//! success, back to the page with `?error=` otherwise). The operation's typed input is
//! parsed by [`Input`] from either body, and [`Reply`] answers in the caller's way from
//! the same result, so the two cannot drift apart.
use super::error::ApiError;
use super::extract::{Form, Json};
use super::forms::{back_with, local_path};
use crate::error::AppError;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

/// An operation's input, from a JSON body (the API) or a URL-encoded form (a route
/// under `/forms/`): the same type. A form that does not parse goes back to its page
/// with `?error=invalid_form`.
pub struct Input<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Input<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        if is_form_route(req.uri()) {
            let back = referer_path(req.headers());
            Form::<T>::from_request(req, state)
                .await
                .map(|Form(v)| Input(v))
                .map_err(|e| back_with(&back, rejected(e)))
        } else {
            Json::<T>::from_request(req, state)
                .await
                .map(|Json(v)| Input(v))
                .map_err(IntoResponse::into_response)
        }
    }
}

/// An input that may be left out: a request with no body and no content type (a DELETE
/// through the API) has none; a form's fields, or a body, are parsed as [`Input`].
impl<S: Send + Sync, T: DeserializeOwned> axum::extract::OptionalFromRequest<S> for Input<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Response> {
        let empty = !req.headers().contains_key(header::CONTENT_TYPE)
            && req
                .headers()
                .get(header::CONTENT_LENGTH)
                .is_none_or(|len| len.as_bytes() == b"0");
        if empty {
            return Ok(None);
        }
        <Input<T> as FromRequest<S>>::from_request(req, state)
            .await
            .map(Some)
    }
}

fn rejected(e: ApiError) -> AppError {
    AppError::Rejected {
        error: e.error,
        retry_after_secs: e.retry_after_secs,
    }
}

/// How the caller is answered: JSON for the API, a redirect for a page's form (a route
/// under `/forms/`).
#[derive(Debug, Clone)]
pub enum Reply {
    Json,
    /// A form posted by a browser; `back` is the page it came from (ours only).
    Page {
        back: String,
    },
}

impl<S: Send + Sync> FromRequestParts<S> for Reply {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(if is_form_route(&parts.uri) {
            Reply::Page {
                back: referer_path(&parts.headers),
            }
        } else {
            Reply::Json
        })
    }
}

impl Reply {
    pub fn is_page(&self) -> bool {
        matches!(self, Reply::Page { .. })
    }

    /// The page a refused form goes back to is `page` rather than the one it came from.
    pub fn back_to(self, page: impl Into<String>) -> Self {
        match self {
            Reply::Json => Reply::Json,
            Reply::Page { .. } => Reply::Page { back: page.into() },
        }
    }

    /// Answers `result`: JSON with `status`, or a redirect to `next(&value)`; a refusal
    /// as an API error, or back to the page with it.
    pub fn answer<T: Serialize>(
        self,
        result: Result<T, AppError>,
        status: StatusCode,
        next: impl FnOnce(&T) -> String,
    ) -> Response {
        match (self, result) {
            (Reply::Json, Ok(v)) => (status, axum::Json(v)).into_response(),
            (Reply::Json, Err(e)) => ApiError::from(e).into_response(),
            (Reply::Page { .. }, Ok(v)) => Redirect::to(&next(&v)).into_response(),
            (Reply::Page { back }, Err(e)) => back_with(&back, e),
        }
    }

    /// [`Reply::answer`] for an operation with nothing to say: 204, or the next page.
    pub fn done(self, result: Result<(), AppError>, next: impl FnOnce() -> String) -> Response {
        match (self, result) {
            (Reply::Json, Ok(())) => StatusCode::NO_CONTENT.into_response(),
            (Reply::Page { .. }, Ok(())) => Redirect::to(&next()).into_response(),
            (reply, Err(e)) => reply.answer::<()>(Err(e), StatusCode::OK, |_| String::new()),
        }
    }
}

/// Pages post their forms under `/forms/`; everything else is the API.
fn is_form_route(uri: &axum::http::Uri) -> bool {
    uri.path().starts_with("/forms/")
}

/// The page a form was posted from (only a path of ours), else the home page.
fn referer_path(headers: &HeaderMap) -> String {
    headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(local_path)
        .map(|p| strip_outcome(&p))
        .unwrap_or_else(|| "/".to_owned())
}

/// A page returned to shows this answer's outcome, not the last one's.
fn strip_outcome(path: &str) -> String {
    let Some((base, query)) = path.split_once('?') else {
        return path.to_owned();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|kv| {
            let key = kv.split('=').next().unwrap_or_default();
            !matches!(key, "error" | "field" | "retry" | "notice")
        })
        .collect();
    if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    }
}

/// A checkbox: `true`/`false` in JSON; in a form, present ("on", "yes", "true") or not.
pub fn checkbox<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Checked {
        Bool(bool),
        Text(String),
    }
    Ok(match Checked::deserialize(d)? {
        Checked::Bool(b) => b,
        Checked::Text(t) => matches!(t.as_str(), "on" | "yes" | "true"),
    })
}

#[cfg(test)]
mod tests {
    use super::strip_outcome;

    #[test]
    fn a_page_returned_to_drops_the_last_outcome_only() {
        assert_eq!(strip_outcome("/doctors/D1?error=slot_taken"), "/doctors/D1");
        assert_eq!(
            strip_outcome("/staff/desk?date=2026-12-07&notice=called&field=x"),
            "/staff/desk?date=2026-12-07"
        );
        assert_eq!(strip_outcome("/me"), "/me");
    }
}
