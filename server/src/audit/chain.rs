//! The hash chain: how a row's hash is computed from its columns and its predecessor.
use super::entity::Model;
use sha2::{Digest, Sha256};

/// The hash row 1 chains onto, and what `audit_head` holds before any row exists.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// `hash = hex(SHA-256(encoding))` where the encoding is the compact JSON array
/// `[prev_hash, seq, at, actor_kind, actor_id, on_behalf_of, action, entity_type,
/// entity_id, ip, detail]`, with `null` for a missing value and `detail` as its stored
/// JSON text (a string). JSON strings are quoted and escaped, so the encoding is
/// unambiguous: no two different rows encode alike. The row's own `hash` and its `id`
/// (insertion order, which the chain's `seq` supersedes) are ignored.
pub fn row_hash(row: &Model) -> String {
    let encoding = serde_json::json!([
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
    ]);
    hex::encode(Sha256::digest(encoding.to_string().as_bytes()))
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
