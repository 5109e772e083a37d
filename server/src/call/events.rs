//! What Janus's event handler (`sampleevh`, deploy/janus/) reports of the primary
//! system's rooms: each side joining, publishing, stopping and leaving, its connection
//! coming up or hanging up, its media stopping or coming back. Each report about a call's
//! room is kept as a row of `call_media_event` (append-only), so the record shows what the
//! media server itself saw (全程留痕). Janus sends them with HTTP basic authentication,
//! the password being the API secret this server shares with it.
use super::CallParts;
use super::sfu::side_of_publisher;
use crate::db::{call_media_event, consult_call};
use crate::state::AppState;
use crate::web::extract::RawBody;
use app::domain::consult::Side;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use base64::{Engine, engine::general_purpose::STANDARD};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Janus groups events; a batch is never this big.
pub const EVENTS_BODY_LIMIT: usize = 512 * 1024;

/// The publishers' handles seen joining, so their connection and media reports find
/// their call: handle → (call id, side).
#[derive(Default)]
pub struct Handles(Mutex<HashMap<u64, (i64, Side)>>);

/// One report as kept: (what, detail, side, the handle it concerns, the room).
#[derive(Debug, PartialEq, Eq)]
pub struct Seen {
    pub what: &'static str,
    pub detail: Option<String>,
    pub publisher: Option<u64>,
    pub handle: u64,
    pub room: Option<u64>,
}

/// What a Janus event says, if it is one kept: VideoRoom publishers' comings and goings
/// (type 64), connections (16) and media (32).
pub fn read(e: &Value) -> Option<Seen> {
    let handle = e["handle_id"].as_u64().unwrap_or(0);
    let ev = &e["event"];
    match e["type"].as_u64()? {
        64 => {
            let data = &ev["data"];
            let what = match data["event"].as_str()? {
                "joined" => "joined",
                "published" => "published",
                "unpublished" => "unpublished",
                "leaving" => "left",
                _ => return None,
            };
            Some(Seen {
                what,
                detail: None,
                publisher: data["id"].as_u64(),
                handle,
                room: data["room"].as_u64(),
            })
        }
        16 => {
            let what = match ev["connection"].as_str()? {
                "webrtcup" => "connected",
                "hangup" => "hung_up",
                _ => return None,
            };
            let detail = ev["reason"].as_str().map(|r| r.chars().take(64).collect());
            Some(Seen {
                what,
                detail,
                publisher: None,
                handle,
                room: None,
            })
        }
        32 => {
            let receiving = ev["receiving"].as_bool()?;
            let kind = ev["media"].as_str().unwrap_or("media");
            Some(Seen {
                what: if receiving {
                    "media_back"
                } else {
                    "media_stopped"
                },
                detail: Some(kind.chars().take(16).collect()),
                publisher: None,
                handle,
                room: None,
            })
        }
        _ => None,
    }
}

fn authorized(parts: &CallParts, headers: &HeaderMap) -> bool {
    let Some(expected) = &parts.janus_events_digest else {
        return false;
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let Some((_, password)) = given.as_deref().and_then(|g| g.split_once(':')) else {
        return false;
    };
    // Digests compared: how long a match runs says nothing about the secret.
    ring::digest::digest(&ring::digest::SHA256, password.as_bytes()).as_ref() == expected
}

/// Janus's event handler delivers here.
#[utoipa::path(post, path = "/api/v1/calls/media-events", tag = "calls",
    request_body(content = String, description = "Janus's events (JSON, one or a list)", content_type = "application/json"),
    responses(
        (status = 204, description = "kept (events about no call are dropped)"),
        (status = 401, description = "not the media server"),
    ))]
pub(crate) async fn media_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> StatusCode {
    let Ok(parts) = state.parts.get::<CallParts>() else {
        return StatusCode::UNAUTHORIZED;
    };
    if !authorized(parts, &headers) {
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let all = match v {
        Value::Array(all) => all,
        one => vec![one],
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for e in &all {
        let Some(seen) = read(e) else { continue };
        let at_ms = e["timestamp"].as_i64().map_or(now * 1000, |us| us / 1000);
        if let Err(err) = keep(&state, parts, seen, at_ms, now).await {
            tracing::warn!(error = ?err, "a media server event was not kept");
        }
    }
    StatusCode::NO_CONTENT
}

async fn keep(
    state: &AppState,
    parts: &CallParts,
    seen: Seen,
    at_ms: i64,
    now: i64,
) -> anyhow::Result<()> {
    let (call_id, side) = match seen.room {
        Some(room) => {
            let Some(call) = consult_call::Entity::find()
                .filter(consult_call::Column::Room.eq(room.to_string()))
                .order_by_desc(consult_call::Column::Id)
                .one(&state.db)
                .await?
            else {
                return Ok(());
            };
            let side = seen.publisher.map(side_of_publisher);
            if let (Some(side), Ok(mut handles)) = (side, parts.janus_handles.0.lock()) {
                if seen.what == "left" || seen.what == "unpublished" {
                    handles.remove(&seen.handle);
                } else {
                    handles.insert(seen.handle, (call.id, side));
                }
            }
            (call.id, side)
        }
        None => {
            let found = parts
                .janus_handles
                .0
                .lock()
                .ok()
                .and_then(|h| h.get(&seen.handle).copied());
            let Some((call, side)) = found else {
                return Ok(());
            };
            (call, Some(side))
        }
    };
    call_media_event::ActiveModel {
        call_id: Set(call_id),
        side: Set(side.map(|s| s.as_str().to_owned())),
        what: Set(seen.what.to_owned()),
        detail: Set(seen.detail),
        at_ms: Set(at_ms),
        received_at: Set(now),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    Ok(())
}

/// Served outside the session and CSRF layers: the password is the credential.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(media_events))
        .layer(axum::extract::DefaultBodyLimit::max(EVENTS_BODY_LIMIT))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn janus_reports_become_what_the_record_keeps() {
        let joined = json!({"type": 64, "handle_id": 9, "timestamp": 1_000_000,
            "event": {"plugin": "janus.plugin.videoroom",
                      "data": {"event": "joined", "room": 77, "id": 4813, "display": "patient"}}});
        assert_eq!(
            read(&joined),
            Some(Seen {
                what: "joined",
                detail: None,
                publisher: Some(4813),
                handle: 9,
                room: Some(77)
            })
        );
        let up = json!({"type": 16, "handle_id": 9, "event": {"connection": "webrtcup"}});
        assert_eq!(read(&up).map(|s| s.what), Some("connected"));
        let lost =
            json!({"type": 32, "handle_id": 9, "event": {"media": "video", "receiving": false}});
        let lost = read(&lost).unwrap();
        assert_eq!(
            (lost.what, lost.detail.as_deref()),
            ("media_stopped", Some("video"))
        );
        // Not kept: a session made, an ICE detail, a subscriber's own event.
        assert_eq!(
            read(&json!({"type": 1, "event": {"name": "created"}})),
            None
        );
        assert_eq!(
            read(&json!({"type": 16, "event": {"ice": "gathering"}})),
            None
        );
        assert_eq!(
            read(&json!({"type": 64, "event": {"data": {"event": "subscribed"}}})),
            None
        );
    }
}
