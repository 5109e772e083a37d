//! Security review item 4: the keyed chain and its time-stamped anchors.
use super::*;

// Security review item 4 (R-SEC-2): whoever holds only the database (the app's login,
// able to drop the trigger) rewrites row 2 and recomputes every later hash and the head,
// as plain SHA-256 or with a key of their own: without the audit key the first edited
// row is named. The key marker can neither be removed nor moved.
#[tokio::test]
async fn a_chain_rewritten_without_the_key_is_caught() {
    for t in databases().await {
        let db = &t.db;
        for n in 1..=3 {
            record_alone(db, event(n)).await.expect("record");
        }
        seal(db, &key()).await.expect("seal");
        assert_eq!(
            verify(db, &key()).await.expect("verify"),
            intact(3),
            "{}",
            t.label
        );
        let backend = db.get_database_backend();
        let postgres = t.label == "postgres";
        let drop = |trigger: &str, table: &str| {
            if postgres {
                format!("DROP TRIGGER {trigger} ON {table}")
            } else {
                format!("DROP TRIGGER {trigger}")
            }
        };
        db.execute_unprepared(&drop("audit_log_seal_once", "audit_log"))
            .await
            .expect("drop trigger");
        for forger in [None, Some(AuditKey::new([9; 32]))] {
            rewrite_chain(
                db,
                |row| row.action = "logged_out".into(),
                |row| match &forger {
                    None => chain::row_hash(row),
                    Some(k) => chain::hash_for(row, k, 1),
                },
            )
            .await;
            let (seq, why) = verify(db, &key())
                .await
                .expect("verify")
                .first_broken
                .expect("broken");
            assert_eq!(seq, 2, "{}: {why}", t.label);
            assert!(why.contains("without the key"), "{why}");
        }
        // The marker, moved past the rewritten rows with a tag of the forger's making.
        let other = AuditKey::new([9; 32]);
        db.execute_unprepared(&drop("audit_key_marker_fixed", "audit_key_marker"))
            .await
            .expect("drop the marker's trigger");
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            placeholders(
                backend,
                "UPDATE audit_key_marker SET keyed_from = 4, tag = $1",
            ),
            [other.marker_tag(4).into()],
        ))
        .await
        .expect("move the marker");
        let (_, why) = verify(db, &key())
            .await
            .expect("verify")
            .first_broken
            .expect("broken");
        assert!(why.contains("key marker"), "{}: {why}", t.label);
        assert!(
            check_key(db, &key()).await.is_err(),
            "a server would not start"
        );
        // Removed: nothing is keyed any more, which is a break of its own.
        if !postgres {
            db.execute_unprepared("DROP TRIGGER audit_key_marker_kept")
                .await
                .expect("drop");
        }
        db.execute_unprepared("DELETE FROM audit_key_marker")
            .await
            .expect("remove the marker");
        let (seq, why) = verify(db, &key())
            .await
            .expect("verify")
            .first_broken
            .expect("broken");
        assert_eq!(
            (seq, why.contains("no key marker")),
            (1, true),
            "{}: {why}",
            t.label
        );
    }
}

// Security review item 4: the head is time-stamped (RFC 3161); a chain rewritten even
// with the audit key (the key's holder, or a thief of both the database and the key)
// no longer matches the time-stamped head, and verify says where.
#[tokio::test]
async fn a_time_stamped_head_catches_a_rewrite_made_with_the_key() {
    for t in databases().await {
        let db = &t.db;
        let authority = Authority::local(None).expect("authority");
        assert_eq!(
            anchor::anchor(db, &authority, 1_764_000_000)
                .await
                .expect("nothing yet"),
            None
        );
        for n in 1..=3 {
            record_alone(db, event(n)).await.expect("record");
        }
        seal(db, &key()).await.expect("seal");
        assert_eq!(
            anchor::anchor(db, &authority, 1_764_000_100)
                .await
                .expect("anchor"),
            Some(3)
        );
        assert_eq!(
            anchor::anchor(db, &authority, 1_764_000_200)
                .await
                .expect("again"),
            None
        );
        let report = verify_anchored(db, &key(), &authority)
            .await
            .expect("verify");
        assert!(
            report.is_intact() && report.anchors == 1,
            "{}: {report}",
            t.label
        );
        // Another authority's key does not vouch for it.
        let stranger = Authority::local(None).expect("authority");
        let report = verify_anchored(db, &key(), &stranger)
            .await
            .expect("verify");
        assert_eq!(report.first_broken.map(|(s, _)| s), Some(3), "{}", t.label);

        // Rewritten with the key: the chain checks out, the anchor does not.
        let drop = if t.label == "postgres" {
            "DROP TRIGGER audit_log_seal_once ON audit_log"
        } else {
            "DROP TRIGGER audit_log_seal_once"
        };
        db.execute_unprepared(drop).await.expect("drop trigger");
        rewrite_chain(
            db,
            |row| row.ip = "198.51.100.66".into(),
            |row| chain::hash_for(row, &key(), 1),
        )
        .await;
        assert!(
            verify(db, &key()).await.expect("verify").is_intact(),
            "{}",
            t.label
        );
        let (seq, why) = verify_anchored(db, &key(), &authority)
            .await
            .expect("verify")
            .first_broken
            .expect("broken");
        assert_eq!(seq, 3, "{}: {why}", t.label);
        assert!(why.contains("time-stamped"), "{why}");
    }
}

// The outside authority's path: RFC 3161 over HTTP, its key pinned, the nonce checked.
#[tokio::test]
async fn an_outside_authority_is_asked_over_http() {
    use std::sync::Arc;
    let tsa = Arc::new(crate::timestamp::LocalAuthority::generate().expect("key"));
    let served = tsa.clone();
    let router = axum::Router::new().route(
        "/tsa",
        axum::routing::post(move |body: axum::body::Bytes| {
            let tsa = served.clone();
            async move { tsa.respond(&body, 1_764_000_000, 7).unwrap_or_default() }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/tsa", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    // DER SubjectPublicKeyInfo for a P-256 point: the fixed prefix, then the point.
    let mut spki =
        hex::decode("3059301306072a8648ce3d020106082a8648ce3d030107034200").expect("hex");
    spki.extend_from_slice(tsa.public_key());
    let remote = Authority::remote(&url, &spki).expect("remote");
    let digest = anchor::head_digest(3, "abc");
    let token = remote
        .stamp(&digest, 3, 1_764_000_000)
        .await
        .expect("stamped");
    assert!(crate::timestamp::verify(&token, &digest, tsa.public_key()).is_ok());
    // Pinned to another key: refused.
    let other = crate::timestamp::LocalAuthority::generate().expect("key");
    let mut wrong =
        hex::decode("3059301306072a8648ce3d020106082a8648ce3d030107034200").expect("hex");
    wrong.extend_from_slice(other.public_key());
    let pinned = Authority::remote(&url, &wrong).expect("remote");
    assert!(pinned.stamp(&digest, 3, 1_764_000_000).await.is_err());
}

/// What an attacker with the database does (the trigger already dropped): edits row 2 with `edit`,
/// gives it and every later row a new link and the hash `hash` makes, and moves the head.
async fn rewrite_chain(
    db: &DatabaseConnection,
    edit: impl Fn(&mut entity::Model),
    hash: impl Fn(&entity::Model) -> String,
) {
    let backend = db.get_database_backend();
    let rows = entity::Entity::find()
        .order_by_asc(entity::Column::Seq)
        .all(db)
        .await
        .expect("rows");
    let mut prev = rows[0].hash.clone().expect("sealed");
    for mut row in rows.into_iter().skip(1) {
        if row.seq == Some(2) {
            edit(&mut row);
        }
        row.prev_hash = Some(prev.clone());
        let hashed = hash(&row);
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            placeholders(
                backend,
                "UPDATE audit_log SET action = $1, ip = $2, prev_hash = $3, hash = $4 WHERE id = $5",
            ),
            [
                row.action.clone().into(),
                row.ip.clone().into(),
                prev.clone().into(),
                hashed.clone().into(),
                row.id.into(),
            ],
        ))
        .await
        .expect("rewrite");
        prev = hashed;
    }
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        placeholders(backend, "UPDATE audit_head SET last_hash = $1 WHERE id = 1"),
        [prev.into()],
    ))
    .await
    .expect("move the head");
}
