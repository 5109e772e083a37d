//! Settings from environment variables, with dev defaults. Secrets are wrapped so
//! they never print; in dev they are generated once and kept under the data dir.
use anyhow::{Context, bail};
use base64::{Engine, engine::general_purpose::STANDARD};
use secrecy::{ExposeSecret, SecretBox};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Dev,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

pub struct Config {
    pub mode: Mode,
    pub listen: SocketAddr,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub site_root: PathBuf,
    pub field_key: SecretBox<[u8; 32]>,
    pub cookie_key: SecretBox<[u8; 64]>,
    pub session_idle_minutes: i64,
    pub log_format: LogFormat,
    pub sms_per_phone_per_day: u32,
    pub sms_per_ip_per_hour: u32,
    /// Concurrent argon2 hashes; bounds CPU spent on logins and registrations.
    pub hash_concurrency: usize,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("mode", &self.mode)
            .field("listen", &self.listen)
            .field("database_url", &redact_url(&self.database_url))
            .field("data_dir", &self.data_dir)
            .field("session_idle_minutes", &self.session_idle_minutes)
            .finish_non_exhaustive()
    }
}

/// Hides a password in `postgres://user:secret@host/db`.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            let user = creds.split(':').next().unwrap_or_default();
            format!("{}://{user}:***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn env_parse<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match env(name) {
        Some(v) => v
            .parse()
            .map_err(|_| anyhow::anyhow!("{name} is not valid: {v:?}")),
        None => Ok(default),
    }
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let mode = match env("FUZHEN_MODE").as_deref() {
            None | Some("dev") => Mode::Dev,
            Some("production") => Mode::Production,
            Some(other) => bail!("FUZHEN_MODE must be dev or production, not {other:?}"),
        };
        let data_dir = PathBuf::from(env("FUZHEN_DATA_DIR").unwrap_or_else(|| "./data".into()));
        std::fs::create_dir_all(&data_dir)
            .with_context(|| format!("creating data dir {}", data_dir.display()))?;
        let listen = env("FUZHEN_LISTEN")
            .or_else(|| env("LEPTOS_SITE_ADDR"))
            .unwrap_or_else(|| "127.0.0.1:3000".into())
            .parse()
            .context("FUZHEN_LISTEN must be host:port")?;
        let database_url = env("DATABASE_URL").unwrap_or_else(|| {
            format!("sqlite://{}?mode=rwc", data_dir.join("fuzhen.db").display())
        });
        let field_key = secret::<32>("FUZHEN_FIELD_KEY", &data_dir, mode)?;
        let cookie_key = secret::<64>("FUZHEN_COOKIE_KEY", &data_dir, mode)?;
        let log_format = match env("FUZHEN_LOG_FORMAT").as_deref() {
            Some("json") => LogFormat::Json,
            _ => LogFormat::Text,
        };
        Ok(Self {
            mode,
            listen,
            database_url,
            site_root: PathBuf::from(
                env("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".into()),
            ),
            field_key: SecretBox::new(Box::new(field_key)),
            cookie_key: SecretBox::new(Box::new(cookie_key)),
            session_idle_minutes: env_parse("FUZHEN_SESSION_IDLE_MINUTES", 30)?,
            log_format,
            sms_per_phone_per_day: env_parse("FUZHEN_SMS_PER_PHONE_PER_DAY", 10)?,
            sms_per_ip_per_hour: env_parse("FUZHEN_SMS_PER_IP_PER_HOUR", 20)?,
            hash_concurrency: env_parse("FUZHEN_HASH_CONCURRENCY", 2)?,
            data_dir,
        })
    }

    pub fn field_key(&self) -> &[u8; 32] {
        self.field_key.expose_secret()
    }
    pub fn cookie_key(&self) -> &[u8; 64] {
        self.cookie_key.expose_secret()
    }
}

/// A base64 key from the environment; in dev, generated once into `<data>/secrets/`.
fn secret<const N: usize>(name: &str, data_dir: &Path, mode: Mode) -> anyhow::Result<[u8; N]> {
    let decode = |text: &str| -> anyhow::Result<[u8; N]> {
        let bytes = STANDARD
            .decode(text.trim())
            .with_context(|| format!("{name} is not base64"))?;
        bytes
            .try_into()
            .map_err(|_| anyhow::anyhow!("{name} must be {N} bytes, base64-encoded"))
    };
    if let Some(value) = env(name) {
        return decode(&value);
    }
    if mode == Mode::Production {
        bail!("{name} is required in production mode");
    }
    let dir = data_dir.join("secrets");
    let path = dir.join(name.to_ascii_lowercase());
    if let Ok(text) = std::fs::read_to_string(&path) {
        return decode(&text);
    }
    std::fs::create_dir_all(&dir)?;
    let mut key = [0u8; N];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
    write_private(&path, &STANDARD.encode(key))?;
    tracing::info!(secret.name = name, path = %path.display(), "generated a dev secret");
    Ok(key)
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .create_new(true)
            .write(true)
            .mode(0o600)
            .open(path)?;
        f.write_all(text.as_bytes())?;
        Ok(())
    }
    #[cfg(not(unix))]
    {
        std::fs::write(path, text)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://fz:s3cret@db:5432/fz"),
            "postgres://fz:***@db:5432/fz"
        );
        assert_eq!(
            redact_url("sqlite://./data/x.db?mode=rwc"),
            "sqlite://./data/x.db?mode=rwc"
        );
    }
}
