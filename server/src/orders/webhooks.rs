//! Payment providers call in here (R-PAY-4): no session, no CSRF token (the provider has
//! neither), its own body limit; the signature on the raw body is the only credential.
//! A delivery is stored once by its event id and answered 200 every time it comes, so the
//! provider stops retrying; a bad signature gets 400 and changes nothing.
use crate::orders::payments::events;
use crate::orders::payments::events::Delivery;
use crate::orders::payments::webhook_signature;
use crate::state::AppState;
use crate::web::api::ApiResult;
use crate::web::error::ApiError;
use crate::web::extract::RawBody;
use crate::web::openapi::ErrorBody;
use app::domain::{ErrorCode, Field, FieldError};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Stripe's events are a few kilobytes; a payload this big is not one of them.
pub const WEBHOOK_BODY_LIMIT: usize = 256 * 1024;

/// The webhook routes, documented like the rest of the API but served outside the
/// session and CSRF layers.
pub fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stripe_webhook))
}

/// The parts of an event every delivery has; the rest stays in the stored payload.
#[derive(Deserialize)]
struct Envelope {
    id: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Received {
    received: bool,
    /// This event had arrived before: nothing changed.
    duplicate: bool,
}

/// Stripe's webhook: the signed event, stored once (R-PAY-4).
#[utoipa::path(post, path = "/api/v1/payments/stripe/webhook", tag = "payments",
    request_body(content = String, description = "The event as Stripe signed it (JSON)", content_type = "application/json"),
    params(("Stripe-Signature" = String, Header, description = "t=<unix time>,v1=<HMAC-SHA256 hex>")),
    responses(
        (status = 200, body = Received),
        (status = 400, description = "webhook_signature_invalid, invalid_json", body = ErrorBody),
        (status = 404, description = "no webhook secret configured", body = ErrorBody),
        (status = 413, description = "payload_too_large (over 256 KiB)", body = ErrorBody),
    ))]
pub(crate) async fn stripe_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult {
    if state.stripe_webhook_secrets.is_empty() {
        return Err(ApiError::from(FieldError::general(ErrorCode::NotFound)));
    }
    let bad_signature = || ApiError::from(FieldError::general(ErrorCode::WebhookSignatureInvalid));
    let header = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(bad_signature)?;
    let secrets: Vec<&[u8]> = state
        .stripe_webhook_secrets
        .iter()
        .map(|s| s.expose_secret().as_bytes())
        .collect();
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let signed_at = webhook_signature::verify(header, &body, &secrets, now).map_err(|e| {
        tracing::warn!(reason = %e, "webhook delivery refused");
        bad_signature()
    })?;
    let bad_json = || ApiError::from(FieldError::new(ErrorCode::InvalidJson, Field::Body));
    let payload = std::str::from_utf8(&body).map_err(|_| bad_json())?;
    let event: Envelope = serde_json::from_str(payload).map_err(|_| bad_json())?;
    if event.id.is_empty()
        || event.id.len() > 255
        || event.kind.is_empty()
        || event.kind.len() > 128
    {
        return Err(bad_json());
    }
    let first = events::record(
        &state.db,
        &Delivery {
            provider: "stripe",
            event_id: &event.id,
            event_type: &event.kind,
            signed_at,
            payload,
        },
        now,
    )
    .await
    .map_err(crate::error::AppError::from)?;
    if first {
        // Applied now when it can be; the job catches up whatever fails or waits here.
        let applied = async {
            match events::find(&state.db, "stripe", &event.id).await? {
                Some(id) => {
                    crate::orders::process_event(&state, id, OffsetDateTime::now_utc()).await
                }
                None => Ok(false),
            }
        };
        if let Err(e) = applied.await {
            tracing::warn!(error = ?e, "processing a delivered event failed; the job retries");
        }
    }
    Ok((
        StatusCode::OK,
        axum::Json(Received {
            received: true,
            duplicate: !first,
        }),
    )
        .into_response())
}
