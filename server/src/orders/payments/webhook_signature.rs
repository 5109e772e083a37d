//! Stripe's webhook signature (R-PAY-4): `Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]`,
//! an HMAC-SHA256 of `"<t>.<raw body>"` under the endpoint's secret. Checked on the raw
//! bytes, in constant time, against every configured secret (several while one is
//! rotated), then for freshness. By hand rather than through async-stripe's webhook
//! crate: that one takes a single secret and brings every event type into the build.
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far the signed time may be from ours, either way, as Stripe's libraries allow.
pub const TOLERANCE_SECS: i64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Stripe-Signature header lacks a timestamp or a v1 signature")]
    Malformed,
    #[error("no v1 signature matches a configured secret")]
    Mismatch,
    #[error("the signed timestamp is outside the tolerance")]
    Stale,
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Verifies a delivery; returns the signed timestamp. A signature is checked before the
/// time, so a forger learns nothing about our clock.
pub fn verify(
    header: &str,
    body: &[u8],
    secrets: &[&[u8]],
    now_unix: i64,
) -> Result<i64, SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => timestamp = v.parse::<i64>().ok(),
            Some(("v1", v)) => {
                if let Ok(sig) = hex::decode(v)
                    && sig.len() == 32
                {
                    signatures.push(sig);
                }
            }
            // Other schemes (v0, the test-mode scheme) are not trusted.
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let signed = secrets.iter().any(|secret| {
        let expected = mac(secret, timestamp, body);
        signatures
            .iter()
            .any(|sig| expected.clone().verify_slice(sig).is_ok())
    });
    if !signed {
        return Err(SignatureError::Mismatch);
    }
    if (now_unix - timestamp).abs() > TOLERANCE_SECS {
        return Err(SignatureError::Stale);
    }
    Ok(timestamp)
}

/// The header Stripe would send for `body` at `timestamp`: for the tests, the fake
/// Stripe server and the sandbox.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let sig = hex::encode(mac(secret, timestamp, body).finalize().into_bytes());
    format!("t={timestamp},v1={sig}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test_secret";
    const OLD: &[u8] = b"whsec_old_secret";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
    const NOW: i64 = 1_795_000_000;

    // R-PAY-4: a delivery signed as Stripe signs it is accepted.
    #[test]
    fn a_stripe_signature_is_accepted() {
        let header = sign(SECRET, NOW, BODY);
        assert_eq!(verify(&header, BODY, &[SECRET], NOW), Ok(NOW));
    }

    // The known answer, computed with Python's hmac module: HMAC-SHA256("k", "1.{}").
    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        assert_eq!(
            sign(b"k", 1, b"{}"),
            "t=1,v1=3dd49b2593d0f9a349e9e71c4bde3e2b862c2be4003fe9b4ba81332029310158"
        );
    }

    #[test]
    fn a_tampered_body_or_a_wrong_secret_is_refused() {
        let header = sign(SECRET, NOW, BODY);
        let mut tampered = BODY.to_vec();
        tampered[8] ^= 1;
        assert_eq!(
            verify(&header, &tampered, &[SECRET], NOW),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(&header, BODY, &[b"whsec_other".as_slice()], NOW),
            Err(SignatureError::Mismatch)
        );
    }

    // 5 minutes either way, and not a second more.
    #[test]
    fn the_tolerance_is_five_minutes_either_way() {
        let header = sign(SECRET, NOW, BODY);
        for now in [NOW - 300, NOW + 300] {
            assert_eq!(verify(&header, BODY, &[SECRET], now), Ok(NOW));
        }
        for now in [NOW - 301, NOW + 301] {
            assert_eq!(
                verify(&header, BODY, &[SECRET], now),
                Err(SignatureError::Stale)
            );
        }
    }

    // During a rotation both secrets are configured; either signature is enough, and a
    // header may carry several v1 signatures.
    #[test]
    fn any_configured_secret_and_any_v1_signature_will_do() {
        let by_old = sign(OLD, NOW, BODY);
        assert_eq!(verify(&by_old, BODY, &[SECRET, OLD], NOW), Ok(NOW));
        let v1_new = sign(SECRET, NOW, BODY);
        let both = format!(
            "{by_old},v1={},v0=abc",
            v1_new.rsplit_once("v1=").unwrap().1
        );
        assert_eq!(verify(&both, BODY, &[SECRET], NOW), Ok(NOW));
    }

    #[test]
    fn malformed_headers_are_refused() {
        let good = sign(SECRET, NOW, BODY);
        let sig = good.rsplit_once("v1=").unwrap().1;
        for header in [
            String::new(),
            format!("v1={sig}"),
            format!("t={NOW}"),
            format!("t=soon,v1={sig}"),
            format!("t={NOW},v1=zz"),
            format!("t={NOW},v1={}", &sig[..10]),
            format!("t={NOW},v0={sig}"),
        ] {
            assert_eq!(
                verify(&header, BODY, &[SECRET], NOW),
                Err(SignatureError::Malformed),
                "{header}"
            );
        }
    }
}
