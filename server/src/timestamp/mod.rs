//! RFC 3161 time-stamping (security review item 4; prescriptions next): anchors the
//! audit chain's head with a time-stamping authority.
//!
//! * [`request`] builds a DER `TimeStampReq` for a SHA-256 digest.
//! * [`LocalAuthority`] is an in-process time-stamping authority (TSA) that answers
//!   such requests with a CMS `SignedData` token signed by an ECDSA P-256 key (ring).
//! * [`verify`] checks a `TimeStampResp` (or a bare token) against a digest and a
//!   pinned public key: ECDSA P-256/P-384 from our own or any TSA, and — best
//!   effort — RSA PKCS#1 v1.5 tokens from real TSAs.
//!
//! ASN.1 comes from the RustCrypto formats crates of the `der` 0.7 generation
//! (`x509-tsp` 0.1 is only published for that generation); all crypto and hashing
//! is `ring`, the same crate rustls already uses, so no second crypto provider.
//!
//! What this does NOT do (see each function): certificate-path validation of a
//! real TSA's certificate, the ESS signing-certificate attribute, RSA-PSS, BER input.

mod authority;
mod verify;

#[cfg(test)]
mod tests;

pub use authority::LocalAuthority;
pub use verify::{Verified, public_key_from_spki, verify};

use der::asn1::{Int, OctetString, Uint};
use der::oid::ObjectIdentifier;
use der::{Any, Encode};
use spki::AlgorithmIdentifierOwned;
use x509_tsp::{MessageImprint, TimeStampReq, TspVersion};

/// id-ct-TSTInfo (RFC 3161 §2.4.2): the eContentType of every time-stamp token.
/// Not in const-oid's database, hence spelled out.
pub const ID_CT_TST_INFO: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");

/// Policy the local authority stamps under. It sits under IANA's enterprise
/// number 32473, reserved for documentation and examples (RFC 5612), so it can
/// never be mistaken for a real TSA's policy.
pub const LOCAL_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.3161.1");

/// Everything that can go wrong. Variants are coarse on purpose: callers only
/// need to tell "not a valid stamp for this digest and key" from programming errors.
#[derive(Debug)]
pub enum Error {
    /// Input is not DER of the expected shape (includes BER-only encodings).
    Asn1(der::Error),
    /// Well-formed, but not what RFC 3161 / RFC 5652 require here.
    Malformed(&'static str),
    /// Well-formed and legal, but this prototype does not handle it.
    Unsupported(&'static str),
    /// The TSA answered with a status other than granted / grantedWithMods.
    NotGranted {
        status: String,
        text: Option<String>,
    },
    /// The token is for another digest (or another hash algorithm).
    ImprintMismatch,
    /// The messageDigest signed attribute does not match the TSTInfo: tampered content.
    ContentDigestMismatch,
    /// The signature does not verify with the given key.
    BadSignature,
    /// Key material rejected by ring (bad PKCS#8, wrong curve, ...).
    Key(&'static str),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Asn1(e) => write!(f, "ASN.1 decoding/encoding failed: {e}"),
            Error::Malformed(m) => write!(f, "malformed time-stamp structure: {m}"),
            Error::Unsupported(m) => write!(f, "unsupported: {m}"),
            Error::NotGranted { status, text } => {
                write!(f, "time-stamp not granted: {status}")?;
                if let Some(t) = text {
                    write!(f, " ({t})")?;
                }
                Ok(())
            }
            Error::ImprintMismatch => f.write_str("time-stamp is for a different digest"),
            Error::ContentDigestMismatch => f.write_str("messageDigest does not match TSTInfo"),
            Error::BadSignature => f.write_str("signature does not verify"),
            Error::Key(m) => write!(f, "key rejected: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<der::Error> for Error {
    fn from(e: der::Error) -> Self {
        Error::Asn1(e)
    }
}

/// Builds a DER `TimeStampReq`: version 1, SHA-256 messageImprint, the nonce,
/// no reqPolicy, certReq FALSE (omitted, it is the DEFAULT — DER forbids encoding it).
///
/// The output is byte-identical to `openssl ts -query -sha256` for the same digest
/// and nonce (see tests), which is the de-facto shape every TSA accepts.
pub fn request(digest: &[u8; 32], nonce: u64) -> Vec<u8> {
    let req = TimeStampReq {
        version: TspVersion::V1,
        message_imprint: sha256_imprint(digest),
        req_policy: None,
        nonce: Some(int_from_u64(nonce)),
        cert_req: false,
        extensions: None,
    };
    // Cannot fail: every field is built here from valid values.
    req.to_der().expect("TimeStampReq encodes")
}

/// MessageImprint with SHA-256. The AlgorithmIdentifier carries an explicit NULL
/// parameter: that is what OpenSSL and most TSAs send, and RFC 5754 makes both
/// forms acceptable to receivers. The verifier accepts absent or NULL.
pub(crate) fn sha256_imprint(digest: &[u8; 32]) -> MessageImprint {
    MessageImprint {
        hash_algorithm: spki::AlgorithmIdentifier {
            oid: const_oid::db::rfc5912::ID_SHA_256,
            parameters: Some(Any::null()),
        },
        hashed_message: OctetString::new(digest.to_vec()).expect("32 bytes"),
    }
}

/// AlgorithmIdentifier without parameters (RFC 5754 §2 for SHA-2 in CMS,
/// RFC 5758 §3.2 for ecdsa-with-SHA256, where parameters MUST be absent).
pub(crate) fn alg_no_params(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    }
}

/// u64 → DER INTEGER. Pitfall: `Int::new` copies bytes verbatim, so feeding it
/// `to_be_bytes()` produces a non-minimal INTEGER that `der` then refuses to
/// decode; and a u64 with the top bit set needs a leading 0x00 to stay positive.
/// Going through `Uint` (strips zeros) → `Int` (adds the sign byte) does both.
pub(crate) fn int_from_u64(n: u64) -> Int {
    Int::from(Uint::new(&n.to_be_bytes()).expect("8 bytes fit"))
}

/// DER INTEGER → non-negative magnitude, big-endian, minimal (zero is `[0]`).
/// Negative values are refused: serials and nonces are positive.
pub(crate) fn int_magnitude(i: &Int) -> Result<Vec<u8>, Error> {
    let b = i.as_bytes();
    match b.first() {
        None => Err(Error::Malformed("empty INTEGER")),
        Some(&x) if x & 0x80 != 0 => Err(Error::Malformed("negative INTEGER")),
        Some(0) if b.len() > 1 => Ok(b[1..].to_vec()),
        _ => Ok(b.to_vec()),
    }
}
