//! Security review item 4, PostgreSQL: the app serves with a role that owns nothing.
//! Migrations run as the owner (`server migrate`), which grants the app's role what it
//! may do: on the audit tables, adding rows and filling in a row's seal, nothing more.
use crate::helpers::fresh_postgres;
use sea_orm::{ConnectionTrait, Database};
use server::audit::AuditAction;
use server::context::RequestContext;

pub async fn the_app_role_cannot_rewrite_the_audit_log(base: String) {
    let (owner_url, name) = fresh_postgres(&base).await;
    let role = format!("fz_app_{}", &name[name.len() - 12..]);
    let owner = Database::connect(&owner_url).await.unwrap();
    owner
        .execute_unprepared(&format!("CREATE ROLE {role} LOGIN"))
        .await
        .unwrap();
    let owner = server::db::connect_and_migrate(&owner_url).await.unwrap();
    server::db::grant_app_role(&owner, &role).await.unwrap();
    // Repeatable: after the next migration it is simply run again.
    server::db::grant_app_role(&owner, &role).await.unwrap();

    // The server starts as the app's role without migrating, and seals.
    let (prefix, _) = base.rsplit_once('/').unwrap();
    let app_url = format!(
        "{}/{name}",
        prefix.replacen("postgres://postgres@", &format!("postgres://{role}@"), 1)
    );
    let dir = tempfile::tempdir().unwrap();
    let mut config =
        server::config::Config::dev(dir.path().to_path_buf(), app_url.clone(), [3; 32], [4; 64]);
    config.run_migrations = false;
    let app = server::startup::Application::build(config).await.unwrap();
    let state = app.state();
    let now = time::OffsetDateTime::now_utc();
    for _ in 0..3 {
        server::audit::record_alone(
            &state.db,
            RequestContext::system(now).audit(AuditAction::LoginSucceeded),
        )
        .await
        .unwrap();
    }
    assert_eq!(
        server::audit::seal(&state.db, &state.audit_key)
            .await
            .unwrap(),
        3
    );
    let anchored = server::audit::anchor(&state.db, &state.audit_authority, now.unix_timestamp())
        .await
        .unwrap();
    assert_eq!(anchored, Some(3));
    assert!(
        server::audit::verify_anchored(&state.db, &state.audit_key, &state.audit_authority)
            .await
            .unwrap()
            .is_intact()
    );

    // What the app's login cannot do to the audit tables.
    let app_db = Database::connect(&app_url).await.unwrap();
    for refused in [
        "UPDATE audit_log SET action = 'logged_out' WHERE seq = 2",
        "UPDATE audit_log SET hash = prev_hash WHERE seq = 2",
        "DELETE FROM audit_log WHERE seq = 3",
        "TRUNCATE audit_log",
        "DROP TRIGGER audit_log_seal_once ON audit_log",
        "ALTER TABLE audit_log DISABLE TRIGGER ALL",
        "DROP TABLE audit_log",
        "DELETE FROM audit_key_marker",
        "DELETE FROM audit_anchor",
        "UPDATE audit_anchor SET head_hash = 'x'",
        "UPDATE audit_key_marker SET keyed_from = 2",
        "DELETE FROM audit_head",
        "CREATE TABLE sneaky (id BIGINT)",
        "DELETE FROM seaql_migrations",
    ] {
        let done = app_db.execute_unprepared(refused).await;
        assert!(done.is_err(), "the app's role may not: {refused}");
    }
    // The owner may (which is why migrations run apart, by a role the server lacks).
    owner
        .execute_unprepared("DROP TRIGGER audit_log_seal_once ON audit_log")
        .await
        .unwrap();
    // A server with the app's role refuses a schema that is behind.
    owner
        .execute_unprepared(
            "DELETE FROM seaql_migrations WHERE version = (SELECT MAX(version) FROM seaql_migrations)",
        )
        .await
        .unwrap();
    let mut behind =
        server::config::Config::dev(dir.path().to_path_buf(), app_url, [3; 32], [4; 64]);
    behind.run_migrations = false;
    let refused = server::startup::Application::build(behind)
        .await
        .err()
        .unwrap();
    assert!(refused.to_string().contains("server migrate"), "{refused}");

    drop((app, app_db));
    state.db.clone().close().await.unwrap();
    owner.close().await.unwrap();
    let admin = Database::connect(&base).await.unwrap();
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .unwrap();
    admin
        .execute_unprepared(&format!("DROP ROLE IF EXISTS {role}"))
        .await
        .unwrap();
}
