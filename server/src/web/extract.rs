//! axum's body and query extractors, with their rejections in our error shape
//! (naming what was wrong) instead of plain-text bodies.
use super::error::ApiError;
use app::domain::{ErrorCode, Field};
use axum::extract::rejection::{FormRejection, JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

pub struct Json<T>(pub T);
pub struct Form<T>(pub T);
pub struct Query<T>(pub T);

fn too_large(status: StatusCode) -> bool {
    status == StatusCode::PAYLOAD_TOO_LARGE
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(r) => Err(ApiError::new(
                match &r {
                    JsonRejection::MissingJsonContentType(_) => ErrorCode::UnsupportedMediaType,
                    r if too_large(r.status()) => ErrorCode::PayloadTooLarge,
                    _ => ErrorCode::InvalidJson,
                },
                Some(Field::Body),
            )),
        }
    }
}

/// The body exactly as sent (a signature is computed over these bytes); a body over the
/// route's limit, or one that could not be read, is answered in our error shape.
pub struct RawBody(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::body::Bytes::from_request(req, state)
            .await
            .map(RawBody)
            .map_err(|r| {
                let code = if too_large(r.status()) {
                    ErrorCode::PayloadTooLarge
                } else {
                    ErrorCode::InvalidJson
                };
                ApiError::new(code, Some(Field::Body))
            })
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Form<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(Form(v)),
            Err(r) => Err(ApiError::new(
                match &r {
                    FormRejection::InvalidFormContentType(_) => ErrorCode::UnsupportedMediaType,
                    r if too_large(r.status()) => ErrorCode::PayloadTooLarge,
                    _ => ErrorCode::InvalidForm,
                },
                Some(Field::Body),
            )),
        }
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(_)) | Err(_) => {
                Err(ApiError::new(ErrorCode::InvalidQuery, Some(Field::Query)))
            }
        }
    }
}

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}
