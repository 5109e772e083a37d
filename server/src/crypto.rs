//! Field encryption (AES-256-GCM), keyed hashes (HMAC-SHA256) and password hashing
//! (argon2id, OWASP parameters) run off the async runtime on a bounded pool.
use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Where an encrypted value lives. It is bound to its table, column and row as
/// associated data, so a ciphertext copied to another row or column does not decrypt.
pub struct FieldContext {
    table: &'static str,
    column: &'static str,
    row: String,
}

impl FieldContext {
    /// The patient row is named by its patient number: unique, never changes, and known
    /// before the row is inserted.
    pub fn patient_id_number(patient_number: &str) -> Self {
        Self {
            table: "patient",
            column: "id_number",
            row: patient_number.to_owned(),
        }
    }

    /// A dependant's row, named by its member number in the same way.
    pub fn family_member_id_number(member_number: &str) -> Self {
        Self {
            table: "family_member",
            column: "id_number",
            row: member_number.to_owned(),
        }
    }

    /// A staff member's authenticator secret (`totp_secret` or `totp_pending`).
    pub fn staff(column: &'static str, staff_id: i64) -> Self {
        Self {
            table: "staff",
            column,
            row: staff_id.to_string(),
        }
    }

    fn aad(&self) -> Vec<u8> {
        format!("{}.{}:{}", self.table, self.column, self.row).into_bytes()
    }
}

#[derive(Clone)]
pub struct Crypto {
    /// The key new values are encrypted with, and its version.
    current: (u32, Aes256Gcm),
    /// Older keys, still able to decrypt until every value is re-encrypted.
    previous: Vec<(u32, Aes256Gcm)>,
    /// Lookup hashes must never change with a key rotation (uniqueness depends on them),
    /// so they use their own key, derived once from the version-1 field key.
    hmac_key: [u8; 32],
    hashing: Arc<Semaphore>,
    /// Hashes allowed to wait for a place; beyond them the answer is "busy".
    queue: Arc<Semaphore>,
}

/// A field key with its version number.
pub struct FieldKey<'a> {
    pub version: u32,
    pub key: &'a [u8; 32],
}

impl Crypto {
    pub fn new(
        current: FieldKey<'_>,
        previous: &[FieldKey<'_>],
        hash_concurrency: usize,
        hash_queue: usize,
    ) -> Self {
        let v1 = std::iter::once(&current)
            .chain(previous.iter())
            .find(|k| k.version == 1)
            .unwrap_or(&current);
        let hmac_key: [u8; 32] = Sha256::new_with_prefix(b"fuzhen-hmac-v1")
            .chain_update(v1.key)
            .finalize()
            .into();
        let cipher = |k: &FieldKey<'_>| {
            (
                k.version,
                Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(k.key)),
            )
        };
        let concurrency = hash_concurrency.max(1);
        Self {
            current: cipher(&current),
            previous: previous.iter().map(cipher).collect(),
            hmac_key,
            hashing: Arc::new(Semaphore::new(concurrency)),
            queue: Arc::new(Semaphore::new(concurrency + hash_queue)),
        }
    }

    /// `v<version>:` base64(nonce ‖ ciphertext ‖ tag), bound to `ctx`.
    pub fn encrypt(&self, plaintext: &str, ctx: &FieldContext) -> anyhow::Result<String> {
        let (version, cipher) = &self.current;
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let aad = ctx.aad();
        let ct = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(format!("v{version}:{}", STANDARD.encode(out)))
    }

    pub fn decrypt(&self, stored: &str, ctx: &FieldContext) -> anyhow::Result<String> {
        // Values written before versioning carry no prefix and no associated data.
        let (version, body, aad) = match stored.split_once(':') {
            Some((v, body)) if v.starts_with('v') => (v[1..].parse::<u32>()?, body, ctx.aad()),
            _ => (1, stored, Vec::new()),
        };
        let cipher = std::iter::once(&self.current)
            .chain(self.previous.iter())
            .find(|(v, _)| *v == version)
            .map(|(_, c)| c)
            .ok_or_else(|| anyhow::anyhow!("no field key of version {version}"))?;
        let bytes = STANDARD.decode(body)?;
        anyhow::ensure!(bytes.len() > 12, "ciphertext too short");
        let (nonce, ct) = bytes.split_at(12);
        let pt = cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad: &aad })
            .map_err(|_| {
                anyhow::anyhow!("decryption failed (wrong key, wrong row, or tampered)")
            })?;
        Ok(String::from_utf8(pt)?)
    }

    /// Whether a stored value should be re-encrypted with the current key.
    pub fn needs_rotation(&self, stored: &str) -> bool {
        !stored.starts_with(&format!("v{}:", self.current.0))
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

    /// A place in the bounded hashing queue, or "busy" at once when it is full.
    fn queue_place(&self) -> Result<tokio::sync::OwnedSemaphorePermit, HashingBusy> {
        self.queue
            .clone()
            .try_acquire_owned()
            .map_err(|_| HashingBusy)
    }

    pub async fn hash_password(&self, password: String) -> anyhow::Result<String> {
        let _place = self.queue_place()?;
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
        let _place = self.queue_place()?;
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

/// Every hashing place is taken: the caller answers 503 with `Retry-After`.
#[derive(Debug, thiserror::Error)]
#[error("password hashing queue is full")]
pub struct HashingBusy;

/// OWASP: argon2id, 19 MiB, 2 iterations, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn sha256_hex(text: &str) -> String {
    sha256_hex_bytes(text.as_bytes())
}

pub fn sha256_hex_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crypto(key: &[u8; 32]) -> Crypto {
        Crypto::new(FieldKey { version: 1, key }, &[], 1, 4)
    }

    // R-REG-4: encrypted at rest, round-trips, and tampering is detected.
    #[test]
    fn encryption_round_trips_and_detects_tampering() {
        let c = crypto(&[7; 32]);
        let here = FieldContext::patient_id_number("FZ0000000001");
        let stored = c.encrypt("11010519491231002X", &here).unwrap();
        assert!(!stored.contains("1101"));
        assert!(stored.starts_with("v1:"));
        assert_ne!(
            stored,
            c.encrypt("11010519491231002X", &here).unwrap(),
            "fresh nonce each time"
        );
        assert_eq!(c.decrypt(&stored, &here).unwrap(), "11010519491231002X");
        assert!(crypto(&[8; 32]).decrypt(&stored, &here).is_err());
    }

    // R-REG-4: a ciphertext moved to another patient's row does not decrypt.
    #[test]
    fn ciphertext_is_bound_to_its_row() {
        let c = crypto(&[7; 32]);
        let stored = c
            .encrypt(
                "11010519491231002X",
                &FieldContext::patient_id_number("FZ0000000001"),
            )
            .unwrap();
        let other_row = FieldContext::patient_id_number("FZ0000000002");
        assert!(c.decrypt(&stored, &other_row).is_err());
    }

    // R-REG-4: keys rotate: old values still decrypt, new ones use the new key, and
    // lookup hashes stay the same.
    #[test]
    fn keys_rotate_without_breaking_lookups() {
        let old = crypto(&[7; 32]);
        let here = FieldContext::patient_id_number("FZ0000000001");
        let stored = old.encrypt("11010519491231002X", &here).unwrap();
        let rotated = Crypto::new(
            FieldKey {
                version: 2,
                key: &[9; 32],
            },
            &[FieldKey {
                version: 1,
                key: &[7; 32],
            }],
            1,
            1,
        );
        assert_eq!(
            rotated.decrypt(&stored, &here).unwrap(),
            "11010519491231002X"
        );
        assert!(rotated.needs_rotation(&stored));
        let fresh = rotated.encrypt("11010519491231002X", &here).unwrap();
        assert!(fresh.starts_with("v2:") && !rotated.needs_rotation(&fresh));
        assert_eq!(old.keyed_hash("id", "x"), rotated.keyed_hash("id", "x"));
    }

    // R-REG-4: uniqueness is checked on a keyed hash.
    #[test]
    fn keyed_hash_depends_on_key_and_domain() {
        let c = crypto(&[7; 32]);
        let h = c.keyed_hash("id", "11010519491231002X");
        assert!(c.keyed_hash_matches("id", "11010519491231002X", &h));
        assert!(!c.keyed_hash_matches("sms", "11010519491231002X", &h));
        assert_ne!(h, crypto(&[8; 32]).keyed_hash("id", "11010519491231002X"));
    }

    // R-REG-5: argon2id.
    #[tokio::test]
    async fn passwords_hash_with_argon2id() {
        let c = crypto(&[7; 32]);
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
