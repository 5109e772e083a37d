//! Payment events in (R-PAY-4): Stripe's webhook, signed as Stripe signs it. A good
//! delivery is stored once however often it comes, even all at once; a stale, tampered,
//! unsigned or wrongly signed one gets 400 and changes nothing; stored events are kept.
use crate::booking::number;
use crate::helpers::{Db, TestApp, assert_error, spawn_app_with};
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use secrecy::SecretBox;
use serde_json::Value;
use server::payments::webhook_signature::sign;
use time::OffsetDateTime;

const SECRET: &str = "whsec_fuzhen_test";
const OLD_SECRET: &str = "whsec_fuzhen_before_rotation";

fn event(id: &str) -> String {
    format!(
        r#"{{"id":"{id}","object":"event","type":"payment_intent.succeeded","data":{{"object":{{"id":"pi_1","amount":4000,"currency":"cny"}}}}}}"#
    )
}

async fn deliver(app: &TestApp, body: &str, signature: Option<String>) -> reqwest::Response {
    let mut req = TestApp::bare_client()
        .post(app.url("/api/v1/payments/stripe/webhook"))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(s) = signature {
        req = req.header("stripe-signature", s);
    }
    req.send().await.expect("request")
}

fn signed(secret: &str, body: &str, age_secs: i64) -> Option<String> {
    let t = OffsetDateTime::now_utc().unix_timestamp() - age_secs;
    Some(sign(secret.as_bytes(), t, body.as_bytes()))
}

async fn stored(app: &TestApp) -> i64 {
    number(app, "SELECT COUNT(*) AS n FROM payment_event").await
}

pub async fn stripe_webhook_deliveries_are_verified_and_stored_once(db: Db) {
    let app = spawn_app_with(db, |c| {
        c.stripe_webhook_secrets = vec![
            SecretBox::from(SECRET.to_owned()),
            SecretBox::from(OLD_SECRET.to_owned()),
        ]
    })
    .await;
    let body = event("evt_1");

    let res = deliver(&app, &body, signed(SECRET, &body, 0)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let answer: Value = res.json().await.unwrap();
    assert_eq!(
        (answer["received"].as_bool(), answer["duplicate"].as_bool()),
        (Some(true), Some(false))
    );
    // Delivered again (Stripe retries): answered, not stored twice.
    let res = deliver(&app, &body, signed(SECRET, &body, 10)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["duplicate"], true);
    assert_eq!(stored(&app).await, 1);

    // Twenty deliveries of a new event at once: one row.
    let body2 = event("evt_2");
    let all = futures_util::future::join_all(
        (0..20).map(|_| deliver(&app, &body2, signed(SECRET, &body2, 0))),
    )
    .await;
    let mut firsts = 0;
    for res in all {
        assert_eq!(res.status(), StatusCode::OK);
        firsts += usize::from(res.json::<Value>().await.unwrap()["duplicate"] == false);
    }
    assert_eq!(firsts, 1, "exactly one delivery was the first");
    assert_eq!(stored(&app).await, 2);

    // The old secret still signs during a rotation.
    let body3 = event("evt_3");
    let res = deliver(&app, &body3, signed(OLD_SECRET, &body3, 0)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(stored(&app).await, 3);

    // Refused, and nothing stored: stale, tampered, a wrong secret, no signature.
    let body4 = event("evt_4");
    let tampered = body4.replace("4000", "1");
    for (body, signature) in [
        (body4.clone(), signed(SECRET, &body4, 301)),
        (tampered, signed(SECRET, &body4, 0)),
        (body4.clone(), signed("whsec_someone_else", &body4, 0)),
        (body4.clone(), None),
        (body4.clone(), Some("t=1,v1=00".to_owned())),
    ] {
        let res = deliver(&app, &body, signature).await;
        assert_error(res, 400, "webhook_signature_invalid", None).await;
    }
    // Signed, but not an event.
    let junk = r#"{"hello":"world"}"#;
    let res = deliver(&app, junk, signed(SECRET, junk, 0)).await;
    assert_error(res, 400, "invalid_json", Some("body")).await;
    // Bigger than any event: refused before it is read or checked.
    let huge = format!(
        r#"{{"id":"evt_5","type":"x","pad":"{}"}}"#,
        "x".repeat(300 * 1024)
    );
    let res = deliver(&app, &huge, signed(SECRET, &huge, 0)).await;
    assert_error(res, 413, "payload_too_large", Some("body")).await;
    assert_eq!(stored(&app).await, 3, "refused deliveries stored nothing");

    // Kept in full: the database refuses to delete or rewrite a stored event.
    let db = &app.state.db;
    assert!(
        db.execute_unprepared("DELETE FROM payment_event")
            .await
            .is_err()
    );
    assert!(
        db.execute_unprepared("UPDATE payment_event SET payload = '{}'")
            .await
            .is_err()
    );
    db.execute_unprepared("UPDATE payment_event SET processed_at = 1 WHERE event_id = 'evt_1'")
        .await
        .expect("marking processed is allowed, once");
    assert!(
        db.execute_unprepared("UPDATE payment_event SET processed_at = 2 WHERE event_id = 'evt_1'")
            .await
            .is_err()
    );
    assert_eq!(stored(&app).await, 3);
}

// Without a configured secret the webhook is not there.
pub async fn the_webhook_is_off_without_a_secret(db: Db) {
    let app = crate::helpers::spawn_app(db).await;
    let body = event("evt_1");
    let res = deliver(&app, &body, signed(SECRET, &body, 0)).await;
    assert_error(res, 404, "not_found", None).await;
    assert_eq!(stored(&app).await, 0);
}
