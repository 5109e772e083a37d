//! In-process time-stamping authority, for tests and for anchoring our own hash
//! chain when no external TSA is configured.

use std::time::Duration;

use cmpv2::status::{PkiStatus, PkiStatusInfo};
use cms::cert::x509::attr::Attribute;
use cms::cert::x509::ext::pkix::SubjectKeyIdentifier;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::db::{rfc5911, rfc5912};
use der::asn1::{GeneralizedTime, OctetString, SetOfVec};
use der::{Any, Decode, Encode, Tag};
use ring::digest::{SHA256, digest};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use x509_tsp::{TimeStampReq, TimeStampResp, TspVersion, TstInfo};

use super::{Error, ID_CT_TST_INFO, LOCAL_POLICY, alg_no_params, int_from_u64};

/// A TSA whose key lives in process memory.
///
/// The key is ECDSA P-256 / SHA-256, created by ring as a PKCS#8 document. ring
/// cannot export a key pair after the fact, so the PKCS#8 bytes are kept next to
/// it: [`LocalAuthority::pkcs8`] returns them for storing (they are the secret key:
/// write them 0600, or encrypt them), [`LocalAuthority::from_pkcs8`] loads them back.
pub struct LocalAuthority {
    key: EcdsaKeyPair,
    pkcs8: Vec<u8>,
    key_id: [u8; 20],
    rng: SystemRandom,
}

impl std::fmt::Debug for LocalAuthority {
    // Never print the PKCS#8 secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalAuthority")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl LocalAuthority {
    /// A fresh random key.
    pub fn generate() -> Result<Self, Error> {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|_| Error::Key("key generation failed"))?;
        Self::from_pkcs8(doc.as_ref())
    }

    /// Loads a key previously saved from [`LocalAuthority::pkcs8`] (or any
    /// P-256 PKCS#8 v1/v2 document ring accepts, e.g. from `openssl genpkey`
    /// converted with `openssl pkcs8 -topk8 -nocrypt -outform DER`).
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, Error> {
        let rng = SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8, &rng)
            .map_err(|_| Error::Key("not a P-256 PKCS#8 key"))?;
        let key_id = key_id(key.public_key().as_ref());
        Ok(Self {
            key,
            pkcs8: pkcs8.to_vec(),
            key_id,
            rng,
        })
    }

    /// The PKCS#8 document (secret!) to keep the key on disk.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// Uncompressed SEC1 point (65 bytes, 0x04‖X‖Y): what [`super::verify`] takes.
    pub fn public_key(&self) -> &[u8] {
        self.key.public_key().as_ref()
    }

    /// The subjectKeyIdentifier put in each token's SignerInfo.
    pub fn key_id(&self) -> [u8; 20] {
        self.key_id
    }

    /// Raw ECDSA signature, for tests that forge unusual but valid tokens.
    #[cfg(test)]
    pub(crate) fn sign_raw(&self, msg: &[u8]) -> Vec<u8> {
        self.key.sign(&self.rng, msg).unwrap().as_ref().to_vec()
    }

    /// Answers a DER `TimeStampReq` with a DER `TimeStampResp` (status granted).
    ///
    /// `now_unix` becomes genTime (whole seconds, UTC) and `serial` the serialNumber;
    /// the caller owns both so that tests are deterministic and the serial can come
    /// from a database sequence (RFC 3161 requires serials to be unique per TSA).
    ///
    /// Requests we cannot honour are returned as `Err` rather than as a
    /// "rejection" TimeStampResp: this authority is in-process, there is no remote
    /// client to inform. Refused: hash other than SHA-256, a reqPolicy other than
    /// ours, request extensions, certReq TRUE (we have no certificate to include).
    pub fn respond(
        &self,
        request_der: &[u8],
        now_unix: i64,
        serial: u64,
    ) -> Result<Vec<u8>, Error> {
        let req = TimeStampReq::from_der(request_der)?;
        let imprint = &req.message_imprint;
        if imprint.hash_algorithm.oid != rfc5912::ID_SHA_256 {
            return Err(Error::Unsupported("request hash algorithm is not SHA-256"));
        }
        if imprint.hashed_message.as_bytes().len() != 32 {
            return Err(Error::Malformed("SHA-256 imprint is not 32 bytes"));
        }
        if req.req_policy.is_some_and(|p| p != LOCAL_POLICY) {
            return Err(Error::Unsupported("requested policy is not ours"));
        }
        if req.extensions.is_some() {
            return Err(Error::Unsupported("request extensions"));
        }
        if req.cert_req {
            return Err(Error::Unsupported(
                "certReq: this authority has no certificate",
            ));
        }
        let now = u64::try_from(now_unix).map_err(|_| Error::Malformed("time before 1970"))?;

        let tst = TstInfo {
            version: TspVersion::V1,
            policy: LOCAL_POLICY,
            // RFC 3161: MUST be the requester's messageImprint, copied as sent
            // (including its NULL-or-absent hash parameters).
            message_imprint: req.message_imprint.clone(),
            serial_number: int_from_u64(serial),
            gen_time: GeneralizedTime::from_unix_duration(Duration::from_secs(now))?,
            accuracy: None,
            ordering: false,
            // RFC 3161: MUST be present and equal when the request had one.
            nonce: req.nonce.clone(),
            tsa: None,
            extensions: None,
        };
        let tst_der = tst.to_der()?;

        // Signed attributes (RFC 5652 §5.3): contentType and messageDigest are
        // mandatory whenever signed attributes are present. No signingTime: genTime
        // in the TSTInfo is the time that matters, and it is already signed.
        let content_type = Attribute {
            oid: rfc5911::ID_CONTENT_TYPE,
            values: SetOfVec::try_from(vec![Any::encode_from(&ID_CT_TST_INFO)?])?,
        };
        let message_digest = Attribute {
            oid: rfc5911::ID_MESSAGE_DIGEST,
            values: SetOfVec::try_from(vec![Any::encode_from(&OctetString::new(
                digest(&SHA256, &tst_der).as_ref(),
            )?)?])?,
        };
        // SetOfVec::try_from sorts into DER order, which the signature depends on.
        let signed_attrs = SetOfVec::try_from(vec![content_type, message_digest])?;
        // RFC 5652 §5.4: the signature covers the attributes encoded as a SET OF
        // (tag 0x31), not as they appear in SignerInfo ([0] IMPLICIT, tag 0xA0).
        // Encoding the SetOfVec on its own gives exactly the 0x31 form.
        let to_sign = signed_attrs.to_der()?;
        let signature = self
            .key
            .sign(&self.rng, &to_sign)
            .map_err(|_| Error::Key("signing failed"))?;

        let signer = SignerInfo {
            // v3 because the signer is identified by subjectKeyIdentifier (RFC 5652 §5.3).
            version: CmsVersion::V3,
            sid: SignerIdentifier::SubjectKeyIdentifier(SubjectKeyIdentifier(OctetString::new(
                self.key_id.to_vec(),
            )?)),
            digest_alg: alg_no_params(rfc5912::ID_SHA_256),
            signed_attrs: Some(signed_attrs),
            signature_algorithm: alg_no_params(rfc5912::ECDSA_WITH_SHA_256),
            signature: OctetString::new(signature.as_ref())?,
            unsigned_attrs: None,
        };
        let signed_data = SignedData {
            // v3: eContentType is not id-data and a signer uses a key identifier.
            version: CmsVersion::V3,
            digest_algorithms: SetOfVec::try_from(vec![alg_no_params(rfc5912::ID_SHA_256)])?,
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: ID_CT_TST_INFO,
                // eContent is an OCTET STRING wrapping the TSTInfo DER.
                econtent: Some(Any::new(Tag::OctetString, tst_der)?),
            },
            certificates: None,
            crls: None,
            signer_infos: SignerInfos(SetOfVec::try_from(vec![signer])?),
        };
        let token = ContentInfo {
            content_type: rfc5911::ID_SIGNED_DATA,
            content: Any::encode_from(&signed_data)?,
        };
        let resp = TimeStampResp {
            status: PkiStatusInfo {
                status: PkiStatus::Accepted,
                status_string: None,
                fail_info: None,
            },
            time_stamp_token: Some(token),
        };
        Ok(resp.to_der()?)
    }
}

/// Key identifier: leftmost 160 bits of SHA-256 over the public key point
/// (RFC 7093 §2 method 1). Lets a verifier holding several keys pick the right one.
pub(crate) fn key_id(public_key: &[u8]) -> [u8; 20] {
    let mut id = [0u8; 20];
    id.copy_from_slice(&digest(&SHA256, public_key).as_ref()[..20]);
    id
}
