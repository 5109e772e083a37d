//! The staff second factor's codes (R-SEC-3): RFC 6238 with the secret kept encrypted,
//! and the one-time recovery codes.
use crate::crypto::FieldContext;
use crate::error::AppError;
use rand::Rng;
use time::OffsetDateTime;

/// The name authenticator apps show beside the code.
pub(crate) const ISSUER: &str = "Fuzhen";

pub(crate) fn unix(now: OffsetDateTime) -> u64 {
    u64::try_from(now.unix_timestamp()).unwrap_or(0)
}

pub fn totp_context(staff_id: i64, column: &'static str) -> FieldContext {
    FieldContext::staff(column, staff_id)
}

pub(crate) fn totp_for(secret: &[u8], username: &str) -> Result<totp_rs::Totp, AppError> {
    totp_rs::Builder::new()
        .with_secret(secret.to_vec())
        .with_account_name(username)
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("totp: {e:?}")))
}

pub(crate) fn totp_from_b32(secret_b32: &str, username: &str) -> Result<totp_rs::Totp, AppError> {
    let secret = totp_rs::Secret::try_from_base32(secret_b32)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored totp secret: {e:?}")))?;
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_account_name(username)
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("totp: {e:?}")))
}

/// `xxxx-xxxx` from an alphabet without look-alikes; about 40 bits each.
pub(crate) fn new_recovery_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    let mut part = || {
        (0..4)
            .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
            .collect::<String>()
    };
    format!("{}-{}", part(), part())
}

pub(crate) fn fold_recovery(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// For tests and the dev demo: the current code of a stored secret.
pub fn current_code(secret_b32: &str, at: OffsetDateTime) -> Option<String> {
    totp_from_b32(secret_b32, "x")
        .ok()
        .map(|t| t.generate(unix(at)).to_string())
}
