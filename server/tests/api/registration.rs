use crate::helpers::{Db, assert_error, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use server::db::{patient, sms_code};

const PHONE: &str = "13800138000";
const ID: &str = "11010519491231002X";

// R-REG-1, R-REG-2, R-REG-4: the happy path, with what is stored checked too.
pub async fn register_then_profile_shows_masked_id_and_derived_data(db: Db) {
    let mut app = spawn_app(db).await;
    let res = app.register(PHONE, "11010519491231002x").await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    let p = &body["patient"];
    // Only the last 4: with the birth date and sex shown beside it, more would give it away.
    assert_eq!(p["id_number_masked"], "**************002X");
    assert_eq!(p["birth_date"], "1949-12-31");
    assert_eq!(p["sex"], "female");
    assert_eq!(p["phone_masked"], "138****8000");
    assert_eq!(p["consents"].as_array().unwrap().len(), 3);

    let me: Value = app.get("/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["patient"]["real_name"], "张三");
    assert!(
        !me.to_string().contains(ID),
        "the full ID number never leaves the server"
    );

    // R-REG-4: encrypted at rest, unique on a keyed hash, never plaintext.
    let row = patient::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!row.id_number_cipher.contains("1101"));
    assert_eq!(
        app.state
            .crypto
            .decrypt(
                &row.id_number_cipher,
                &server::crypto::FieldContext::patient_id_number(&row.patient_number)
            )
            .unwrap(),
        ID
    );
    assert_ne!(row.id_number_hmac, ID);
    assert!(row.password_hash.starts_with("$argon2id$"));
}

// R-SEC-6: bad input gets the documented error and leaves no row behind.
pub async fn malformed_phone_is_refused(db: Db) {
    let app = spawn_app(db).await;
    for phone in ["12345", "23800138000", "+1 415 555 0100", ""] {
        assert_error(
            app.send_code(phone, "register").await,
            422,
            "phone_invalid",
            Some("phone"),
        )
        .await;
    }
    assert_error(
        app.send_code(PHONE, "wire_money").await,
        422,
        "purpose_invalid",
        Some("purpose"),
    )
    .await;
    let mut body = app.registration("1380013800", ID).await;
    body["code"] = json!("123456");
    assert_error(
        app.post("/api/v1/registrations", &body).await,
        422,
        "phone_invalid",
        Some("phone"),
    )
    .await;
    assert_eq!(app.patient_count().await, 0);
}

// R-REG-1: a wrong code, an expired code (5 minutes) and a used code all fail.
pub async fn wrong_expired_and_reused_codes_are_refused(db: Db) {
    let mut app = spawn_app(db).await;
    app.send_code(PHONE, "register").await;
    let code = app.last_code(PHONE).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let mut body = app.registration(PHONE, ID).await;
    body["code"] = json!(wrong);
    assert_error(
        app.post("/api/v1/registrations", &body).await,
        422,
        "sms_code_wrong",
        Some("code"),
    )
    .await;
    body["code"] = json!("12a456");
    assert_error(
        app.post("/api/v1/registrations", &body).await,
        422,
        "sms_code_format",
        Some("code"),
    )
    .await;

    // Age the code past its 5 minutes.
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let row = sms_code::Entity::find()
        .filter(sms_code::Column::Phone.eq(PHONE))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let mut aged: sms_code::ActiveModel = row.clone().into();
    aged.created_at = Set(row.created_at - 301);
    aged.update(&app.state.db).await.unwrap();
    body["code"] = json!(code);
    assert_error(
        app.post("/api/v1/registrations", &body).await,
        422,
        "sms_code_expired",
        Some("code"),
    )
    .await;
    assert_eq!(app.patient_count().await, 0);

    // A fresh code works once; the second use is refused.
    let mut reset: sms_code::ActiveModel = row.into();
    reset.created_at = Set(time::OffsetDateTime::now_utc().unix_timestamp() - 120);
    reset.update(&app.state.db).await.unwrap();
    assert_eq!(
        app.post("/api/v1/registrations", &body).await.status(),
        StatusCode::CREATED
    );
    app.refresh_csrf().await;
    let again = json!({ "phone": PHONE, "code": code });
    assert_error(
        app.post("/api/v1/sessions", &again).await,
        422,
        "sms_code_wrong",
        Some("code"),
    )
    .await;
}

// R-REG-1: resend only after 60 s; per-phone and per-address quotas.
pub async fn too_many_codes_are_refused(db: Db) {
    // Every request counts against the address's quota, refused ones too.
    let app = spawn_app_with(db, |c| c.sms_per_ip_per_hour = 3).await;
    assert_eq!(
        app.send_code(PHONE, "register").await.status(),
        StatusCode::ACCEPTED
    );
    let res = app.send_code(PHONE, "register").await;
    assert!(res.headers().get("retry-after").is_some());
    assert_error(res, 429, "sms_too_soon", Some("phone")).await;
    assert_eq!(
        app.send_code("13900139000", "register").await.status(),
        StatusCode::ACCEPTED
    );
    assert_error(
        app.send_code("13700137000", "register").await,
        429,
        "sms_ip_quota",
        Some("phone"),
    )
    .await;
}

// R-REG-1: at most 5 tries per code; the right code after that is refused.
pub async fn too_many_wrong_tries_burn_the_code(db: Db) {
    let app = spawn_app(db).await;
    app.send_code(PHONE, "register").await;
    let code = app.last_code(PHONE).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let mut body = app.registration(PHONE, ID).await;
    body["code"] = json!(wrong);
    for _ in 0..5 {
        assert_error(
            app.post("/api/v1/registrations", &body).await,
            422,
            "sms_code_wrong",
            Some("code"),
        )
        .await;
    }
    body["code"] = json!(code);
    assert_error(
        app.post("/api/v1/registrations", &body).await,
        429,
        "sms_code_too_many_attempts",
        Some("code"),
    )
    .await;
    assert_eq!(app.patient_count().await, 0);
}

// R-REG-5: length and common-password rules, named on the password field.
pub async fn weak_password_is_refused(db: Db) {
    let app = spawn_app(db).await;
    app.send_code(PHONE, "register").await;
    let mut body = app.registration(PHONE, ID).await;
    body["code"] = json!(app.last_code(PHONE).await);
    for (pw, code) in [
        ("short", "password_too_short"),
        ("password123", "password_too_common"),
        ("12345678", "password_too_common"),
    ] {
        body["password"] = json!(pw);
        assert_error(
            app.post("/api/v1/registrations", &body).await,
            422,
            code,
            Some("password"),
        )
        .await;
    }
    body["password"] = json!("x".repeat(129));
    assert_error(
        app.post("/api/v1/registrations", &body).await,
        422,
        "password_too_long",
        Some("password"),
    )
    .await;
    assert_eq!(app.patient_count().await, 0);
}

// R-REG-1: GB 11643 check digit, birth date, format — before anything is stored.
pub async fn bad_id_numbers_are_refused(db: Db) {
    let app = spawn_app(db).await;
    app.send_code(PHONE, "register").await;
    let mut body = app.registration(PHONE, ID).await;
    body["code"] = json!(app.last_code(PHONE).await);
    for (id, code) in [
        ("110105194912310021", "id_number_check_digit"),
        ("110105194902300026", "id_number_birth_date"),
        ("11010519491231002", "id_number_format"),
        ("110105209912310020", "id_number_future"),
    ] {
        body["id_number"] = json!(id);
        assert_error(
            app.post("/api/v1/registrations", &body).await,
            422,
            code,
            Some("id_number"),
        )
        .await;
    }
    body["id_number"] = json!(ID);
    body["real_name"] = json!("1");
    assert_error(
        app.post("/api/v1/registrations", &body).await,
        422,
        "real_name_invalid",
        Some("real_name"),
    )
    .await;
    assert_eq!(app.patient_count().await, 0);
}

// R-REG-1: one account per ID number and per phone; only someone who proved the phone
// learns that an account exists.
pub async fn duplicate_id_and_phone_are_refused(db: Db) {
    let mut app = spawn_app(db).await;
    assert_eq!(app.register(PHONE, ID).await.status(), StatusCode::CREATED);
    let other = spawn_second_client(&app).await;
    // Same ID, new phone: the phone is proved first, then the answer says so.
    assert_eq!(
        other.send_code("13900139000", "register").await.status(),
        StatusCode::ACCEPTED
    );
    let mut body = other
        .registration("13900139000", "11010519491231002x")
        .await;
    body["code"] = json!("000000");
    if other.last_code("13900139000").await == "000000" {
        body["code"] = json!("111111");
    }
    // A wrong code says only that the code is wrong.
    assert_error(
        other.post("/api/v1/registrations", &body).await,
        422,
        "sms_code_wrong",
        Some("code"),
    )
    .await;
    body["code"] = json!(other.last_code("13900139000").await);
    assert_error(
        other.post("/api/v1/registrations", &body).await,
        409,
        "account_exists",
        None,
    )
    .await;
    other.two_minutes_pass().await;
    // Same phone: a code request is answered as for any phone; the owner's SMS says
    // the phone is registered and carries no code.
    let asked = other.send_code(PHONE, "register").await;
    assert_eq!(asked.status(), StatusCode::ACCEPTED);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let outbox = app.state.sms.outbox().unwrap().messages_for(PHONE);
    let last = outbox.last().unwrap();
    assert!(
        last.code.is_none() && last.body.contains("已注册"),
        "{last:?}"
    );
    assert_eq!(app.patient_count().await, 1);
}

async fn spawn_second_client(app: &crate::helpers::TestApp) -> crate::helpers::TestApp {
    app.other_client().await
}

// R-REG-2, R-REG-3: each document, including the sensitive-information consent, is ticked explicitly.
pub async fn missing_or_outdated_consent_is_refused(db: Db) {
    let app = spawn_app(db).await;
    app.send_code(PHONE, "register").await;
    let mut body = app.registration(PHONE, ID).await;
    body["code"] = json!(app.last_code(PHONE).await);
    let all = body["consents"].clone();
    body["consents"] = json!(
        all.as_array()
            .unwrap()
            .iter()
            .filter(|c| c["document"] != "sensitive_info")
            .collect::<Vec<_>>()
    );
    assert_error(
        app.post("/api/v1/registrations", &body).await,
        422,
        "consent_missing",
        Some("consent"),
    )
    .await;
    body["consents"] = json!([]);
    assert_error(
        app.post("/api/v1/registrations", &body).await,
        422,
        "consent_missing",
        Some("consent"),
    )
    .await;
    let mut outdated = all.clone();
    outdated[0]["version"] = json!("an-old-version");
    body["consents"] = outdated;
    assert_error(
        app.post("/api/v1/registrations", &body).await,
        409,
        "consent_outdated",
        Some("consent"),
    )
    .await;
    assert_eq!(app.patient_count().await, 0);
}

// R-SEC-6: malformed JSON, wrong content type, oversized body.
pub async fn malformed_requests_get_the_error_shape(db: Db) {
    let app = spawn_app(db).await;
    let post_raw = |body: String, content_type: &'static str| {
        app.client
            .post(app.url("/api/v1/registrations"))
            .header("x-csrf-token", &app.csrf)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    assert_error(
        post_raw("{\"phone\": ".into(), "application/json")
            .await
            .unwrap(),
        400,
        "invalid_json",
        Some("body"),
    )
    .await;
    assert_error(
        post_raw("{\"phone\": 5}".into(), "application/json")
            .await
            .unwrap(),
        400,
        "invalid_json",
        Some("body"),
    )
    .await;
    assert_error(
        post_raw("phone=1".into(), "application/x-www-form-urlencoded")
            .await
            .unwrap(),
        415,
        "unsupported_media_type",
        Some("body"),
    )
    .await;
    let huge = format!("{{\"phone\": \"{}\"}}", "1".repeat(64 * 1024));
    assert_error(
        post_raw(huge, "application/json").await.unwrap(),
        413,
        "payload_too_large",
        Some("body"),
    )
    .await;
    assert_error(
        app.get("/api/v1/nothing-here").await,
        404,
        "not_found",
        None,
    )
    .await;
    // Messages follow the language: English on request.
    let res = app
        .client
        .post(app.url("/api/v1/sms-codes"))
        .header("x-csrf-token", &app.csrf)
        .header("accept-language", "en-US,en;q=0.9")
        .json(&json!({ "phone": "1" , "purpose": "register"}))
        .send()
        .await
        .unwrap();
    let body = assert_error(res, 422, "phone_invalid", Some("phone")).await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("mobile number")
    );
    assert_eq!(app.patient_count().await, 0);
}

// CSRF protection on every state-changing request.
pub async fn missing_csrf_token_is_refused(db: Db) {
    let app = spawn_app(db).await;
    let res = app
        .client
        .post(app.url("/api/v1/sms-codes"))
        .json(&json!({ "phone": PHONE, "purpose": "register" }))
        .send()
        .await
        .unwrap();
    assert_error(res, 403, "csrf_missing", None).await;
    let res = app
        .client
        .post(app.url("/api/v1/sms-codes"))
        .header("x-csrf-token", "forged")
        .json(&json!({ "phone": PHONE, "purpose": "register" }))
        .send()
        .await
        .unwrap();
    assert_error(res, 403, "csrf_missing", None).await;
    let form = app
        .client
        .post(app.url("/forms/sms-code"))
        .form(&[
            ("phone", PHONE),
            ("purpose", "register"),
            ("back", "/register"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::SEE_OTHER);
    assert!(
        form.headers()["location"]
            .to_str()
            .unwrap()
            .contains("error=csrf_missing")
    );
    assert!(
        sms_code::Entity::find()
            .one(&app.state.db)
            .await
            .unwrap()
            .is_none(),
        "no code was sent"
    );
}
