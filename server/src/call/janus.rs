//! The primary media system's server side: Janus (Debian's `janus`, the VideoRoom plugin)
//! driven over its HTTP API on an internal address. Only this server holds the API secret
//! (and the VideoRoom's admin key, which room creation needs); Janus's admin API stays
//! off. Each call gets a private room with a random id, recorded into a folder of its
//! consult's; the room's own secret is derived from the API secret and the room id, so
//! nothing secret is stored with the call.
use super::media::{MediaError, MediaProvider};
use super::sfu::{Leg, LegNews};
use app::domain::call::MediaSystem;
use app::domain::consult::Side;
use secrecy::{ExposeSecret, SecretBox};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How to reach Janus and where it records. Cheap to clone: each side's media leg
/// (`super::sfu`) holds one.
#[derive(Clone)]
pub struct Janus {
    /// `http://10.0.0.5:8088/janus`
    url: String,
    api_secret: Arc<SecretBox<str>>,
    /// The folder under which Janus writes each consult's recordings (outside Janus's
    /// protected folders).
    recordings: String,
    client: reqwest_s3::Client,
}

/// `value` as a URL query value (percent-encoded but for unreserved characters).
fn query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Janus answered, but not with what was asked.
fn refused(v: &Value) -> MediaError {
    let reason = v["error"]["reason"]
        .as_str()
        .or_else(|| v["plugindata"]["data"]["error"].as_str())
        .unwrap_or("unexpected answer");
    MediaError::Refused(reason.to_owned())
}

impl Janus {
    pub fn new(url: &str, api_secret: &str, recordings: &str) -> anyhow::Result<Self> {
        // The HTTP client needs one crypto provider for the process (already set is fine).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest_s3::Client::builder()
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(2))
            .build()?;
        Ok(Self {
            url: url.trim_end_matches('/').to_owned(),
            api_secret: Arc::new(SecretBox::from(api_secret.to_owned())),
            recordings: recordings.trim_end_matches('/').to_owned(),
            client,
        })
    }

    /// One request of the API: the transaction and the secret added, an error answer
    /// turned into [`MediaError::Refused`].
    pub(super) async fn post(&self, path: &str, mut body: Value) -> Result<Value, MediaError> {
        body["transaction"] = json!(format!("{:016x}", rand::random::<u64>()));
        body["apisecret"] = json!(self.api_secret.expose_secret());
        let res = self
            .client
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| MediaError::Unreachable(e.to_string()))?;
        let bytes = res
            .bytes()
            .await
            .map_err(|e| MediaError::Unreachable(e.to_string()))?;
        let v: Value =
            serde_json::from_slice(&bytes).map_err(|e| MediaError::Refused(e.to_string()))?;
        if v["janus"] == "error" {
            return Err(refused(&v));
        }
        Ok(v)
    }

    /// A new session.
    pub(super) async fn session(&self) -> Result<u64, MediaError> {
        let created = self.post("", json!({ "janus": "create" })).await?;
        created["data"]["id"]
            .as_u64()
            .ok_or_else(|| refused(&created))
    }

    /// A VideoRoom handle in `session`.
    pub(super) async fn attach(&self, session: u64) -> Result<u64, MediaError> {
        let attached = self
            .post(
                &format!("/{session}"),
                json!({ "janus": "attach", "plugin": "janus.plugin.videoroom" }),
            )
            .await?;
        attached["data"]["id"]
            .as_u64()
            .ok_or_else(|| refused(&attached))
    }

    /// A session with a VideoRoom handle, for requests that answer at once.
    async fn handle(&self) -> Result<(u64, u64), MediaError> {
        let session = self.session().await?;
        match self.attach(session).await {
            Ok(handle) => Ok((session, handle)),
            Err(e) => {
                self.end_session(session).await;
                Err(e)
            }
        }
    }

    /// Waits for the session's next events (Janus answers within 30 seconds, with a
    /// keep-alive when nothing happened).
    pub(super) async fn events(&self, session: u64) -> Result<Vec<Value>, MediaError> {
        let res = self
            .client
            .get(format!(
                "{}/{session}?maxev=10&apisecret={}",
                self.url,
                query_value(self.api_secret.expose_secret())
            ))
            .timeout(Duration::from_secs(45))
            .send()
            .await
            .map_err(|e| MediaError::Unreachable(e.to_string()))?;
        let bytes = res
            .bytes()
            .await
            .map_err(|e| MediaError::Unreachable(e.to_string()))?;
        let v: Value =
            serde_json::from_slice(&bytes).map_err(|e| MediaError::Refused(e.to_string()))?;
        match v {
            Value::Array(all) => Ok(all),
            v if v["janus"] == "error" => Err(refused(&v)),
            v => Ok(vec![v]),
        }
    }

    pub(super) async fn end_session(&self, session: u64) {
        let _ = self
            .post(&format!("/{session}"), json!({ "janus": "destroy" }))
            .await;
    }

    /// A request to the VideoRoom plugin that answers at once (create, destroy, exists).
    async fn room_request(&self, body: Value) -> Result<Value, MediaError> {
        let (session, handle) = self.handle().await?;
        let answer = self
            .post(
                &format!("/{session}/{handle}"),
                json!({ "janus": "message", "body": body }),
            )
            .await;
        self.end_session(session).await;
        let answer = answer?;
        let data = &answer["plugindata"]["data"];
        if data["error_code"].is_number() {
            return Err(refused(&answer));
        }
        Ok(data.clone())
    }

    /// The room's own secret: derived, never stored.
    fn room_secret(&self, room: u64) -> String {
        let key = ring::hmac::Key::new(
            ring::hmac::HMAC_SHA256,
            self.api_secret.expose_secret().as_bytes(),
        );
        hex::encode(&ring::hmac::sign(&key, format!("room {room}").as_bytes()).as_ref()[..16])
    }

    /// Whether the room exists.
    pub async fn room_exists(&self, room: &str) -> Result<bool, MediaError> {
        let id: u64 = room
            .parse()
            .map_err(|_| MediaError::Refused("not a room".into()))?;
        let data = self
            .room_request(json!({ "request": "exists", "room": id }))
            .await?;
        Ok(data["exists"] == true)
    }

    /// Where the room of `consult`'s calls records.
    pub fn recording_folder(&self, consult: &str) -> String {
        format!("{}/{consult}", self.recordings)
    }
}

#[async_trait::async_trait]
impl MediaProvider for Janus {
    fn system(&self) -> MediaSystem {
        MediaSystem::Sfu
    }

    async fn open_room(&self, call: &str, consult: &str) -> Result<Option<String>, MediaError> {
        // Janus's room ids are JSON numbers: 53 bits keep them exact everywhere.
        let room = rand::random::<u64>() >> 11;
        let folder = self.recording_folder(consult);
        if let Err(e) = std::fs::create_dir_all(&folder) {
            // Janus may run elsewhere and make it itself; say so, go on.
            tracing::debug!(error = %e, "the recordings folder is not on this host");
        }
        self.room_request(json!({
            "request": "create",
            "admin_key": self.api_secret.expose_secret(),
            "room": room,
            "description": call,
            "secret": self.room_secret(room),
            "is_private": true,
            // Each side publishes once; a page that comes back before its old
            // session is gone needs room for a moment.
            "publishers": 6,
            "audiocodec": "opus",
            "videocodec": "vp8",
            "bitrate": 512_000,
            "record": true,
            "rec_dir": folder,
            "permanent": false,
        }))
        .await?;
        Ok(Some(room.to_string()))
    }

    async fn close_room(&self, room: &str) {
        let Ok(id) = room.parse::<u64>() else { return };
        let destroyed = self
            .room_request(json!({
                "request": "destroy",
                "room": id,
                "secret": self.room_secret(id),
            }))
            .await;
        if let Err(e) = destroyed {
            tracing::warn!(error = %e, room, "a call's room was not closed on the media server");
        }
    }

    fn leg(
        &self,
        room: &str,
        side: Side,
        call: &str,
        consult_id: i64,
        out: &mpsc::UnboundedSender<LegNews>,
    ) -> Option<Leg> {
        let room = room.parse().ok()?;
        Some(super::sfu::open(
            self.clone(),
            room,
            side,
            call.to_owned(),
            consult_id,
            out.clone(),
        ))
    }

    async fn check_health(&self) -> bool {
        let info = self
            .client
            .get(format!("{}/info", self.url))
            .send()
            .await
            .ok()
            .map(|r| r.status().is_success());
        if info != Some(true) {
            return false;
        }
        // A session and the plugin answer: the API secret is right and VideoRoom loaded.
        match self.handle().await {
            Ok((session, _)) => {
                self.end_session(session).await;
                true
            }
            Err(_) => false,
        }
    }
}
