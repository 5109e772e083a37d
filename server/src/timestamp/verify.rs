//! Verification of time-stamp tokens against a pinned public key.

use cmpv2::status::PkiStatus;
use cms::cert::x509::attr::Attribute;
use cms::cert::x509::ext::Extensions;
use cms::cert::x509::ext::pkix::name::GeneralName;
use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use const_oid::db::{rfc5911, rfc5912};
use der::asn1::{Int, ObjectIdentifier, OctetString};
use der::{Any, AnyRef, Decode, Encode, Reader, Sequence, SliceReader, Tag, TagNumber, Tagged};
use ring::digest::{Algorithm, SHA256, SHA384, SHA512, digest};
use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_tsp::{Accuracy, MessageImprint, TimeStampResp, TspVersion};

use super::{Error, ID_CT_TST_INFO, int_magnitude};

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// genTime, truncated to whole seconds.
    pub gen_time_unix: i64,
    /// serialNumber as a big-endian unsigned magnitude (RFC 3161 allows up to 160 bits).
    pub serial: Vec<u8>,
    /// The nonce, if the token has one. The CALLER must compare it with the nonce it
    /// sent: that is what ties a fresh response to its request.
    pub nonce: Option<u64>,
    /// TSA policy OID, dotted. Check it if you pin a TSA policy.
    pub policy: String,
}

impl Verified {
    /// The serial if it fits a u64 (always true for [`crate::LocalAuthority`]).
    pub fn serial_u64(&self) -> Option<u64> {
        (self.serial.len() <= 8).then(|| {
            self.serial
                .iter()
                .fold(0u64, |a, b| (a << 8) | u64::from(*b))
        })
    }
}

/// TSTInfo as x509-tsp defines it, except genTime is kept raw: `der`'s
/// GeneralizedTime only takes `YYYYMMDDhhmmssZ`, but RFC 3161 allows fractional
/// seconds (`...ss.sssZ`) and real TSAs (OpenSSL with clock_precision_digits,
/// Microsoft, ...) send them. x509-tsp's TstInfo would refuse such tokens.
#[derive(Clone, Debug, Sequence)]
struct TstInfoWire {
    version: TspVersion,
    policy: ObjectIdentifier,
    message_imprint: MessageImprint,
    serial_number: Int,
    gen_time: Any,
    #[asn1(optional = "true")]
    accuracy: Option<Accuracy>,
    #[asn1(default = "Default::default")]
    ordering: bool,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    tsa: Option<GeneralName>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    extensions: Option<Extensions>,
}

/// Verifies a DER `TimeStampResp` or a bare token (`ContentInfo`) for `digest`.
///
/// `public_key` is the TSA's key as ring takes it: for ECDSA the uncompressed
/// SEC1 point (65 bytes P-256, 97 bytes P-384, as [`crate::LocalAuthority::public_key`]
/// returns); for RSA the DER `RSAPublicKey`. [`public_key_from_spki`] converts
/// from a certificate's SubjectPublicKeyInfo.
///
/// Checks, in order: status granted (or grantedWithMods); ContentInfo is SignedData;
/// eContentType is id-ct-TSTInfo; messageImprint is SHA-256 of `digest`; exactly one
/// SignerInfo with signed attributes whose contentType is id-ct-TSTInfo and whose
/// messageDigest equals the hash of the TSTInfo bytes; the signature over the signed
/// attributes (as a SET OF) verifies with `public_key`.
///
/// Best effort for real TSAs: ECDSA with SHA-256/384 and RSA PKCS#1 v1.5 with
/// SHA-256/384/512 (signatureAlgorithm either `rsaEncryption`, as OpenSSL writes,
/// or `shaNNNWithRSAEncryption`), RSA keys 2048–8192 bits. Not done: RSA-PSS,
/// BER-encoded tokens, certificate path / EKU / revocation checks (the key is
/// pinned by the caller instead), the ESS signing-certificate attribute, and
/// matching the signer identifier with the key (the key either verifies or not).
pub fn verify(
    token_or_response_der: &[u8],
    digest: &[u8; 32],
    public_key: &[u8],
) -> Result<Verified, Error> {
    let token = parse_token(token_or_response_der)?;
    if token.content_type != rfc5911::ID_SIGNED_DATA {
        return Err(Error::Malformed("token is not SignedData"));
    }
    let signed_data: SignedData = token.content.decode_as()?;

    // The TSTInfo, as the exact bytes that were hashed.
    let encap = &signed_data.encap_content_info;
    if encap.econtent_type != ID_CT_TST_INFO {
        return Err(Error::Malformed("eContentType is not id-ct-TSTInfo"));
    }
    let econtent = encap
        .econtent
        .as_ref()
        .ok_or(Error::Malformed("token has no eContent"))?;
    if econtent.tag() != Tag::OctetString {
        return Err(Error::Malformed("eContent is not an OCTET STRING"));
    }
    let tst_der = econtent.value();
    let tst = TstInfoWire::from_der(tst_der)?;

    // Is it a stamp of our digest?
    let imprint = &tst.message_imprint;
    if imprint.hash_algorithm.oid != rfc5912::ID_SHA_256
        || !null_or_absent(&imprint.hash_algorithm.parameters)
        || imprint.hashed_message.as_bytes() != digest.as_slice()
    {
        return Err(Error::ImprintMismatch);
    }

    // RFC 3161 tokens carry exactly one signature, the TSA's.
    let mut signers = signed_data.signer_infos.0.iter();
    let signer = match (signers.next(), signers.next()) {
        (Some(s), None) => s,
        _ => return Err(Error::Malformed("token must have exactly one SignerInfo")),
    };
    let hash = hash_algorithm(&signer.digest_alg)?;
    let attrs = signer
        .signed_attrs
        .as_ref()
        .ok_or(Error::Malformed("SignerInfo has no signed attributes"))?;
    let content_type: ObjectIdentifier =
        single_value(attrs.iter(), rfc5911::ID_CONTENT_TYPE)?.decode_as()?;
    if content_type != ID_CT_TST_INFO {
        return Err(Error::Malformed(
            "contentType attribute is not id-ct-TSTInfo",
        ));
    }
    let message_digest: OctetString =
        single_value(attrs.iter(), rfc5911::ID_MESSAGE_DIGEST)?.decode_as()?;
    if message_digest.as_bytes() != digest_of(hash, tst_der).as_slice() {
        return Err(Error::ContentDigestMismatch);
    }

    // The signature is over the signed attributes exactly as the signer encoded
    // them, re-tagged from [0] IMPLICIT (0xA0) to SET OF (0x31). Take those bytes
    // from the input, not from re-encoding the decoded value: `der` 0.7 silently
    // SORTS a SET OF while decoding, so a signer that emitted its attributes in
    // non-DER order would otherwise fail to verify.
    let signed_bytes = raw_signed_attributes(token.content.value())?;
    let alg = signature_algorithm(&signer.signature_algorithm.oid, hash, public_key)?;
    UnparsedPublicKey::new(alg, public_key)
        .verify(&signed_bytes, signer.signature.as_bytes())
        .map_err(|_| Error::BadSignature)?;

    Ok(Verified {
        gen_time_unix: parse_generalized_time(&tst.gen_time)?,
        serial: int_magnitude(&tst.serial_number)?,
        nonce: tst.nonce.as_ref().map(nonce_u64).transpose()?,
        policy: tst.policy.to_string(),
    })
}

/// Extracts the key [`verify`] takes from a DER SubjectPublicKeyInfo (e.g. the one
/// in a real TSA's certificate, or `openssl pkey -pubout -outform DER`): the BIT
/// STRING contents, which are the SEC1 point for EC keys and RSAPublicKey for RSA.
pub fn public_key_from_spki(spki_der: &[u8]) -> Result<Vec<u8>, Error> {
    let spki = SubjectPublicKeyInfoOwned::from_der(spki_der)?;
    let bits = spki
        .subject_public_key
        .as_bytes()
        .ok_or(Error::Malformed("public key BIT STRING has unused bits"))?;
    Ok(bits.to_vec())
}

/// A TimeStampResp, or failing that a bare token.
fn parse_token(der: &[u8]) -> Result<ContentInfo, Error> {
    match TimeStampResp::from_der(der) {
        Ok(resp) => {
            if !matches!(
                resp.status.status,
                PkiStatus::Accepted | PkiStatus::GrantedWithMods
            ) {
                return Err(Error::NotGranted {
                    status: format!("{:?}", resp.status.status),
                    text: resp
                        .status
                        .status_string
                        .map(|t| t.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("; ")),
                });
            }
            resp.time_stamp_token
                .ok_or(Error::Malformed("granted response without a token"))
        }
        // Both start with a SEQUENCE; a response's first element is a SEQUENCE
        // (PKIStatusInfo), a ContentInfo's an OID, so at most one can parse.
        Err(_) => Ok(ContentInfo::from_der(der)?),
    }
}

/// The one value of the one attribute with this OID (RFC 5652 §5.3: contentType and
/// messageDigest MUST be single-valued and MUST NOT appear twice).
fn single_value<'a>(
    mut attrs: impl Iterator<Item = &'a Attribute>,
    oid: ObjectIdentifier,
) -> Result<&'a Any, Error> {
    let attr = attrs
        .by_ref()
        .find(|a| a.oid == oid)
        .ok_or(Error::Malformed("missing signed attribute"))?;
    if attrs.any(|a| a.oid == oid) {
        return Err(Error::Malformed("duplicate signed attribute"));
    }
    match attr.values.as_slice() {
        [v] => Ok(v),
        _ => Err(Error::Malformed(
            "signed attribute must have exactly one value",
        )),
    }
}

/// The signed attributes of the (single) SignerInfo, straight from the SignedData
/// content bytes, re-tagged as SET OF. Walks the TLVs by position:
/// SignedData ::= SEQUENCE { version, digestAlgorithms, encapContentInfo,
///   [0] certificates OPTIONAL, [1] crls OPTIONAL, signerInfos SET }  — last element;
/// SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm, [0] signedAttrs, ... }.
fn raw_signed_attributes(signed_data_value: &[u8]) -> Result<Vec<u8>, Error> {
    let fields = children(signed_data_value)?;
    let signer_infos = fields
        .last()
        .filter(|f| f.tag() == Tag::Set)
        .ok_or(Error::Malformed("no signerInfos"))?;
    let signers = children(signer_infos.value())?;
    let [signer] = signers.as_slice() else {
        return Err(Error::Malformed("token must have exactly one SignerInfo"));
    };
    let signer_fields = children(signer.value())?;
    let attrs = signer_fields
        .get(3)
        .filter(|f| {
            f.tag()
                == Tag::ContextSpecific {
                    constructed: true,
                    number: TagNumber::N0,
                }
        })
        .ok_or(Error::Malformed("SignerInfo has no signed attributes"))?;
    Ok(AnyRef::new(Tag::Set, attrs.value())?.to_der()?)
}

/// The TLVs inside a constructed value, borrowed from the input.
fn children(value: &[u8]) -> Result<Vec<AnyRef<'_>>, Error> {
    let mut reader = SliceReader::new(value)?;
    let mut out = Vec::new();
    while !reader.is_finished() {
        out.push(AnyRef::decode(&mut reader)?);
    }
    Ok(out)
}

fn null_or_absent(params: &Option<Any>) -> bool {
    match params {
        None => true,
        Some(p) => p.tag() == Tag::Null && p.value().is_empty(),
    }
}

fn hash_algorithm(alg: &AlgorithmIdentifierOwned) -> Result<&'static Algorithm, Error> {
    if !null_or_absent(&alg.parameters) {
        return Err(Error::Malformed("digest algorithm has parameters"));
    }
    match alg.oid {
        o if o == rfc5912::ID_SHA_256 => Ok(&SHA256),
        o if o == rfc5912::ID_SHA_384 => Ok(&SHA384),
        o if o == rfc5912::ID_SHA_512 => Ok(&SHA512),
        _ => Err(Error::Unsupported("SignerInfo digest algorithm")),
    }
}

fn digest_of(alg: &'static Algorithm, data: &[u8]) -> Vec<u8> {
    digest(alg, data).as_ref().to_vec()
}

/// Picks ring's verification algorithm from the SignerInfo's signatureAlgorithm,
/// its digestAlgorithm, and (for ECDSA) the curve implied by the point length.
fn signature_algorithm(
    oid: &ObjectIdentifier,
    hash: &'static Algorithm,
    key: &[u8],
) -> Result<&'static dyn VerificationAlgorithm, Error> {
    let is = |h: &'static Algorithm| std::ptr::eq(hash, h);
    let ecdsa = |for_256: &'static dyn VerificationAlgorithm,
                 for_384: &'static dyn VerificationAlgorithm| match key.len() {
        65 => Ok(for_256),
        97 => Ok(for_384),
        _ => Err(Error::Unsupported(
            "ECDSA key is not an uncompressed P-256/P-384 point",
        )),
    };
    match *oid {
        o if o == rfc5912::ECDSA_WITH_SHA_256 && is(&SHA256) => ecdsa(
            &signature::ECDSA_P256_SHA256_ASN1,
            &signature::ECDSA_P384_SHA256_ASN1,
        ),
        o if o == rfc5912::ECDSA_WITH_SHA_384 && is(&SHA384) => ecdsa(
            &signature::ECDSA_P256_SHA384_ASN1,
            &signature::ECDSA_P384_SHA384_ASN1,
        ),
        // OpenSSL (and others) name plain rsaEncryption here; the hash is then the digestAlgorithm.
        o if o == rfc5912::RSA_ENCRYPTION => Ok(if is(&SHA256) {
            &signature::RSA_PKCS1_2048_8192_SHA256
        } else if is(&SHA384) {
            &signature::RSA_PKCS1_2048_8192_SHA384
        } else {
            &signature::RSA_PKCS1_2048_8192_SHA512
        }),
        o if o == rfc5912::SHA_256_WITH_RSA_ENCRYPTION && is(&SHA256) => {
            Ok(&signature::RSA_PKCS1_2048_8192_SHA256)
        }
        o if o == rfc5912::SHA_384_WITH_RSA_ENCRYPTION && is(&SHA384) => {
            Ok(&signature::RSA_PKCS1_2048_8192_SHA384)
        }
        o if o == rfc5912::SHA_512_WITH_RSA_ENCRYPTION && is(&SHA512) => {
            Ok(&signature::RSA_PKCS1_2048_8192_SHA512)
        }
        _ => Err(Error::Unsupported(
            "signature algorithm (or its hash differs from the digest algorithm)",
        )),
    }
}

/// `YYYYMMDDhhmmss[.f+]Z` → Unix seconds (fraction dropped). RFC 3161 §2.4.2
/// requires UTC ("Z") and allows a fraction; anything else is refused.
pub(crate) fn parse_generalized_time(any: &Any) -> Result<i64, Error> {
    const BAD: Error = Error::Malformed("genTime is not YYYYMMDDhhmmss[.fff]Z");
    if any.tag() != Tag::GeneralizedTime {
        return Err(BAD);
    }
    let s = any.value();
    let (main, rest) = s.split_at_checked(14).ok_or(BAD)?;
    let fraction_ok = match rest {
        [b'Z'] => true,
        [b'.', frac @ .., b'Z'] => !frac.is_empty() && frac.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    if !fraction_ok || !main.iter().all(u8::is_ascii_digit) {
        return Err(BAD);
    }
    let n = |i: usize, len: usize| {
        main[i..i + len]
            .iter()
            .fold(0u16, |a, d| a * 10 + u16::from(d - b'0'))
    };
    let narrow = |v: u16| u8::try_from(v).map_err(|_| BAD);
    let dt = der::DateTime::new(
        n(0, 4),
        narrow(n(4, 2))?,
        narrow(n(6, 2))?,
        narrow(n(8, 2))?,
        narrow(n(10, 2))?,
        narrow(n(12, 2))?,
    )
    .map_err(|_| BAD)?;
    i64::try_from(dt.unix_duration().as_secs()).map_err(|_| BAD)
}

fn nonce_u64(i: &Int) -> Result<u64, Error> {
    // We only ever send u64 nonces, so a longer one cannot be ours.
    let m = int_magnitude(i)?;
    if m.len() > 8 {
        return Err(Error::Malformed("nonce longer than 64 bits"));
    }
    Ok(m.iter().fold(0u64, |a, b| (a << 8) | u64::from(*b)))
}
