//! The live queue (自主在线, R-BOOK-1): a doctor goes online; patients join with the
//! consult consent, see their place and an honest wait; the doctor calls the next; a
//! patient leaves; going offline closes the queue and tells the patients.
use crate::booking::{doctor, number as count, screen_and_consent};
use crate::consult_consent::approved_patient;
use crate::helpers::{Db, TestApp, assert_error};
use crate::proofs::staff_client;
use app::domain::eligibility::EligibilityPolicy;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn join(app: &TestApp, doctor: &str) -> reqwest::Response {
    app.post(
        "/api/v1/queue",
        &json!({ "doctor_number": doctor, "consult_type": "text" }),
    )
    .await
}

/// A second patient with the same approved diagnosis, screened and consented.
async fn second_patient(app: &TestApp) -> TestApp {
    let mut other = app.other_client().await;
    assert_eq!(
        other
            .register("13800138222", "110105198001010032")
            .await
            .status(),
        StatusCode::CREATED
    );
    other.refresh_csrf().await;
    other
}

pub async fn patients_wait_in_a_live_queue(db: Db) {
    let app = approved_patient(db, EligibilityPolicy::default()).await;
    let operator = staff_client(&app, "op.queue", "operator").await;
    let number = doctor(
        &app,
        &operator,
        "cardiology",
        "110110000000501",
        "2012-01-01",
    )
    .await;
    let doc = staff_client(&app, "dr.liu", "doctor").await;
    // Not linked yet: a doctor's account runs only its own queue.
    let res = presence(&doc, true).await;
    assert_error(res, 403, "forbidden", None).await;
    let res = operator
        .put(
            &format!("/api/v1/staff/doctors/{number}/account"),
            &json!({ "username": "op.queue" }),
        )
        .await;
    assert_error(res, 422, "staff_role_invalid", Some("role")).await;
    let res = operator
        .put(
            &format!("/api/v1/staff/doctors/{number}/account"),
            &json!({ "username": "dr.liu" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    screen_and_consent(&app).await;
    // Offline: no queue to join.
    assert_error(join(&app, &number).await, 409, "doctor_offline", None).await;
    let res = presence(&doc, true).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let queues: Value = app
        .get(&format!("/api/v1/doctors/{number}/queues"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queues["queues"][0]["consult_type"], "text");

    let first = join(&app, &number).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first = first.json::<Value>().await.unwrap()["entry_number"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_error(join(&app, &number).await, 409, "already_queued", None).await;

    let other = second_patient(&app).await;
    assert_error(
        join(&other, &number).await,
        409,
        "consult_consent_required",
        None,
    )
    .await;
    // Someone else's place is not theirs to see.
    assert_error(
        other.get(&format!("/api/v1/queue/{first}")).await,
        404,
        "not_found",
        None,
    )
    .await;

    let me: Value = app
        .get(&format!("/api/v1/queue/{first}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (me["status"].as_str(), me["ahead"].as_u64()),
        (Some("waiting"), Some(0))
    );
    let queues: Value = app
        .get(&format!("/api/v1/doctors/{number}/queues"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queues["queues"][0]["waiting"], 1);
    assert_eq!(
        queues["queues"][0]["wait_minutes"], 10,
        "one ahead: the default 10 minutes"
    );

    // The doctor calls the next: the first patient; nobody is left.
    let called: Value = doc
        .post(
            "/api/v1/staff/me/queue/next",
            &json!({ "consult_type": "text" }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(called["patient"]["entry_number"], first.as_str());
    let me: Value = app
        .get(&format!("/api/v1/queue/{first}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["status"], "called");
    let inbox: Value = app.get("/api/v1/messages").await.json().await.unwrap();
    assert!(inbox.to_string().contains("queue_called"), "{inbox}");
    let none: Value = doc
        .post(
            "/api/v1/staff/me/queue/next",
            &json!({ "consult_type": "text" }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["patient"], Value::Null);

    // Join again, leave; join again, and the doctor going offline closes the place.
    let again = join(&app, &number).await.json::<Value>().await.unwrap()["entry_number"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.delete(&format!("/api/v1/queue/{again}")).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_error(
        app.delete(&format!("/api/v1/queue/{again}")).await,
        409,
        "queue_entry_not_waiting",
        None,
    )
    .await;
    let last = join(&app, &number).await.json::<Value>().await.unwrap()["entry_number"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = presence(&doc, false).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let me: Value = app
        .get(&format!("/api/v1/queue/{last}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["status"], "closed");
    let inbox: Value = app.get("/api/v1/messages").await.json().await.unwrap();
    assert!(inbox.to_string().contains("queue_closed"), "{inbox}");
    assert_error(join(&app, &number).await, 409, "doctor_offline", None).await;

    // R-BOOK-1: a doctor publishes and cancels their own sessions, nobody else's.
    let other_doctor = doctor(
        &app,
        &operator,
        "cardiology",
        "110110000000502",
        "2012-01-01",
    )
    .await;
    let day = app::domain::schedule::add_days(
        app::domain::china_time::day(time::OffsetDateTime::now_utc().unix_timestamp()),
        3,
    );
    let session = json!({ "date": day.to_string(), "start": "14:00", "end": "15:00",
                          "consult_type": "video", "slot_minutes": 30 });
    let res = doc
        .post(
            &format!("/api/v1/staff/doctors/{other_doctor}/sessions"),
            &session,
        )
        .await;
    assert_error(res, 403, "forbidden", None).await;
    let res = doc
        .post(
            &format!("/api/v1/staff/doctors/{number}/sessions"),
            &session,
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let own = res.json::<Value>().await.unwrap()["slot_numbers"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let desk = doc.page("/staff/desk").await.text().await.unwrap();
    assert!(
        desk.contains("data-testid=\"schedule\"") && desk.contains(&own),
        "{desk}"
    );
    let res = doc.delete(&format!("/api/v1/staff/slots/{own}")).await;
    assert_eq!(res.status(), StatusCode::OK);

    // R-SEC-2: every queue and schedule change is in the audit log.
    for action in [
        "queue_joined",
        "queue_left",
        "queue_called",
        "doctor_online",
        "doctor_offline",
        "session_published",
    ] {
        let n = count(
            &app,
            &format!("SELECT COUNT(*) AS n FROM audit_log WHERE action = '{action}'"),
        )
        .await;
        assert!(n >= 1, "{action}");
    }

    // The events stream starts with the current place.
    let res = app
        .client
        .get(app.url(&format!("/api/v1/queue/{last}/events")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let body = res.text().await.unwrap();
    assert!(
        body.contains("event: place") && body.contains("\"closed\""),
        "{body}"
    );
}

/// The doctor goes on- or offline for text consults.
async fn presence(doc: &TestApp, online: bool) -> reqwest::Response {
    doc.put(
        "/api/v1/staff/me/presence",
        &json!({ "consult_type": "text", "online": online }),
    )
    .await
}

// Security review item 9: a patient's place stream ends when the session does (logout
// here), and one account keeps at most three open; the fourth is refused with
// rate_limited until one closes.
pub async fn queue_streams_end_at_logout_and_are_limited_per_account(db: Db) {
    let app = approved_patient(db, EligibilityPolicy::default()).await;
    let operator = staff_client(&app, "op.stream", "operator").await;
    let number = doctor(
        &app,
        &operator,
        "cardiology",
        "110110000000502",
        "2012-01-01",
    )
    .await;
    let doc = staff_client(&app, "dr.stream", "doctor").await;
    let res = operator
        .put(
            &format!("/api/v1/staff/doctors/{number}/account"),
            &json!({ "username": "dr.stream" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    screen_and_consent(&app).await;
    assert_eq!(presence(&doc, true).await.status(), StatusCode::NO_CONTENT);
    let joined = join(&app, &number).await;
    assert_eq!(joined.status(), StatusCode::CREATED);
    let entry = joined.json::<Value>().await.unwrap()["entry_number"]
        .as_str()
        .unwrap()
        .to_owned();
    let events = app.url(&format!("/api/v1/queue/{entry}/events"));

    let mut open = Vec::new();
    for _ in 0..3 {
        let mut res = app.client.get(&events).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let first = res.chunk().await.unwrap().unwrap();
        assert!(String::from_utf8_lossy(&first).contains("event: place"));
        open.push(res);
    }
    let res = app.client.get(&events).send().await.unwrap();
    assert_error(res, 429, "rate_limited", None).await;

    let res = app
        .client
        .delete(app.url("/api/v1/sessions/current"))
        .header("x-csrf-token", &app.csrf)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    for mut res in open {
        let ended = tokio::time::timeout(std::time::Duration::from_secs(8), async {
            while let Some(chunk) = res.chunk().await.unwrap() {
                // Keep-alive comments only: no new place after the logout.
                assert!(!String::from_utf8_lossy(&chunk).contains("event: place"));
            }
        })
        .await;
        assert!(ended.is_ok(), "the stream outlived its session");
    }
}

// Security review item 9 (R-EMR-2, R-SEC-1): a doctor sees the waiting proofs of their
// own department and the proofs of their own patients, nothing else (anything else is
// "not found"); every look at the review queue and at the waiting list is audited.
pub async fn doctors_see_only_their_departments_and_their_patients_proofs(db: Db) {
    use crate::proofs::{jpeg, staff_client_in, upload};
    let app = approved_patient(db, EligibilityPolicy::default()).await;
    let approved = crate::booking::number(
        &app,
        "SELECT id AS n FROM diagnosis_proof WHERE status = 'approved'",
    )
    .await;
    let approved: String = {
        use sea_orm::EntityTrait;
        server::db::diagnosis_proof::Entity::find_by_id(approved)
            .one(&app.state.db)
            .await
            .unwrap()
            .unwrap()
            .proof_number
    };
    let mut waiting = Vec::new();
    for (key, icd10) in [("dept-key-0001", "I10"), ("dept-key-0002", "E11.9")] {
        let form = reqwest::multipart::Form::new()
            .text("institution", "北京协和医院")
            .text("diagnosed_on", "2026-06-01")
            .text("icd10", icd10)
            .text("note", "")
            .text("idempotency_key", key)
            .part(
                "files",
                reqwest::multipart::Part::bytes(jpeg(60, 40)).file_name("a.jpg"),
            );
        let res = upload(&app, form).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        waiting.push(
            res.json::<Value>().await.unwrap()["proof_number"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let (cardiac, diabetic) = (&waiting[0], &waiting[1]);

    // A cardiologist: the cardiology proof waits for them, the other does not exist.
    let cardio = staff_client_in(&app, "dr.cardio", "doctor", Some("cardiology")).await;
    let queue: Value = cardio
        .get("/api/v1/staff/proofs")
        .await
        .json()
        .await
        .unwrap();
    let shown: Vec<&str> = queue
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["proof_number"].as_str().unwrap())
        .collect();
    assert_eq!(shown, [cardiac.as_str()]);
    let res = cardio
        .get(&format!("/api/v1/staff/proofs/{diabetic}/files/1"))
        .await;
    assert_error(res, 404, "not_found", None).await;
    let reject = json!({ "decision": "reject", "reason": "unreadable", "note": "" });
    let res = cardio
        .post(
            &format!("/api/v1/staff/proofs/{diabetic}/decision"),
            &reject,
        )
        .await;
    assert_error(res, 404, "not_found", None).await;
    assert_eq!(
        cardio
            .get(&format!("/api/v1/staff/proofs/{cardiac}/files/1"))
            .await
            .status(),
        StatusCode::OK
    );

    // A doctor of no department: the patient's proof only once the patient is theirs.
    let own = staff_client_in(&app, "dr.own", "doctor", None).await;
    let file = format!("/api/v1/staff/proofs/{approved}/files/1");
    assert_error(own.get(&file).await, 404, "not_found", None).await;
    let operator = staff_client(&app, "op.dept", "operator").await;
    let number = doctor(
        &app,
        &operator,
        "cardiology",
        "110110000000503",
        "2012-01-01",
    )
    .await;
    let res = operator
        .put(
            &format!("/api/v1/staff/doctors/{number}/account"),
            &json!({ "username": "dr.own" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(presence(&own, true).await.status(), StatusCode::NO_CONTENT);
    screen_and_consent(&app).await;
    assert_eq!(join(&app, &number).await.status(), StatusCode::CREATED);
    assert_eq!(own.get(&file).await.status(), StatusCode::OK);
    // Operators see every waiting proof.
    let queue: Value = operator
        .get("/api/v1/staff/proofs")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queue.as_array().unwrap().len(), 2);

    // Every look is in the audit log: the review queue (two looks) and the waiting list.
    assert_eq!(own.page("/staff/desk").await.status(), StatusCode::OK);
    let looks = count(
        &app,
        "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'proof_queue_viewed'",
    )
    .await;
    assert_eq!(looks, 2);
    let desk = count(
        &app,
        "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'waiting_list_viewed'",
    )
    .await;
    assert_eq!(desk, 1);
}
