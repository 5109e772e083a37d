//! One error type for the web layer. Handlers, extractors and layers return
//! [`ApiError`]; [`render_errors`] turns it — and the rejections axum and tower-http
//! make on their own (405, 408, 413) — into the documented shape, in the asker's language:
//! `{"error": {"code": "...", "message": "<localized>", "field": "<name or null>"}}`.
use super::client::locale_of;
use crate::error::AppError;
use app::domain::{ErrorCode, Field, FieldError};
use app::localized::error_message;
use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone)]
pub struct ApiError {
    pub error: FieldError,
    pub retry_after_secs: Option<i64>,
    /// For `text_blocked` (R-CONS-5): the words to change, named in the answer.
    pub blocked_words: Vec<String>,
    /// For `slot_taken` (R-BOOK-2): the doctor's next free slots.
    pub next_slots: Vec<crate::booking::free_slot::FreeSlot>,
}

impl ApiError {
    pub fn new(code: ErrorCode, field: Option<Field>) -> Self {
        Self {
            error: FieldError { code, field },
            retry_after_secs: None,
            blocked_words: Vec::new(),
            next_slots: Vec::new(),
        }
    }
}

impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> Self {
        Self {
            error,
            retry_after_secs: None,
            blocked_words: Vec::new(),
            next_slots: Vec::new(),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Rejected {
                error,
                retry_after_secs,
            } => Self {
                error,
                retry_after_secs,
                blocked_words: Vec::new(),
                next_slots: Vec::new(),
            },
            AppError::Blocked { field, words } => Self {
                error: FieldError::new(ErrorCode::TextBlocked, field),
                retry_after_secs: None,
                blocked_words: words,
                next_slots: Vec::new(),
            },
            AppError::SlotTaken { next } => Self {
                error: FieldError::general(ErrorCode::SlotTaken),
                retry_after_secs: None,
                blocked_words: Vec::new(),
                next_slots: next,
            },
            AppError::Busy { retry_after_secs } => Self {
                error: FieldError::general(ErrorCode::Busy),
                retry_after_secs: Some(retry_after_secs),
                blocked_words: Vec::new(),
                next_slots: Vec::new(),
            },
            AppError::Internal(e) => {
                // Logged once, here, where it is handled; the client learns nothing more.
                tracing::error!(error = ?e, "request failed");
                Self::new(ErrorCode::Internal, None)
            }
        }
    }
}

/// Waits in the response for [`render_errors`], which knows the request's language.
#[derive(Clone)]
struct Unrendered(ApiError);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.error.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = status.into_response();
        res.extensions_mut().insert(Unrendered(self));
        res
    }
}

/// The outermost layer: renders every [`ApiError`] and axum's own bare rejections.
pub async fn render_errors(req: Request, next: Next) -> Response {
    let locale = locale_of(req.headers());
    let mut res = next.run(req).await;
    let pending = res.extensions_mut().remove::<Unrendered>().map(|u| u.0);
    let bare = res.headers().get(header::CONTENT_TYPE).is_none();
    let error = match (pending, res.status()) {
        (Some(e), _) => e,
        (None, StatusCode::METHOD_NOT_ALLOWED) if bare => {
            ApiError::new(ErrorCode::MethodNotAllowed, None)
        }
        (None, StatusCode::REQUEST_TIMEOUT) if bare => {
            ApiError::new(ErrorCode::RequestTimeout, None)
        }
        (None, StatusCode::PAYLOAD_TOO_LARGE) if bare => {
            ApiError::new(ErrorCode::PayloadTooLarge, Some(Field::Body))
        }
        _ => return res,
    };
    let mut message = error_message(locale, error.error.code);
    let mut body = serde_json::json!({
        "error": {
            "code": error.error.code.as_str(),
            "message": "",
            "field": error.error.field.map(Field::as_str),
        }
    });
    if !error.blocked_words.is_empty() {
        message = format!("{message} {}", error.blocked_words.join("、"));
        body["error"]["words"] = serde_json::json!(error.blocked_words);
    }
    if error.error.code == ErrorCode::SlotTaken {
        body["error"]["next_slots"] = serde_json::json!(error.next_slots);
    }
    body["error"]["message"] = serde_json::json!(message);
    let (mut parts, _) = res.into_parts();
    let rendered = Json(body).into_response();
    // Keep what the rejection set (status, `Allow`, cookies), take the JSON body and type.
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    if let Some(v) = error
        .retry_after_secs
        .and_then(|secs| HeaderValue::from_str(&secs.max(1).to_string()).ok())
    {
        parts.headers.insert(header::RETRY_AFTER, v);
    }
    Response::from_parts(parts, rendered.into_body())
}
