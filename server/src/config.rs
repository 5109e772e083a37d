//! Settings from environment variables, with dev defaults. Secrets are wrapped so
//! they never print; in dev they are generated once and kept under the data dir.
use anyhow::{Context, bail};
use base64::{Engine, engine::general_purpose::STANDARD};
use secrecy::{ExposeSecret, SecretBox};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Dev,
    Production,
}

impl Mode {
    /// `FUZHEN_MODE`. Fails closed: a forgotten setting must not serve sandbox payments
    /// and readable login codes.
    pub fn parse(value: Option<&str>) -> anyhow::Result<Self> {
        match value {
            Some("dev") => Ok(Mode::Dev),
            Some("production") => Ok(Mode::Production),
            None => bail!(
                "FUZHEN_MODE is not set: set FUZHEN_MODE=production to serve patients, or FUZHEN_MODE=dev on a developer's machine"
            ),
            Some(other) => bail!("FUZHEN_MODE must be dev or production, not {other:?}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

pub struct Config {
    pub mode: Mode,
    /// Dev only: the token the SMS outbox route asks for (`x-fuzhen-dev-token`), from
    /// `FUZHEN_DEV_TOKEN` or generated into the data dir. None in production.
    pub dev_token: Option<SecretBox<str>>,
    pub listen: SocketAddr,
    pub database_url: String,
    /// Run pending migrations at start (`FUZHEN_RUN_MIGRATIONS`, on by default). Off when
    /// the app's database role owns nothing: then `server migrate` runs them as the
    /// owner, and the server refuses a schema that is behind.
    pub run_migrations: bool,
    pub data_dir: PathBuf,
    pub site_root: PathBuf,
    pub field_key: SecretBox<[u8; 32]>,
    pub field_key_version: u32,
    /// Older field keys by version, kept to decrypt until values are re-encrypted.
    pub previous_field_keys: Vec<(u32, SecretBox<[u8; 32]>)>,
    pub cookie_key: SecretBox<[u8; 64]>,
    /// The audit chain's HMAC key (`FUZHEN_AUDIT_KEY`): kept outside the database, so
    /// whoever holds only the database cannot rewrite the chain unseen.
    pub audit_key: SecretBox<[u8; 32]>,
    /// The time-stamping authority that anchors the audit chain (`FUZHEN_TSA_URL`, RFC
    /// 3161 over HTTP) and its public key (`FUZHEN_TSA_PUBLIC_KEY`, base64 of the DER
    /// SubjectPublicKeyInfo). Unset in dev: an authority in the process.
    pub tsa_url: Option<String>,
    pub tsa_public_key: Option<Vec<u8>>,
    /// Dev: the in-process authority's key (PKCS#8), kept in the data dir so anchors
    /// made before a restart still verify. None: a new key (tests).
    pub tsa_local_key: Option<SecretBox<Vec<u8>>>,
    /// Minutes between anchors of the chain's head (`FUZHEN_ANCHOR_MINUTES`).
    pub anchor_minutes: u64,
    /// Some key was generated into (or read from) the data dir rather than given.
    pub generated_secrets: bool,
    pub session_idle_minutes: i64,
    pub session_absolute_hours: i64,
    /// Proxies whose `X-Forwarded-For` is believed (CIDR list).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `console` (dev only) is the one sender so far.
    pub sms_provider: String,
    /// `local` (format checks only; dev only) is the one verifier so far.
    pub identity_verifier: String,
    /// Password guesses one client address may make in the lockout window.
    pub login_per_ip: u32,
    /// Requests per minute one address may make to the SMS, login and registration
    /// endpoints (a burst of a quarter of it), before the database counters are asked.
    pub throttle_per_minute: u32,
    /// Hashes that may wait for the pool before the answer is "busy".
    pub hash_queue: usize,
    pub request_timeout_secs: u64,
    pub log_format: LogFormat,
    pub sms_per_phone_per_day: u32,
    pub sms_per_ip_per_hour: u32,
    /// Concurrent argon2 hashes; bounds CPU spent on logins and registrations.
    pub hash_concurrency: usize,
    /// The operator's blocked-words list (R-CONS-5); the built-in one when unset.
    pub blocked_words_file: Option<PathBuf>,
    /// Idle minutes after which a staff session ends (R-SEC-3).
    pub staff_idle_minutes: i64,
    /// Hours after the login at which a staff session ends, however busy (R-SEC-3).
    pub staff_session_hours: i64,
    /// The largest uploaded file, in bytes (R-ELIG-2).
    pub max_upload_bytes: usize,
    /// MiB that image decodes at once may hold (`FUZHEN_DECODE_MEMORY_MIB`): each
    /// reserves its decoded size times the copies it keeps before it starts.
    pub decode_memory_mib: u32,
    /// Decodes that may run or wait at once (`FUZHEN_DECODE_QUEUE`); beyond them the
    /// answer is `busy`.
    pub decode_queue: usize,
    /// Files one address may upload in an hour (`FUZHEN_UPLOADS_PER_ADDRESS_PER_HOUR`).
    pub uploads_per_address_per_hour: i64,
    /// Who may consult online (R-ELIG-2, R-ELIG-5): proof age and the age policy.
    pub eligibility: app::domain::eligibility::EligibilityPolicy,
    /// Where uploaded files go: the data dir unless an S3 bucket is configured.
    pub object_storage: Option<S3Settings>,
    /// How long a slot is held for payment (R-BOOK-2).
    pub hold_minutes: i64,
    /// How long the hold writer waits after a hold for others to write with it (0: it
    /// takes only what is queued already).
    pub hold_gather_ms: u64,
    /// A patient cancels a paid booking free of charge until this long before it.
    pub free_cancel_hours: i64,
    /// How long before a booked appointment the reminder goes out.
    pub reminder_minutes: i64,
    /// `sandbox` (dev only: confirms at once, no money moves) is the one provider so far.
    pub payment_provider: String,
    /// Stripe's webhook signing secrets (`FUZHEN_STRIPE_WEBHOOK_SECRETS`, comma-separated:
    /// the new and the old one while rotating). None: the webhook answers 404.
    pub stripe_webhook_secrets: Vec<SecretBox<str>>,
    /// The address patients reach the app at (`FUZHEN_PUBLIC_URL`, e.g.
    /// `https://fuzhen.example.cn`): providers send them back there after paying.
    pub public_url: String,
    /// Stripe's secret API key (`FUZHEN_STRIPE_SECRET_KEY`, `sk_live_…` or `sk_test_…`).
    pub stripe_secret_key: Option<SecretBox<str>>,
    /// Another address for Stripe's API (`FUZHEN_STRIPE_API_BASE`; tests use a fake).
    pub stripe_api_base: Option<String>,
    /// The first pause before a call to Stripe is tried again; it doubles each time.
    pub stripe_retry_ms: u64,
    /// R-CONS-3: hours without a doctor answer after which a paid consult closes and is
    /// refunded (`FUZHEN_CONSULT_UNANSWERED_HOURS`, 24).
    pub consult_unanswered_hours: i64,
    /// Hours a text consult stays open to the patient after the doctor's first answer
    /// (`FUZHEN_CONSULT_TEXT_WINDOW_HOURS`, 48).
    pub consult_text_window_hours: i64,
    /// Minutes a message may stay unread before the reader gets an SMS nudge
    /// (`FUZHEN_CHAT_NUDGE_MINUTES`, 10; at most one per consult an hour).
    pub chat_nudge_minutes: i64,
    /// How news of consults reaches the other servers (`FUZHEN_BUS`): `local` (one
    /// server, the default), `postgres` (`LISTEN/NOTIFY` on the database) or `redis`
    /// (pub/sub on `FUZHEN_REDIS_URL`).
    pub bus: String,
    /// `redis://host:6379` (`FUZHEN_REDIS_URL`), for `FUZHEN_BUS=redis`.
    pub redis_url: Option<String>,
    /// Consult connections one account may hold at once.
    pub chat_connections_per_account: usize,
    /// Frames a consult connection may send per second on average (a burst of four
    /// times as many); beyond it the connection is closed.
    pub chat_frames_per_second: u32,
    /// Seconds between the server's pings on a consult connection; the session is
    /// checked at each, and a connection silent for 2.4 times as long is closed.
    pub chat_ping_secs: u64,
    /// Calls: the relay, the primary media server, recordings.
    pub calls: calls::CallSettings,
}

/// S3-compatible object storage (`FUZHEN_S3_*`), for uploaded files in production.
#[derive(Clone)]
pub struct S3Settings {
    pub bucket: String,
    /// Empty: AWS itself; otherwise the service's URL (MinIO, Ceph, a cloud's S3 API).
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: SecretBox<str>,
    /// Objects under this prefix, so one bucket can hold several environments.
    pub prefix: String,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl S3Settings {
    /// `FUZHEN_S3_BUCKET` turns S3 on; then the key pair is required.
    fn from_env() -> anyhow::Result<Option<Self>> {
        let Some(bucket) = env("FUZHEN_S3_BUCKET") else {
            return Ok(None);
        };
        let required = |name: &str| {
            env(name).ok_or_else(|| anyhow::anyhow!("{name} is required with FUZHEN_S3_BUCKET"))
        };
        Ok(Some(Self {
            bucket,
            endpoint: env("FUZHEN_S3_ENDPOINT"),
            region: env("FUZHEN_S3_REGION").unwrap_or_else(|| "us-east-1".into()),
            access_key_id: required("FUZHEN_S3_ACCESS_KEY_ID")?,
            secret_access_key: SecretBox::from(required("FUZHEN_S3_SECRET_ACCESS_KEY")?),
            prefix: env("FUZHEN_S3_PREFIX").unwrap_or_default(),
        }))
    }

    /// Plain HTTP sends medical files and the signing key's work in clear text.
    pub fn is_plain_http(&self) -> bool {
        self.endpoint
            .as_deref()
            .is_some_and(|e| e.to_ascii_lowercase().starts_with("http://"))
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("mode", &self.mode)
            .field("listen", &self.listen)
            .field("database_url", &redact_url(&self.database_url))
            .field("data_dir", &self.data_dir)
            .field("session_idle_minutes", &self.session_idle_minutes)
            .field("session_absolute_hours", &self.session_absolute_hours)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("sms_provider", &self.sms_provider)
            .field("identity_verifier", &self.identity_verifier)
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

/// `FUZHEN_AGE_POLICY` is `national` (default) or `hospital` (no infants under 28 days,
/// nobody older than `FUZHEN_MAX_CONSULT_AGE` (default 80), no critical patients);
/// `FUZHEN_PROOF_VALID_MONTHS` (default 12).
fn eligibility_policy() -> anyhow::Result<app::domain::eligibility::EligibilityPolicy> {
    use app::domain::eligibility::{AgePolicy, EligibilityPolicy};
    let age = match env("FUZHEN_AGE_POLICY").as_deref() {
        None | Some("national") => AgePolicy::national(),
        Some("hospital") => AgePolicy::hospital(env_parse("FUZHEN_MAX_CONSULT_AGE", 80)?),
        Some(other) => {
            anyhow::bail!("FUZHEN_AGE_POLICY must be national or hospital, not {other:?}")
        }
    };
    Ok(EligibilityPolicy {
        proof_valid_months: env_parse("FUZHEN_PROOF_VALID_MONTHS", 12)?,
        age,
    })
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// A comma-separated list; empty when unset.
fn env_list(name: &str) -> Vec<String> {
    env(name)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
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
        // Fail closed: a forgotten setting must not serve sandbox payments and
        // readable login codes.
        let mode = Mode::parse(env("FUZHEN_MODE").as_deref())?;
        let data_dir = PathBuf::from(env("FUZHEN_DATA_DIR").unwrap_or_else(|| "./data".into()));
        std::fs::create_dir_all(&data_dir)
            .with_context(|| format!("creating data dir {}", data_dir.display()))?;
        let bus = env("FUZHEN_BUS").unwrap_or_else(|| "local".into());
        let redis_url = env("FUZHEN_REDIS_URL");
        match bus.as_str() {
            "local" => {}
            "postgres" => anyhow::ensure!(
                env("DATABASE_URL").is_some_and(|u| u.starts_with("postgres")),
                "FUZHEN_BUS=postgres needs DATABASE_URL on PostgreSQL"
            ),
            "redis" => anyhow::ensure!(
                redis_url
                    .as_deref()
                    .is_some_and(|u| u.starts_with("redis://")),
                "FUZHEN_BUS=redis needs FUZHEN_REDIS_URL (redis://host:port)"
            ),
            other => anyhow::bail!("FUZHEN_BUS must be local, postgres or redis, not {other:?}"),
        }
        let listen = env("FUZHEN_LISTEN")
            .or_else(|| env("LEPTOS_SITE_ADDR"))
            .unwrap_or_else(|| "127.0.0.1:3000".into())
            .parse()
            .context("FUZHEN_LISTEN must be host:port")?;
        let database_url = env("DATABASE_URL").unwrap_or_else(|| {
            format!("sqlite://{}?mode=rwc", data_dir.join("fuzhen.db").display())
        });
        let (field_key, field_generated) = secret::<32>("FUZHEN_FIELD_KEY", &data_dir, mode)?;
        let (cookie_key, cookie_generated) = secret::<64>("FUZHEN_COOKIE_KEY", &data_dir, mode)?;
        let (audit_key, audit_generated) = secret::<32>("FUZHEN_AUDIT_KEY", &data_dir, mode)?;
        let tsa_url = env("FUZHEN_TSA_URL");
        let tsa_public_key = env("FUZHEN_TSA_PUBLIC_KEY")
            .map(|k| STANDARD.decode(k.trim()))
            .transpose()
            .context("FUZHEN_TSA_PUBLIC_KEY is not base64")?;
        let tsa_local_key = match (&tsa_url, mode) {
            (None, Mode::Dev) => Some(SecretBox::new(Box::new(local_tsa_key(&data_dir)?))),
            _ => None,
        };
        let dev_token = match mode {
            Mode::Dev => Some(SecretBox::from(
                STANDARD.encode(secret::<32>("FUZHEN_DEV_TOKEN", &data_dir, mode)?.0),
            )),
            Mode::Production => None,
        };
        let log_format = match env("FUZHEN_LOG_FORMAT").as_deref() {
            Some("json") => LogFormat::Json,
            _ => LogFormat::Text,
        };
        let trusted_proxies = env("FUZHEN_TRUSTED_PROXIES")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<ipnet::IpNet>()
                    .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        anyhow::anyhow!("FUZHEN_TRUSTED_PROXIES: {s:?} is not a CIDR or address")
                    })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let previous_field_keys = env("FUZHEN_FIELD_KEYS_PREVIOUS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|entry| {
                let (version, key) = entry.split_once(':').ok_or_else(|| {
                    anyhow::anyhow!("FUZHEN_FIELD_KEYS_PREVIOUS entries are version:base64")
                })?;
                let version: u32 = version
                    .parse()
                    .context("FUZHEN_FIELD_KEYS_PREVIOUS: version is not a number")?;
                Ok((
                    version,
                    SecretBox::new(Box::new(decode_key::<32>(
                        "FUZHEN_FIELD_KEYS_PREVIOUS",
                        key,
                    )?)),
                ))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self {
            mode,
            dev_token,
            listen,
            run_migrations: env_parse("FUZHEN_RUN_MIGRATIONS", true)?,
            database_url,
            site_root: PathBuf::from(
                env("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".into()),
            ),
            field_key: SecretBox::new(Box::new(field_key)),
            field_key_version: env_parse("FUZHEN_FIELD_KEY_VERSION", 1)?,
            previous_field_keys,
            cookie_key: SecretBox::new(Box::new(cookie_key)),
            audit_key: SecretBox::new(Box::new(audit_key)),
            tsa_url,
            tsa_public_key,
            tsa_local_key,
            anchor_minutes: env_parse("FUZHEN_ANCHOR_MINUTES", 60)?,
            generated_secrets: field_generated || cookie_generated || audit_generated,
            session_idle_minutes: env_parse("FUZHEN_SESSION_IDLE_MINUTES", 30)?,
            session_absolute_hours: env_parse("FUZHEN_SESSION_ABSOLUTE_HOURS", 12)?,
            log_format,
            sms_per_phone_per_day: env_parse("FUZHEN_SMS_PER_PHONE_PER_DAY", 10)?,
            sms_per_ip_per_hour: env_parse("FUZHEN_SMS_PER_IP_PER_HOUR", 20)?,
            hash_concurrency: env_parse("FUZHEN_HASH_CONCURRENCY", 2)?,
            blocked_words_file: env("FUZHEN_BLOCKED_WORDS_FILE").map(PathBuf::from),
            eligibility: eligibility_policy()?,
            object_storage: S3Settings::from_env()?,
            hold_minutes: env_parse("FUZHEN_HOLD_MINUTES", 15)?,
            hold_gather_ms: env_parse("FUZHEN_HOLD_GATHER_MS", 0)?,
            free_cancel_hours: env_parse("FUZHEN_FREE_CANCEL_HOURS", 2)?,
            reminder_minutes: env_parse("FUZHEN_REMINDER_MINUTES", 60)?,
            payment_provider: env("FUZHEN_PAYMENT_PROVIDER").unwrap_or_else(|| "sandbox".into()),
            stripe_webhook_secrets: env("FUZHEN_STRIPE_WEBHOOK_SECRETS")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| SecretBox::from(s.to_owned()))
                .collect(),
            stripe_secret_key: env("FUZHEN_STRIPE_SECRET_KEY").map(SecretBox::from),
            stripe_api_base: env("FUZHEN_STRIPE_API_BASE"),
            stripe_retry_ms: env_parse("FUZHEN_STRIPE_RETRY_MS", 500)?,
            consult_unanswered_hours: env_parse("FUZHEN_CONSULT_UNANSWERED_HOURS", 24)?,
            consult_text_window_hours: env_parse("FUZHEN_CONSULT_TEXT_WINDOW_HOURS", 48)?,
            chat_nudge_minutes: env_parse("FUZHEN_CHAT_NUDGE_MINUTES", 10)?,
            bus,
            redis_url,
            chat_connections_per_account: env_parse("FUZHEN_CHAT_CONNECTIONS_PER_ACCOUNT", 5)?,
            chat_frames_per_second: env_parse("FUZHEN_CHAT_FRAMES_PER_SECOND", 10)?,
            chat_ping_secs: env_parse("FUZHEN_CHAT_PING_SECS", 25)?,
            calls: calls::CallSettings::from_env()?,
            public_url: env("FUZHEN_PUBLIC_URL")
                .map(|u| u.trim_end_matches('/').to_owned())
                .unwrap_or_else(|| format!("http://{listen}")),
            max_upload_bytes: env_parse(
                "FUZHEN_MAX_UPLOAD_BYTES",
                app::domain::upload::DEFAULT_MAX_FILE_BYTES,
            )?,
            staff_idle_minutes: env_parse(
                "FUZHEN_STAFF_IDLE_MINUTES",
                app::domain::staff::STAFF_IDLE_MINUTES,
            )?,
            staff_session_hours: env_parse("FUZHEN_STAFF_SESSION_HOURS", 12)?,
            decode_memory_mib: env_parse("FUZHEN_DECODE_MEMORY_MIB", 600)?,
            decode_queue: env_parse("FUZHEN_DECODE_QUEUE", 16)?,
            uploads_per_address_per_hour: env_parse(
                "FUZHEN_UPLOADS_PER_ADDRESS_PER_HOUR",
                app::domain::upload::FILES_PER_ADDRESS_PER_HOUR,
            )?,
            hash_queue: env_parse("FUZHEN_HASH_QUEUE", 64)?,
            trusted_proxies,
            sms_provider: env("FUZHEN_SMS_PROVIDER").unwrap_or_else(|| "console".into()),
            identity_verifier: env("FUZHEN_IDENTITY_VERIFIER").unwrap_or_else(|| "local".into()),
            login_per_ip: env_parse("FUZHEN_LOGIN_PER_IP", 50)?,
            throttle_per_minute: env_parse("FUZHEN_THROTTLE_PER_MINUTE", 60)?,
            request_timeout_secs: env_parse("FUZHEN_REQUEST_TIMEOUT_SECS", 30)?,
            data_dir,
        })
    }

    /// The defaults `make run` uses, with the keys given: for tests and tools.
    pub fn dev(
        data_dir: PathBuf,
        database_url: String,
        field_key: [u8; 32],
        cookie_key: [u8; 64],
    ) -> Self {
        Self {
            mode: Mode::Dev,
            dev_token: Some(SecretBox::from(STANDARD.encode({
                let mut token = [0u8; 32];
                rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut token);
                token
            }))),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            run_migrations: true,
            database_url,
            site_root: data_dir.join("site"),
            field_key: SecretBox::new(Box::new(field_key)),
            field_key_version: 1,
            previous_field_keys: Vec::new(),
            cookie_key: SecretBox::new(Box::new(cookie_key)),
            audit_key: SecretBox::new(Box::new([6; 32])),
            tsa_url: None,
            tsa_public_key: None,
            tsa_local_key: None,
            anchor_minutes: 60,
            generated_secrets: false,
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            log_format: LogFormat::Text,
            sms_per_phone_per_day: 10,
            sms_per_ip_per_hour: 20,
            hash_concurrency: 2,
            blocked_words_file: None,
            staff_idle_minutes: app::domain::staff::STAFF_IDLE_MINUTES,
            staff_session_hours: 12,
            decode_memory_mib: 600,
            decode_queue: 16,
            uploads_per_address_per_hour: app::domain::upload::FILES_PER_ADDRESS_PER_HOUR,
            max_upload_bytes: app::domain::upload::DEFAULT_MAX_FILE_BYTES,
            eligibility: app::domain::eligibility::EligibilityPolicy::default(),
            object_storage: None,
            hold_minutes: 15,
            hold_gather_ms: 0,
            free_cancel_hours: 2,
            reminder_minutes: 60,
            payment_provider: "sandbox".into(),
            stripe_webhook_secrets: Vec::new(),
            public_url: "http://127.0.0.1:3000".into(),
            stripe_secret_key: None,
            stripe_api_base: None,
            stripe_retry_ms: 500,
            consult_unanswered_hours: 24,
            consult_text_window_hours: 48,
            chat_nudge_minutes: 10,
            bus: "local".into(),
            redis_url: None,
            chat_connections_per_account: 5,
            chat_frames_per_second: 10,
            chat_ping_secs: 25,
            calls: calls::CallSettings::default(),
            hash_queue: 64,
            trusted_proxies: Vec::new(),
            sms_provider: "console".into(),
            identity_verifier: "local".into(),
            login_per_ip: 50,
            throttle_per_minute: 60,
            request_timeout_secs: 30,
            data_dir,
        }
    }

    /// Refuses settings that must never serve real patients, naming the setting.
    pub fn check_safe(&self) -> anyhow::Result<()> {
        self.calls.check()?;
        if self.mode == Mode::Production {
            if self.sms_provider == "console" {
                bail!(
                    "production mode refuses FUZHEN_SMS_PROVIDER=console (it prints codes to the log): configure a real SMS gateway"
                );
            }
            if self.identity_verifier == "local" {
                bail!(
                    "production mode refuses FUZHEN_IDENTITY_VERIFIER=local (format checks only): configure a real-name verification service"
                );
            }
            if self.generated_secrets {
                bail!(
                    "production mode refuses generated keys: set FUZHEN_FIELD_KEY, FUZHEN_COOKIE_KEY and FUZHEN_AUDIT_KEY"
                );
            }
            if self.tsa_url.is_none() || self.tsa_public_key.is_none() {
                bail!(
                    "production mode needs FUZHEN_TSA_URL and FUZHEN_TSA_PUBLIC_KEY: a time-stamping authority (RFC 3161) anchors the audit log"
                );
            }
            if self.payment_provider == "sandbox" {
                bail!(
                    "production mode refuses FUZHEN_PAYMENT_PROVIDER=sandbox (it confirms payments without taking money): configure the payment provider"
                );
            }
            if !self.public_url.starts_with("https://") {
                bail!(
                    "production mode needs FUZHEN_PUBLIC_URL, the https:// address patients reach the app at (payment providers send them back there)"
                );
            }
            if self.payment_provider == "stripe" && self.stripe_api_base.is_some() {
                bail!(
                    "production mode refuses FUZHEN_STRIPE_API_BASE (it sends payments somewhere other than Stripe)"
                );
            }
            if self.payment_provider == "stripe" && self.stripe_webhook_secrets.is_empty() {
                bail!(
                    "production mode with FUZHEN_PAYMENT_PROVIDER=stripe needs FUZHEN_STRIPE_WEBHOOK_SECRETS (without it no payment is ever confirmed)"
                );
            }
            if self
                .object_storage
                .as_ref()
                .is_some_and(S3Settings::is_plain_http)
            {
                bail!(
                    "production mode refuses an http:// FUZHEN_S3_ENDPOINT (patients' files would cross the network unencrypted): use https"
                );
            }
            self.calls.check_production()?;
        }
        Ok(())
    }

    pub fn field_key(&self) -> &[u8; 32] {
        self.field_key.expose_secret()
    }
    pub fn cookie_key(&self) -> &[u8; 64] {
        self.cookie_key.expose_secret()
    }
}

pub mod calls;
mod keys;
use keys::{decode_key, local_tsa_key, secret};

#[cfg(test)]
mod tests;
