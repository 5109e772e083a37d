//! What every handler shares.
use crate::config::{Config, Mode};
use crate::crypto::{Crypto, sha256_hex};
use crate::identity::{LocalChecksOnly, RealNameVerifier};
use crate::session_store::DbSessionStore;
use crate::sms::{ConsoleSms, SmsSender};
use app::domain::consent::{ALL_DOCUMENTS, ConsentDocument};
use app::domain::lockout::LockoutPolicy;
use app::domain::sms::SmsPolicy;
use app::viewer::ConsentDocumentView;
use sea_orm::DatabaseConnection;
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
    pub sessions: DbSessionStore,
    /// Verified against when a phone is unknown, so both paths cost the same.
    pub dummy_hash: String,
    pub leptos_options: leptos::config::LeptosOptions,
}

impl State {
    pub async fn new(
        config: &Config,
        db: DatabaseConnection,
        leptos_options: leptos::config::LeptosOptions,
    ) -> anyhow::Result<Self> {
        let crypto = Crypto::new(config.field_key(), config.hash_concurrency);
        let dummy_hash = crypto
            .hash_password("not a real password, only for timing".into())
            .await?;
        Ok(Self {
            mode: config.mode,
            sessions: DbSessionStore::new(db.clone()),
            db,
            crypto,
            sms: Arc::new(ConsoleSms::default()),
            verifier: Arc::new(LocalChecksOnly),
            sms_policy: SmsPolicy {
                per_phone_per_day: config.sms_per_phone_per_day,
                per_ip_per_hour: config.sms_per_ip_per_hour,
                ..SmsPolicy::default()
            },
            lockout: LockoutPolicy::default(),
            consents: ALL_DOCUMENTS
                .iter()
                .map(|d| (*d, sha256_hex(&d.versioned_content())))
                .collect(),
            dummy_hash,
            leptos_options,
        })
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
