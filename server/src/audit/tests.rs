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

mod keyed;
