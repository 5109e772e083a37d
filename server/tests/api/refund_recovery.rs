//! Security review item 8, money that does not go back as asked (R-PAY-2, R-PAY-4), with
//! Stripe (the local fake of its API): a second payment for an order already paid goes
//! back by itself, once, with a message and an audit row; a refund Stripe fails gives
//! its amount back to the order, which returns to where it was and is listed among the
//! failed refunds; an operator sends it again, once, under a new idempotency key.
use crate::booking::number;
use crate::helpers::{Db, assert_error};
use crate::payments::{
    SECRET, hold, only_order, order_status, patient_with_slots_on, stripe_event,
};
use reqwest::StatusCode;
use secrecy::SecretBox;
use serde_json::{Value, json};
use time::OffsetDateTime;

pub async fn failed_refunds_come_back_and_a_second_payment_goes_back(db: Db) {
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
    let pay = format!("/api/v1/bookings/{booking}/payment");

    // Two payments for one order: Alipay, then WeChat Pay; both end up paid at Stripe.
    let mut intents = Vec::new();
    for method in ["alipay", "wechat_pay"] {
        let res = app.post(&pay, &json!({ "payment_method": method })).await;
        assert_eq!(res.status(), StatusCode::OK);
        let url = res.json::<Value>().await.unwrap()["url"]
            .as_str()
            .unwrap()
            .to_owned();
        intents.push(url.rsplit('/').next().unwrap().to_owned());
    }
    for (i, pi) in intents.iter().enumerate() {
        stripe.set_intent_status(pi, "succeeded");
        let paid = stripe.intent(pi);
        stripe_event(
            &app,
            &format!("evt_paid_{i}"),
            "payment_intent.succeeded",
            &paid,
        )
        .await;
    }
    assert_eq!(order_status(&app, &order).await, "paid");
    // The second payment goes back by itself, once, without touching the order's money.
    let second = stripe.intent(&intents[1]);
    stripe_event(&app, "evt_paid_again", "payment_intent.succeeded", &second).await;
    let duplicate = "SELECT COUNT(*) AS n FROM refund WHERE reason = 'duplicate_payment'";
    assert_eq!(number(&app, duplicate).await, 1);
    let refunded = format!("SELECT refunded_fen AS n FROM orders WHERE order_number = '{order}'");
    assert_eq!(number(&app, &refunded).await, 0);
    let audited = "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'duplicate_payment_refunded'";
    assert_eq!(number(&app, audited).await, 1);
    let told = "SELECT COUNT(*) AS n FROM message WHERE kind = 'refund_started'";
    assert_eq!(number(&app, told).await, 1);
    let sent = send_refunds(&app, &stripe, 1).await;
    assert_eq!(sent[0].form["payment_intent"], intents[1]);
    assert_eq!(sent[0].form["amount"], "4000");

    // The operator refunds the order in full; Stripe fails the refund.
    let res = operator
        .post(
            &format!("/api/v1/staff/orders/{order}/refunds"),
            &json!({ "reason": "患者要求退款" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let failed_number = res.json::<Value>().await.unwrap()["refund_number"]
        .as_str()
        .unwrap()
        .to_owned();
    let sent = send_refunds(&app, &stripe, 2).await;
    assert_eq!(sent[1].headers["idempotency-key"], format!("{order}:full"));
    assert_eq!(order_status(&app, &order).await, "refunding");
    let mut refund = stripe.books().refunds[1].clone();
    refund["status"] = json!("failed");
    stripe_event(&app, "evt_refund_failed", "refund.updated", &refund).await;
    stripe_event(&app, "evt_refund_failed_again", "refund.failed", &refund).await;
    assert_eq!(
        order_status(&app, &order).await,
        "paid",
        "back where it was"
    );
    assert_eq!(number(&app, &refunded).await, 0, "refundable again");
    let list: Value = operator
        .get("/api/v1/staff/refunds/failed")
        .await
        .json()
        .await
        .unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["refund_number"], failed_number.as_str());
    assert_eq!(list[0]["order_number"], order.as_str());
    let page = operator.page_text("/staff/orders").await;
    assert!(page.contains("data-testid=\"failed-refund\""), "{page}");
    let res = app.get("/api/v1/staff/refunds/failed").await;
    assert_error(res, 401, "unauthenticated", None).await;

    // Sent again by two operators at once: one new refund, under a new key.
    let retry = format!("/api/v1/staff/refunds/{failed_number}/retry");
    let empty = json!({});
    let (a, b) = tokio::join!(operator.post(&retry, &empty), operator.post(&retry, &empty));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 404]);
    assert_eq!(order_status(&app, &order).await, "refunding");
    let sent = send_refunds(&app, &stripe, 3).await;
    let key = &sent[2].headers["idempotency-key"];
    assert!(key.starts_with(&format!("{order}:full:try")), "{key}");
    assert!(
        operator
            .get("/api/v1/staff/refunds/failed")
            .await
            .json::<Value>()
            .await
            .unwrap()
            .as_array()
            .unwrap()
            .is_empty()
    );
    let mut refund = stripe.books().refunds[2].clone();
    refund["status"] = json!("succeeded");
    stripe_event(&app, "evt_refund_ok", "refund.updated", &refund).await;
    assert_eq!(order_status(&app, &order).await, "refunded");
    for action in ["refund_failed", "refund_retried"] {
        let sql = format!("SELECT COUNT(*) AS n FROM audit_log WHERE action = '{action}'");
        assert_eq!(number(&app, &sql).await, 1, "{action}");
    }
}

/// Sends due refunds until Stripe has seen `n` refund requests; returns them.
async fn send_refunds(
    app: &crate::helpers::TestApp,
    stripe: &crate::fake_stripe::FakeStripe,
    n: usize,
) -> Vec<crate::fake_stripe::Recorded> {
    let mut sent = Vec::new();
    for _ in 0..200 {
        sent = stripe.calls("POST", "/v1/refunds");
        if sent.len() >= n {
            break;
        }
        server::orders::send_due_refunds(&app.state, OffsetDateTime::now_utc())
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(sent.len(), n);
    sent
}
