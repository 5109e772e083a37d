use crate::helpers::{Db, TestApp, spawn_app, spawn_patient};
use reqwest::StatusCode;

// The shell: server-rendered, zh-CN by default, security headers, a nonce on inline scripts.
pub async fn pages_are_server_rendered_with_security_headers(db: Db) {
    let app = spawn_app(db).await;
    let res = app.get("/").await;
    assert_eq!(res.status(), StatusCode::OK);
    let h = res.headers().clone();
    let csp = h["content-security-policy"].to_str().unwrap().to_owned();
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h.get("referrer-policy").is_some());
    assert!(h.get("x-request-id").is_some());
    let html = res.text().await.unwrap();
    assert!(html.contains("只做复诊"), "home explains follow-up only");
    assert!(
        html.contains("120"),
        "home tells what to do in an emergency"
    );
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "inline scripts carry this response's nonce"
    );

    let en = app
        .client
        .get(app.url("/lang/en?back=/register"))
        .send()
        .await
        .unwrap();
    assert_eq!(en.status(), StatusCode::SEE_OTHER);
    assert_eq!(en.headers()["location"], "/register");
    let html = app.get("/register").await.text().await.unwrap();
    assert!(
        html.contains("Register with your real name"),
        "the language choice persists"
    );
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
    assert_eq!(
        app.get("/no-such-page").await.status(),
        StatusCode::NOT_FOUND
    );
    let spec: serde_json::Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    assert!(spec["paths"]["/api/v1/registrations"]["post"].is_object());
}

// Progressive enhancement: the real forms, posted as a browser without JavaScript would.
pub async fn personal_pages_need_login_and_forms_work_without_javascript(db: Db) {
    let app = spawn_app(db).await;
    let me = app.page("/me").await;
    assert!(me.status().is_redirection(), "{}", me.status());
    assert!(
        me.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );

    let html = app.get("/register").await.text().await.unwrap();
    let csrf = html
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let version = |doc: &str| {
        html.split(&format!("name=\"consent_{doc}\" value=\""))
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned()
    };
    let res = app
        .client
        .post(app.url("/forms/sms-code"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("phone", "13800138000"),
            ("purpose", "register"),
            ("back", "/register"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/register?notice=code_sent");
    let code = app.last_code("13800138000").await;
    let mut form = vec![
        ("csrf_token", csrf.clone()),
        ("phone", "13800138000".into()),
        ("code", code.clone()),
        ("password", "a calm river at dawn".into()),
        ("real_name", "李四".into()),
        ("id_number", "110101199003071234".into()),
        ("consent_service_agreement", version("service_agreement")),
        ("consent_informed_consent", version("informed_consent")),
        ("consent_sensitive_info", version("sensitive_info")),
    ];
    let res = app
        .client
        .post(app.url("/forms/register"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["location"],
        "/register?error=id_number_check_digit&field=id_number"
    );
    form[5].1 = "110101199003071233".into();
    let res = app
        .client
        .post(app.url("/forms/register"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/me?notice=registered");
    let html = app.get("/me").await.text().await.unwrap();
    assert!(html.contains("**************1233"));
    assert!(html.contains("1990-03-07"));
    assert!(!html.contains("110101199003071233"));
}

// Safe defaults: production refuses to start with dev-only parts and names the setting;
// the dev SMS outbox answers only with the dev token, never by address alone (security
// review item 3: behind a proxy on the same host every client is 127.0.0.1).
pub async fn production_refuses_dev_parts_and_outbox_needs_the_dev_token(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = server::config::Config::dev(
        dir.path().to_path_buf(),
        format!("sqlite://{}?mode=rwc", dir.path().join("p.db").display()),
        [3; 32],
        [4; 64],
    );
    config.mode = server::config::Mode::Production;
    let refused = server::startup::Application::build(config)
        .await
        .err()
        .unwrap();
    assert!(
        refused.to_string().contains("FUZHEN_SMS_PROVIDER"),
        "{refused}"
    );

    let app = spawn_app(db).await;
    let outbox = "/api/v1/dev/sms-outbox?phone=13800138000";
    let from_loopback = app.get(outbox).await;
    assert_eq!(from_loopback.status(), StatusCode::NOT_FOUND);
    let wrong = app
        .client
        .get(app.url(outbox))
        .header("x-fuzhen-dev-token", "guess")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
    assert!(app.outbox("13800138000").await["messages"].is_array());
}

// Fail closed (security review item 3): the binary will not start without FUZHEN_MODE,
// and says which setting is missing.
pub fn the_binary_refuses_to_start_without_a_mode() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .env_remove("FUZHEN_MODE")
        .env("FUZHEN_DATA_DIR", dir.path())
        .env("FUZHEN_LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("FUZHEN_MODE is not set"), "{said}");
    assert!(!dir.path().join("fuzhen.db").exists());
}

// Pages go out brotli-compressed to clients that take br, gzip to the others, and the
// live queue's event stream is never buffered for compression.
pub async fn pages_are_compressed_for_phones(db: Db) {
    let app = spawn_app(db).await;
    let client = TestApp::bare_client();
    let res = client
        .get(app.url("/doctors"))
        .header("accept", "text/html")
        .header("accept-encoding", "gzip, deflate, br")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-encoding"], "br");
    assert!(res.headers().get("content-length").is_none_or(|l| l != "0"));
    let compressed = res.bytes().await.unwrap();
    let mut page = Vec::new();
    brotli::BrotliDecompress(&mut compressed.as_ref(), &mut page).unwrap();
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains("找医生"), "{page}");
    // The whole page, to the last chunk Leptos writes after `</html>`.
    assert!(page.contains("</html>") && page.contains("__INCOMPLETE_CHUNKS"));
    assert!(
        compressed.len() * 2 < page.len(),
        "{} of {}",
        compressed.len(),
        page.len()
    );

    let res = client
        .get(app.url("/doctors"))
        .header("accept", "text/html")
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-encoding"], "gzip");
    let res = client
        .get(app.url("/doctors"))
        .header("accept", "text/html")
        .header("accept-encoding", "br;q=0, identity")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("content-encoding").is_none());
}

/// A brotli GET without a cookie jar: (status, headers, decoded page).
async fn br_page(
    app: &TestApp,
    path: &str,
    cookie: Option<&str>,
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let mut req = TestApp::bare_client()
        .get(app.url(path))
        .header("accept", "text/html")
        .header("accept-encoding", "br");
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let res = req.send().await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    assert_eq!(headers["content-encoding"], "br", "{path}");
    let bytes = res.bytes().await.unwrap();
    let mut page = Vec::new();
    brotli::BrotliDecompress(&mut bytes.as_ref(), &mut page).unwrap();
    (status, headers, String::from_utf8(page).unwrap())
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    text.split(start).nth(1).unwrap().split(end).next().unwrap()
}

// R-SEC-6: pages for visitors who are not logged in are rendered once, yet every
// response carries its own CSP nonce and its own CSRF token; anyone with a session is
// never served a cached page.
pub async fn anonymous_pages_are_rendered_once_with_each_visitors_secrets(db: Db) {
    let app = spawn_app(db).await;
    let cache = &app.state.web.page_cache;
    let mut seen = Vec::new();
    for _ in 0..3 {
        let (status, h, page) = br_page(&app, "/register", None).await;
        assert_eq!(status, StatusCode::OK);
        let csp = h["content-security-policy"].to_str().unwrap();
        let nonce = between(csp, "'nonce-", "'").to_owned();
        assert!(page.contains(&format!("nonce=\"{nonce}\"")), "{page}");
        assert_eq!(
            page.matches("nonce=\"").count(),
            page.matches(&format!("nonce=\"{nonce}\"")).count(),
            "every script carries this response's nonce"
        );
        let cookie = between(h["set-cookie"].to_str().unwrap(), "fuzhen_csrf=", ";").to_owned();
        let token = between(&page, "name=\"csrf_token\" value=\"", "\"").to_owned();
        assert!(page.contains("实名"), "the registration page itself");
        seen.push((nonce, cookie, token));
    }
    // Rendered once and served from the cache after (a slow machine may pass the
    // cache's one second between two requests and render again).
    let (served, rendered) = cache.counts.get();
    assert!(
        served >= 1 && served + rendered == 3,
        "{served} served, {rendered} rendered"
    );
    for (i, a) in seen.iter().enumerate() {
        for b in &seen[i + 1..] {
            assert!(a.0 != b.0 && a.1 != b.1 && a.2 != b.2, "{seen:?}");
        }
    }
    // Each token works with its own cookie only.
    let (_, cookie, token) = &seen[0];
    let post = |token: &str| {
        TestApp::bare_client()
            .post(app.url("/api/v1/sessions"))
            .header("cookie", format!("fuzhen_csrf={cookie}"))
            .header("x-csrf-token", token.to_owned())
            .json(&serde_json::json!({ "phone": "13800000000", "password": "not the password" }))
            .send()
    };
    let own = post(token).await.unwrap();
    assert_ne!(own.status(), StatusCode::FORBIDDEN, "its own token passes");
    let other = post(&seen[1].2).await.unwrap();
    assert_eq!(
        other.status(),
        StatusCode::FORBIDDEN,
        "another visitor's does not"
    );

    // A returning visitor with the CSRF cookie gets the page with a token for it.
    let (_, _, page) = br_page(&app, "/register", Some(&format!("fuzhen_csrf={cookie}"))).await;
    assert!(page.contains(&format!("value=\"{token}\"")));
    let (served, rendered) = cache.counts.get();
    assert_eq!(served + rendered, 4);

    // Someone with a session cookie never gets (or fills) a cached page.
    let before = cache.counts.get();
    br_page(
        &app,
        "/register",
        Some("fuzhen_session=anything; fuzhen_csrf=x"),
    )
    .await;
    assert_eq!(cache.counts.get(), before);
}

/// `/me` as this client's browser asks for it, brotli-encoded: (CSP nonce, page).
async fn br_me(app: &TestApp) -> (String, String) {
    let res = app
        .client
        .get(app.url("/me"))
        .header("accept", "text/html")
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-encoding"], "br");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let bytes = res.bytes().await.unwrap();
    let mut page = Vec::new();
    brotli::BrotliDecompress(&mut bytes.as_ref(), &mut page).unwrap();
    (
        between(&csp, "'nonce-", "'").to_owned(),
        String::from_utf8(page).unwrap(),
    )
}

// R-SEC-6, R-REG-7: a personal page is rendered for its own session each time: each
// response carries its own nonce and its session's CSRF token; another patient never
// gets it; a change shows at once.
pub async fn personal_pages_render_fresh_for_each_session(db: Db) {
    let app = spawn_patient(db).await;
    let mut nonces = Vec::new();
    for _ in 0..3 {
        let (nonce, page) = br_me(&app).await;
        assert!(page.contains("**************1233"), "{page}");
        assert_eq!(
            page.matches("nonce=\"").count(),
            page.matches(&format!("nonce=\"{nonce}\"")).count(),
            "every script carries this response's nonce"
        );
        assert!(!page.contains("unread-badge"));
        nonces.push(nonce);
    }
    assert!(nonces[0] != nonces[1] && nonces[1] != nonces[2]);

    // Another patient, another session: their own page, rendered for them.
    let mut other = app.other_client().await;
    assert_eq!(
        other
            .register("13900139000", "110101198501010025")
            .await
            .status(),
        StatusCode::CREATED
    );
    for _ in 0..2 {
        let (_, theirs) = br_me(&other).await;
        assert!(theirs.contains("**************0025") && !theirs.contains("1233"));
    }

    // A notice arrives (a family member added): the tab's unread badge shows at once.
    app.add_child().await;
    for _ in 0..2 {
        let (_, page) = br_me(&app).await;
        assert!(page.contains("unread-badge"), "{page}");
    }

    // The CSRF token in the page is this session's: logging out with it works, and the
    // logged-out session gets only the way to log in.
    let (_, page) = br_me(&app).await;
    let token = between(&page, "name=\"csrf_token\" value=\"", "\"").to_owned();
    let res = app
        .client
        .post(app.url("/forms/logout"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    let res = app.page("/me").await;
    assert!(res.status().is_redirection(), "{}", res.status());
}

// R-SEC-6: a page is kept for anonymous visitors only when its route opted in; any other
// is rendered for every request.
pub async fn only_pages_that_opt_in_are_kept_for_anonymous_visitors(db: Db) {
    let app = spawn_app(db).await;
    let cache = &app.state.web.page_cache;
    for _ in 0..3 {
        let (status, _, page) = br_page(&app, "/staff/login", None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("f-username"), "{page}");
    }
    assert_eq!(
        cache.counts.get(),
        (0, 0),
        "the staff login is rendered fresh"
    );
    for _ in 0..2 {
        let (status, _, _) = br_page(&app, "/doctors", None).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (served, rendered) = cache.counts.get();
    assert_eq!(served + rendered, 2, "the directory opted in");
}
