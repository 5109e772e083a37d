use cmpv2::status::{PkiStatus, PkiStatusInfo};
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerInfos};
use der::asn1::{Any, AnyRef, OctetString, SetOfVec};
use der::{Decode, Encode, Tag};
use ring::digest::{SHA256, digest};
use x509_tsp::{TimeStampReq, TimeStampResp, TspVersion};

use super::*;

const NOW: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

fn sha256(data: &[u8]) -> [u8; 32] {
    digest(&SHA256, data).as_ref().try_into().unwrap()
}

fn token_of(resp_der: &[u8]) -> ContentInfo {
    TimeStampResp::from_der(resp_der)
        .unwrap()
        .time_stamp_token
        .unwrap()
}

fn signed_data_of(resp_der: &[u8]) -> SignedData {
    token_of(resp_der).content.decode_as().unwrap()
}

fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("needle present")
}

fn stamp(auth: &LocalAuthority, digest: &[u8; 32], nonce: u64, serial: u64) -> Vec<u8> {
    auth.respond(&request(digest, nonce), NOW, serial).unwrap()
}

// ---- request -------------------------------------------------------------

#[test]
fn request_fields() {
    let d = sha256(b"head of chain");
    let req = TimeStampReq::from_der(&request(&d, 42)).unwrap();
    assert_eq!(req.version, TspVersion::V1);
    assert_eq!(
        req.message_imprint.hash_algorithm.oid,
        const_oid::db::rfc5912::ID_SHA_256
    );
    assert_eq!(req.message_imprint.hashed_message.as_bytes(), d);
    assert_eq!(req.nonce.unwrap().as_bytes(), [42]);
    assert!(!req.cert_req);
    assert!(req.req_policy.is_none() && req.extensions.is_none());
}

#[test]
fn request_is_byte_identical_to_openssl() {
    // testdata/query.tsq = `openssl ts -query -data abc.txt -sha256` (random nonce
    // with the top bit set, which exercises the INTEGER sign byte).
    let theirs = include_bytes!("testdata/query.tsq");
    let nonce_hex = include_str!("testdata/nonce.txt")
        .trim()
        .trim_start_matches("0x");
    let nonce = u64::from_str_radix(nonce_hex, 16).unwrap();
    assert_eq!(request(&sha256(b"abc"), nonce), theirs);
}

// ---- round trip and refusals --------------------------------------------

#[test]
fn round_trip() {
    let auth = LocalAuthority::generate().unwrap();
    let d = sha256(b"audit chain head #17");
    let resp = stamp(&auth, &d, 7, 17);
    let v = verify(&resp, &d, auth.public_key()).unwrap();
    assert_eq!(v.gen_time_unix, NOW);
    assert_eq!(v.serial_u64(), Some(17));
    assert_eq!(v.nonce, Some(7));
    assert_eq!(v.policy, LOCAL_POLICY.to_string());
}

#[test]
fn bare_token_is_accepted() {
    let auth = LocalAuthority::generate().unwrap();
    let d = sha256(b"x");
    let token = token_of(&stamp(&auth, &d, 1, 1)).to_der().unwrap();
    assert_eq!(verify(&token, &d, auth.public_key()).unwrap().serial, [1]);
}

#[test]
fn wrong_digest_refused() {
    let auth = LocalAuthority::generate().unwrap();
    let resp = stamp(&auth, &sha256(b"a"), 1, 1);
    assert!(matches!(
        verify(&resp, &sha256(b"b"), auth.public_key()),
        Err(Error::ImprintMismatch)
    ));
}

#[test]
fn tampered_tstinfo_refused() {
    let auth = LocalAuthority::generate().unwrap();
    let d = sha256(b"a");
    let mut resp = stamp(&auth, &d, 0x1234_5678, 1);
    // The TSTInfo ends with the nonce INTEGER: flipping its last byte keeps valid DER
    // but changes the content, so only the messageDigest check can catch it.
    let tst = signed_data_of(&resp)
        .encap_content_info
        .econtent
        .unwrap()
        .value()
        .to_vec();
    let end = find(&resp, &tst) + tst.len() - 1;
    resp[end] ^= 0x01;
    assert!(matches!(
        verify(&resp, &d, auth.public_key()),
        Err(Error::ContentDigestMismatch)
    ));
}

#[test]
fn tampered_signature_refused() {
    let auth = LocalAuthority::generate().unwrap();
    let d = sha256(b"a");
    let mut resp = stamp(&auth, &d, 1, 1);
    let sig = signed_data_of(&resp)
        .signer_infos
        .0
        .get(0)
        .unwrap()
        .signature
        .as_bytes()
        .to_vec();
    let last = find(&resp, &sig) + sig.len() - 1; // last byte of s, DER stays valid
    resp[last] ^= 0x01;
    assert!(matches!(
        verify(&resp, &d, auth.public_key()),
        Err(Error::BadSignature)
    ));
}

#[test]
fn tampered_signed_attribute_refused() {
    // Editing the messageDigest attribute (its last byte) while leaving the TSTInfo
    // alone: the digest comparison refuses it before the signature is even checked.
    let auth = LocalAuthority::generate().unwrap();
    let d = sha256(b"a");
    let mut resp = stamp(&auth, &d, 1, 1);
    let tst = signed_data_of(&resp)
        .encap_content_info
        .econtent
        .unwrap()
        .value()
        .to_vec();
    let md = sha256(&tst);
    let at = find(&resp, &md) + 31;
    resp[at] ^= 0x01;
    assert!(matches!(
        verify(&resp, &d, auth.public_key()),
        Err(Error::ContentDigestMismatch)
    ));
}

#[test]
fn other_authority_refused() {
    let auth = LocalAuthority::generate().unwrap();
    let other = LocalAuthority::generate().unwrap();
    let d = sha256(b"a");
    let resp = stamp(&auth, &d, 1, 1);
    assert!(matches!(
        verify(&resp, &d, other.public_key()),
        Err(Error::BadSignature)
    ));
}

#[test]
fn nonce_preserved() {
    let auth = LocalAuthority::generate().unwrap();
    let d = sha256(b"n");
    // 0, one byte, top bit set (needs a 0x00 sign byte in DER), max.
    for nonce in [0, 1, 0x80, 0x8000_0000_0000_0001, u64::MAX] {
        let resp = stamp(&auth, &d, nonce, nonce ^ 0x55);
        let v = verify(&resp, &d, auth.public_key()).unwrap();
        assert_eq!(v.nonce, Some(nonce));
        assert_eq!(v.serial_u64(), Some(nonce ^ 0x55));
    }
}

#[test]
fn pkcs8_export_import() {
    let auth = LocalAuthority::generate().unwrap();
    let reloaded = LocalAuthority::from_pkcs8(auth.pkcs8()).unwrap();
    assert_eq!(reloaded.public_key(), auth.public_key());
    assert_eq!(reloaded.key_id(), auth.key_id());
    let d = sha256(b"p");
    // Signed by the reloaded key, verified with the original's public key.
    assert!(verify(&stamp(&reloaded, &d, 1, 1), &d, auth.public_key()).is_ok());
    assert!(LocalAuthority::from_pkcs8(b"not a key").is_err());
}

#[test]
fn token_shape() {
    let auth = LocalAuthority::generate().unwrap();
    let sd = signed_data_of(&stamp(&auth, &sha256(b"s"), 1, 1));
    assert_eq!(sd.encap_content_info.econtent_type, ID_CT_TST_INFO);
    assert!(sd.certificates.is_none());
    let si = sd.signer_infos.0.get(0).unwrap();
    match &si.sid {
        cms::signed_data::SignerIdentifier::SubjectKeyIdentifier(ski) => {
            assert_eq!(ski.0.as_bytes(), auth.key_id())
        }
        other => panic!("unexpected sid {other:?}"),
    }
    assert_eq!(
        si.signature_algorithm.oid,
        const_oid::db::rfc5912::ECDSA_WITH_SHA_256
    );
    assert!(si.signature_algorithm.parameters.is_none());
}

#[test]
fn not_granted_refused() {
    let resp = TimeStampResp {
        status: PkiStatusInfo {
            status: PkiStatus::Rejection,
            status_string: None,
            fail_info: None,
        },
        time_stamp_token: None,
    }
    .to_der()
    .unwrap();
    assert!(matches!(
        verify(&resp, &[0; 32], &[4; 65]),
        Err(Error::NotGranted { .. })
    ));
}

#[test]
fn respond_refuses_other_hashes_and_garbage() {
    let auth = LocalAuthority::generate().unwrap();
    let mut req = TimeStampReq::from_der(&request(&[1; 32], 1)).unwrap();
    req.message_imprint.hash_algorithm.oid = const_oid::db::rfc5912::ID_SHA_1;
    req.message_imprint.hashed_message = OctetString::new(vec![1; 20]).unwrap();
    assert!(matches!(
        auth.respond(&req.to_der().unwrap(), NOW, 1),
        Err(Error::Unsupported(_))
    ));
    assert!(matches!(
        auth.respond(b"\x30\x00", NOW, 1),
        Err(Error::Asn1(_))
    ));
    assert!(auth.respond(&request(&[1; 32], 1), -1, 1).is_err());
}

#[test]
fn signed_attributes_in_non_der_order_still_verify() {
    // A signer may emit its SET OF attributes unsorted; the signature is then over
    // that order. `der` sorts sets while decoding, so re-encoding the decoded value
    // would not reproduce the signed bytes; verify() uses the raw input bytes.
    let auth = LocalAuthority::generate().unwrap();
    let d = sha256(b"order");
    let resp = stamp(&auth, &d, 1, 1);
    let mut token = token_of(&resp);
    let mut sd: SignedData = token.content.decode_as().unwrap();
    let mut si = sd.signer_infos.0.get(0).unwrap().clone();
    let attrs: Vec<Vec<u8>> = si
        .signed_attrs
        .as_ref()
        .unwrap()
        .iter()
        .map(|a| a.to_der().unwrap())
        .collect();
    assert_eq!(attrs.len(), 2);
    let sorted = [attrs[0].clone(), attrs[1].clone()].concat();
    let reversed = [attrs[1].clone(), attrs[0].clone()].concat();
    assert_ne!(sorted, reversed);
    let reversed_set = AnyRef::new(Tag::Set, &reversed).unwrap().to_der().unwrap();
    let sig = auth.sign_raw(&reversed_set);
    si.signature = OctetString::new(sig).unwrap();
    sd.signer_infos = SignerInfos(SetOfVec::try_from(vec![si]).unwrap());
    token.content = Any::encode_from(&sd).unwrap();
    let mut bytes = token.to_der().unwrap();
    // Signature is over the reversed order, but the token still has the sorted one.
    assert!(matches!(
        verify(&bytes, &d, auth.public_key()),
        Err(Error::BadSignature)
    ));
    // Put the attributes in the signed (non-DER) order: same length, so splice in place.
    let at = find(&bytes, &sorted);
    bytes[at..at + sorted.len()].copy_from_slice(&reversed);
    assert!(verify(&bytes, &d, auth.public_key()).is_ok());
}

// ---- interop with a real TSA implementation (OpenSSL `ts -reply`) --------
// testdata/make-fixtures.sh made these; serial 0x2B, policy 1.2.3.4.1, the nonce
// of query.tsq, SHA-256("abc"). The `-3` files have genTime with milliseconds.

fn openssl_nonce() -> u64 {
    let hex = include_str!("testdata/nonce.txt")
        .trim()
        .trim_start_matches("0x");
    u64::from_str_radix(hex, 16).unwrap()
}

fn check_openssl(resp: &[u8], key: &[u8]) {
    let v = verify(resp, &sha256(b"abc"), key).unwrap();
    assert_eq!(v.serial, [0x2b]);
    assert_eq!(v.nonce, Some(openssl_nonce()));
    assert_eq!(v.policy, "1.2.3.4.1");
    assert!(v.gen_time_unix > 1_700_000_000);
    assert!(matches!(
        verify(resp, &sha256(b"abd"), key),
        Err(Error::ImprintMismatch)
    ));
}

#[test]
fn openssl_ecdsa_p256_tokens() {
    let key = public_key_from_spki(include_bytes!("testdata/ec.spki.der")).unwrap();
    assert_eq!(key.len(), 65);
    check_openssl(include_bytes!("testdata/openssl-ec-0.tsr"), &key);
    check_openssl(include_bytes!("testdata/openssl-ec-3.tsr"), &key);
    // Same token, other P-256 key.
    let other = LocalAuthority::generate().unwrap();
    let r = verify(
        include_bytes!("testdata/openssl-ec-0.tsr"),
        &sha256(b"abc"),
        other.public_key(),
    );
    assert!(matches!(r, Err(Error::BadSignature)));
}

#[test]
fn openssl_rsa_tokens() {
    // OpenSSL writes signatureAlgorithm = rsaEncryption, digestAlgorithm = sha256.
    let from_spki = public_key_from_spki(include_bytes!("testdata/rsa.spki.der")).unwrap();
    let rsa_public_key = include_bytes!("testdata/rsa.pub.der");
    assert_eq!(from_spki, rsa_public_key);
    check_openssl(include_bytes!("testdata/openssl-rsa-0.tsr"), rsa_public_key);
    check_openssl(include_bytes!("testdata/openssl-rsa-3.tsr"), rsa_public_key);
    // An EC key cannot verify an RSA token.
    let ec = public_key_from_spki(include_bytes!("testdata/ec.spki.der")).unwrap();
    assert!(
        verify(
            include_bytes!("testdata/openssl-rsa-0.tsr"),
            &sha256(b"abc"),
            &ec
        )
        .is_err()
    );
}

#[test]
fn fractional_gen_time_truncates() {
    // Both openssl-*-0 and -3 responses were made within the same second or so.
    let key = public_key_from_spki(include_bytes!("testdata/ec.spki.der")).unwrap();
    let whole = verify(
        include_bytes!("testdata/openssl-ec-0.tsr"),
        &sha256(b"abc"),
        &key,
    )
    .unwrap();
    let frac = verify(
        include_bytes!("testdata/openssl-ec-3.tsr"),
        &sha256(b"abc"),
        &key,
    )
    .unwrap();
    assert!((frac.gen_time_unix - whole.gen_time_unix).abs() <= 2);
}

#[test]
fn generalized_time_parser() {
    let t = |s: &str| Any::new(Tag::GeneralizedTime, s.as_bytes()).unwrap();
    let p = |s: &str| super::verify::parse_generalized_time(&t(s));
    assert_eq!(p("20260101000000Z").unwrap(), NOW);
    assert_eq!(p("20260101000000.999Z").unwrap(), NOW);
    for bad in [
        "20260101000000",
        "20260101000000+0100",
        "20260101000000.Z",
        "2026010100000Z",
        "20261301000000Z",
    ] {
        assert!(p(bad).is_err(), "{bad}");
    }
}
