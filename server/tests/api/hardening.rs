//! The request pipeline as an attacker and a load test see it: writes by strangers,
//! account oracles, races on limits, caching, redirects, the audit chain.
use crate::helpers::{Db, TestApp, assert_error, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement};
use serde_json::{Value, json};
use server::db::session;
use std::collections::BTreeMap;

const PHONE: &str = "13800138000";
const OTHER_PHONE: &str = "13900139000";
const ID: &str = "110101199003071233";
const PASSWORD: &str = "a calm river at dawn";

/// Every table's row count, and the columns a write would move.
async fn fingerprint(app: &TestApp) -> BTreeMap<String, i64> {
    let db = &app.state.db;
    let mut out = BTreeMap::new();
    for (name, sql) in [
        ("patients", "SELECT COUNT(*) AS n FROM patient"),
        ("consents", "SELECT COUNT(*) AS n FROM consent_record"),
        ("codes", "SELECT COUNT(*) AS n FROM sms_code"),
        ("sessions", "SELECT COUNT(*) AS n FROM session"),
        (
            "session_expiry",
            "SELECT CAST(COALESCE(SUM(expires_at), 0) AS BIGINT) AS n FROM session",
        ),
        ("counters", "SELECT COUNT(*) AS n FROM rate_counter"),
        (
            "counts",
            "SELECT CAST(COALESCE(SUM(\"count\"), 0) AS BIGINT) AS n FROM rate_counter",
        ),
        ("audit", "SELECT COUNT(*) AS n FROM audit_log"),
        (
            "audit_head",
            "SELECT CAST(seq AS BIGINT) AS n FROM audit_head",
        ),
    ] {
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap()
            .unwrap();
        let n: i64 = row.try_get("", "n").unwrap();
        out.insert(name.to_owned(), n);
    }
    out
}

const PAGES: [&str; 12] = [
    "/",
    "/register",
    "/login",
    "/login/sms",
    "/password/reset",
    "/consent/service_agreement",
    "/me",
    "/consults",
    "/messages",
    "/no-such-page",
    "/api/v1/csrf",
    "/api/v1/consents",
];

async fn view_each_page(app: &TestApp, times: usize) {
    for path in PAGES {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..times {
            let client = app.client.clone();
            let url = app.url(path);
            set.spawn(async move {
                client
                    .get(url)
                    .header("accept", "text/html")
                    .send()
                    .await
                    .unwrap()
                    .status()
            });
        }
        while let Some(status) = set.join_next().await {
            let status = status.unwrap();
            assert!(status.as_u16() < 500, "{path}: {status}");
        }
    }
}

// SECURITY 4: showing a page writes nothing, with or without cookies.
pub async fn anonymous_page_views_write_nothing(db: Db) {
    let app = spawn_app(db).await;
    let before = fingerprint(&app).await;
    // With a cookie jar (the app's client keeps the CSRF cookie it was given)…
    view_each_page(&app, 100).await;
    // …and without any cookie.
    let bare = TestApp::bare_client();
    for path in PAGES {
        for _ in 0..100 {
            let res = bare.get(app.url(path)).send().await.unwrap();
            assert!(res.status().as_u16() < 500);
        }
    }
    assert_eq!(
        fingerprint(&app).await,
        before,
        "anonymous page views wrote to the database"
    );
}

async fn session_row(app: &TestApp) -> session::Model {
    session::Entity::find()
        .filter(session::Column::PatientId.is_not_null())
        .one(&app.state.db)
        .await
        .unwrap()
        .expect("a logged-in session")
}

async fn shift_session_times(app: &TestApp, key: &str, by_secs: i64) {
    let row = session_row(app).await;
    let mut data: Value = serde_json::from_str(&row.data).unwrap();
    let t = data[key].as_i64().unwrap();
    data[key] = json!(t - by_secs);
    session::Entity::update_many()
        .col_expr(
            session::Column::Data,
            sea_orm::sea_query::Expr::value(data.to_string()),
        )
        .filter(session::Column::Id.eq(row.id))
        .exec(&app.state.db)
        .await
        .unwrap();
}

// R-REG-5: a logged-in page view writes at most once a minute (the idle expiry), and a
// session ends after its absolute lifetime whatever its activity.
pub async fn logged_in_views_write_once_a_minute_and_sessions_end(db: Db) {
    let mut app = spawn_app(db).await;
    assert_eq!(app.register(PHONE, ID).await.status(), StatusCode::CREATED);
    let first = session_row(&app).await;
    // The registration's audit rows are sealed now, not by the job during the views.
    server::audit::seal(&app.state.db, &app.state.audit_key)
        .await
        .unwrap();
    let before = fingerprint(&app).await;
    for _ in 0..20 {
        assert_eq!(app.page("/me").await.status(), StatusCode::OK);
        assert_eq!(app.get("/api/v1/me").await.status(), StatusCode::OK);
    }
    assert_eq!(
        fingerprint(&app).await,
        before,
        "views within a minute wrote"
    );
    // A minute later, the next view moves the idle expiry once.
    shift_session_times(&app, "touched_at", 61).await;
    app.state
        .db
        .execute_unprepared("UPDATE session SET expires_at = expires_at - 61")
        .await
        .unwrap();
    assert_eq!(app.page("/me").await.status(), StatusCode::OK);
    let touched = session_row(&app).await;
    assert!(
        touched.expires_at >= first.expires_at,
        "idle expiry refreshed"
    );
    let after_touch = fingerprint(&app).await;
    assert_eq!(app.page("/me").await.status(), StatusCode::OK);
    assert_eq!(fingerprint(&app).await, after_touch, "one write, not two");

    // Absolute lifetime: 12 hours after login the session is over.
    shift_session_times(&app, "login_at", 12 * 3600).await;
    assert_error(app.get("/api/v1/me").await, 401, "unauthenticated", None).await;
    assert!(
        session::Entity::find()
            .filter(session::Column::PatientId.is_not_null())
            .one(&app.state.db)
            .await
            .unwrap()
            .is_none(),
        "the expired session is deleted"
    );
    // Session ids are stored hashed: the cookie's value is not in the table.
    assert_ne!(first.id.len(), 0);
}

// R-REG-1, SECURITY 2: 50 concurrent wrong codes: at most 5 are judged, then the code
// is burned, even for the right guess.
pub async fn concurrent_code_guesses_stop_at_the_limit(db: Db) {
    let app = spawn_app(db).await;
    assert_eq!(
        app.send_code(PHONE, "register").await.status(),
        StatusCode::ACCEPTED
    );
    let right = app.last_code(PHONE).await;
    let mut body = app.registration(PHONE, ID).await;
    let mut set = tokio::task::JoinSet::new();
    for i in 0..50u32 {
        let wrong = format!("{:06}", (right.parse::<u32>().unwrap() + 1 + i) % 1_000_000);
        body["code"] = json!(wrong);
        let req = app
            .client
            .post(app.url("/api/v1/registrations"))
            .header("x-csrf-token", &app.csrf)
            .json(&body);
        set.spawn(async move {
            let res = req.send().await.unwrap();
            let v: Value = res.json().await.unwrap();
            v["error"]["code"].as_str().unwrap_or_default().to_owned()
        });
    }
    let mut judged = 0;
    while let Some(code) = set.join_next().await {
        match code.unwrap().as_str() {
            "sms_code_wrong" => judged += 1,
            "sms_code_too_many_attempts" => {}
            other => panic!("unexpected answer {other}"),
        }
    }
    assert!(judged <= 5, "{judged} guesses were judged");
    let attempts = server::db::sms_code::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .attempts;
    assert_eq!(attempts, 5);
    body["code"] = json!(right);
    assert_error(
        app.post("/api/v1/registrations", &body).await,
        429,
        "sms_code_too_many_attempts",
        Some("code"),
    )
    .await;
    assert_eq!(app.patient_count().await, 0);
}

// R-REG-5, SECURITY 2: 50 concurrent wrong passwords: at most 5 are judged, and the
// right password is then refused too.
pub async fn concurrent_password_guesses_stop_at_the_limit(db: Db) {
    let mut app = spawn_app(db).await;
    assert_eq!(app.register(PHONE, ID).await.status(), StatusCode::CREATED);
    let attacker = app.other_client().await;
    let mut set = tokio::task::JoinSet::new();
    for i in 0..50 {
        let req = attacker
            .client
            .post(attacker.url("/api/v1/sessions"))
            .header("x-csrf-token", &attacker.csrf)
            .json(&json!({ "phone": PHONE, "password": format!("wrong guess {i}") }));
        set.spawn(async move { req.send().await.unwrap().status() });
    }
    while let Some(status) = set.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::UNAUTHORIZED);
    }
    let rows = app
        .state
        .db
        .query_all_raw(Statement::from_string(
            app.state.db.get_database_backend(),
            "SELECT detail FROM audit_log WHERE action = 'login_failed'",
        ))
        .await
        .unwrap();
    let judged = rows
        .iter()
        .filter(|r| {
            let d: Option<String> = r.try_get("", "detail").unwrap();
            d.is_some_and(|d| d.contains("\"judged\":true"))
        })
        .count();
    assert_eq!(rows.len(), 50, "every attempt is in the audit log");
    assert!(judged <= 5, "{judged} guesses were judged");
    assert_error(
        attacker
            .post(
                "/api/v1/sessions",
                &json!({ "phone": PHONE, "password": PASSWORD }),
            )
            .await,
        401,
        "login_failed",
        None,
    )
    .await;
}

async fn body_of(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

// R-REG-1, R-REG-5, SECURITY 1: whether a phone has an account never shows.
pub async fn answers_do_not_reveal_accounts(db: Db) {
    let mut app = spawn_app(db).await;
    assert_eq!(app.register(PHONE, ID).await.status(), StatusCode::CREATED);
    let stranger = app.other_client().await;
    for purpose in ["register", "login", "reset_password"] {
        stranger.two_minutes_pass().await;
        let registered = body_of(stranger.send_code(PHONE, purpose).await).await;
        let unregistered = body_of(stranger.send_code(OTHER_PHONE, purpose).await).await;
        assert_eq!(registered, unregistered, "sending a {purpose} code");
        assert_eq!(registered.0, 202);
        // The 60 s spacing answers the same too.
        let registered = body_of(stranger.send_code(PHONE, purpose).await).await;
        let unregistered = body_of(stranger.send_code(OTHER_PHONE, purpose).await).await;
        assert_eq!(
            registered, unregistered,
            "resending a {purpose} code too soon"
        );
        assert_eq!(registered.0, 429);
    }
    let login = |phone: &str, password: &str| json!({ "phone": phone, "password": password });
    let wrong = body_of(
        stranger
            .post("/api/v1/sessions", &login(PHONE, "wrong password 1"))
            .await,
    )
    .await;
    let unknown = body_of(
        stranger
            .post("/api/v1/sessions", &login(OTHER_PHONE, "wrong password 1"))
            .await,
    )
    .await;
    assert_eq!(wrong, unknown, "wrong password vs unknown phone");
    for _ in 0..5 {
        stranger
            .post("/api/v1/sessions", &login(PHONE, "wrong password 2"))
            .await;
    }
    let locked = body_of(
        stranger
            .post("/api/v1/sessions", &login(PHONE, PASSWORD))
            .await,
    )
    .await;
    assert_eq!(locked, wrong, "locked account vs wrong password");
}

// Password hashing has a bounded queue: when it is full the answer is 503 with
// Retry-After, never an ever-growing wait.
pub async fn full_hashing_queue_answers_busy(db: Db) {
    let app = spawn_app_with(db, |c| {
        c.hash_concurrency = 1;
        c.hash_queue = 0;
        c.login_per_ip = 1000;
    })
    .await;
    let mut set = tokio::task::JoinSet::new();
    for i in 0..30 {
        let req = app
            .client
            .post(app.url("/api/v1/sessions"))
            .header("x-csrf-token", &app.csrf)
            .json(&json!({ "phone": format!("1380013{:04}", i), "password": "a wrong password" }));
        set.spawn(async move { req.send().await.unwrap() });
    }
    let mut busy = 0;
    while let Some(res) = set.join_next().await {
        let res = res.unwrap();
        match res.status().as_u16() {
            401 => {}
            503 => {
                assert!(res.headers().get("retry-after").is_some());
                assert_error(res, 503, "busy", None).await;
                busy += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(
        busy > 0,
        "30 concurrent hashes with room for one: some must be refused"
    );
}

// SECURITY 4: X-Forwarded-For is believed only from a trusted proxy.
pub async fn forwarded_for_from_untrusted_peers_is_ignored(db: Db) {
    let app = spawn_app_with(db, |c| c.sms_per_ip_per_hour = 2).await;
    let send = |phone: &'static str, forwarded: &'static str| {
        app.client
            .post(app.url("/api/v1/sms-codes"))
            .header("x-csrf-token", &app.csrf)
            .header("x-forwarded-for", forwarded)
            .json(&json!({ "phone": phone, "purpose": "register" }))
            .send()
    };
    assert_eq!(send("13800138001", "1.1.1.1").await.unwrap().status(), 202);
    assert_eq!(send("13800138002", "2.2.2.2").await.unwrap().status(), 202);
    assert_error(
        send("13800138003", "3.3.3.3").await.unwrap(),
        429,
        "sms_ip_quota",
        Some("phone"),
    )
    .await;

    let behind_proxy = spawn_app_with(Db::Sqlite, |c| {
        c.sms_per_ip_per_hour = 2;
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    for (i, ip) in ["1.1.1.1", "2.2.2.2", "3.3.3.3"].into_iter().enumerate() {
        let res = behind_proxy
            .client
            .post(behind_proxy.url("/api/v1/sms-codes"))
            .header("x-csrf-token", &behind_proxy.csrf)
            .header("x-forwarded-for", ip)
            .json(&json!({ "phone": format!("1380013800{i}"), "purpose": "register" }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 202, "each client address has its own quota");
    }
}

// SECURITY 6: personal responses are never cached (WeChat's webview caches hard).
pub async fn personal_responses_are_not_stored(db: Db) {
    let mut app = spawn_app(db).await;
    assert_eq!(app.register(PHONE, ID).await.status(), StatusCode::CREATED);
    for path in ["/api/v1/me", "/me", "/", "/sfn/profile", "/api/v1/consents"] {
        let res = app.page(path).await;
        assert_eq!(
            res.headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{path}"
        );
    }
}

// SECURITY 5: the language switch returns only to this app's paths.
pub async fn open_redirects_are_refused(db: Db) {
    let app = spawn_app(db).await;
    for (back, expected) in [
        ("/register", "/register"),
        ("//evil.com", "/"),
        ("/%5Cevil.com", "/"),
        ("/%09/evil.com", "/"),
        ("https://evil.com", "/"),
        ("/%2F%2Fevil.com", "/"),
    ] {
        let res = app
            .get(&format!("/lang/en?back={}", back.replace('%', "%25")))
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], expected, "back={back}");
    }
}

// R-REG-2: the consent gate holds for form posts, the API, and what client-side
// navigation reads (the viewer server function).
pub async fn consent_gate_holds_for_forms_and_server_functions(db: Db) {
    let mut app = spawn_app(db).await;
    assert_eq!(app.register(PHONE, ID).await.status(), StatusCode::CREATED);
    app.state
        .db
        .execute_unprepared(
            "UPDATE consent_record SET version = 'old' WHERE document = 'informed_consent'",
        )
        .await
        .unwrap();
    let form = app
        .client
        .post(app.url("/forms/password"))
        .header("accept", "text/html")
        .form(&[
            ("csrf_token", app.csrf.as_str()),
            ("password", PASSWORD),
            ("new_password", "another calm river"),
        ])
        .send()
        .await
        .unwrap();
    assert!(form.status().is_redirection());
    assert_eq!(form.headers()["location"], "/consent");
    let api = app
        .client
        .put(app.url("/api/v1/password"))
        .header("x-csrf-token", &app.csrf)
        .json(&json!({ "current_password": PASSWORD, "new_password": "another calm river" }))
        .send()
        .await
        .unwrap();
    assert_error(api, 403, "consent_required", None).await;
    // Every page is rendered by the server (islands), so following a link is gated too.
    let page = app.page("/me").await;
    assert!(page.status().is_redirection());
    assert_eq!(page.headers()["location"], "/consent");
    let profile = app.get("/sfn/profile").await.text().await.unwrap();
    assert_eq!(profile, "null", "no profile until consent is given again");
    // Nothing changed: the old password still logs in.
    let other = app.other_client().await;
    let res = other
        .post(
            "/api/v1/sessions",
            &json!({ "phone": PHONE, "password": PASSWORD }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

// R-SEC-2: what an account does is in the audit log, chained; the chain verifies.
pub async fn audit_log_records_account_events(db: Db) {
    let mut app = spawn_app(db).await;
    assert_eq!(app.register(PHONE, ID).await.status(), StatusCode::CREATED);
    app.post(
        "/api/v1/sessions",
        &json!({ "phone": PHONE, "password": "wrong one here" }),
    )
    .await;
    let res = app
        .client
        .put(app.url("/api/v1/password"))
        .header("x-csrf-token", &app.csrf)
        .json(&json!({ "current_password": PASSWORD, "new_password": "another calm river" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.post("/api/v1/consents/withdrawal", &json!({ "confirm": true }))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let res = app
        .client
        .delete(app.url("/api/v1/sessions"))
        .header("x-csrf-token", &app.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let rows = app
        .state
        .db
        .query_all_raw(Statement::from_string(
            app.state.db.get_database_backend(),
            "SELECT action FROM audit_log ORDER BY id",
        ))
        .await
        .unwrap();
    let actions: Vec<String> = rows
        .iter()
        .map(|r| r.try_get("", "action").unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "registered",
            "consent_given",
            "login_failed",
            "password_changed",
            "consent_withdrawn",
            "logged_out_everywhere"
        ]
    );
    server::audit::seal(&app.state.db, &app.state.audit_key)
        .await
        .unwrap();
    let report = server::audit::verify(&app.state.db, &app.state.audit_key)
        .await
        .unwrap();
    assert!(report.is_intact(), "{report}");
    assert_eq!(report.rows, 6);
}

/// A valid ID number for a birth date (GB 11643 check digit).
fn id_for(birth: time::Date) -> String {
    let first17 = format!(
        "110101{:04}{:02}{:02}123",
        birth.year(),
        u8::from(birth.month()),
        birth.day()
    );
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{first17}{check}")
}

// R-REG-7: under 18 (周岁: the 18th birthday itself still counts as 17) a person cannot
// register; R-SEC-6: full-width digits from a Chinese keyboard are accepted.
pub async fn minors_cannot_register_and_full_width_input_is_accepted(db: Db) {
    let mut app = spawn_app(db).await;
    let today = (time::OffsetDateTime::now_utc() + time::Duration::hours(8)).date();
    let eighteenth_birthday_today = today.replace_year(today.year() - 18).unwrap();
    let res = app
        .register(PHONE, &id_for(eighteenth_birthday_today))
        .await;
    assert_error(res, 422, "minor_needs_guardian", Some("id_number")).await;
    assert_eq!(app.patient_count().await, 0);
    let adult_since_today = eighteenth_birthday_today.previous_day().unwrap();
    app.two_minutes_pass().await;
    let full_width: String = id_for(adult_since_today)
        .chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap(),
            'X' => 'Ｘ',
            c => c,
        })
        .collect();
    let res = app.register(PHONE, &full_width).await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

// R-REG-4: a ciphertext moved to another patient's row does not decrypt.
pub async fn swapped_ciphertexts_do_not_decrypt(db: Db) {
    let mut app = spawn_app(db).await;
    assert_eq!(app.register(PHONE, ID).await.status(), StatusCode::CREATED);
    let mut other = app.other_client().await;
    assert_eq!(
        other
            .register(OTHER_PHONE, "11010519491231002X")
            .await
            .status(),
        StatusCode::CREATED
    );
    let rows = server::db::patient::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap();
    let (a, b) = (&rows[0], &rows[1]);
    let ctx = server::crypto::FieldContext::patient_id_number;
    assert!(
        app.state
            .crypto
            .decrypt(&a.id_number_cipher, &ctx(&a.patient_number))
            .is_ok()
    );
    assert!(
        app.state
            .crypto
            .decrypt(&a.id_number_cipher, &ctx(&b.patient_number))
            .is_err()
    );
    assert!(
        app.state
            .crypto
            .decrypt(&b.id_number_cipher, &ctx(&a.patient_number))
            .is_err()
    );
}

// Stateless CSRF: a token works only with the cookie it was made for.
pub async fn csrf_tokens_belong_to_their_cookie(db: Db) {
    let app = spawn_app(db).await;
    let other = app.other_client().await;
    let body = json!({ "phone": PHONE, "purpose": "register" });
    let res = app
        .client
        .post(app.url("/api/v1/sms-codes"))
        .header("x-csrf-token", &other.csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_error(res, 403, "csrf_missing", None).await;
    let res = TestApp::bare_client()
        .post(app.url("/api/v1/sms-codes"))
        .header("x-csrf-token", &app.csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_error(res, 403, "csrf_missing", None).await;
    assert_eq!(app.send_code(PHONE, "register").await.status(), 202);
}

// SECURITY 5: every rejection is in the error shape: wrong method (405 with Allow),
// bad query, bad form body, too large a body.
pub async fn rejections_use_the_error_shape(db: Db) {
    let app = spawn_app(db).await;
    let res = app
        .client
        .patch(app.url("/api/v1/sms-codes"))
        .header("x-csrf-token", &app.csrf)
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("allow").is_some());
    assert_error(res, 405, "method_not_allowed", None).await;
    let res = app.get("/api/v1/dev/sms-outbox").await;
    assert_error(res, 400, "invalid_query", Some("query")).await;
    let big = "x".repeat(64 * 1024);
    let res = app
        .client
        .post(app.url("/api/v1/registrations"))
        .header("x-csrf-token", &app.csrf)
        .header("content-type", "application/json")
        .body(format!("{{\"phone\":\"{big}\"}}"))
        .send()
        .await
        .unwrap();
    assert_error(res, 413, "payload_too_large", Some("body")).await;
    let res = app
        .client
        .post(app.url("/forms/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf_token={}&phone={big}", app.csrf))
        .send()
        .await
        .unwrap();
    assert_error(res, 413, "payload_too_large", Some("body")).await;
}

// Per-address limits on the endpoints that send SMS or judge secrets: a flood from one
// address is turned away before it costs a hash or a database write; pages are not limited.
pub async fn one_address_is_throttled_on_guessing_endpoints(db: Db) {
    // One request a minute, so a slow machine cannot earn another one during the test.
    let app = spawn_app_with(db, |c| c.throttle_per_minute = 1).await;
    let phones = ["13800138001", "13800138002"];
    assert_eq!(app.send_code(phones[0], "register").await.status(), 202);
    let before = fingerprint(&app).await;
    let res = app
        .post(
            "/api/v1/sms-codes",
            &json!({ "phone": phones[1], "purpose": "register" }),
        )
        .await;
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=61).contains(&retry), "Retry-After {retry}");
    assert_error(res, 429, "rate_limited", None).await;
    let res = app
        .post(
            "/api/v1/sessions",
            &json!({ "phone": PHONE, "password": PASSWORD }),
        )
        .await;
    assert_error(res, 429, "rate_limited", None).await;
    assert_eq!(
        fingerprint(&app).await,
        before,
        "a throttled request writes nothing"
    );
    assert_eq!(app.outbox_len(phones[1]), 0);

    // A browser form goes back to its page with the reason.
    let res = app
        .client
        .post(app.url("/forms/login"))
        .header("referer", app.url("/login"))
        .form(&[
            ("csrf_token", app.csrf.as_str()),
            ("phone", PHONE),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/login?error=rate_limited");
    // Reading pages is not limited.
    for _ in 0..5 {
        assert_eq!(app.page("/login").await.status(), StatusCode::OK);
    }
}

// R-SEC-6: personal fields are only in the hydration data of the page that shows them.
pub async fn personal_fields_stay_out_of_other_pages(db: Db) {
    let mut app = spawn_app(db).await;
    assert_eq!(app.register(PHONE, ID).await.status(), StatusCode::CREATED);
    let masked = format!("{}{}", "*".repeat(14), &ID[14..]);
    for path in [
        "/",
        "/register",
        "/login",
        "/consent/service_agreement",
        "/me/password",
    ] {
        let html = app.page(path).await.text().await.unwrap();
        assert!(!html.contains("张三"), "{path} carries the name");
        assert!(!html.contains(&masked), "{path} carries the ID number");
        assert!(!html.contains("138****8000"), "{path} carries the phone");
    }
    let me = app.page("/me").await.text().await.unwrap();
    assert!(me.contains("张三") && me.contains(&masked));
    assert!(!me.contains(ID), "never the full ID number");
    // Pages hydrate as islands only: the profile is in the page once, as HTML, and in
    // no script the browser would hydrate from.
    assert_eq!(
        me.matches("张三").count(),
        1,
        "the name only where it is shown"
    );
    assert!(
        me.contains("__RESOLVED_RESOURCES=[];"),
        "no serialized resources"
    );
}

// Security review, item 6 (R-REG-5, R-SEC-3): limits count failures only. Behind a
// hospital's or a carrier's NAT many people share an address: good logins never lock it
// (patients and staff are counted apart), failures still do, and good second-factor
// logins never lock a staff account's second step.
pub async fn limits_count_only_failures(db: Db) {
    let mut app = spawn_app_with(db, |c| c.login_per_ip = 3).await;
    assert_eq!(app.register(PHONE, ID).await.status(), StatusCode::CREATED);
    let good = json!({ "phone": PHONE, "password": PASSWORD });
    for _ in 0..6 {
        let patient = app.other_client().await;
        let res = patient.post("/api/v1/sessions", &good).await;
        assert_eq!(res.status(), StatusCode::OK, "a good login is not limited");
    }
    // Failures still count at the address: three wrong, then the right one is refused too.
    let wrong = json!({ "phone": PHONE, "password": "not the password" });
    for _ in 0..3 {
        let res = app
            .other_client()
            .await
            .post("/api/v1/sessions", &wrong)
            .await;
        assert_error(res, 401, "login_failed", None).await;
    }
    let res = app
        .other_client()
        .await
        .post("/api/v1/sessions", &good)
        .await;
    assert_error(res, 401, "login_failed", None).await;

    // Staff at the same address: counted apart from the patients; six good logins, each
    // with its second step (one-time recovery codes), lock nothing.
    let password = crate::staff::create(&app, "op.nat", "operator").await;
    let login = json!({ "username": "op.nat", "password": password });
    let first = app.other_client().await;
    assert_eq!(
        first.post("/api/v1/staff/sessions", &login).await.status(),
        StatusCode::OK
    );
    let enrolment: Value = first
        .get("/api/v1/staff/enrolment")
        .await
        .json()
        .await
        .unwrap();
    let secret = enrolment["secret"].as_str().unwrap();
    let code = server::staff::totp::current_code(secret, time::OffsetDateTime::now_utc()).unwrap();
    let res = first
        .post("/api/v1/staff/enrolment", &json!({ "code": code }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let codes: Value = res.json().await.unwrap();
    for code in codes["recovery_codes"].as_array().unwrap().iter().take(6) {
        let staff = app.other_client().await;
        let res = staff.post("/api/v1/staff/sessions", &login).await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "a good password is not limited"
        );
        let res = staff
            .post("/api/v1/staff/second-factor", &json!({ "code": code }))
            .await;
        assert_eq!(
            res.status(),
            StatusCode::NO_CONTENT,
            "a good code locks nothing"
        );
    }
}
