//! Sending SMS. The default writes to the log and keeps a dev outbox; production
//! would plug a gateway in behind the same trait.
use async_trait::async_trait;
use std::sync::Mutex;

#[derive(Debug, Clone, serde::Serialize)]
pub struct OutboxMessage {
    pub phone: String,
    pub body: String,
    /// The code in the message, if it carries one (dev outbox only).
    pub code: Option<String>,
    pub sent_at: i64,
}

#[async_trait]
pub trait SmsSender: Send + Sync {
    /// Sends `body`; `code` is the verification code in it, if any.
    async fn send(&self, phone: &str, body: &str, code: Option<&str>) -> anyhow::Result<()>;
    /// Console output is for development only; production refuses to start with it.
    fn is_dev_only(&self) -> bool {
        false
    }
    /// Only the console sender has an outbox.
    fn outbox(&self) -> Option<&ConsoleSms> {
        None
    }
}

pub struct ConsoleSms {
    messages: Mutex<Vec<OutboxMessage>>,
    /// The outbox is read only with this token (`x-fuzhen-dev-token`), never by the
    /// caller's address alone: behind a proxy on the same host everyone is 127.0.0.1.
    token: secrecy::SecretBox<str>,
}

impl ConsoleSms {
    pub fn new(token: secrecy::SecretBox<str>) -> Self {
        Self {
            messages: Mutex::default(),
            token,
        }
    }

    /// Whether `presented` is the dev token; compared by digest, so the time taken
    /// says nothing about how much of it was right.
    pub fn admits(&self, presented: &str) -> bool {
        use secrecy::ExposeSecret;
        use sha2::{Digest, Sha256};
        let expected = Sha256::digest(self.token.expose_secret().as_bytes());
        let given = Sha256::digest(presented.as_bytes());
        !self.token.expose_secret().is_empty() && expected == given
    }

    /// The token, for the tests and tools that read the outbox.
    pub fn token(&self) -> &str {
        secrecy::ExposeSecret::expose_secret(&self.token)
    }

    pub fn messages_for(&self, phone: &str) -> Vec<OutboxMessage> {
        let messages = self.messages.lock().unwrap_or_else(|e| e.into_inner());
        messages
            .iter()
            .filter(|m| m.phone == phone)
            .cloned()
            .collect()
    }
}

#[async_trait]
impl SmsSender for ConsoleSms {
    async fn send(&self, phone: &str, body: &str, code: Option<&str>) -> anyhow::Result<()> {
        // Dev only: the console sender exists so a developer can read the code.
        tracing::info!(sms.to = phone, sms.body = body, "console SMS (dev)");
        let mut messages = self.messages.lock().unwrap_or_else(|e| e.into_inner());
        messages.push(OutboxMessage {
            phone: phone.to_owned(),
            body: body.to_owned(),
            code: code.map(str::to_owned),
            sent_at: time::OffsetDateTime::now_utc().unix_timestamp(),
        });
        // Bounded: a dev server left running must not grow without end.
        if messages.len() > 1000 {
            messages.drain(..500);
        }
        Ok(())
    }
    fn outbox(&self) -> Option<&ConsoleSms> {
        Some(self)
    }
    fn is_dev_only(&self) -> bool {
        true
    }
}
