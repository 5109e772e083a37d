//! The consult's life (R-CONS-1, R-CONS-3, R-ELIG-4, R-PAY-2): opened by payment, served
//! by the doctor's first answer, closed and refunded when unanswered, referred offline.
use crate::booking::number;
use crate::helpers::{Db, TestApp, assert_error};
use crate::payments::{hold, order_status, pay_in_sandbox};
use crate::proofs::staff_client;
use app::domain::china_time;
use app::domain::schedule::add_days;
use reqwest::StatusCode;
use serde_json::{Value, json};
use server::consult::life::{self, Moved};
use server::orders::AfterCommit;
use time::OffsetDateTime;

/// A paid consult: the patient, its doctor (logged in, linked to the directory entry),
/// the operator, and the consult's, booking's and order's numbers.
pub(crate) struct Paid {
    pub patient: TestApp,
    pub doctor: TestApp,
    pub operator: TestApp,
    pub consult: String,
    pub booking: String,
    pub order: String,
}

/// A patient who has paid for a consult of `consult_type` two days ahead.
pub(crate) async fn paid_consult(db: Db, consult_type: &str) -> Paid {
    paid_consult_with(db, consult_type, |_| {}).await
}

pub(crate) async fn paid_consult_with(
    db: Db,
    consult_type: &str,
    tweak: impl FnOnce(&mut server::config::Config),
) -> Paid {
    let patient =
        crate::consult_consent::approved_patient_with(db, Default::default(), tweak).await;
    let operator = staff_client(&patient, "op.consult", "operator").await;
    let doctor_number = crate::booking::doctor(
        &patient,
        &operator,
        "cardiology",
        "110110000000601",
        "2012-01-01",
    )
    .await;
    let doctor = staff_client(&patient, "dr.consult", "doctor").await;
    let res = operator
        .put(
            &format!("/api/v1/staff/doctors/{doctor_number}/account"),
            &json!({ "username": "dr.consult" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let date = add_days(
        china_time::day(OffsetDateTime::now_utc().unix_timestamp()),
        2,
    );
    let res = operator
        .post(
            &format!("/api/v1/staff/doctors/{doctor_number}/sessions"),
            &json!({ "date": date.to_string(), "start": "09:00", "end": "10:00",
                     "consult_type": consult_type, "slot_minutes": 15 }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let slot = res.json::<Value>().await.unwrap()["slot_numbers"][0]
        .as_str()
        .unwrap()
        .to_owned();
    crate::booking::screen_and_consent(&patient).await;
    let booking = hold(&patient, &slot).await;
    let order = pay_in_sandbox(&patient, &booking, "succeed").await;
    let list: Value = patient.get("/api/v1/consults").await.json().await.unwrap();
    let consult = list[0]["consult_number"].as_str().unwrap().to_owned();
    Paid {
        patient,
        doctor,
        operator,
        consult,
        booking,
        order,
    }
}

/// The doctor's answer, as a server's step of the machine; `true` if it moved.
pub(crate) async fn answered(app: &TestApp, consult_id: i64, now: OffsetDateTime) -> bool {
    let txn = server::db::begin_write(&app.state.db).await.unwrap();
    let mut after = AfterCommit::default();
    let moved = life::step(
        &txn,
        consult_id,
        app::domain::consult::ConsultEvent::DoctorAnswered,
        None,
        None,
        &server::context::RequestContext::system(now),
        &mut after,
    )
    .await;
    txn.commit().await.unwrap();
    after.run(&app.state);
    // An ended consult refuses the move.
    moved.is_ok_and(|m| m != Moved::Stale)
}

pub(crate) fn uuid() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub(crate) async fn say(
    app: &TestApp,
    path: &str,
    client_id: &str,
    text: &str,
) -> reqwest::Response {
    app.post(path, &json!({ "client_id": client_id, "text": text }))
        .await
}

async fn consult_id(app: &TestApp, consult: &str) -> i64 {
    number(
        app,
        &format!("SELECT id AS n FROM consult WHERE consult_number = '{consult}'"),
    )
    .await
}

// R-CONS-1, R-CONS-3, R-PAY-2: a text consult opens on payment with the promised answer
// time (2 h) and the refund limit (24 h); the patient writes at once; a resend is
// answered with the same seq; the doctor's first answer moves it to in progress and
// serves the order (not the slot's time). Another account's consult is "not found".
pub async fn a_paid_booking_opens_a_consult_that_the_doctors_answer_serves(db: Db) {
    let p = paid_consult(db, "image_text").await;
    let view: Value = p
        .patient
        .get(&format!("/api/v1/consults/{}", p.consult))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["status"], "waiting", "{view}");
    let opens = view["opens_at"].as_i64().unwrap();
    assert_eq!(view["answer_promised_by"].as_i64().unwrap(), opens + 7_200);
    assert_eq!(
        view["closes_unanswered_at"].as_i64().unwrap(),
        opens + 86_400
    );
    assert!(
        (OffsetDateTime::now_utc().unix_timestamp() - opens).abs() < 60,
        "opens on payment"
    );

    let path = format!("/api/v1/consults/{}/messages", p.consult);
    let id = uuid();
    let first = say(&p.patient, &path, &id, "医生您好，最近血压 150/95。").await;
    assert_eq!(first.status(), StatusCode::OK);
    let seq = first.json::<Value>().await.unwrap()["seq"]
        .as_i64()
        .unwrap();
    // Seq 1 is the opening; the message is 2. The same id again: the same seq, stored once.
    assert_eq!(seq, 2);
    let again: Value = say(&p.patient, &path, &id, "医生您好，最近血压 150/95。")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["seq"], 2);
    let stored = number(
        &p.patient,
        "SELECT COUNT(*) AS n FROM consult_message WHERE kind = 'text'",
    )
    .await;
    assert_eq!(stored, 1);
    // Bad input changes nothing.
    assert_error(
        say(&p.patient, &path, "not-a-uuid", "hi").await,
        422,
        "message_id_invalid",
        Some("client_id"),
    )
    .await;
    assert_error(
        say(&p.patient, &path, &uuid(), "   ").await,
        422,
        "message_empty",
        Some("text"),
    )
    .await;
    assert_error(
        say(&p.patient, &path, &uuid(), &"字".repeat(2_001)).await,
        422,
        "message_too_long",
        Some("text"),
    )
    .await;
    // R-CONS-5: blocked words are named to the sender.
    let blocked = say(&p.patient, &path, &uuid(), "可以代开处方吗").await;
    let body = assert_error(blocked, 422, "text_blocked", Some("text")).await;
    assert!(body.to_string().contains("代开处方"), "{body}");
    assert_eq!(
        number(
            &p.patient,
            "SELECT COUNT(*) AS n FROM consult_message WHERE kind = 'text'"
        )
        .await,
        1
    );

    // Someone else's consult answers exactly like a missing one.
    let mut other = p.patient.other_client().await;
    assert_eq!(
        other
            .register("13800138111", "110105198001010032")
            .await
            .status(),
        StatusCode::CREATED
    );
    let theirs = other.get(&format!("/api/v1/consults/{}", p.consult)).await;
    let missing = other.get("/api/v1/consults/CS00000000000000").await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    assert_eq!(theirs.text().await.unwrap(), missing.text().await.unwrap());
    assert_error(
        say(&other, &path, &uuid(), "hi").await,
        404,
        "not_found",
        None,
    )
    .await;
    assert_error(
        other.get(&format!("{path}?after=0")).await,
        404,
        "not_found",
        None,
    )
    .await;

    // The doctor's desk lists it as waiting, with the time left to the promised answer.
    let desk: Value = p
        .doctor
        .get("/api/v1/staff/consults/desk")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        desk["waiting"][0]["consult"]["consult_number"],
        p.consult.as_str(),
        "{desk}"
    );
    assert!(desk["waiting"][0]["answer_left_secs"].as_i64().unwrap() > 7_000);
    assert_eq!(desk["waiting"][0]["consult"]["unread"], 1);
    // An operator is not the consult's doctor.
    assert_error(
        p.operator.get("/api/v1/staff/consults/desk").await,
        403,
        "forbidden",
        None,
    )
    .await;
    assert_eq!(order_status(&p.patient, &p.order).await, "paid");

    let doc_path = format!("/api/v1/staff/consults/{}/messages", p.consult);
    let answer = say(&p.doctor, &doc_path, &uuid(), "请继续服药，明早再量一次。").await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.json::<Value>().await.unwrap()["seq"], 3);
    assert_eq!(order_status(&p.patient, &p.order).await, "served");
    let history: Value = p
        .patient
        .get(&format!("{path}?after=0"))
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<(i64, String)> = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["seq"].as_i64().unwrap(),
                e["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            (1, "event".into()),
            (2, "text".into()),
            (3, "text".into()),
            (4, "event".into())
        ]
    );
    assert_eq!(history["entries"][3]["status"], "in_progress");
    assert_eq!(history["last_seq"], 4);
    // The patient's own id comes back to the patient only.
    assert_eq!(history["entries"][1]["client_id"], id.as_str());
    assert!(history["entries"][2].get("client_id").is_none());
    let after: Value = p
        .patient
        .get(&format!("{path}?after=3"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["entries"].as_array().unwrap().len(), 1);
    let view: Value = p
        .patient
        .get(&format!("/api/v1/consults/{}", p.consult))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["status"], "in_progress");
    assert_eq!(view["unread"], 1);
    assert!(
        view["patient_writes_until"].as_i64().unwrap() > view["first_answer_at"].as_i64().unwrap()
    );
}

// R-CONS-3, R-PAY-2: no doctor answer within 24 h: closed and refunded in full through
// the order runner (`unanswered`), the patient told; one second earlier nothing moves,
// and two servers close it once.
pub async fn an_unanswered_consult_closes_and_refunds_itself(db: Db) {
    let p = paid_consult(db, "text").await;
    let id = consult_id(&p.patient, &p.consult).await;
    let closes = number(
        &p.patient,
        &format!("SELECT closes_unanswered_at AS n FROM consult WHERE id = {id}"),
    )
    .await;
    let at = |ts: i64| OffsetDateTime::from_unix_timestamp(ts).unwrap();
    assert_eq!(
        server::consult::unanswered::close_unanswered(&p.patient.state, at(closes - 1))
            .await
            .unwrap(),
        0
    );
    let (a, b) = tokio::join!(
        server::consult::unanswered::close_unanswered(&p.patient.state, at(closes)),
        server::consult::unanswered::close_unanswered(&p.patient.state, at(closes))
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    let view: Value = p
        .patient
        .get(&format!("/api/v1/consults/{}", p.consult))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["status"], "unanswered");
    assert!(matches!(
        order_status(&p.patient, &p.order).await.as_str(),
        "refunding" | "refunded"
    ));
    let refunds = "SELECT COUNT(*) AS n FROM refund WHERE reason = 'unanswered' AND full_refund";
    assert_eq!(number(&p.patient, refunds).await, 1);
    let told = "SELECT COUNT(*) AS n FROM message WHERE kind = 'consult_unanswered'";
    assert_eq!(number(&p.patient, told).await, 1);
    // Ended: neither side writes any more, and a late answer changes nothing.
    let path = format!("/api/v1/consults/{}/messages", p.consult);
    assert_error(
        say(&p.patient, &path, &uuid(), "还在吗").await,
        409,
        "consult_ended",
        None,
    )
    .await;
    let doc_path = format!("/api/v1/staff/consults/{}/messages", p.consult);
    assert_error(
        say(&p.doctor, &doc_path, &uuid(), "抱歉来晚了").await,
        409,
        "consult_ended",
        None,
    )
    .await;
    assert!(!answered(&p.patient, id, at(closes + 10)).await);
}

// R-ELIG-4, R-PAY-2: the doctor refers the patient offline with a reason the patient
// reads; before any answer the money goes back in full.
pub async fn a_referral_before_any_answer_is_refunded(db: Db) {
    let p = paid_consult(db, "text").await;
    let path = format!("/api/v1/staff/consults/{}/referral", p.consult);
    assert_error(
        p.doctor.post(&path, &json!({ "reason": " " })).await,
        422,
        "reason_missing",
        Some("reason"),
    )
    .await;
    let res = p
        .doctor
        .post(
            &path,
            &json!({ "reason": "血压持续升高，请尽快到医院心内科就诊" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let view: Value = p
        .patient
        .get(&format!("/api/v1/consults/{}", p.consult))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["status"], "referred");
    assert_eq!(view["end_reason"], "血压持续升高，请尽快到医院心内科就诊");
    let refunds =
        "SELECT COUNT(*) AS n FROM refund WHERE reason = 'referred_offline' AND full_refund";
    assert_eq!(number(&p.patient, refunds).await, 1);
    let told = "SELECT COUNT(*) AS n FROM message WHERE kind = 'consult_referred'";
    assert_eq!(number(&p.patient, told).await, 1);
    assert_error(
        p.doctor.post(&path, &json!({ "reason": "再次" })).await,
        409,
        "consult_ended",
        None,
    )
    .await;
}

// R-PAY-2: after the doctor has answered, a referral ends the consult with no refund:
// the service was given.
pub async fn a_referral_after_the_answer_keeps_the_payment(db: Db) {
    let p = paid_consult(db, "text").await;
    let doc_path = format!("/api/v1/staff/consults/{}/messages", p.consult);
    assert_eq!(
        say(&p.doctor, &doc_path, &uuid(), "您好").await.status(),
        StatusCode::OK
    );
    let path = format!("/api/v1/staff/consults/{}/referral", p.consult);
    let res = p
        .doctor
        .post(&path, &json!({ "reason": "需要做心电图" }))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(order_status(&p.patient, &p.order).await, "served");
    assert_eq!(
        number(&p.patient, "SELECT COUNT(*) AS n FROM refund").await,
        0
    );
}

// R-BOOK-4, R-PAY-2: once the doctor has answered, the consult's booking can no longer
// be cancelled (the service has begun).
pub async fn an_answered_consults_booking_cannot_be_cancelled(db: Db) {
    let p = paid_consult(db, "text").await;
    let doc_path = format!("/api/v1/staff/consults/{}/messages", p.consult);
    assert_eq!(
        say(&p.doctor, &doc_path, &uuid(), "您好").await.status(),
        StatusCode::OK
    );
    let res = p
        .patient
        .delete(&format!("/api/v1/bookings/{}", p.booking))
        .await;
    assert_error(res, 409, "booking_not_active", None).await;
    let view: Value = p
        .patient
        .get(&format!("/api/v1/consults/{}", p.consult))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["status"], "in_progress");
    assert_eq!(order_status(&p.patient, &p.order).await, "served");
}

// R-BOOK-4, R-PAY-2: cancelling the booking before the doctor's answer cancels its
// consult too, and the booking's refund follows.
pub async fn a_booking_cancelled_before_the_answer_cancels_its_consult(db: Db) {
    let p = paid_consult(db, "text").await;
    let res = p
        .patient
        .delete(&format!("/api/v1/bookings/{}", p.booking))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let view: Value = p
        .patient
        .get(&format!("/api/v1/consults/{}", p.consult))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["status"], "cancelled");
    let refunds = "SELECT COUNT(*) AS n FROM refund WHERE reason = 'patient_cancelled'";
    assert_eq!(number(&p.patient, refunds).await, 1);
    let path = format!("/api/v1/consults/{}/messages", p.consult);
    assert_error(
        say(&p.patient, &path, &uuid(), "还在吗").await,
        409,
        "consult_ended",
        None,
    )
    .await;
}
