use crate::helpers::{Db, TestApp, spawn_app, spawn_app_with};
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
// the dev SMS outbox answers only to this machine, judged by the real client address.
pub async fn production_refuses_dev_parts_and_outbox_is_loopback_only(db: Db) {
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

    let app = spawn_app_with(db, |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let local = app.get("/api/v1/dev/sms-outbox?phone=13800138000").await;
    assert_eq!(local.status(), StatusCode::OK);
    let remote = app
        .client
        .get(app.url("/api/v1/dev/sms-outbox?phone=13800138000"))
        .header("x-forwarded-for", "203.0.113.7")
        .send()
        .await
        .unwrap();
    assert_eq!(remote.status(), StatusCode::NOT_FOUND);
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
