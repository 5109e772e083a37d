//! The hash chain: how a row's hash is computed from its columns and its predecessor.
//! From the key marker's seq on, the hash is an HMAC with the audit key, which lives
//! outside the database (security review item 4): a row edited by someone holding only
//! the database cannot be given a hash that checks out, nor can any row after it.
use super::entity::Model;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretBox};
use sha2::{Digest, Sha256};

/// The key the chain is sealed with (`FUZHEN_AUDIT_KEY`); never printed.
pub struct AuditKey(SecretBox<[u8; 32]>);

impl AuditKey {
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(SecretBox::new(Box::new(bytes)))
    }

    fn mac(&self, domain: &[u8], message: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.expose_secret())
            .expect("HMAC takes any key length");
        mac.update(domain);
        mac.update(&[0]);
        mac.update(message);
        hex::encode(mac.finalize().into_bytes())
    }

    /// The marker's tag: says, with the key, from which seq the chain is keyed.
    pub fn marker_tag(&self, keyed_from: i64) -> String {
        self.mac(
            b"fuzhen-audit-keyed-from",
            keyed_from.to_string().as_bytes(),
        )
    }
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(not printed)")
    }
}

/// The row's hash where the chain is keyed from `keyed_from`: the HMAC of its encoding
/// from there on, [`row_hash`] before (rows sealed before the chain was keyed).
pub fn hash_for(row: &Model, key: &AuditKey, keyed_from: i64) -> String {
    if row.seq.unwrap_or(0) >= keyed_from {
        key.mac(b"fuzhen-audit-row", encoding(row).as_bytes())
    } else {
        row_hash(row)
    }
}

/// The hash row 1 chains onto, and what `audit_head` holds before any row exists.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// `hash = hex(SHA-256(encoding))` where the encoding is the compact JSON array
/// `[prev_hash, seq, at, actor_kind, actor_id, on_behalf_of, action, entity_type,
/// entity_id, ip, detail]`, with `null` for a missing value and `detail` as its stored
/// JSON text (a string). JSON strings are quoted and escaped, so the encoding is
/// unambiguous: no two different rows encode alike. The row's own `hash` and its `id`
/// (insertion order, which the chain's `seq` supersedes) are ignored.
pub fn row_hash(row: &Model) -> String {
    hex::encode(Sha256::digest(encoding(row).as_bytes()))
}

fn encoding(row: &Model) -> String {
    serde_json::json!([
        row.prev_hash,
        row.seq,
        row.at,
        row.actor_kind,
        row.actor_id,
        row.on_behalf_of,
        row.action,
        row.entity_type,
        row.entity_id,
        row.ip,
        row.detail,
    ])
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Model {
        Model {
            id: 1,
            seq: Some(1),
            at: 1_764_000_000,
            actor_kind: "patient".into(),
            actor_id: Some(7),
            on_behalf_of: None,
            action: "login_succeeded".into(),
            entity_type: Some("patient".into()),
            entity_id: Some("7".into()),
            ip: "203.0.113.9".into(),
            detail: None,
            prev_hash: Some(GENESIS_HASH.into()),
            hash: None,
        }
    }

    // R-SEC-2
    #[test]
    fn the_hash_covers_every_event_column_and_the_link_but_not_itself_or_the_id() {
        let base = row();
        let h = row_hash(&base);
        assert_eq!(h.len(), 64);
        assert_eq!(
            h,
            row_hash(&Model {
                hash: Some("x".into()),
                id: 9,
                ..base.clone()
            })
        );
        let variants = [
            Model {
                prev_hash: Some("1".repeat(64)),
                ..base.clone()
            },
            Model {
                seq: Some(2),
                ..base.clone()
            },
            Model {
                at: base.at + 1,
                ..base.clone()
            },
            Model {
                actor_kind: "staff".into(),
                ..base.clone()
            },
            Model {
                actor_id: Some(8),
                ..base.clone()
            },
            Model {
                actor_id: None,
                ..base.clone()
            },
            Model {
                on_behalf_of: Some(7),
                ..base.clone()
            },
            Model {
                action: "logged_out".into(),
                ..base.clone()
            },
            Model {
                entity_type: None,
                ..base.clone()
            },
            Model {
                entity_id: Some("8".into()),
                ..base.clone()
            },
            Model {
                ip: "203.0.113.1".into(),
                ..base.clone()
            },
            Model {
                detail: Some("{}".into()),
                ..base.clone()
            },
        ];
        for v in &variants {
            assert_ne!(row_hash(v), h, "{v:?}");
        }
    }

    // Security review item 4: from the marker on, only the key makes the hash.
    #[test]
    fn keyed_rows_need_the_key() {
        let key = AuditKey::new([6; 32]);
        let other = AuditKey::new([7; 32]);
        let r = row();
        assert_eq!(hash_for(&r, &key, 2), row_hash(&r), "before the marker");
        let keyed = hash_for(&r, &key, 1);
        assert_ne!(keyed, row_hash(&r));
        assert_ne!(keyed, hash_for(&r, &other, 1));
        assert_eq!(keyed.len(), 64);
        assert_ne!(key.marker_tag(1), key.marker_tag(2));
        assert_ne!(key.marker_tag(1), other.marker_tag(1));
        assert!(!format!("{key:?}").contains('6'));
    }

    // R-SEC-2
    #[test]
    fn the_encoding_is_unambiguous() {
        // Moving text across a field boundary, or empty versus missing, changes the hash.
        let a = Model {
            entity_type: Some("ab".into()),
            entity_id: Some("c".into()),
            ..row()
        };
        let b = Model {
            entity_type: Some("a".into()),
            entity_id: Some("bc".into()),
            ..row()
        };
        assert_ne!(row_hash(&a), row_hash(&b));
        let empty = Model {
            detail: Some(String::new()),
            ..row()
        };
        let none = Model {
            detail: None,
            ..row()
        };
        assert_ne!(row_hash(&empty), row_hash(&none));
        let quoted = Model {
            ip: "1\",\"2".into(),
            ..row()
        };
        let split = Model {
            ip: "1".into(),
            detail: Some("2".into()),
            ..row()
        };
        assert_ne!(row_hash(&quoted), row_hash(&split));
    }
}
