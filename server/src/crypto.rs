//! Field encryption (AES-256-GCM), keyed hashes (HMAC-SHA256) and password hashing
//! (argon2id, OWASP parameters) run off the async runtime on a bounded pool.
use aes_gcm::aead::{Aead, KeyInit, OsRng};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct Crypto {
    cipher: Aes256Gcm,
    /// Derived from the field key, so one secret serves both uses without reuse.
    hmac_key: [u8; 32],
    hashing: Arc<Semaphore>,
}

impl Crypto {
    pub fn new(field_key: &[u8; 32], hash_concurrency: usize) -> Self {
        let hmac_key: [u8; 32] = Sha256::new_with_prefix(b"fuzhen-hmac-v1")
            .chain_update(field_key)
            .finalize()
            .into();
        Self {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(field_key)),
            hmac_key,
            hashing: Arc::new(Semaphore::new(hash_concurrency.max(1))),
        }
    }

    /// base64(nonce ‖ ciphertext ‖ tag).
    pub fn encrypt(&self, plaintext: &str) -> anyhow::Result<String> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ct = self
            .cipher
            .encrypt(&nonce, plaintext.as_bytes())
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(STANDARD.encode(out))
    }

    pub fn decrypt(&self, stored: &str) -> anyhow::Result<String> {
        let bytes = STANDARD.decode(stored)?;
        anyhow::ensure!(bytes.len() > 12, "ciphertext too short");
        let (nonce, ct) = bytes.split_at(12);
        let pt = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| anyhow::anyhow!("decryption failed (wrong key or tampered)"))?;
        Ok(String::from_utf8(pt)?)
    }

    /// A keyed hash for lookups on values we must not store in plaintext.
    pub fn keyed_hash(&self, domain: &str, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.hmac_key)
            .expect("HMAC takes any key length");
        mac.update(domain.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Constant-time comparison of a value against a stored keyed hash.
    pub fn keyed_hash_matches(&self, domain: &str, value: &str, stored_hex: &str) -> bool {
        let Ok(stored) = hex::decode(stored_hex) else {
            return false;
        };
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.hmac_key)
            .expect("HMAC takes any key length");
        mac.update(domain.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        mac.verify_slice(&stored).is_ok()
    }

    pub async fn hash_password(&self, password: String) -> anyhow::Result<String> {
        let _permit = self.hashing.acquire().await?;
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
        })
        .await?
    }

    pub async fn verify_password(&self, password: String, stored: String) -> anyhow::Result<bool> {
        let _permit = self.hashing.acquire().await?;
        tokio::task::spawn_blocking(move || {
            let parsed = PasswordHash::new(&stored)
                .map_err(|e| anyhow::anyhow!("stored hash unreadable: {e}"))?;
            Ok(argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok())
        })
        .await?
    }
}

/// OWASP: argon2id, 19 MiB, 2 iterations, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // R-REG-4: encrypted at rest, round-trips, and tampering is detected.
    #[test]
    fn encryption_round_trips_and_detects_tampering() {
        let c = Crypto::new(&[7; 32], 1);
        let stored = c.encrypt("11010519491231002X").unwrap();
        assert!(!stored.contains("1101"));
        assert_ne!(
            stored,
            c.encrypt("11010519491231002X").unwrap(),
            "fresh nonce each time"
        );
        assert_eq!(c.decrypt(&stored).unwrap(), "11010519491231002X");
        let other = Crypto::new(&[8; 32], 1);
        assert!(other.decrypt(&stored).is_err());
    }

    // R-REG-4: uniqueness is checked on a keyed hash.
    #[test]
    fn keyed_hash_depends_on_key_and_domain() {
        let c = Crypto::new(&[7; 32], 1);
        let h = c.keyed_hash("id", "11010519491231002X");
        assert!(c.keyed_hash_matches("id", "11010519491231002X", &h));
        assert!(!c.keyed_hash_matches("sms", "11010519491231002X", &h));
        assert_ne!(
            h,
            Crypto::new(&[8; 32], 1).keyed_hash("id", "11010519491231002X")
        );
    }

    // R-REG-5: argon2id.
    #[tokio::test]
    async fn passwords_hash_with_argon2id() {
        let c = Crypto::new(&[7; 32], 1);
        let h = c
            .hash_password("correct horse battery".into())
            .await
            .unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            c.verify_password("correct horse battery".into(), h.clone())
                .await
                .unwrap()
        );
        assert!(
            !c.verify_password("wrong horse battery".into(), h)
                .await
                .unwrap()
        );
    }
}
