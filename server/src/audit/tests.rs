//! R-SEC-2 against a real database: SQLite on a temp file always, and PostgreSQL too when
//! `FUZHEN_TEST_POSTGRES_URL` names a server (a fresh database is created and dropped).
use super::*;
use sea_orm::{DatabaseConnection, PaginatorTrait};

/// One database to run a scenario on; dropping it removes the database.
struct TestDb {
    label: &'static str,
    db: DatabaseConnection,
    _guard: Guard,
}

enum Guard {
    Sqlite(#[expect(dead_code, reason = "kept to delete the files on drop")] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Guard::Postgres { admin_url, name } = self {
            let (admin_url, drop_sql) = (
                admin_url.clone(),
                format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
            );
            // Drop runs inside the test's runtime; do the async clean-up on a thread of
            // its own. WITH (FORCE) ends the test pool's connections.
            let done = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    let admin = sea_orm::Database::connect(&admin_url).await?;
                    admin.execute_unprepared(&drop_sql).await?;
                    admin.close().await
                })
            })
            .join();
            if !matches!(done, Ok(Ok(()))) {
                eprintln!("could not drop test database {name}: {done:?}");
            }
        }
    }
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let host_start = base.find("://").map_or(0, |i| i + 3);
    let prefix = match base[host_start..].find('/') {
        Some(i) => &base[..host_start + i],
        None => base,
    };
    format!("{prefix}/{name}{query}")
}

async fn databases() -> Vec<TestDb> {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("audit.db").display()
    );
    let db = crate::db::connect_and_migrate(&url)
        .await
        .expect("sqlite migrates");
    let mut all = vec![TestDb {
        label: "sqlite",
        db,
        _guard: Guard::Sqlite(dir),
    }];
    if let Some(admin_url) = std::env::var("FUZHEN_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        let name = format!("fuzhen_test_{}", uuid::Uuid::new_v4().simple());
        let admin = sea_orm::Database::connect(&admin_url)
            .await
            .expect("postgres server reachable");
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create test database");
        admin.close().await.expect("close admin connection");
        // The guard exists before migrating, so a failure still drops the database.
        let guard = Guard::Postgres {
            admin_url: admin_url.clone(),
            name: name.clone(),
        };
        let db = crate::db::connect_and_migrate(&with_database(&admin_url, &name))
            .await
            .expect("postgres migrates");
        all.push(TestDb {
            label: "postgres",
            db,
            _guard: guard,
        });
    }
    all
}

fn event(n: i64) -> AuditEvent {
    AuditEvent {
        actor: Actor::Patient(n),
        on_behalf_of: (n % 2 == 0).then_some(n + 1000),
        action: AuditAction::LoginSucceeded,
        entity: Some(("patient", n.to_string())),
        ip: format!("203.0.113.{}", n % 250),
        at: OffsetDateTime::from_unix_timestamp(1_764_000_000 + n).expect("valid time"),
        detail: Some(serde_json::json!({ "n": n, "method": "password" })),
    }
}

async fn count(db: &DatabaseConnection) -> u64 {
    entity::Entity::find().count(db).await.expect("count")
}

async fn head(db: &DatabaseConnection) -> (i64, String) {
    read_head(db)
        .await
        .expect("read head")
        .expect("head exists")
}

/// The key the tests seal with.
fn key() -> AuditKey {
    AuditKey::new([6; 32])
}

fn intact(rows: u64) -> ChainReport {
    ChainReport {
        rows,
        first_broken: None,
        anchors: 0,
    }
}

// R-SEC-2
#[tokio::test]
async fn rolled_back_records_leave_nothing_and_committed_ones_chain() {
    for t in databases().await {
        let db = &t.db;
        assert_eq!(
            verify(db, &key()).await.expect("verify"),
            intact(0),
            "{}",
            t.label
        );

        let txn = db.begin().await.expect("begin");
        record(&txn, event(1)).await.expect("record");
        record(&txn, event(2)).await.expect("record");
        txn.rollback().await.expect("rollback");
        assert_eq!(count(db).await, 0, "{}", t.label);
        assert_eq!(head(db).await, (0, GENESIS_HASH.to_owned()), "{}", t.label);

        let txn = db.begin().await.expect("begin");
        for n in 1..=3 {
            record(&txn, event(n)).await.expect("record");
        }
        txn.commit().await.expect("commit");
        record_alone(db, event(4)).await.expect("record alone");
        // Recorded but not yet sealed: in the table, outside the chain.
        assert_eq!(count(db).await, 4, "{}", t.label);
        assert_eq!(
            verify(db, &key()).await.expect("verify"),
            intact(0),
            "{}",
            t.label
        );
        assert_eq!(seal(db, &key()).await.expect("seal"), 4, "{}", t.label);
        assert_eq!(
            seal(db, &key()).await.expect("seal again"),
            0,
            "{}",
            t.label
        );

        let rows = entity::Entity::find()
            .order_by_asc(entity::Column::Seq)
            .all(db)
            .await
            .expect("rows");
        assert_eq!(
            rows.iter().map(|r| r.seq).collect::<Vec<_>>(),
            vec![Some(1), Some(2), Some(3), Some(4)],
            "{}",
            t.label
        );
        assert_eq!(rows[0].prev_hash.as_deref(), Some(GENESIS_HASH));
        for pair in rows.windows(2) {
            assert_eq!(pair[1].prev_hash, pair[0].hash, "{}", t.label);
        }
        let r = &rows[1];
        assert_eq!(r.actor_kind, "patient");
        assert_eq!(r.actor_id, Some(2));
        assert_eq!(r.on_behalf_of, Some(1002));
        assert_eq!(r.action, "login_succeeded");
        assert_eq!(r.entity_type.as_deref(), Some("patient"));
        assert_eq!(r.entity_id.as_deref(), Some("2"));
        assert_eq!(r.at, 1_764_000_002);
        let detail: serde_json::Value =
            serde_json::from_str(r.detail.as_deref().expect("detail")).expect("json");
        assert_eq!(detail["n"], 2);
        assert_eq!(
            head(db).await,
            (4, rows[3].hash.clone().expect("sealed")),
            "{}",
            t.label
        );
        assert_eq!(
            verify(db, &key()).await.expect("verify"),
            intact(4),
            "{}",
            t.label
        );
    }
}

// R-SEC-2
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_records_and_sealers_chain_without_gaps() {
    for t in databases().await {
        // Appenders and sealers at once: every row is sealed exactly once, in one chain.
        let tasks: Vec<_> = (1..=50)
            .map(|n| {
                let db = t.db.clone();
                tokio::spawn(async move {
                    let txn = crate::db::begin_write(&db).await?;
                    record(&txn, event(n)).await?;
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                    txn.commit().await?;
                    if n % 5 == 0 {
                        seal(&db, &key()).await?;
                    }
                    Ok::<(), DbErr>(())
                })
            })
            .collect();
        let mut failures = Vec::new();
        for (n, task) in tasks.into_iter().enumerate() {
            if let Err(e) = task.await.expect("task ran") {
                failures.push(format!("event {}: {e}", n + 1));
            }
        }
        assert!(failures.is_empty(), "{}: {failures:#?}", t.label);
        seal(&t.db, &key()).await.expect("seal the rest");

        let rows = entity::Entity::find()
            .order_by_asc(entity::Column::Seq)
            .all(&t.db)
            .await
            .expect("rows");
        assert_eq!(
            rows.iter().map(|r| r.seq).collect::<Vec<_>>(),
            (1..=50).map(Some).collect::<Vec<_>>(),
            "{}",
            t.label
        );
        let mut ids: Vec<i64> = rows.iter().filter_map(|r| r.actor_id).collect();
        ids.sort_unstable();
        assert_eq!(ids, (1..=50).collect::<Vec<_>>(), "{}", t.label);
        assert_eq!(
            verify(&t.db, &key()).await.expect("verify"),
            intact(50),
            "{}",
            t.label
        );
    }
}

// R-SEC-2
#[tokio::test]
async fn the_database_refuses_update_and_delete() {
    for t in databases().await {
        let db = &t.db;
        for n in 1..=3 {
            record_alone(db, event(n)).await.expect("record");
        }
        seal(db, &key()).await.expect("seal");
        record_alone(db, event(4)).await.expect("record");
        let refused = [
            "UPDATE audit_log SET ip = '198.51.100.1' WHERE seq = 2",
            "UPDATE audit_log SET hash = hash",
            // A sealed row cannot be sealed again…
            "UPDATE audit_log SET seq = 9, prev_hash = hash, hash = hash WHERE seq = 3",
            // …nor an unsealed one edited, or sealed with a change to its event.
            "UPDATE audit_log SET ip = '198.51.100.1' WHERE seq IS NULL",
            "UPDATE audit_log SET seq = 4, prev_hash = 'x', hash = 'y', action = 'forged' WHERE seq IS NULL",
            // A seal is whole or absent.
            "UPDATE audit_log SET seq = 4 WHERE seq IS NULL",
            "DELETE FROM audit_log WHERE seq IS NULL",
            "DELETE FROM audit_log WHERE seq = 3",
            "DELETE FROM audit_log",
            "DELETE FROM audit_head",
            "UPDATE audit_head SET seq = 1 WHERE id = 1",
            "INSERT INTO audit_head (id, seq, last_hash) VALUES (2, 0, 'x')",
        ];
        for sql in refused {
            let err = db
                .execute_unprepared(sql)
                .await
                .expect_err(&format!("{}: {sql} must fail", t.label));
            if (sql.starts_with("UPDATE audit_log") || sql.starts_with("DELETE FROM audit_log"))
                && sql != "UPDATE audit_log SET seq = 4 WHERE seq IS NULL"
            {
                assert!(
                    err.to_string().contains("append-only"),
                    "{}: {sql}: {err}",
                    t.label
                );
            }
        }
        if t.label == "postgres" {
            let err = db
                .execute_unprepared("TRUNCATE audit_log")
                .await
                .expect_err("TRUNCATE must fail");
            assert!(err.to_string().contains("append-only"), "{err}");
        }
        assert_eq!(count(db).await, 4, "{}", t.label);
        assert_eq!(
            verify(db, &key()).await.expect("verify"),
            intact(3),
            "{}",
            t.label
        );
        // The one UPDATE allowed: the sealer's.
        assert_eq!(seal(db, &key()).await.expect("seal"), 1, "{}", t.label);
        assert_eq!(
            verify(db, &key()).await.expect("verify"),
            intact(4),
            "{}",
            t.label
        );
    }
}

// R-SEC-2
#[tokio::test]
async fn tampering_is_detected() {
    for t in databases().await {
        let db = &t.db;
        for n in 1..=5 {
            record_alone(db, event(n)).await.expect("record");
        }
        seal(db, &key()).await.expect("seal");
        // An attacker with database access first removes the protection…
        let drop_triggers: &[&str] = if t.label == "postgres" {
            &["DROP TRIGGER audit_log_seal_once ON audit_log"]
        } else {
            &[
                "DROP TRIGGER audit_log_seal_once",
                "DROP TRIGGER audit_log_no_delete",
            ]
        };
        for sql in drop_triggers {
            db.execute_unprepared(sql).await.expect("drop trigger");
        }
        // …then edits a row.
        db.execute_unprepared("UPDATE audit_log SET ip = '198.51.100.66' WHERE seq = 3")
            .await
            .expect("edit");
        let report = verify(db, &key()).await.expect("verify");
        assert_eq!(report.rows, 5, "{}", t.label);
        let (seq, why) = report.first_broken.expect("broken");
        assert_eq!(seq, 3, "{}: {why}", t.label);
        assert!(why.contains("altered"), "{why}");

        // Putting the row back restores the chain.
        db.execute_unprepared("UPDATE audit_log SET ip = '203.0.113.3' WHERE seq = 3")
            .await
            .expect("restore");
        assert_eq!(
            verify(db, &key()).await.expect("verify"),
            intact(5),
            "{}",
            t.label
        );

        // Removing the newest row leaves an intact-looking chain; the head tells.
        db.execute_unprepared("DELETE FROM audit_log WHERE seq = 5")
            .await
            .expect("delete");
        let report = verify(db, &key()).await.expect("verify");
        assert_eq!(report.rows, 4, "{}", t.label);
        let (seq, why) = report.first_broken.expect("broken");
        assert_eq!(seq, 5, "{}: {why}", t.label);
        assert!(why.contains("missing"), "{why}");

        // Removing a row in the middle breaks continuity.
        db.execute_unprepared("DELETE FROM audit_log WHERE seq = 2")
            .await
            .expect("delete");
        let (seq, why) = verify(db, &key())
            .await
            .expect("verify")
            .first_broken
            .expect("broken");
        assert_eq!(seq, 2, "{}: {why}", t.label);
    }
}

// R-SEC-2
#[tokio::test]
async fn a_rewritten_link_is_detected() {
    for t in databases().await {
        let db = &t.db;
        for n in 1..=3 {
            record_alone(db, event(n)).await.expect("record");
        }
        seal(db, &key()).await.expect("seal");
        let drop_trigger = if t.label == "postgres" {
            "DROP TRIGGER audit_log_seal_once ON audit_log"
        } else {
            "DROP TRIGGER audit_log_seal_once"
        };
        db.execute_unprepared(drop_trigger)
            .await
            .expect("drop trigger");
        // Editing row 2 and recomputing its own hash still breaks row 3's link.
        let mut row = entity::Entity::find_by_id(2i64)
            .one(db)
            .await
            .expect("query")
            .expect("row 2");
        row.ip = "198.51.100.66".into();
        // (Even with the key, which the database alone does not have.)
        let forged = chain::hash_for(&row, &key(), 1);
        db.execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            placeholders(
                db.get_database_backend(),
                "UPDATE audit_log SET ip = $1, hash = $2 WHERE seq = 2",
            ),
            [row.ip.clone().into(), forged.into()],
        ))
        .await
        .expect("forge");
        let (seq, why) = verify(db, &key())
            .await
            .expect("verify")
            .first_broken
            .expect("broken");
        assert_eq!(seq, 3, "{}: {why}", t.label);
        assert!(why.contains("prev_hash"), "{why}");
    }
}

#[test]
fn test_urls_keep_credentials_and_options() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
}

// R-SEC-2
#[test]
fn actions_have_stable_names() {
    assert_eq!(AuditAction::Registered.as_str(), "registered");
    assert_eq!(AuditAction::LoginSucceeded.as_str(), "login_succeeded");
    assert_eq!(
        AuditAction::LoggedOutEverywhere.as_str(),
        "logged_out_everywhere"
    );
    assert_eq!(AuditAction::ConsentWithdrawn.as_str(), "consent_withdrawn");
    assert_eq!(Actor::Staff(3).kind(), "staff");
    assert_eq!(Actor::Staff(3).id(), Some(3));
    assert_eq!(Actor::Anonymous.id(), None);
}

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
            let rows = entity::Entity::find()
                .order_by_asc(entity::Column::Seq)
                .all(db)
                .await
                .expect("rows");
            let mut prev = rows[0].hash.clone().expect("sealed");
            for mut row in rows.into_iter().skip(1) {
                if row.seq == Some(2) {
                    row.action = "logged_out".into();
                }
                row.prev_hash = Some(prev.clone());
                let hash = match &forger {
                    None => chain::row_hash(&row),
                    Some(k) => chain::hash_for(&row, k, 1),
                };
                db.execute_raw(Statement::from_sql_and_values(
                    backend,
                    placeholders(
                        backend,
                        "UPDATE audit_log SET action = $1, prev_hash = $2, hash = $3 WHERE id = $4",
                    ),
                    [
                        row.action.clone().into(),
                        prev.clone().into(),
                        hash.clone().into(),
                        row.id.into(),
                    ],
                ))
                .await
                .expect("rewrite");
                prev = hash;
            }
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                placeholders(backend, "UPDATE audit_head SET last_hash = $1 WHERE id = 1"),
                [prev.into()],
            ))
            .await
            .expect("move the head");
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
        let backend = db.get_database_backend();
        let rows = entity::Entity::find()
            .order_by_asc(entity::Column::Seq)
            .all(db)
            .await
            .expect("rows");
        let mut prev = rows[0].hash.clone().expect("sealed");
        for mut row in rows.into_iter().skip(1) {
            if row.seq == Some(2) {
                row.ip = "198.51.100.66".into();
            }
            row.prev_hash = Some(prev.clone());
            let hash = chain::hash_for(&row, &key(), 1);
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                placeholders(
                    backend,
                    "UPDATE audit_log SET ip = $1, prev_hash = $2, hash = $3 WHERE id = $4",
                ),
                [
                    row.ip.clone().into(),
                    prev.clone().into(),
                    hash.clone().into(),
                    row.id.into(),
                ],
            ))
            .await
            .expect("rewrite");
            prev = hash;
        }
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            placeholders(backend, "UPDATE audit_head SET last_hash = $1 WHERE id = 1"),
            [prev.into()],
        ))
        .await
        .expect("move the head");
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
