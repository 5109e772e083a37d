use crate::helpers::{Db, assert_error, spawn_app};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

const PHONE: &str = "13800138000";
const ID: &str = "110101199003071233";
const PASSWORD: &str = "a calm river at dawn";

// R-REG-5: login, logout, and a lock after 5 failures that says when to retry.
pub async fn login_logout_and_lockout(db: Db) {
    let mut app = spawn_app(db).await;
    assert_eq!(app.register(PHONE, ID).await.status(), StatusCode::CREATED);
    let res = app
        .client
        .delete(app.url("/api/v1/sessions/current"))
        .header("x-csrf-token", &app.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_error(app.get("/api/v1/me").await, 401, "unauthenticated", None).await;

    app.refresh_csrf().await;
    let ok = app
        .post(
            "/api/v1/sessions",
            &json!({ "phone": PHONE, "password": PASSWORD }),
        )
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    app.refresh_csrf().await;
    assert_eq!(app.get("/api/v1/me").await.status(), StatusCode::OK);

    let wrong = json!({ "phone": PHONE, "password": "not the password" });
    for _ in 0..4 {
        assert_error(
            app.post("/api/v1/sessions", &wrong).await,
            401,
            "login_failed",
            None,
        )
        .await;
    }
    // The fifth failure locks the phone for 15 minutes; a locked phone answers exactly
    // like a wrong password (no Retry-After, same code), so it reveals no account.
    let locked = app.post("/api/v1/sessions", &wrong).await;
    assert!(locked.headers().get("retry-after").is_none());
    let body = assert_error(locked, 401, "login_failed", None).await;
    assert!(
        body["error"]["message"].as_str().unwrap().contains("15"),
        "the message says a lock lasts 15 minutes: {body}"
    );
    // Even the right password waits for the lock to end.
    assert_error(
        app.post(
            "/api/v1/sessions",
            &json!({ "phone": PHONE, "password": PASSWORD }),
        )
        .await,
        401,
        "login_failed",
        None,
    )
    .await;
    // Unknown phones fail like wrong passwords.
    assert_error(
        app.post(
            "/api/v1/sessions",
            &json!({ "phone": "13900139000", "password": PASSWORD }),
        )
        .await,
        401,
        "login_failed",
        None,
    )
    .await;
}

// R-REG-5: login by SMS code and password recovery by SMS.
pub async fn sms_login_and_password_reset(db: Db) {
    let mut app = spawn_app(db).await;
    assert_eq!(app.register(PHONE, ID).await.status(), StatusCode::CREATED);
    // One code per phone per 60 s, whatever its purpose.
    assert_error(
        app.send_code(PHONE, "reset_password").await,
        429,
        "sms_too_soon",
        Some("phone"),
    )
    .await;
    app.two_minutes_pass().await;
    assert_eq!(
        app.send_code(PHONE, "reset_password").await.status(),
        StatusCode::ACCEPTED
    );
    let code = app.last_code(PHONE).await;
    let weak = json!({ "phone": PHONE, "code": code, "new_password": "123" });
    assert_error(
        app.post("/api/v1/password-resets", &weak).await,
        422,
        "password_too_short",
        Some("new_password"),
    )
    .await;
    let reset = json!({ "phone": PHONE, "code": code, "new_password": "a new river at dusk" });
    assert_eq!(
        app.post("/api/v1/password-resets", &reset).await.status(),
        StatusCode::NO_CONTENT
    );
    // The reset ended every session, including this one.
    assert_error(app.get("/api/v1/me").await, 401, "unauthenticated", None).await;
    app.refresh_csrf().await;
    assert_error(
        app.post(
            "/api/v1/sessions",
            &json!({ "phone": PHONE, "password": PASSWORD }),
        )
        .await,
        401,
        "login_failed",
        None,
    )
    .await;
    assert_eq!(
        app.post(
            "/api/v1/sessions",
            &json!({ "phone": PHONE, "password": "a new river at dusk" })
        )
        .await
        .status(),
        StatusCode::OK
    );

    // A code for an unknown phone is "sent" (no enumeration) but nothing arrives.
    app.refresh_csrf().await;
    assert_eq!(
        app.send_code("13900139000", "login").await.status(),
        StatusCode::ACCEPTED
    );
    let outbox = app.outbox("13900139000").await;
    assert!(outbox["messages"].as_array().unwrap().is_empty());

    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    // Resend waits 60 s per phone, so age the last code.
    app.two_minutes_pass().await;
    assert_eq!(
        app.send_code(PHONE, "login").await.status(),
        StatusCode::ACCEPTED
    );
    let code = app.last_code(PHONE).await;
    assert_eq!(
        app.post("/api/v1/sessions", &json!({ "phone": PHONE, "code": code }))
            .await
            .status(),
        StatusCode::OK
    );
}

// R-REG-2: when a text changes, the patient must agree again before anything else.
pub async fn changed_text_requires_fresh_consent(db: Db) {
    let mut app = spawn_app(db).await;
    assert_eq!(app.register(PHONE, ID).await.status(), StatusCode::CREATED);
    // Pretend the patient agreed to an older informed-consent text.
    app.state
        .db
        .execute_unprepared(
            "UPDATE consent_record SET version = 'old' WHERE document = 'informed_consent'",
        )
        .await
        .unwrap();
    assert_error(app.get("/api/v1/me").await, 403, "consent_required", None).await;
    let page = app.page("/me").await;
    assert!(page.status().is_redirection(), "{}", page.status());
    assert_eq!(page.headers()["location"], "/consent");
    let consents: Value = app.get("/api/v1/consents").await.json().await.unwrap();
    let outstanding = consents["outstanding"].as_array().unwrap();
    assert_eq!(outstanding.len(), 1);
    assert_eq!(outstanding[0]["document"], "informed_consent");
    assert_error(
        app.post("/api/v1/consents", &json!({ "consents": [] }))
            .await,
        422,
        "consent_missing",
        Some("consent"),
    )
    .await;
    assert_eq!(
        app.post("/api/v1/consents", &json!({ "consents": outstanding }))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.get("/api/v1/me").await.status(), StatusCode::OK);
    let rows = server::db::consent_record::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(
        rows, 4,
        "the new consent is a new record; the old one stays"
    );
}

// R-REG-3: withdrawing consent stops service until the patient agrees again.
pub async fn withdrawing_consent_stops_service(db: Db) {
    let mut app = spawn_app(db).await;
    assert_eq!(app.register(PHONE, ID).await.status(), StatusCode::CREATED);
    assert_error(
        app.post("/api/v1/consents/withdrawal", &json!({ "confirm": false }))
            .await,
        422,
        "consent_missing",
        Some("consent"),
    )
    .await;
    assert_eq!(
        app.post("/api/v1/consents/withdrawal", &json!({ "confirm": true }))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_error(app.get("/api/v1/me").await, 403, "consent_required", None).await;
    let consents: Value = app.get("/api/v1/consents").await.json().await.unwrap();
    assert_eq!(consents["outstanding"].as_array().unwrap().len(), 3);
    assert_eq!(
        app.post(
            "/api/v1/consents",
            &json!({ "consents": consents["current"] })
        )
        .await
        .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.get("/api/v1/me").await.status(), StatusCode::OK);
}

// R-REG-5: accounts are personal; "log out everywhere" and a password change end other sessions.
pub async fn logout_everywhere_revokes_other_sessions(db: Db) {
    let mut phone_a = spawn_app(db).await;
    assert_eq!(
        phone_a.register(PHONE, ID).await.status(),
        StatusCode::CREATED
    );
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let csrf: Value = client
        .get(phone_a.url("/api/v1/csrf"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = client
        .post(phone_a.url("/api/v1/sessions"))
        .header("x-csrf-token", csrf["csrf_token"].as_str().unwrap())
        .json(&json!({ "phone": PHONE, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        client
            .get(phone_a.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    let change =
        json!({ "current_password": "wrong one", "new_password": "another quiet morning" });
    let res = phone_a
        .client
        .put(phone_a.url("/api/v1/password"))
        .header("x-csrf-token", &phone_a.csrf)
        .json(&change)
        .send()
        .await
        .unwrap();
    assert_error(res, 401, "password_wrong", Some("password")).await;
    let change = json!({ "current_password": PASSWORD, "new_password": "another quiet morning" });
    let res = phone_a
        .client
        .put(phone_a.url("/api/v1/password"))
        .header("x-csrf-token", &phone_a.csrf)
        .json(&change)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        client
            .get(phone_a.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED,
        "other device logged out"
    );
    assert_eq!(
        phone_a.get("/api/v1/me").await.status(),
        StatusCode::OK,
        "this device stays"
    );

    let res = phone_a
        .client
        .delete(phone_a.url("/api/v1/sessions"))
        .header("x-csrf-token", &phone_a.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        phone_a.get("/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    phone_a.refresh_csrf().await;
}

// R-REG-2: the patient context read in the same statement as the session is the one read
// alone (account, consents in force, unread count); a session without a patient has none;
// an expired session is not found.
pub async fn the_context_read_with_the_session_is_the_same(db: Db) {
    use server::accounts::patient_context::{load, load_with_session};
    let mut app = spawn_app(db).await;
    assert_eq!(app.register(PHONE, ID).await.status(), StatusCode::CREATED);
    app.add_child().await;
    let db = &app.state.db;
    let sessions = server::db::session::Entity::find().all(db).await.unwrap();
    let mine = sessions.iter().find(|s| s.patient_id.is_some()).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (row, with) = load_with_session(db, &mine.id, now).await.unwrap().unwrap();
    assert_eq!(&row, mine);
    let with = with.expect("a patient's session brings their context");
    let alone = load(db, mine.patient_id.unwrap()).await.unwrap().unwrap();
    assert_eq!(with.patient, alone.patient);
    assert_eq!(with.consents, alone.consents);
    assert_eq!(with.consents.len(), 3, "the three documents accepted");
    assert_eq!((with.unread, alone.unread), (1, 1));

    // A session without a patient (a visitor who asked for a code, say): no context.
    let other = server::db::session::ActiveModel {
        id: sea_orm::ActiveValue::Set("no-patient".into()),
        patient_id: sea_orm::ActiveValue::Set(None),
        data: sea_orm::ActiveValue::Set("{}".into()),
        expires_at: sea_orm::ActiveValue::Set(now + 60),
    };
    server::db::session::Entity::insert(other)
        .exec_without_returning(db)
        .await
        .unwrap();
    let (_, none) = load_with_session(db, "no-patient", now)
        .await
        .unwrap()
        .unwrap();
    assert!(none.is_none());
    // Expired (or unknown): nothing.
    assert!(
        load_with_session(db, &mine.id, mine.expires_at)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        load_with_session(db, "unknown", now)
            .await
            .unwrap()
            .is_none()
    );
}
