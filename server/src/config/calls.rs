//! The settings of calls: the relay (STUN/TURN), the primary media server (Janus) and
//! how long recordings are kept.
use super::{env, env_list, env_parse};
use anyhow::bail;
use secrecy::SecretBox;

/// The primary media system (`FUZHEN_JANUS_*`): calls use it when it is set and healthy.
pub struct JanusSettings {
    /// Its HTTP API on an internal address (`FUZHEN_JANUS_URL`, e.g.
    /// `http://10.0.0.5:8088/janus`).
    pub url: String,
    /// The API secret only this server holds (`FUZHEN_JANUS_API_SECRET`; also the
    /// VideoRoom's admin key and the event handler's password).
    pub api_secret: SecretBox<str>,
    /// The folder where Janus records, as both Janus and this server see it
    /// (`FUZHEN_JANUS_RECORDINGS`; outside Janus's protected folders such as `/var`).
    pub recordings: String,
}

pub struct CallSettings {
    /// STUN servers (`FUZHEN_STUN_URLS`, comma-separated `stun:host:port`).
    pub stun_urls: Vec<String>,
    /// TURN servers (`FUZHEN_TURN_URLS`, comma-separated `turn:` and `turns:` URLs), with
    /// the secret they share with the server (`FUZHEN_TURN_SECRET`, coturn's
    /// `static-auth-secret`): each call gets credentials that expire with it.
    pub turn_urls: Vec<String>,
    pub turn_secret: Option<SecretBox<str>>,
    /// Media only through the TURN relay (`FUZHEN_CALL_RELAY_ONLY`), so that neither the
    /// patient nor the doctor learns the other's network address.
    pub relay_only: bool,
    pub janus: Option<JanusSettings>,
    /// Days a call's recording is kept at least (`FUZHEN_RECORDING_RETENTION_DAYS`;
    /// never less than three years).
    pub recording_retention_days: i64,
    /// The most one call's recording may take (`FUZHEN_RECORDING_MAX_MB`, 2,048: a
    /// two-hour call at 1 Mbit/s is under 1 GB).
    pub recording_max_bytes: i64,
}

impl Default for CallSettings {
    fn default() -> Self {
        Self {
            stun_urls: Vec::new(),
            turn_urls: Vec::new(),
            turn_secret: None,
            relay_only: false,
            janus: None,
            recording_retention_days: app::domain::call::MIN_RECORDING_RETENTION_DAYS,
            recording_max_bytes: 2048 * 1024 * 1024,
        }
    }
}

impl CallSettings {
    pub fn from_env() -> anyhow::Result<Self> {
        let janus = match (
            env("FUZHEN_JANUS_URL"),
            env("FUZHEN_JANUS_API_SECRET"),
            env("FUZHEN_JANUS_RECORDINGS"),
        ) {
            (None, None, None) => None,
            (Some(url), Some(secret), Some(recordings)) => Some(JanusSettings {
                url,
                api_secret: SecretBox::from(secret),
                recordings,
            }),
            _ => bail!(
                "FUZHEN_JANUS_URL, FUZHEN_JANUS_API_SECRET and FUZHEN_JANUS_RECORDINGS go together: set all three to use Janus, or none"
            ),
        };
        Ok(Self {
            stun_urls: env_list("FUZHEN_STUN_URLS"),
            turn_urls: env_list("FUZHEN_TURN_URLS"),
            turn_secret: env("FUZHEN_TURN_SECRET").map(SecretBox::from),
            relay_only: env_parse("FUZHEN_CALL_RELAY_ONLY", false)?,
            janus,
            recording_retention_days: env_parse(
                "FUZHEN_RECORDING_RETENTION_DAYS",
                app::domain::call::MIN_RECORDING_RETENTION_DAYS,
            )?,
            recording_max_bytes: env_parse::<i64>("FUZHEN_RECORDING_MAX_MB", 2048)?
                .clamp(1, 1 << 20)
                * 1024
                * 1024,
        })
    }

    /// Refuses settings that would break calls or the record, in every mode.
    pub fn check(&self) -> anyhow::Result<()> {
        if !self.turn_urls.is_empty() && self.turn_secret.is_none() {
            bail!(
                "FUZHEN_TURN_URLS needs FUZHEN_TURN_SECRET (coturn's static-auth-secret): calls get credentials made with it"
            );
        }
        if self.relay_only && self.turn_urls.is_empty() {
            bail!(
                "FUZHEN_CALL_RELAY_ONLY needs FUZHEN_TURN_URLS: without a relay no call connects"
            );
        }
        if self.recording_retention_days < app::domain::call::MIN_RECORDING_RETENTION_DAYS {
            bail!(
                "FUZHEN_RECORDING_RETENTION_DAYS may not be under {} (recordings are part of the medical record)",
                app::domain::call::MIN_RECORDING_RETENTION_DAYS
            );
        }
        if let Some(j) = &self.janus {
            if !j.url.starts_with("http://") && !j.url.starts_with("https://") {
                bail!("FUZHEN_JANUS_URL must be an http:// or https:// address of Janus's API");
            }
            if !std::path::Path::new(&j.recordings).is_absolute() {
                bail!("FUZHEN_JANUS_RECORDINGS must be an absolute folder");
            }
        }
        Ok(())
    }

    /// What production needs besides.
    pub fn check_production(&self) -> anyhow::Result<()> {
        if self.turn_urls.is_empty() {
            bail!(
                "production mode needs FUZHEN_TURN_URLS and FUZHEN_TURN_SECRET: phones on mobile networks reach each other and the media server only through a TURN relay"
            );
        }
        if let Some(j) = &self.janus
            && secrecy::ExposeSecret::expose_secret(&j.api_secret).len() < 24
        {
            bail!("production mode needs a FUZHEN_JANUS_API_SECRET of at least 24 characters");
        }
        Ok(())
    }
}
