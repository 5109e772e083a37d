//! One error shape for every API failure:
//! `{"error": {"code": "...", "message": "<localized>", "field": "<name or null>"}}`.
use super::client::locale_of;
use crate::services::AppError;
use app::domain::{ErrorCode, Field, FieldError};
use app::i18n::Locale;
use app::messages::{error_message, locked_message};
use axum::Json;
use axum::extract::{FromRequest, Request, rejection::JsonRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

pub fn api_error(locale: Locale, err: AppError) -> Response {
    let (error, retry) = match err {
        AppError::Rejected {
            error,
            retry_after_secs,
        } => (error, retry_after_secs),
        AppError::Internal(e) => {
            tracing::error!(error = ?e, "request failed");
            (FieldError::general(ErrorCode::Internal), None)
        }
    };
    let message = match (error.code, retry) {
        (ErrorCode::AccountLocked, Some(secs)) => locked_message(locale, (secs + 59) / 60),
        (code, _) => error_message(locale, code),
    };
    let status =
        StatusCode::from_u16(error.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::json!({
        "error": { "code": error.code.as_str(), "message": message, "field": error.field.map(Field::as_str) }
    });
    let mut response = (status, Json(body)).into_response();
    if let Some(secs) = retry {
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    response
}

/// `Json<T>` whose rejections use our error shape.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Response;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let locale = locale_of(req.headers());
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => {
                let code = match &rejection {
                    JsonRejection::MissingJsonContentType(_) => ErrorCode::UnsupportedMediaType,
                    r if r.status() == StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
                    _ => ErrorCode::InvalidJson,
                };
                Err(api_error(locale, FieldError::new(code, Field::Body).into()))
            }
        }
    }
}
