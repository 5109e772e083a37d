//! The two audio/video systems (R-CONS-6) and the relay both use. The primary is a media
//! server (an SFU) that the server drives and that records; the backup is the two
//! browsers connecting directly through STUN/TURN. Each call is pinned to the system it
//! started on.
use super::sfu::{Leg, LegNews};
use crate::config::Config;
use app::chat::protocol::IceServer;
use app::domain::call::{MediaSystem, PrimaryState, turn_expires};
use app::domain::consult::Side;
use base64::{Engine, engine::general_purpose::STANDARD};
use secrecy::{ExposeSecret, SecretBox};
use std::sync::atomic::{AtomicI64, Ordering};
use tokio::sync::mpsc;

/// Why a media system could not prepare a call.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("the media server did not answer: {0}")]
    Unreachable(String),
    #[error("the media server refused: {0}")]
    Refused(String),
}

/// What a media system does for a call.
#[async_trait::async_trait]
pub trait MediaProvider: Send + Sync {
    fn system(&self) -> MediaSystem;
    /// Prepares the call's room (recorded into a folder of the consult's); its id, if the
    /// system has rooms.
    async fn open_room(&self, call: &str, consult: &str) -> Result<Option<String>, MediaError>;
    /// Closes the room once the call has ended (best effort: the media server also ends
    /// rooms left empty).
    async fn close_room(&self, room: &str);
    /// Asks the system whether it works; true when it does.
    async fn check_health(&self) -> bool;
    /// Carries `side`'s media in call `call`'s room, driven by the server; none when the
    /// browsers carry it themselves (the backup).
    fn leg(
        &self,
        _room: &str,
        _side: Side,
        _call: &str,
        _consult_id: i64,
        _out: &mpsc::UnboundedSender<LegNews>,
    ) -> Option<Leg> {
        None
    }
}

/// The backup: nothing to prepare; the browsers exchange their offer and answer over the
/// consult connection and meet through STUN/TURN.
pub struct Direct;

#[async_trait::async_trait]
impl MediaProvider for Direct {
    fn system(&self) -> MediaSystem {
        MediaSystem::Direct
    }
    async fn open_room(&self, _call: &str, _consult: &str) -> Result<Option<String>, MediaError> {
        Ok(None)
    }
    async fn close_room(&self, _room: &str) {}
    async fn check_health(&self) -> bool {
        true
    }
}

/// The systems of this server and the relay's settings.
pub struct Media {
    /// The primary, when one is configured.
    pub primary: Option<Box<dyn MediaProvider>>,
    pub backup: Direct,
    /// Unix seconds of the primary's last passed health check (0: never).
    primary_healthy_at: AtomicI64,
    stun_urls: Vec<String>,
    turn_urls: Vec<String>,
    turn_secret: Option<SecretBox<str>>,
    /// Media only through the relay: neither side learns the other's address.
    pub relay_only: bool,
}

impl Media {
    /// The systems `config` sets: the primary is Janus when `FUZHEN_JANUS_*` are set.
    pub fn from_config(config: &Config) -> Self {
        let primary = config.calls.janus.as_ref().and_then(|j| {
            match super::janus::Janus::new(
                &j.url,
                j.api_secret.expose_secret(),
                &j.recordings,
            ) {
                Ok(janus) => Some(Box::new(janus) as Box<dyn MediaProvider>),
                Err(e) => {
                    tracing::error!(error = %e, "the primary media server's client could not be made; calls use the backup");
                    None
                }
            }
        });
        Self::with_primary(config, primary)
    }

    pub fn with_primary(config: &Config, primary: Option<Box<dyn MediaProvider>>) -> Self {
        Self {
            primary,
            backup: Direct,
            primary_healthy_at: AtomicI64::new(0),
            stun_urls: config.calls.stun_urls.clone(),
            turn_urls: config.calls.turn_urls.clone(),
            turn_secret: config
                .calls
                .turn_secret
                .as_ref()
                .map(|s| SecretBox::from(s.expose_secret().to_owned())),
            relay_only: config.calls.relay_only,
        }
    }

    /// The primary's state for [`app::domain::call::choose_system`].
    pub fn primary_state(&self) -> PrimaryState {
        let at = self.primary_healthy_at.load(Ordering::Relaxed);
        PrimaryState {
            configured: self.primary.is_some(),
            healthy_at: (at > 0).then_some(at),
        }
    }

    /// Runs the primary's health check and remembers a pass.
    pub async fn check_primary(&self, now: i64) {
        if let Some(p) = &self.primary {
            if p.check_health().await {
                self.primary_healthy_at.store(now, Ordering::Relaxed);
            } else {
                tracing::warn!(
                    "the primary media server failed its health check; new calls use the backup"
                );
            }
        }
    }

    pub fn provider(&self, system: MediaSystem) -> &dyn MediaProvider {
        match (system, &self.primary) {
            (MediaSystem::Sfu, Some(p)) => p.as_ref(),
            _ => &self.backup,
        }
    }

    /// The STUN and TURN servers for call `call`, which started at `started_at`: TURN
    /// credentials in coturn's `use-auth-secret` form, good until the call's longest end.
    pub fn ice_servers(&self, call: &str, started_at: i64, now: i64) -> Vec<IceServer> {
        let mut all = Vec::new();
        if !self.stun_urls.is_empty() {
            all.push(IceServer {
                urls: self.stun_urls.clone(),
                username: None,
                credential: None,
            });
        }
        if let (false, Some(secret)) = (self.turn_urls.is_empty(), &self.turn_secret) {
            let (username, credential) = turn_credentials(
                secret.expose_secret().as_bytes(),
                call,
                turn_expires(started_at, now),
            );
            all.push(IceServer {
                urls: self.turn_urls.clone(),
                username: Some(username),
                credential: Some(credential),
            });
        }
        all
    }
}

/// TURN REST credentials (coturn's `use-auth-secret`): the user name is
/// `<expiry>:<user>`, the password base64(HMAC-SHA1(secret, user name)). coturn refuses
/// them after `expires` (Unix seconds).
pub fn turn_credentials(secret: &[u8], user: &str, expires: i64) -> (String, String) {
    let username = format!("{expires}:{user}");
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let tag = ring::hmac::sign(&key, username.as_bytes());
    (username, STANDARD.encode(tag.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turn_credentials_are_coturns_hmac_sha1_of_the_expiry_and_user() {
        // Known answer, from Python: base64(hmac.new(b"north", b"1700000000:CL1", sha1)).
        let (user, password) = turn_credentials(b"north", "CL1", 1_700_000_000);
        assert_eq!(user, "1700000000:CL1");
        assert_eq!(password, "XDgK1443CrdqXMnvps0NykVzpfM=");
    }

    #[test]
    fn calls_get_stun_and_turn_with_credentials_that_last_the_call() {
        let mut config = Config::dev(
            std::path::PathBuf::from("/tmp/x"),
            "sqlite::memory:".into(),
            [1; 32],
            [2; 64],
        );
        let none = Media::from_config(&config);
        assert!(none.ice_servers("CL1", 0, 0).is_empty());
        assert!(!none.primary_state().configured);
        config.calls.stun_urls = vec!["stun:10.9.0.1:3478".into()];
        config.calls.turn_urls = vec!["turn:10.9.0.1:3478?transport=udp".into()];
        config.calls.turn_secret = Some(SecretBox::from(String::from("north")));
        let media = Media::from_config(&config);
        let ice = media.ice_servers("CL1", 1_000, 1_060);
        assert_eq!(ice.len(), 2);
        assert_eq!(ice[0].urls, ["stun:10.9.0.1:3478"]);
        assert!(ice[0].username.is_none());
        let expiry = 1_000 + app::domain::call::MAX_CALL_SECS;
        assert_eq!(ice[1].username.as_deref(), Some(&*format!("{expiry}:CL1")));
        assert_eq!(
            ice[1].credential,
            Some(turn_credentials(b"north", "CL1", expiry).1)
        );
    }
}
