//! What every handler shares.
use crate::accounts::session_store::DbSessionStore;
use crate::config::{Config, Mode};
use crate::crypto::{Crypto, FieldKey, sha256_hex};
use crate::identity::{LocalChecksOnly, RealNameVerifier};
use crate::sms::{ConsoleSms, SmsSender};
use crate::web::cookies::CookieNames;
use crate::web::csrf::CsrfKey;
use crate::web::parts::WebParts;
use app::accounts::ConsentDocumentView;
use app::domain::consent::{ALL_DOCUMENTS, ConsentDocument};
use app::domain::lockout::LockoutPolicy;
use app::domain::sms::SmsPolicy;
use axum::extract::FromRef;
use sea_orm::DatabaseConnection;
use secrecy::ExposeSecret;
use std::sync::Arc;

pub type AppState = Arc<State>;

pub struct State {
    pub mode: Mode,
    pub db: DatabaseConnection,
    pub crypto: Crypto,
    pub sms: Arc<dyn SmsSender>,
    pub verifier: Arc<dyn RealNameVerifier>,
    pub sms_policy: SmsPolicy,
    pub lockout: LockoutPolicy,
    /// Current (document, version): the version is the SHA-256 of the text.
    pub consents: Vec<(ConsentDocument, String)>,
    /// What orders pay for, by kind: each answered for by its feature.
    pub subjects: crate::orders::subject::Subjects,
    /// Takes payments and sends refunds (R-PAY-1).
    pub payments: Arc<dyn crate::orders::payments::PaymentProvider>,
    /// Where patients reach the app (providers send them back here).
    pub public_origin: String,
    /// Seconds a slot is held for payment.
    pub hold_secs: i64,
    /// Seconds before the start until which a patient cancels free.
    pub free_cancel_secs: i64,
    /// Seconds before a booked appointment that the reminder goes out (R-BOOK-3).
    pub reminder_secs: i64,
    /// Stripe's webhook signing secrets; empty: the webhook is off.
    pub stripe_webhook_secrets: Vec<secrecy::SecretBox<str>>,
    /// The consult risk notice's version (R-REG-6): the SHA-256 of its text.
    pub consult_notice_version: String,
    pub sessions: DbSessionStore,
    pub session_absolute: time::Duration,
    /// Cookies, CSRF, throttle and page cache: what the web layer keeps.
    pub web: WebParts,
    /// Password guesses one address may make in the lockout window.
    pub login_per_ip: u32,
    /// Verified against when a phone is unknown, so both paths cost the same.
    pub dummy_hash: String,
    pub leptos_options: leptos::config::LeptosOptions,
    /// The conditions a diagnosis is picked from (R-ELIG-2).
    pub conditions: Arc<crate::eligibility::conditions::Conditions>,
    /// The doctor directory and price list, in memory (R-DOC-1).
    pub directory: crate::doctors::directory::Directory,
    /// What each feature keeps for the life of the server.
    pub parts: crate::parts::Parts,
    /// The sensitive-word filter for text users write (R-CONS-5).
    pub words: Arc<crate::words::Words>,
    /// A staff session ends after this long without a request (R-SEC-3).
    pub staff_idle: time::Duration,
    /// A staff session ends this long after its login, however busy (R-SEC-3).
    pub staff_absolute: time::Duration,
    /// Uploaded files (R-ELIG-2).
    pub files: crate::files::Files,
    /// The largest file one upload may hold.
    pub max_upload_bytes: usize,
    /// Files one address may upload in an hour.
    pub uploads_per_address_per_hour: i64,
    pub eligibility: app::domain::eligibility::EligibilityPolicy,
    /// The audit chain's key (R-SEC-2, security review item 4).
    pub audit_key: crate::audit::AuditKey,
    /// Who time-stamps the chain's head, and how often.
    pub audit_authority: crate::audit::Authority,
    pub anchor_every: std::time::Duration,
}

impl State {
    pub async fn new(
        config: &Config,
        db: DatabaseConnection,
        leptos_options: leptos::config::LeptosOptions,
        subjects: crate::orders::subject::Subjects,
        parts: crate::parts::Parts,
    ) -> anyhow::Result<Self> {
        let previous: Vec<FieldKey<'_>> = config
            .previous_field_keys
            .iter()
            .map(|(version, key)| FieldKey {
                version: *version,
                key: key.expose_secret(),
            })
            .collect();
        let crypto = Crypto::new(
            FieldKey {
                version: config.field_key_version,
                key: config.field_key(),
            },
            &previous,
            config.hash_concurrency,
            config.hash_queue,
        );
        let dummy_hash = crypto
            .hash_password("not a real password, only for timing".into())
            .await?;
        let payments: Arc<dyn crate::orders::payments::PaymentProvider> = match config
            .payment_provider
            .as_str()
        {
            "sandbox" => Arc::new(crate::orders::payments::sandbox::SandboxProvider::new(
                db.clone(),
            )),
            "stripe" => {
                let Some(key) = &config.stripe_secret_key else {
                    anyhow::bail!("FUZHEN_PAYMENT_PROVIDER=stripe needs FUZHEN_STRIPE_SECRET_KEY");
                };
                Arc::new(crate::orders::payments::stripe::StripeProvider::new(
                    key.expose_secret(),
                    config.stripe_api_base.as_deref(),
                    std::time::Duration::from_millis(config.stripe_retry_ms),
                )?)
            }
            other => anyhow::bail!(
                "FUZHEN_PAYMENT_PROVIDER={other:?} is not a payment provider: sandbox (dev) or stripe"
            ),
        };
        Ok(Self {
            mode: config.mode,
            sessions: DbSessionStore::new(db.clone()),
            session_absolute: time::Duration::hours(config.session_absolute_hours),
            web: WebParts {
                csrf_key: CsrfKey::derive(config.cookie_key()),
                cookies: CookieNames {
                    secure: config.mode == Mode::Production,
                },
                trusted_proxies: crate::web::client::TrustedProxies(
                    config.trusted_proxies.clone().into(),
                ),
                throttle: crate::web::throttle::Throttle::per_minute(config.throttle_per_minute),
                page_cache: Default::default(),
            },
            login_per_ip: config.login_per_ip,
            db,
            crypto,
            sms: Arc::new(ConsoleSms::new(
                config
                    .dev_token
                    .as_ref()
                    .map(|t| secrecy::SecretBox::from(t.expose_secret().to_owned()))
                    .unwrap_or_else(|| secrecy::SecretBox::from(String::new())),
            )),
            verifier: Arc::new(LocalChecksOnly),
            sms_policy: SmsPolicy {
                per_phone_per_day: config.sms_per_phone_per_day,
                per_ip_per_hour: config.sms_per_ip_per_hour,
                ..SmsPolicy::default()
            },
            lockout: LockoutPolicy::default(),
            payments,
            subjects,
            public_origin: config.public_url.clone(),
            hold_secs: config.hold_minutes.clamp(1, 24 * 60) * 60,
            free_cancel_secs: config.free_cancel_hours.max(0) * 3600,
            reminder_secs: config.reminder_minutes.clamp(1, 7 * 24 * 60) * 60,
            stripe_webhook_secrets: config.stripe_webhook_secrets.clone(),
            consult_notice_version: sha256_hex(
                &app::domain::consult_consent::notice_versioned_content(),
            ),
            consents: ALL_DOCUMENTS
                .iter()
                .map(|d| (*d, sha256_hex(&d.versioned_content())))
                .collect(),
            dummy_hash,
            leptos_options,
            conditions: Arc::new(crate::eligibility::conditions::Conditions::built_in()?),
            directory: Default::default(),
            parts,
            staff_idle: time::Duration::minutes(config.staff_idle_minutes),
            staff_absolute: time::Duration::hours(config.staff_session_hours.clamp(0, 24)),
            files: match &config.object_storage {
                Some(s3) => crate::files::Files::s3(s3)?,
                None => crate::files::Files::local(&config.data_dir.join("files"))?,
            },
            max_upload_bytes: config.max_upload_bytes,
            uploads_per_address_per_hour: config.uploads_per_address_per_hour,
            eligibility: config.eligibility.clone(),
            audit_key: crate::audit::AuditKey::new(*config.audit_key.expose_secret()),
            audit_authority: crate::audit::Authority::from_config(config)?,
            anchor_every: std::time::Duration::from_secs(config.anchor_minutes.max(1) * 60),
            words: Arc::new(crate::words::Words::load(
                config.blocked_words_file.clone(),
            )?),
        })
    }

    /// The parts production must not run with (R-SEC: safe defaults).
    pub fn check_safe(&self) -> anyhow::Result<()> {
        if self.mode == Mode::Production {
            anyhow::ensure!(
                !self.sms.is_dev_only(),
                "production mode refuses the console SMS sender: set FUZHEN_SMS_PROVIDER"
            );
            anyhow::ensure!(
                !self.verifier.is_dev_only(),
                "production mode refuses local-only identity checks: set FUZHEN_IDENTITY_VERIFIER"
            );
        }
        Ok(())
    }

    pub fn consent_version(&self, document: ConsentDocument) -> String {
        self.consents
            .iter()
            .find(|(d, _)| *d == document)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    pub fn current_consent_views(&self) -> Vec<ConsentDocumentView> {
        self.consents
            .iter()
            .map(|(document, version)| ConsentDocumentView {
                document: *document,
                version: version.clone(),
            })
            .collect()
    }
}

// The web layer's pieces, each for the layer or extractor that uses it.
impl FromRef<AppState> for CsrfKey {
    fn from_ref(state: &AppState) -> Self {
        state.web.csrf_key.clone()
    }
}

impl FromRef<AppState> for CookieNames {
    fn from_ref(state: &AppState) -> Self {
        state.web.cookies
    }
}

impl FromRef<AppState> for crate::web::client::TrustedProxies {
    fn from_ref(state: &AppState) -> Self {
        state.web.trusted_proxies.clone()
    }
}

impl FromRef<AppState> for crate::web::throttle::Throttle {
    fn from_ref(state: &AppState) -> Self {
        state.web.throttle.clone()
    }
}

impl FromRef<AppState> for crate::web::page_cache::PageCache {
    fn from_ref(state: &AppState) -> Self {
        state.web.page_cache.clone()
    }
}
