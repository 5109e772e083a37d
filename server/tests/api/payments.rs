//! Payment events in (R-PAY-4): Stripe's webhook, signed as Stripe signs it. A good
//! delivery is stored once however often it comes, even all at once; a stale, tampered,
//! unsigned or wrongly signed one gets 400 and changes nothing; stored events are kept.
use crate::booking::number;
use crate::helpers::{Db, TestApp, assert_error, spawn_app_with};
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use secrecy::SecretBox;
use serde_json::{Value, json};
use server::orders::payments::webhook_signature::sign;
use time::OffsetDateTime;

pub(crate) const SECRET: &str = "whsec_fuzhen_test";
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
    // Processed once on arrival (this server's provider is the sandbox, so a Stripe
    // event changes nothing), and never marked again.
    let processed = "SELECT COUNT(*) AS n FROM payment_event \
                     WHERE processed_at IS NOT NULL AND outcome = 'irrelevant'";
    assert_eq!(number(&app, processed).await, 3);
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

/// Starts paying for a booking and ends the sandbox checkout with `choice`; returns the
/// order number. R-PAY-1: the pay answer sends the patient to the provider's page.
pub(crate) async fn pay_in_sandbox(app: &TestApp, booking: &str, choice: &str) -> String {
    let order = start_paying(app, booking).await;
    let res = app
        .form(
            &format!("/forms/pay/sandbox/{order}"),
            &[("choice", choice)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{choice}");
    order
}

/// Starts paying; returns the order number from the sandbox page it leads to.
pub(crate) async fn start_paying(app: &TestApp, booking: &str) -> String {
    let res = app
        .post(
            &format!("/api/v1/bookings/{booking}/payment"),
            &json!({ "payment_method": "wechat_pay" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let next: Value = res.json().await.unwrap();
    assert_eq!(next["next"], "redirect", "{next}");
    let url = next["url"].as_str().unwrap();
    let order = url
        .strip_prefix("/pay/sandbox/")
        .and_then(|rest| rest.split('?').next())
        .unwrap()
        .to_owned();
    // The checkout page says that no money moves, and what is paid.
    let page = app.page_text(url).await;
    assert!(page.contains("不会产生真实扣款"), "{page}");
    assert!(page.contains("¥40"), "{page}");
    order
}

/// One text value (`t`) a query returns.
async fn text(app: &TestApp, sql: &str) -> String {
    let row = app
        .state
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.state.db.get_database_backend(),
            sql,
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<String>("", "t").unwrap()
}

pub(crate) async fn order_status(app: &TestApp, order: &str) -> String {
    text(
        app,
        &format!("SELECT status AS t FROM orders WHERE order_number = '{order}'"),
    )
    .await
}

async fn booking_status(app: &TestApp, booking: &str) -> String {
    text(
        app,
        &format!("SELECT status AS t FROM booking WHERE booking_number = '{booking}'"),
    )
    .await
}

/// A patient with an approved diagnosis, a doctor with a published ¥40 fee and four
/// video slots two days ahead; returns (patient, operator, slot numbers).
async fn patient_with_slots(db: Db) -> (TestApp, TestApp, Vec<String>) {
    patient_with_slots_on(db, |_| {}).await
}

pub(crate) async fn patient_with_slots_on(
    db: Db,
    tweak: impl FnOnce(&mut server::config::Config),
) -> (TestApp, TestApp, Vec<String>) {
    use app::domain::china_time;
    use app::domain::schedule::add_days;
    let app = crate::consult_consent::approved_patient_with(db, Default::default(), tweak).await;
    let operator = crate::proofs::staff_client(&app, "op.pay", "operator").await;
    let doctor = crate::booking::doctor(
        &app,
        &operator,
        "cardiology",
        "110110000000401",
        "2012-01-01",
    )
    .await;
    let date = add_days(
        china_time::day(OffsetDateTime::now_utc().unix_timestamp()),
        2,
    )
    .to_string();
    let res = operator
        .post(
            &format!("/api/v1/staff/doctors/{doctor}/sessions"),
            &json!({ "date": date, "start": "09:00", "end": "10:00", "consult_type": "video", "slot_minutes": 15 }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let slots: Vec<String> = res.json::<Value>().await.unwrap()["slot_numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    crate::booking::screen_and_consent(&app).await;
    (app, operator, slots)
}

pub(crate) async fn hold(app: &TestApp, slot: &str) -> String {
    let res = app
        .post("/api/v1/holds", &json!({ "slot_number": slot }))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["booking_number"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The booking's hold is past its time (as if its 15 minutes had gone by).
async fn hold_ran_out(app: &TestApp, booking: &str) {
    let past = OffsetDateTime::now_utc().unix_timestamp() - 1;
    exec(
        app,
        &format!("UPDATE booking SET hold_expires_at = {past} WHERE booking_number = '{booking}'"),
    )
    .await;
}

async fn exec(app: &TestApp, sql: &str) {
    app.state.db.execute_unprepared(sql).await.unwrap();
}

// R-PAY-1, R-PAY-4, R-BOOK-2: a hold makes its order (the published fee, CNY, one line);
// paying goes through the provider's page; the provider's event confirms the booking
// once, however often it is processed, even by two servers at once; the appointment
// over, the order is served, then closed.
pub async fn a_paid_hold_is_confirmed_once(db: Db) {
    let (app, _operator, slots) = patient_with_slots(db).await;
    let booking = hold(&app, &slots[0]).await;
    let order_line = "SELECT CAST(l.amount_fen AS BIGINT) AS n FROM order_line l \
                      JOIN orders o ON o.id = l.order_id WHERE o.currency = 'CNY' \
                      AND o.amount_fen = 4000 AND o.status = 'pending'";
    assert_eq!(number(&app, order_line).await, 4000);

    // R-PAY-1: Alipay inside WeChat's browser is refused, and the page says why.
    let res = app
        .client
        .post(app.url(&format!("/api/v1/bookings/{booking}/payment")))
        .header("x-csrf-token", &app.csrf)
        .header(
            "user-agent",
            "Mozilla/5.0 (iPhone) MicroMessenger/8.0.47 NetType/WIFI",
        )
        .json(&json!({ "payment_method": "alipay" }))
        .send()
        .await
        .unwrap();
    assert_error(
        res,
        422,
        "payment_method_unavailable",
        Some("payment_method"),
    )
    .await;

    let order = pay_in_sandbox(&app, &booking, "succeed").await;
    assert_eq!(order_status(&app, &order).await, "paid");
    assert_eq!(booking_status(&app, &booking).await, "confirmed");
    // The same event processed again, by two servers at once: nothing more happens.
    let now = OffsetDateTime::now_utc();
    let (a, b) = tokio::join!(
        server::orders::process_events(&app.state, now),
        server::orders::process_events(&app.state, now)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 0);
    let confirmed = "SELECT COUNT(*) AS n FROM message WHERE kind = 'booking_confirmed'";
    assert_eq!(number(&app, confirmed).await, 1);
    let applied = "SELECT COUNT(*) AS n FROM payment_event WHERE outcome = 'applied'";
    assert_eq!(number(&app, applied).await, 1);
    // Paying again finds it paid.
    let res = app
        .post(&format!("/api/v1/bookings/{booking}/payment"), &json!({}))
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["next"], "confirmed");

    // R-CONS-3: the order is served when the doctor answers, not when a slot's time
    // passes; two servers moving the consult at once serve it once. A week later it
    // closes, and nothing moves it again.
    let consult = number(
        &app,
        &format!(
            "SELECT c.id AS n FROM consult c JOIN booking b ON b.id = c.booking_id \
             WHERE b.booking_number = '{booking}' AND c.status = 'waiting'"
        ),
    )
    .await;
    let now = OffsetDateTime::now_utc();
    let (a, b) = tokio::join!(
        crate::consult::answered(&app, consult, now),
        crate::consult::answered(&app, consult, now)
    );
    assert_eq!(u8::from(a) + u8::from(b), 1);
    assert_eq!(order_status(&app, &order).await, "served");
    let week_later = now + time::Duration::seconds(server::orders::CLOSE_AFTER_SECS + 1);
    server::orders::close_served(&app.state, week_later)
        .await
        .unwrap();
    assert_eq!(order_status(&app, &order).await, "closed");
    assert_eq!(
        server::orders::close_served(&app.state, week_later)
            .await
            .unwrap(),
        0
    );
    assert!(!crate::consult::answered(&app, consult, week_later).await);
}

// R-BOOK-2, R-PAY-1: an abandoned payment keeps the hold while the provider may still
// take money; once the provider calls it off, the hold ends and the place comes back.
// A failed payment changes nothing and may be tried again.
pub async fn an_abandoned_payment_expires_and_frees_the_slot(db: Db) {
    let (app, _operator, slots) = patient_with_slots(db).await;
    let booking = hold(&app, &slots[0]).await;
    let order = pay_in_sandbox(&app, &booking, "fail").await;
    assert_eq!(order_status(&app, &order).await, "pending");
    let failed = "SELECT COUNT(*) AS n FROM payment_event WHERE outcome = 'failed'";
    assert_eq!(number(&app, failed).await, 1);
    pay_in_sandbox(&app, &booking, "abandon").await;
    hold_ran_out(&app, &booking).await;
    let now = OffsetDateTime::now_utc();
    // The plain expiry leaves a hold whose payment began …
    assert_eq!(
        server::booking::expiry::expire_holds(&app.state, now)
            .await
            .unwrap(),
        0
    );
    assert_eq!(booking_status(&app, &booking).await, "held");
    // … until the provider has called the payment off.
    server::booking::paying::expire_paying_holds(&app.state, now)
        .await
        .unwrap();
    assert_eq!(booking_status(&app, &booking).await, "expired");
    assert_eq!(order_status(&app, &order).await, "expired");
    let taken = format!(
        "SELECT CAST(taken AS BIGINT) AS n FROM slot WHERE slot_number = '{}'",
        slots[0]
    );
    assert_eq!(number(&app, &taken).await, 0, "the place is free again");
    let res = app
        .post(&format!("/api/v1/bookings/{booking}/payment"), &json!({}))
        .await;
    assert_error(res, 409, "hold_expired", None).await;
}

// R-PAY-2: money that arrives after the hold ended goes back in full, by itself, once;
// the booking stays ended.
pub async fn money_after_the_hold_ended_goes_back(db: Db) {
    let (app, _operator, slots) = patient_with_slots(db).await;
    let booking = hold(&app, &slots[0]).await;
    let order = start_paying(&app, &booking).await;
    hold_ran_out(&app, &booking).await;
    let now = OffsetDateTime::now_utc();
    server::booking::paying::expire_paying_holds(&app.state, now)
        .await
        .unwrap();
    assert_eq!(order_status(&app, &order).await, "expired");
    // The patient's bank answers late: the sandbox checkout succeeds now.
    let res = app
        .form(
            &format!("/forms/pay/sandbox/{order}"),
            &[("choice", "succeed")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    settle_refunds(&app).await;
    assert_eq!(order_status(&app, &order).await, "refunded");
    assert_eq!(booking_status(&app, &booking).await, "expired");
    let refunds = "SELECT COUNT(*) AS n FROM refund WHERE reason = 'paid_after_expiry' \
                   AND status = 'succeeded' AND amount_fen = 4000 AND full_refund = TRUE";
    assert_eq!(number(&app, refunds).await, 1);
    let told = "SELECT COUNT(*) AS n FROM message WHERE kind = 'refund_started'";
    assert_eq!(number(&app, told).await, 1);
    let audited = "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'refund_requested'";
    assert_eq!(number(&app, audited).await, 1);
}

/// Sends due refunds (as the job does) until none is left, and applies what comes back.
async fn settle_refunds(app: &TestApp) {
    let open = "SELECT COUNT(*) AS n FROM refund WHERE status = 'requested'";
    for _ in 0..200 {
        let now = OffsetDateTime::now_utc();
        server::orders::send_due_refunds(&app.state, now)
            .await
            .unwrap();
        server::orders::process_events(&app.state, now)
            .await
            .unwrap();
        if number(app, open).await == 0 {
            return;
        }
        // A refund claimed by the server's own job is on its way.
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("refunds did not settle");
}

// R-BOOK-4, R-PAY-2: the doctor's cancelled slot refunds every paid booking on it in
// full; an unpaid hold on it simply ends.
pub async fn a_cancelled_slot_refunds_its_paid_bookings(db: Db) {
    let (app, operator, slots) = patient_with_slots(db).await;
    let booking = hold(&app, &slots[0]).await;
    let order = pay_in_sandbox(&app, &booking, "succeed").await;
    let unpaid = hold(&app, &slots[1]).await;
    for slot in &slots[..2] {
        let res = operator
            .delete(&format!("/api/v1/staff/slots/{slot}"))
            .await;
        assert!(res.status().is_success(), "{}", res.status());
    }
    settle_refunds(&app).await;
    assert_eq!(order_status(&app, &order).await, "refunded");
    assert_eq!(booking_status(&app, &booking).await, "cancelled");
    assert_eq!(booking_status(&app, &unpaid).await, "cancelled");
    let unpaid_order = "SELECT COUNT(*) AS n FROM orders WHERE status = 'expired'";
    assert_eq!(number(&app, unpaid_order).await, 1);
    let refunds = "SELECT COUNT(*) AS n FROM refund WHERE reason = 'slot_cancelled'";
    assert_eq!(number(&app, refunds).await, 1);
    // The refund's event came once; sending again (a retry) changes nothing.
    settle_refunds(&app).await;
    assert_eq!(number(&app, refunds).await, 1);
    let settled = "SELECT COUNT(*) AS n FROM payment_event WHERE event_type = 'refund.succeeded'";
    assert_eq!(number(&app, settled).await, 1);
}

// R-PAY-2, R-SEC-1: an operator refunds part, then the rest, each with a reason, never
// more than was paid, even asked twice at once; the patient sees the refunds on their
// order; doctors and patients cannot refund.
pub async fn operators_refund_part_or_all_with_a_reason(db: Db) {
    let (app, operator, slots) = patient_with_slots(db).await;
    let booking = hold(&app, &slots[0]).await;
    let order = pay_in_sandbox(&app, &booking, "succeed").await;
    let refunds = format!("/api/v1/staff/orders/{order}/refunds");

    // Bad asks change nothing.
    let res = operator
        .post(&refunds, &json!({ "amount_fen": 1000, "reason": "  " }))
        .await;
    assert_error(res, 422, "refund_reason_missing", Some("note")).await;
    let res = operator
        .post(&refunds, &json!({ "amount_fen": 4001, "reason": "多收" }))
        .await;
    assert_error(res, 422, "refund_amount_invalid", Some("amount_fen")).await;
    let res = operator
        .post(&refunds, &json!({ "amount_fen": -5, "reason": "多收" }))
        .await;
    assert_error(res, 422, "refund_amount_invalid", Some("amount_fen")).await;
    let res = app.post(&refunds, &json!({ "reason": "我想退" })).await;
    assert!(res.status().is_client_error(), "{}", res.status());

    // Part of it: the order stays paid (the consult still happens).
    let res = operator
        .post(
            &refunds,
            &json!({ "amount_fen": 1500, "reason": "视频中断，部分退款" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    settle_refunds(&app).await;
    assert_eq!(order_status(&app, &order).await, "paid");

    // The rest, asked twice at once: one refund of what is left, the other refused.
    let ask = json!({ "reason": "患者投诉，全额退款" });
    let (a, b) = tokio::join!(operator.post(&refunds, &ask), operator.post(&refunds, &ask));
    let mut codes = [a.status().as_u16(), b.status().as_u16()];
    codes.sort_unstable();
    assert_eq!(codes, [201, 409]);
    settle_refunds(&app).await;
    assert_eq!(order_status(&app, &order).await, "refunded");
    let total = format!(
        "SELECT CAST(SUM(r.amount_fen) AS BIGINT) AS n FROM refund r JOIN orders o \
         ON o.id = r.order_id WHERE o.order_number = '{order}' AND r.status = 'succeeded'"
    );
    assert_eq!(number(&app, &total).await, 4000, "never more than was paid");

    // The patient's receipt shows both refunds and the reasons' kind.
    let mine: Value = app
        .get(&format!("/api/v1/orders/{order}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["status"], "refunded");
    assert_eq!(mine["refunded_fen"], 4000);
    assert_eq!(mine["refunds"].as_array().unwrap().len(), 2);
    assert_eq!(mine["refunds"][0]["reason"], "operator_decision");
    // Someone else's order is not found; the operator's list filters by status.
    let other = app.other_client().await;
    assert_eq!(
        other.get(&format!("/api/v1/orders/{order}")).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let listed: Value = operator
        .get("/api/v1/staff/orders?status=refunded")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let res = operator.get("/api/v1/staff/orders?status=lost").await;
    assert_error(res, 400, "invalid_query", Some("query")).await;
    let res = operator.get("/api/v1/staff/orders?page=-1").await;
    assert_error(res, 400, "invalid_query", Some("page")).await;
}

// R-PAY-3: the day's reconciliation finds a seeded amount mismatch and one-sided entries
// on either side; each stays on the report until an operator resolves it with a note,
// and running the day again keeps the resolutions.
pub async fn reconciliation_reports_every_difference(db: Db) {
    let (app, operator, slots) = patient_with_slots(db).await;
    let mismatched = pay_in_sandbox(&app, &hold(&app, &slots[0]).await, "succeed").await;
    let matched = pay_in_sandbox(&app, &hold(&app, &slots[1]).await, "succeed").await;
    let ghost = start_paying(&app, &hold(&app, &slots[2]).await).await;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    // Our books say ¥39 was taken where the provider took ¥40; an order we think paid
    // the provider never saw; money the provider took for an order we do not know.
    exec(
        &app,
        &format!("UPDATE orders SET paid_fen = 3900 WHERE order_number = '{mismatched}'"),
    )
    .await;
    exec(
        &app,
        &format!(
            "UPDATE orders SET status = 'paid', paid_at = {now}, paid_fen = 4000, \
             provider_ref = 'sbx_ghost' WHERE order_number = '{ghost}'"
        ),
    )
    .await;
    server::orders::payments::sandbox::choose(
        &app.state.db,
        "OD0000000000000",
        5000,
        server::orders::payments::sandbox::Choice::Succeed,
        now,
    )
    .await
    .unwrap();

    let today = app::domain::china_time::day(now).to_string();
    let path = format!("/api/v1/staff/reconciliation/{today}");
    assert_error(operator.get(&path).await, 404, "not_found", None).await;
    let report: Value = operator.post(&path, &json!({})).await.json().await.unwrap();
    assert_eq!(report["matched"], 1, "{report}");
    assert_eq!(report["differences"], 3, "{report}");
    let kinds: Vec<(String, Option<String>)> = report["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["kind"].as_str().unwrap().to_owned(),
                l["order_number"].as_str().map(str::to_owned),
            )
        })
        .collect();
    assert!(
        kinds.contains(&("amount_mismatch".into(), Some(mismatched.clone()))),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("only_ours".into(), Some(ghost.clone()))),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("only_theirs".into(), Some("OD0000000000000".into()))),
        "{kinds:?}"
    );
    assert!(
        !report.to_string().contains(&matched),
        "matched lines are only counted"
    );

    // Resolved with a note, once.
    let id = report["lines"][0]["id"].as_i64().unwrap();
    let resolve = format!("/api/v1/staff/reconciliation/lines/{id}/resolution");
    let res = operator.post(&resolve, &json!({ "note": " " })).await;
    assert_error(res, 422, "resolution_missing", Some("note")).await;
    let res = operator
        .post(&resolve, &json!({ "note": "已与渠道核实，补记差额" }))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = operator.post(&resolve, &json!({ "note": "again" })).await;
    assert_error(res, 404, "not_found", None).await;
    // Run again: the same lines, the resolution kept.
    let again: Value = operator.post(&path, &json!({})).await.json().await.unwrap();
    assert_eq!(again["differences"], 3);
    let resolved: Vec<bool> = again["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["resolved"].as_bool().unwrap())
        .collect();
    assert_eq!(resolved.iter().filter(|r| **r).count(), 1);
    // The operators' page shows the day and resolves with a plain form.
    let page = operator
        .page_text(&format!("/staff/reconciliation?reconcile_day={today}"))
        .await;
    assert!(
        page.contains("每日对账") && page.contains("金额不一致"),
        "{page}"
    );
    assert!(page.contains("已与渠道核实，补记差额"), "{page}");
    let second = again["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["resolved"] == false)
        .unwrap()["id"]
        .to_string();
    let res = operator
        .form(
            "/forms/staff/reconciliation/resolve",
            &[("day", &today), ("line", &second), ("note", "渠道已补单")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap();
    assert!(to.contains("notice=difference_resolved"), "{to}");
    let unresolved = "SELECT COUNT(*) AS n FROM reconciliation_line \
                      WHERE kind <> 'matched' AND resolved_at IS NULL";
    assert_eq!(number(&app, unresolved).await, 1);
    // Only operators and admins see it.
    let res = app.get(&path).await;
    assert!(res.status().is_client_error(), "{}", res.status());
    let res = operator.get("/api/v1/staff/reconciliation/yesterday").await;
    assert_error(res, 400, "invalid_query", Some("query")).await;
}

/// A Stripe event around `object`, signed as Stripe signs it, delivered.
pub(crate) async fn stripe_event(app: &TestApp, id: &str, kind: &str, object: &Value) -> Value {
    let body = json!({ "id": id, "object": "event", "type": kind, "data": { "object": object } })
        .to_string();
    let res = deliver(app, &body, signed(SECRET, &body, 0)).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

pub(crate) async fn only_order(app: &TestApp, booking: &str) -> String {
    let orders: Value = app.get("/api/v1/orders").await.json().await.unwrap();
    orders
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["booking_number"] == booking)
        .unwrap()["order_number"]
        .as_str()
        .unwrap()
        .to_owned()
}

// R-PAY-1, R-PAY-2, R-PAY-4 with Stripe (a local fake of its API): the PaymentIntent is
// made with the order's amount, currency, method, metadata and an idempotency key
// derived from the order; paying again continues it; Stripe's signed event confirms the
// booking once; a refund goes out under the order's key and settles by its event; 5xx
// answers are retried with the same key; an outage leaves the order pending; a hold
// that runs out cancels the PaymentIntent first.
pub async fn stripe_takes_payments_and_refunds(db: Db) {
    let stripe = crate::fake_stripe::FakeStripe::start().await;
    let url = stripe.url.clone();
    let (app, operator, slots) = patient_with_slots_on(db, move |c| {
        c.payment_provider = "stripe".into();
        c.stripe_secret_key = Some(SecretBox::from("sk_test_fuzhen".to_owned()));
        c.stripe_api_base = Some(url);
        c.stripe_retry_ms = 5;
        c.stripe_webhook_secrets = vec![SecretBox::from(SECRET.to_owned())];
    })
    .await;
    let booking = hold(&app, &slots[0]).await;
    let order = only_order(&app, &booking).await;

    let pay = |method: &'static str| {
        let path = format!("/api/v1/bookings/{booking}/payment");
        let app = &app;
        async move { app.post(&path, &json!({ "payment_method": method })).await }
    };
    let res = pay("alipay").await;
    assert_eq!(res.status(), StatusCode::OK);
    let next: Value = res.json().await.unwrap();
    assert_eq!(
        next["url"], "https://fake-stripe.test/alipay/pi_1",
        "{next}"
    );
    let created = stripe.calls("POST", "/v1/payment_intents");
    assert_eq!(created.len(), 1);
    let c = &created[0];
    assert_eq!(c.headers["authorization"], "Bearer sk_test_fuzhen");
    assert_eq!(
        c.headers["idempotency-key"],
        format!("{order}:pay:alipay:0")
    );
    assert!(c.headers["content-type"].starts_with("application/x-www-form-urlencoded"));
    for (field, value) in [
        ("amount", "4000"),
        ("currency", "cny"),
        ("confirm", "true"),
        ("payment_method_data[type]", "alipay"),
        ("allowed_payment_method_types[0]", "alipay"),
        ("metadata[order_number]", order.as_str()),
    ] {
        assert_eq!(
            c.form.get(field).map(String::as_str),
            Some(value),
            "{field}"
        );
    }
    assert!(
        c.form["return_url"].ends_with(&format!("/bookings/{booking}")),
        "{:?}",
        c.form
    );
    // Paying again continues the same PaymentIntent: nothing new is made.
    let again: Value = pay("alipay").await.json().await.unwrap();
    assert_eq!(again["url"], "https://fake-stripe.test/alipay/pi_1");
    assert_eq!(stripe.calls("POST", "/v1/payment_intents").len(), 1);
    // Back from Stripe before its answer: the page says it is being confirmed.
    let page = app
        .page_text(&format!("/bookings/{booking}?paying=1"))
        .await;
    assert!(page.contains("正在确认支付结果"), "{page}");

    // Stripe's event, twice: confirmed once.
    stripe.set_intent_status("pi_1", "succeeded");
    let paid = stripe.intent("pi_1");
    let first = stripe_event(&app, "evt_paid_1", "payment_intent.succeeded", &paid).await;
    assert_eq!(first["duplicate"], false);
    let second = stripe_event(&app, "evt_paid_1", "payment_intent.succeeded", &paid).await;
    assert_eq!(second["duplicate"], true);
    assert_eq!(order_status(&app, &order).await, "paid");
    assert_eq!(booking_status(&app, &booking).await, "confirmed");
    let confirmed = "SELECT COUNT(*) AS n FROM message WHERE kind = 'booking_confirmed'";
    assert_eq!(number(&app, confirmed).await, 1);

    // R-PAY-2: the operator's full refund goes to Stripe under the order's key …
    let res = operator
        .post(
            &format!("/api/v1/staff/orders/{order}/refunds"),
            &json!({ "reason": "医生临时停诊" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let mut sent = Vec::new();
    for _ in 0..200 {
        sent = stripe.calls("POST", "/v1/refunds");
        if !sent.is_empty() {
            break;
        }
        server::orders::send_due_refunds(&app.state, OffsetDateTime::now_utc())
            .await
            .unwrap();
    }
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].headers["idempotency-key"], format!("{order}:full"));
    assert_eq!(sent[0].form["payment_intent"], "pi_1");
    assert_eq!(sent[0].form["amount"], "4000");
    assert_eq!(
        sent[0].form["metadata[refund_key]"],
        format!("{order}:full")
    );
    assert_eq!(order_status(&app, &order).await, "refunding");
    // … and settles when Stripe says so.
    let mut refund = stripe.books().refunds[0].clone();
    refund["status"] = json!("succeeded");
    stripe_event(&app, "evt_refund_1", "refund.updated", &refund).await;
    assert_eq!(order_status(&app, &order).await, "refunded");

    // Stripe answers 500 twice: the third try, with the same key, makes the payment.
    let second_booking = hold(&app, &slots[1]).await;
    let second_order = only_order(&app, &second_booking).await;
    stripe.books().fail_next = 2;
    let res = app
        .post(
            &format!("/api/v1/bookings/{second_booking}/payment"),
            &json!({ "payment_method": "wechat_pay" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let next: Value = res.json().await.unwrap();
    assert_eq!(
        next["url"], "https://fake-stripe.test/wechat/pi_2",
        "{next}"
    );
    let keys: Vec<String> = stripe
        .calls("POST", "/v1/payment_intents")
        .iter()
        .skip(1)
        .map(|r| r.headers["idempotency-key"].clone())
        .collect();
    assert_eq!(keys, vec![format!("{second_order}:pay:wechat_pay:0"); 3]);
    let wechat = stripe.calls("POST", "/v1/payment_intents").pop().unwrap();
    assert_eq!(
        wechat.form["payment_method_options[wechat_pay][client]"],
        "web"
    );

    // Stripe down: the patient is told, nothing is charged, the order stays pending.
    let third_booking = hold(&app, &slots[2]).await;
    // R-PAY-1: in WeChat's browser, Stripe's WeChat Pay (a QR code) needs another phone
    // and Alipay is blocked: the page says both, and chooses the card.
    let page = app
        .client
        .get(app.url(&format!("/bookings/{third_booking}")))
        .header(
            "user-agent",
            "Mozilla/5.0 (iPhone) Mobile/15E148 MicroMessenger/8.0.47",
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("需用另一台手机的微信扫描"), "{page}");
    assert!(page.contains("微信内无法使用支付宝"), "{page}");
    assert!(
        page.contains(r#"id="pm-card" value="card" checked"#),
        "the card is chosen: {page}"
    );
    let third_order = only_order(&app, &third_booking).await;
    stripe.books().down = true;
    let res = app
        .post(
            &format!("/api/v1/bookings/{third_booking}/payment"),
            &json!({ "payment_method": "alipay" }),
        )
        .await;
    assert_error(res, 503, "payment_unavailable", None).await;
    assert_eq!(order_status(&app, &third_order).await, "pending");
    assert_eq!(booking_status(&app, &third_booking).await, "held");
    stripe.books().down = false;
    // Back up, the patient pays with Alipay, then changes to WeChat Pay: the Alipay
    // payment is cancelled at Stripe before the new one is made, under a key of its own.
    let third_pay = format!("/api/v1/bookings/{third_booking}/payment");
    let res = app
        .post(&third_pay, &json!({ "payment_method": "alipay" }))
        .await;
    let alipay = res.json::<Value>().await.unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let first_pi = alipay.rsplit('/').next().unwrap().to_owned();
    let res = app
        .post(&third_pay, &json!({ "payment_method": "wechat_pay" }))
        .await;
    let wechat = res.json::<Value>().await.unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let second_pi = wechat.rsplit('/').next().unwrap().to_owned();
    assert_ne!(first_pi, second_pi);
    assert_eq!(stripe.intent(&first_pi)["status"], "canceled");
    let last = stripe.calls("POST", "/v1/payment_intents").pop().unwrap();
    assert_eq!(
        last.headers["idempotency-key"],
        format!("{third_order}:pay:wechat_pay:{first_pi}")
    );
    // Paid at Stripe before its event came: asking again makes nothing new.
    stripe.set_intent_status(&second_pi, "succeeded");
    let made = stripe.calls("POST", "/v1/payment_intents").len();
    let res = app
        .post(&third_pay, &json!({ "payment_method": "alipay" }))
        .await;
    let next: Value = res.json().await.unwrap();
    assert!(
        next["url"].as_str().unwrap().ends_with("?paying=1"),
        "{next}"
    );
    assert_eq!(stripe.calls("POST", "/v1/payment_intents").len(), made);
    let method = format!("SELECT method AS t FROM orders WHERE order_number = '{third_order}'");
    assert_eq!(
        text(&app, &method).await,
        "wechat_pay",
        "the method of the paid one"
    );

    // A card: Stripe Checkout's hosted page takes it (no card data reaches us); the
    // session's PaymentIntent carries the order number, so its event confirms the booking.
    let card_booking = hold(&app, &slots[3]).await;
    let card_order = only_order(&app, &card_booking).await;
    let res = app
        .post(
            &format!("/api/v1/bookings/{card_booking}/payment"),
            &json!({ "payment_method": "card" }),
        )
        .await;
    let next: Value = res.json().await.unwrap();
    let session_url = next["url"].as_str().unwrap().to_owned();
    assert!(
        session_url.starts_with("https://fake-stripe.test/checkout/cs_test_"),
        "{next}"
    );
    let made = stripe.calls("POST", "/v1/checkout/sessions").pop().unwrap();
    assert_eq!(
        made.headers["idempotency-key"],
        format!("{card_order}:pay:card:0")
    );
    for (field, value) in [
        ("mode", "payment"),
        ("line_items[0][price_data][currency]", "cny"),
        ("line_items[0][price_data][unit_amount]", "4000"),
        ("line_items[0][quantity]", "1"),
        ("client_reference_id", card_order.as_str()),
        (
            "payment_intent_data[metadata][order_number]",
            card_order.as_str(),
        ),
    ] {
        assert_eq!(
            made.form.get(field).map(String::as_str),
            Some(value),
            "{field}: {:?}",
            made.form
        );
    }
    assert!(made.form["success_url"].ends_with(&format!("/bookings/{card_booking}?paying=1")));
    // Asked again: the open session is continued.
    let again: Value = app
        .post(
            &format!("/api/v1/bookings/{card_booking}/payment"),
            &json!({ "payment_method": "card" }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["url"], session_url.as_str());
    let session_id = session_url.rsplit('/').next().unwrap().to_owned();
    let paid = stripe.complete_session(&session_id);
    stripe_event(&app, "evt_card_paid", "payment_intent.succeeded", &paid).await;
    assert_eq!(order_status(&app, &card_order).await, "paid");
    assert_eq!(booking_status(&app, &card_booking).await, "confirmed");
    let method = format!("SELECT method AS t FROM orders WHERE order_number = '{card_order}'");
    assert_eq!(text(&app, &method).await, "card");

    // The second hold runs out with its payment open at Stripe: it is cancelled there
    // first, then the hold ends.
    hold_ran_out(&app, &second_booking).await;
    server::booking::paying::expire_paying_holds(&app.state, OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(stripe.intent("pi_2")["status"], "canceled");
    assert_eq!(booking_status(&app, &second_booking).await, "expired");
    assert_eq!(order_status(&app, &second_order).await, "expired");
}

// R-PAY-4: 1,000 webhook deliveries for 300 orders — every event at least once, 400
// repeats, 200 with a stale timestamp, all shuffled and sent 16 at a time — end with
// every order where its events put it: paid once whatever the order of failure and
// success, pending after failures only, and money for an order whose hold had ended
// refunded exactly once.
pub async fn a_thousand_deliveries_replayed_end_where_their_events_say(db: Db) {
    use futures_util::StreamExt;
    use server::orders::payments::replay::{self, ORDERS, expired, succeeds};
    let stripe = crate::fake_stripe::FakeStripe::start().await;
    let url = stripe.url.clone();
    let app = spawn_app_with(db, move |c| {
        c.payment_provider = "stripe".into();
        c.stripe_secret_key = Some(SecretBox::from("sk_test_fuzhen".to_owned()));
        c.stripe_api_base = Some(url);
        c.stripe_retry_ms = 5;
        c.stripe_webhook_secrets = vec![SecretBox::from(SECRET.to_owned())];
    })
    .await;
    // Each order pays for a held consult booking: the demo data's patient, slot and
    // approved diagnosis.
    server::demo::seed(&app.state, server::config::Mode::Dev)
        .await
        .unwrap();
    let patient = number(
        &app,
        "SELECT MIN(patient_id) AS n FROM diagnosis_proof WHERE status = 'approved'",
    )
    .await;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    for i in 0..ORDERS {
        for statement in replay::insert_order(i, patient, now) {
            exec(&app, &statement).await;
        }
    }
    let plan = replay::plan();
    let started = std::time::Instant::now();
    let answers: Vec<u16> = futures_util::stream::iter(plan.deliveries.iter().map(|&(e, age)| {
        let body = plan.events[e].clone();
        let app = &app;
        async move {
            deliver(app, &body, signed(SECRET, &body, age))
                .await
                .status()
                .as_u16()
        }
    }))
    .buffer_unordered(16)
    .collect()
    .await;
    let delivered = started.elapsed();
    // Whatever a delivery could not apply at once, the job's pass applies.
    server::orders::process_events(&app.state, OffsetDateTime::now_utc())
        .await
        .unwrap();
    println!(
        "replay: {} deliveries for {ORDERS} orders answered in {delivered:?}, all applied in {:?}",
        plan.deliveries.len(),
        started.elapsed()
    );
    let stale = replay::stale(&plan);
    assert_eq!(
        answers.iter().filter(|&&s| s == 400).count(),
        stale,
        "stale refused"
    );
    assert_eq!(answers.iter().filter(|&&s| s == 200).count(), 1000 - stale);

    let paid_expected = (0..ORDERS).filter(|&i| succeeds(i) && !expired(i)).count() as i64;
    let refunded_expected = (0..ORDERS).filter(|&i| succeeds(i) && expired(i)).count() as i64;
    let pending_expected = (0..ORDERS).filter(|&i| !succeeds(i) && !expired(i)).count() as i64;
    let status = |s: &str| format!("SELECT COUNT(*) AS n FROM orders WHERE status = '{s}'");
    assert_eq!(number(&app, &status("paid")).await, paid_expected);
    assert_eq!(number(&app, &status("pending")).await, pending_expected);
    assert_eq!(number(&app, &status("refunding")).await, refunded_expected);
    // No double effect: each payment recorded once, each late payment refunded once.
    let audited = "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'order_paid'";
    assert_eq!(number(&app, audited).await, paid_expected);
    let refunds = "SELECT COUNT(*) AS n FROM refund WHERE reason = 'paid_after_expiry' \
                   AND amount_fen = 4000";
    assert_eq!(number(&app, refunds).await, refunded_expected);
    let over = "SELECT COUNT(*) AS n FROM orders WHERE refunded_fen > amount_fen";
    assert_eq!(number(&app, over).await, 0);
    let stored = "SELECT COUNT(*) AS n FROM payment_event WHERE processed_at IS NOT NULL";
    assert_eq!(
        number(&app, stored).await,
        plan.events.len() as i64,
        "each event stored and processed once"
    );
}

// R-PAY-1, SECURITY 3 and 6: another patient's order, receipt, checkout and payment
// answer like missing ones, and change nothing; a patient's orders are never cached.
pub async fn another_patients_order_is_not_found(db: Db) {
    let (app, _operator, slots) = patient_with_slots(db).await;
    let booking = hold(&app, &slots[0]).await;
    let order = start_paying(&app, &booking).await;
    let mine = app.get(&format!("/api/v1/orders/{order}")).await;
    assert_eq!(mine.status(), StatusCode::OK);
    assert!(
        mine.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("no-store")
    );

    let mut other = app.other_client().await;
    assert_eq!(
        other
            .register("13800138111", "110105198001010032")
            .await
            .status(),
        StatusCode::CREATED
    );
    other.refresh_csrf().await;
    let res = other.get(&format!("/api/v1/orders/{order}")).await;
    assert_error(res, 404, "not_found", None).await;
    let theirs: Value = other.get("/api/v1/orders").await.json().await.unwrap();
    assert_eq!(theirs, json!([]));
    let receipt = other.page_text(&format!("/orders/{order}")).await;
    assert!(
        !receipt.contains("data-testid=\"receipt\"") && !receipt.contains("¥40"),
        "{receipt}"
    );
    let checkout = other.page_text(&format!("/pay/sandbox/{order}")).await;
    assert!(
        !checkout.contains("checkout-amount") && !checkout.contains("¥40"),
        "{checkout}"
    );
    let res = other
        .form(
            &format!("/forms/pay/sandbox/{order}"),
            &[("choice", "succeed")],
        )
        .await;
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.contains("error=not_found"), "{to}");
    let res = other
        .post(&format!("/api/v1/bookings/{booking}/payment"), &json!({}))
        .await;
    assert_error(res, 404, "not_found", None).await;
    assert_eq!(
        order_status(&app, &order).await,
        "pending",
        "nothing changed"
    );
    let events = "SELECT COUNT(*) AS n FROM payment_event";
    assert_eq!(number(&app, events).await, 0);
}

/// Every order with what it is for and what was paid and refunded, oldest first.
async fn order_rows(app: &TestApp, subject_column: &str) -> Vec<String> {
    let sql = format!(
        "SELECT o.order_number || ' ' || o.status || ' ' || CAST(o.amount_fen AS TEXT) || ' ' \
         || CAST(o.refunded_fen AS TEXT) || ' ' || b.booking_number || ' ' \
         || CAST((SELECT COUNT(*) FROM refund r WHERE r.order_id = o.id) AS TEXT) || ' ' \
         || CAST((SELECT COUNT(*) FROM order_line l WHERE l.order_id = o.id) AS TEXT) AS t \
         FROM orders o JOIN booking b ON b.id = o.{subject_column} ORDER BY o.id"
    );
    app.state
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            app.state.db.get_database_backend(),
            sql,
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String>("", "t").unwrap())
        .collect()
}

// R-PAY-1, R-PAY-2: an order pays for a subject (its kind and id); the change from orders
// of bookings keeps every order, its lines and its refunds, rolled back and made again,
// and the orders still pay, refund and show afterwards. One order per subject.
pub async fn orders_keep_their_history_when_they_pay_for_subjects(db: Db) {
    use migrations::{Migrator, MigratorTrait};
    let (app, operator, slots) = patient_with_slots(db).await;
    let unpaid = hold(&app, &slots[0]).await;
    let paid = hold(&app, &slots[1]).await;
    let order = pay_in_sandbox(&app, &paid, "succeed").await;
    let res = operator
        .post(
            &format!("/api/v1/staff/orders/{order}/refunds"),
            &json!({ "amount_fen": 1500, "reason": "视频中断，部分退款" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    settle_refunds(&app).await;
    let before = order_rows(&app, "subject_id").await;
    assert_eq!(before.len(), 2);
    assert!(
        before[1].contains(&format!("paid 4000 1500 {paid} 1 1")),
        "{before:?}"
    );

    // Back to before orders paid for subjects (the migrations after it go back first).
    let migrations = Migrator::migrations();
    let at = migrations
        .iter()
        .position(|m| m.name() == "m20261206_000015_order_subject")
        .expect("the subject migration is listed");
    let steps = u32::try_from(migrations.len() - at).unwrap();
    Migrator::down(&app.state.db, Some(steps)).await.unwrap();
    assert_eq!(order_rows(&app, "booking_id").await, before);
    Migrator::up(&app.state.db, None).await.unwrap();
    assert_eq!(order_rows(&app, "subject_id").await, before);
    assert_eq!(
        number(
            &app,
            "SELECT COUNT(*) AS n FROM orders WHERE kind = 'consult'"
        )
        .await,
        2
    );
    if app.state.db.get_database_backend() == sea_orm::DbBackend::Sqlite {
        let broken = app
            .state
            .db
            .query_all_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "PRAGMA foreign_key_check",
            ))
            .await
            .unwrap();
        assert!(broken.is_empty(), "every reference still holds");
    }
    // A second order for the same subject is refused by the database.
    let copy = exec_result(
        &app,
        &format!(
            "INSERT INTO orders (order_number, patient_id, subject_id, kind, status, amount_fen, \
             currency, description, provider, created_at, updated_at) \
             SELECT 'OD-copy', patient_id, subject_id, kind, 'pending', amount_fen, currency, \
             description, provider, created_at, updated_at FROM orders \
             WHERE order_number = '{order}'"
        ),
    )
    .await;
    assert!(copy.is_err(), "one order per subject");

    // The orders work as before: the receipt, the rest refunded, the other one paid.
    let mine: Value = app
        .get(&format!("/api/v1/orders/{order}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["booking_number"], paid.as_str());
    assert_eq!(mine["refunds"].as_array().unwrap().len(), 1);
    let res = operator
        .post(
            &format!("/api/v1/staff/orders/{order}/refunds"),
            &json!({ "reason": "患者投诉，全额退款" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    settle_refunds(&app).await;
    assert_eq!(order_status(&app, &order).await, "refunded");
    let other = pay_in_sandbox(&app, &unpaid, "succeed").await;
    assert_eq!(order_status(&app, &other).await, "paid");
    assert_eq!(booking_status(&app, &unpaid).await, "confirmed");
}

async fn exec_result(app: &TestApp, sql: &str) -> Result<(), sea_orm::DbErr> {
    app.state.db.execute_unprepared(sql).await.map(|_| ())
}
