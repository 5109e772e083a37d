//! Schedules, holds and bookings (R-BOOK-1 … R-BOOK-4, R-DOC-1, R-ELIG-3): publishing,
//! holding, paying (sandbox), cancelling, expiry, a cancelled slot, and 200 concurrent
//! holds for the last place.
use crate::consult_consent::approved_patient;
use crate::helpers::{Db, TestApp, assert_error};
use crate::proofs::staff_client;
use crate::screen::answers;
use app::domain::china_time;
use app::domain::eligibility::EligibilityPolicy;
use app::domain::schedule::add_days;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use server::booking::service as bookings;
use time::OffsetDateTime;

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// The China date `days` from today.
fn day(days: i64) -> String {
    add_days(china_time::day(now()), days).to_string()
}

async fn exec(app: &TestApp, sql: &str) {
    app.state.db.execute_unprepared(sql).await.unwrap();
}

pub(crate) async fn number(app: &TestApp, sql: &str) -> i64 {
    app.state
        .db
        .query_one_raw(Statement::from_string(
            app.state.db.get_database_backend(),
            sql,
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap()
}

/// An operator adds a doctor (practising since `since`); returns (operator, number).
pub(crate) async fn doctor(
    app: &TestApp,
    operator: &TestApp,
    dept: &str,
    licence: &str,
    since: &str,
) -> String {
    let res = operator
        .post(
            "/api/v1/staff/doctors",
            &json!({
                "name": "刘建华", "title": "attending", "department": dept,
                "licence_number": licence, "practicing_since": since,
                "specialties": "高血压", "bio": "",
            }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let _ = app;
    // The published price list (R-DOC-1): every consult type, ¥40.
    for consult_type in ["text", "image_text", "video"] {
        let res = operator
            .put(
                "/api/v1/staff/consult-prices",
                &json!({ "title": "attending", "consult_type": consult_type, "fee_fen": 4000 }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }
    res.json::<Value>().await.unwrap()["doctor_number"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn publish(operator: &TestApp, doctor: &str, body: Value) -> reqwest::Response {
    operator
        .post(&format!("/api/v1/staff/doctors/{doctor}/sessions"), &body)
        .await
}

/// The emergency screen and the consult consent for hypertension with cardiology.
pub(crate) async fn screen_and_consent(app: &TestApp) {
    let res = app.post("/api/v1/emergency-screen", &answers(&[])).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post(
            "/api/v1/consult-consents",
            &json!({ "icd10": "I10", "department": "cardiology",
                     "version": app.state.consult_notice_version, "accept": true }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

/// Half-hour text slots in three days from 14:00 until `end`, published; their numbers.
async fn afternoon(operator: &TestApp, doctor: &str, end: &str) -> Vec<String> {
    let res = publish(
        operator,
        doctor,
        json!({ "date": day(3), "start": "14:00", "end": end, "consult_type": "text", "slot_minutes": 30 }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let made = res.json::<Value>().await.unwrap();
    made["slot_numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

async fn hold(app: &TestApp, slot: &str) -> reqwest::Response {
    app.post("/api/v1/holds", &json!({ "slot_number": slot }))
        .await
}

// R-BOOK-1/2/3/4, R-DOC-1: publish, hold, pay, cancel; every refusal with its reason.
pub async fn slots_are_published_held_paid_and_cancelled(db: Db) {
    let app = approved_patient(db, EligibilityPolicy::default()).await;
    let operator = staff_client(&app, "op.sched", "operator").await;
    let cardio = doctor(
        &app,
        &operator,
        "cardiology",
        "110110000000301",
        "2012-01-01",
    )
    .await;
    let newbie = doctor(&app, &operator, "cardiology", "110110000000302", &day(-400)).await;
    let endo = doctor(
        &app,
        &operator,
        "endocrinology",
        "110110000000303",
        "2010-01-01",
    )
    .await;
    let session = |date: String| json!({ "date": date, "start": "09:00", "end": "10:00", "consult_type": "video", "slot_minutes": 15 });

    // R-DOC-1: the server refuses to schedule a doctor with under three years.
    let res = publish(&operator, &newbie, session(day(2))).await;
    assert_error(res, 422, "doctor_practice_too_short", Some("body")).await;
    let res = publish(&operator, &cardio, session(day(-1))).await;
    assert_error(res, 422, "schedule_in_past", Some("body")).await;
    let res = publish(&operator, &cardio, session(day(90))).await;
    assert_error(res, 422, "schedule_too_far_ahead", Some("body")).await;
    let res = app
        .post(
            &format!("/api/v1/staff/doctors/{cardio}/sessions"),
            &session(day(2)),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "patients do not publish"
    );
    let res = publish(&operator, &cardio, session(day(2))).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let slots: Vec<String> = res.json::<Value>().await.unwrap()["slot_numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(slots.len(), 4);
    let listed: Value = app
        .get(&format!("/api/v1/doctors/{cardio}/slots"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["slots"].as_array().unwrap().len(), 4);
    assert!(
        listed["slots"][0]["local"]
            .as_str()
            .unwrap()
            .ends_with("09:00")
    );
    let endo_slot = publish(&operator, &endo, session(day(3)))
        .await
        .json::<Value>()
        .await
        .unwrap()["slot_numbers"][0]
        .as_str()
        .unwrap()
        .to_owned();

    // R-REG-6 first: no hold without the consult consent.
    assert_error(
        hold(&app, &slots[0]).await,
        409,
        "consult_consent_required",
        None,
    )
    .await;
    screen_and_consent(&app).await;
    // R-ELIG-3: the consent is for cardiology; an endocrinologist's slot is refused.
    assert_error(
        hold(&app, &endo_slot).await,
        422,
        "eligibility_wrong_department",
        None,
    )
    .await;
    assert_error(hold(&app, "SL00000000000000").await, 404, "not_found", None).await;

    let res = hold(&app, &slots[0]).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let held: Value = res.json().await.unwrap();
    let booking = held["booking_number"].as_str().unwrap().to_owned();
    let expires = held["hold_expires_at"].as_i64().unwrap();
    assert!((expires - now() - 15 * 60).abs() <= 5, "a 15-minute hold");
    // The same slot twice, or an overlapping one, for the same person: refused.
    assert_error(hold(&app, &slots[0]).await, 409, "booking_overlaps", None).await;

    // Someone else cannot pay for or cancel it.
    let mut other = app.other_client().await;
    assert_eq!(
        other
            .register("13800138111", "110105198001010032")
            .await
            .status(),
        StatusCode::CREATED
    );
    other.refresh_csrf().await;
    let res = other
        .post(&format!("/api/v1/bookings/{booking}/payment"), &json!({}))
        .await;
    assert_error(res, 404, "not_found", None).await;
    assert_error(
        other.delete(&format!("/api/v1/bookings/{booking}")).await,
        404,
        "not_found",
        None,
    )
    .await;

    // Paid in the sandbox: confirmed, and the message centre says so.
    crate::payments::pay_in_sandbox(&app, &booking, "succeed").await;
    assert_eq!(
        number(&app, &format!("SELECT COUNT(*) AS n FROM booking WHERE booking_number = '{booking}' AND status = 'confirmed'")).await,
        1
    );
    let inbox: Value = app.get("/api/v1/messages").await.json().await.unwrap();
    assert!(inbox.to_string().contains("booking_confirmed"), "{inbox}");
    // R-BOOK-3: the reminder before the appointment goes out once, with two servers.
    let lead = 3 * 86_400;
    let at = OffsetDateTime::now_utc();
    let (r1, r2) = tokio::join!(
        bookings::send_reminders(&app.state, lead, at),
        bookings::send_reminders(&app.state, lead, at)
    );
    assert_eq!(r1.unwrap() + r2.unwrap(), 1);
    let inbox: Value = app.get("/api/v1/messages").await.json().await.unwrap();
    assert!(inbox.to_string().contains("booking_reminder"), "{inbox}");

    // A second, later slot: held, then cancelled by the patient; its place comes back.
    let second = hold(&app, &slots[2]).await.json::<Value>().await.unwrap()["booking_number"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.delete(&format!("/api/v1/bookings/{second}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_error(
        app.delete(&format!("/api/v1/bookings/{second}")).await,
        409,
        "booking_not_active",
        None,
    )
    .await;
    assert_eq!(
        number(
            &app,
            &format!(
                "SELECT CAST(taken AS BIGINT) AS n FROM slot WHERE slot_number = '{}'",
                slots[2]
            )
        )
        .await,
        0
    );

    // R-BOOK-2: a hold past its time is ended by the job, exactly once; paying then fails.
    let third = hold(&app, &slots[3]).await.json::<Value>().await.unwrap()["booking_number"]
        .as_str()
        .unwrap()
        .to_owned();
    exec(
        &app,
        &format!(
            "UPDATE booking SET hold_expires_at = {} WHERE booking_number = '{third}'",
            now() - 1
        ),
    )
    .await;
    let at = OffsetDateTime::now_utc();
    let (a, b) = tokio::join!(
        server::booking::expiry::expire_holds(&app.state, at),
        server::booking::expiry::expire_holds(&app.state, at)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1, "two servers end the hold once");
    assert_eq!(
        number(
            &app,
            &format!(
                "SELECT CAST(taken AS BIGINT) AS n FROM slot WHERE slot_number = '{}'",
                slots[3]
            )
        )
        .await,
        0
    );
    let res = app
        .post(&format!("/api/v1/bookings/{third}/payment"), &json!({}))
        .await;
    assert_error(res, 409, "hold_expired", None).await;

    // A slot that has begun cannot be held.
    exec(
        &app,
        &format!(
            "UPDATE slot SET starts_at = {} WHERE slot_number = '{}'",
            now() - 60,
            slots[1]
        ),
    )
    .await;
    assert_error(hold(&app, &slots[1]).await, 409, "slot_started", None).await;

    // R-BOOK-4: a published slot changes only with a day's notice …
    exec(
        &app,
        &format!(
            "UPDATE slot SET starts_at = {}, ends_at = {} WHERE slot_number = '{}'",
            now() + 23 * 3600,
            now() + 23 * 3600 + 900,
            slots[2]
        ),
    )
    .await;
    let res = operator
        .delete(&format!("/api/v1/staff/slots/{}", slots[2]))
        .await;
    assert_error(res, 409, "schedule_notice_too_short", None).await;
    // … and cancelling one cancels its bookings, owes a full refund, tells the patient.
    let res = operator
        .delete(&format!("/api/v1/staff/slots/{}", slots[0]))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["bookings_cancelled"], 1);
    assert_eq!(
        number(&app, &format!("SELECT COUNT(*) AS n FROM booking WHERE booking_number = '{booking}' AND status = 'cancelled' AND refund_due = TRUE AND cancel_reason = 'doctor'")).await,
        1
    );
    let inbox: Value = app.get("/api/v1/messages").await.json().await.unwrap();
    assert!(inbox.to_string().contains("slot_cancelled"), "{inbox}");
    assert_error(hold(&app, &slots[0]).await, 409, "slot_cancelled", None).await;
}

/// Copies the approved patient `n` times (same password, consents, approved proof) and
/// logs each copy in: 200 people who may each hold a place.
async fn many_patients(app: &TestApp, n: usize) -> Vec<TestApp> {
    let source = number(app, "SELECT MIN(id) AS n FROM patient").await;
    let mut clients = Vec::with_capacity(n);
    for i in 0..n {
        let phone = format!("137{:08}", i);
        exec(app, &format!(
            "INSERT INTO patient (patient_number, phone, password_hash, real_name, id_number_cipher, \
             id_number_hmac, id_number_masked, birth_date, sex, failed_logins, locked_until, dependant_count, created_at) \
             SELECT 'PC{i:08}', '{phone}', password_hash, real_name, id_number_cipher, 'copy-{i}', \
             id_number_masked, birth_date, sex, 0, NULL, 0, created_at FROM patient WHERE id = {source}"
        )).await;
        let id = number(
            app,
            &format!("SELECT id AS n FROM patient WHERE phone = '{phone}'"),
        )
        .await;
        exec(app, &format!(
            "INSERT INTO consent_record (patient_id, document, version, action, at, ip) \
             SELECT {id}, document, version, action, at, ip FROM consent_record WHERE patient_id = {source}"
        )).await;
        exec(app, &format!(
            "INSERT INTO diagnosis_proof (proof_number, patient_id, family_member_id, institution, diagnosed_on, \
             icd10, department, note, status, idempotency_key, decided_by, decided_at, approved_icd10, \
             approved_department, reject_reason, reject_note, created_at) \
             SELECT 'DPC{i:08}', {id}, NULL, institution, diagnosed_on, icd10, department, note, status, \
             'copy-key-{i}', decided_by, decided_at, approved_icd10, approved_department, reject_reason, \
             reject_note, created_at FROM diagnosis_proof WHERE patient_id = {source} AND status = 'approved'"
        )).await;
    }
    // Logged in a few at a time (each login hashes a password).
    for chunk in (0..n).collect::<Vec<_>>().chunks(8) {
        let logins = chunk.iter().map(|&i| async move {
            let mut c = app.other_client().await;
            let res = c
                .post(
                    "/api/v1/sessions",
                    &json!({ "phone": format!("137{:08}", i), "password": "a calm river at dawn" }),
                )
                .await;
            assert!(res.status().is_success(), "login {i}: {}", res.status());
            c.refresh_csrf().await;
            screen_and_consent(&c).await;
            c
        });
        clients.extend(futures_util::future::join_all(logins).await);
    }
    clients
}

// R-BOOK-2: 200 people hold the last place at once: exactly one wins; everyone else
// hears "just taken" with the next free slots; nothing half-written.
pub async fn two_hundred_holds_for_the_last_place(db: Db) {
    let (app, operator, cardio, last) = one_place(db, "op.rush", "110110000000401").await;
    let later = publish(
        &operator,
        &cardio,
        json!({ "date": day(3), "start": "14:00", "end": "15:00", "consult_type": "text", "slot_minutes": 30 }),
    )
    .await;
    assert_eq!(later.status(), StatusCode::CREATED);

    let people = many_patients(&app, 200).await;
    let holds = people.iter().map(|p| hold(p, &last));
    let answers: Vec<reqwest::Response> = futures_util::future::join_all(holds).await;
    let mut won = 0;
    for res in answers {
        match res.status() {
            StatusCode::CREATED => won += 1,
            StatusCode::CONFLICT => {
                let body: Value = res.json().await.unwrap();
                assert_eq!(body["error"]["code"], "slot_taken", "{body}");
                assert_eq!(
                    body["error"]["next_slots"].as_array().unwrap().len(),
                    2,
                    "{body}"
                );
            }
            other => panic!("unexpected {other}: {}", res.text().await.unwrap()),
        }
    }
    assert_eq!(won, 1, "exactly one hold wins");
    assert_eq!(
        number(
            &app,
            &format!("SELECT CAST(taken AS BIGINT) AS n FROM slot WHERE slot_number = '{last}'")
        )
        .await,
        1
    );
    assert_eq!(
        number(&app, "SELECT COUNT(*) AS n FROM booking").await,
        1,
        "nothing half-written"
    );
    assert_eq!(
        number(
            &app,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'slot_held'"
        )
        .await,
        1
    );
}

// R-BOOK-2: a hold past its time that the job has not ended yet never blocks anyone: the
// same person holding the slot again, or another person holding a slot full only of
// ended holds. Each old hold ends exactly once and the place count stays exact.
pub async fn a_hold_past_its_time_blocks_nobody(db: Db) {
    let (app, _, _, slot) = one_place(db, "op.late", "110110000000501").await;
    screen_and_consent(&app).await;
    let first = held(hold(&app, &slot).await).await;
    run_out(&app, &first).await;
    // The same person again, before the job ran: their old hold ends, the new one stands.
    let second = held(hold(&app, &slot).await).await;
    assert_ne!(first, second);
    assert_eq!(taken(&app, &slot).await, 1);

    // Someone else, while the second hold runs: just taken.
    let others = many_patients(&app, 1).await;
    let other = &others[0];
    assert_error(hold(other, &slot).await, 409, "slot_taken", None).await;
    // The second hold runs out: the slot is full only of an ended hold, so it is theirs.
    run_out(&app, &second).await;
    held(hold(other, &slot).await).await;
    assert_eq!(taken(&app, &slot).await, 1);
    assert_eq!(
        number(
            &app,
            "SELECT COUNT(*) AS n FROM booking WHERE status = 'expired' AND cancel_reason = 'expired'"
        )
        .await,
        2
    );
    assert_eq!(
        number(
            &app,
            "SELECT COUNT(*) AS n FROM booking WHERE status = 'held'"
        )
        .await,
        1
    );
    // The job finds nothing left to end.
    assert_eq!(
        server::booking::expiry::expire_holds(&app.state, OffsetDateTime::now_utc())
            .await
            .unwrap(),
        0
    );
}

// R-ELIG-4: a hold (and a queue place: the same check) needs a clear screen from the
// last 30 minutes. The consent keeps its screen's time, and the hold asks it again.
pub async fn a_hold_needs_a_screen_from_the_last_30_minutes(db: Db) {
    let (app, _, _, slot) = one_place(db, "op.fresh", "110110000000601").await;
    screen_and_consent(&app).await;
    let screened = number(&app, "SELECT screened_at AS n FROM consult_consent").await;
    assert!(
        (now() - screened).abs() < 60,
        "the consent keeps its screen's time"
    );
    // Thirty minutes and a second later, the consent's screen no longer counts.
    age_screens(&app, 30 * 60 + 1).await;
    assert_error(hold(&app, &slot).await, 409, "screen_required", None).await;
    assert_eq!(taken(&app, &slot).await, 0, "nothing was held");
    // Screened again: the hold goes through.
    screen_and_consent(&app).await;
    held(hold(&app, &slot).await).await;
}

/// Moves every consent's screen `secs` into the past. Consents are never changed (a
/// trigger refuses); the test lifts the trigger to move time.
async fn age_screens(app: &TestApp, secs: i64) {
    let lift = match app.state.db.get_database_backend() {
        sea_orm::DbBackend::Postgres => "DROP TRIGGER consult_consent_no_update ON consult_consent",
        _ => "DROP TRIGGER consult_consent_no_update",
    };
    exec(app, lift).await;
    exec(
        app,
        &format!("UPDATE consult_consent SET screened_at = screened_at - {secs}"),
    )
    .await;
}

async fn taken(app: &TestApp, slot: &str) -> i64 {
    number(
        app,
        &format!("SELECT CAST(taken AS BIGINT) AS n FROM slot WHERE slot_number = '{slot}'"),
    )
    .await
}

/// The hold's time runs out, without the job ending it.
async fn run_out(app: &TestApp, booking: &str) {
    let sql = format!(
        "UPDATE booking SET hold_expires_at = {} WHERE booking_number = '{booking}'",
        now() - 1
    );
    exec(app, &sql).await
}

async fn held(res: reqwest::Response) -> String {
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["booking_number"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// An approved patient, an operator, a cardiologist (by `licence`) and one slot the day
/// after tomorrow with a single place: (patient, operator, doctor number, slot number).
async fn one_place(db: Db, operator: &str, licence: &str) -> (TestApp, TestApp, String, String) {
    let app = approved_patient(db, EligibilityPolicy::default()).await;
    let operator = staff_client(&app, operator, "operator").await;
    let cardio = doctor(&app, &operator, "cardiology", licence, "2012-01-01").await;
    let res = publish(
        &operator,
        &cardio,
        json!({ "date": day(2), "start": "09:00", "end": "09:30", "consult_type": "text", "capacity": 1 }),
    )
    .await;
    let slot = res.json::<Value>().await.unwrap()["slot_numbers"][0]
        .as_str()
        .unwrap()
        .to_owned();
    (app, operator, cardio, slot)
}

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_owned()
}

// R-BOOK-1, R-BOOK-4 on the staff page, with plain forms: an operator chooses any listed
// doctor, publishes and cancels that doctor's sessions; a doctor's form for another
// doctor is refused; a malformed doctor number never reaches the address.
pub async fn operators_schedule_any_doctor_on_the_staff_page(db: Db) {
    let app = crate::helpers::spawn_app(db).await;
    let operator = staff_client(&app, "op.desk", "operator").await;
    let cardio = doctor(
        &app,
        &operator,
        "cardiology",
        "110110000000601",
        "2012-01-01",
    )
    .await;
    let other = doctor(
        &app,
        &operator,
        "cardiology",
        "110110000000602",
        "2012-01-01",
    )
    .await;
    let page = operator.page_text("/staff/schedule").await;
    assert!(
        page.contains("data-testid=\"scheduling\"") && page.contains(&cardio),
        "{page}"
    );
    assert!(
        !page.contains("data-testid=\"schedule\""),
        "nobody chosen yet"
    );

    let date = day(3);
    let fields: Vec<(&str, &str)> = vec![
        ("doctor_number", &cardio),
        ("date", &date),
        ("start", "14:00"),
        ("end", "15:00"),
        ("consult_type", "video"),
        ("slot_minutes", "30"),
    ];
    let res = operator.form("/forms/staff/sessions", &fields).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&res),
        format!("/staff/schedule?doctor={cardio}&notice=session_published")
    );
    let page = operator
        .page_text(&format!("/staff/schedule?doctor={cardio}"))
        .await;
    assert_eq!(page.matches("data-testid=\"scheduled-slot\"").count(), 2);
    assert!(page.contains("selected"), "the chosen doctor stays chosen");

    // Cancelled from the page, with more than a day's notice.
    let slots: Value = app
        .get(&format!("/api/v1/doctors/{cardio}/slots"))
        .await
        .json()
        .await
        .unwrap();
    let first = slots["slots"][0]["slot_number"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = operator
        .form(
            "/forms/staff/slots/cancel",
            &[("doctor_number", &cardio), ("slot_number", &first)],
        )
        .await;
    assert_eq!(
        location(&res),
        format!("/staff/schedule?doctor={cardio}&notice=slot_cancelled")
    );
    let page = operator
        .page_text(&format!("/staff/schedule?doctor={cardio}"))
        .await;
    assert_eq!(page.matches("data-testid=\"scheduled-slot\"").count(), 1);

    // A doctor runs only their own schedule, and has no scheduling card.
    let doc = staff_client(&app, "dr.desk", "doctor").await;
    let res = operator
        .put(
            &format!("/api/v1/staff/doctors/{other}/account"),
            &json!({ "username": "dr.desk" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = doc.form("/forms/staff/sessions", &fields).await;
    assert_eq!(
        location(&res),
        format!("/staff/schedule?doctor={cardio}&error=forbidden")
    );
    let desk = doc.page_text("/staff/desk").await;
    assert!(
        desk.contains("data-testid=\"schedule\"") && !desk.contains("data-testid=\"scheduling\""),
        "{desk}"
    );
    assert_eq!(
        number(&app, "SELECT COUNT(*) AS n FROM slot WHERE status = 'open'").await,
        1,
        "the refused form published nothing"
    );

    // A malformed number stays out of the address; an unknown one chooses nobody.
    let mut bad = fields.clone();
    bad[0].1 = "DR1\r\nSet-Cookie: x=1";
    let res = operator.form("/forms/staff/sessions", &bad).await;
    assert!(
        location(&res).starts_with("/staff/schedule?error="),
        "{}",
        location(&res)
    );
    let page = operator
        .page_text("/staff/schedule?doctor=DR000000000000")
        .await;
    assert!(
        page.contains("data-testid=\"scheduling\"") && !page.contains("data-testid=\"schedule\"")
    );
}

// R-BOOK-2, against hoarding: one account has at most three unpaid holds running, even
// when it fires six at once; a hold paid, cancelled or run out no longer counts.
pub async fn an_account_holds_at_most_three_unpaid_slots(db: Db) {
    let (app, operator, cardio, first) = one_place(db, "op.hoard", "110110000000701").await;
    let res = publish(
        &operator,
        &cardio,
        json!({ "date": day(3), "start": "14:00", "end": "17:00", "consult_type": "text", "slot_minutes": 30 }),
    )
    .await;
    let slots: Vec<String> = res.json::<Value>().await.unwrap()["slot_numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(slots.len(), 6);
    screen_and_consent(&app).await;

    let answers = futures_util::future::join_all(slots.iter().map(|slot| hold(&app, slot))).await;
    let mut won = Vec::new();
    for res in answers {
        match res.status() {
            StatusCode::CREATED => won.push(held(res).await),
            _ => {
                assert_error(res, 409, "too_many_holds", None).await;
            }
        }
    }
    assert_eq!(won.len(), 3, "exactly three holds stand");
    let held_places = "SELECT CAST(COALESCE(SUM(taken), 0) AS BIGINT) AS n FROM slot";
    assert_eq!(number(&app, held_places).await, 3, "nothing half-written");

    // Paying for one frees a place in the quota.
    crate::payments::pay_in_sandbox(&app, &won[0], "succeed").await;
    held(hold(&app, &first).await).await;
    // Three running again: the next is refused until one is cancelled or runs out.
    let mut free = Vec::new();
    for s in &slots {
        if taken(&app, s).await == 0 {
            free.push(s.clone());
        }
    }
    assert_eq!(free.len(), 3);
    assert_error(hold(&app, &free[0]).await, 409, "too_many_holds", None).await;
    let res = app.delete(&format!("/api/v1/bookings/{}", won[1])).await;
    assert!(res.status().is_success(), "{}", res.status());
    held(hold(&app, &free[0]).await).await;
    assert_error(hold(&app, &free[1]).await, 409, "too_many_holds", None).await;
    run_out(&app, &won[2]).await;
    held(hold(&app, &free[1]).await).await;
}

// R-BOOK-2, group commit: holds that arrive together are written in one transaction
// (the writer waits 300 ms here so that all five land in one), and each is still
// decided by the account's rules, as if alone: two at the same time for one person
// never both stand, and never more than three unpaid holds run. Every hold that stands
// has its place, order, order line and audit row; nothing else is written.
pub async fn holds_written_together_keep_every_rule(db: Db) {
    let app =
        crate::consult_consent::approved_patient_with(db, EligibilityPolicy::default(), |c| {
            c.hold_gather_ms = 300;
        })
        .await;
    let operator = staff_client(&app, "op.batch", "operator").await;
    let first = doctor(
        &app,
        &operator,
        "cardiology",
        "110110000000801",
        "2012-01-01",
    )
    .await;
    let second = doctor(
        &app,
        &operator,
        "cardiology",
        "110110000000802",
        "2012-01-01",
    )
    .await;
    let mut slots = afternoon(&operator, &first, "16:00").await;
    slots.extend(afternoon(&operator, &second, "14:30").await);
    // The first doctor's 14:00, 14:30, 15:00, 15:30, and the second doctor's 14:00.
    assert_eq!(slots.len(), 5);
    screen_and_consent(&app).await;
    let before = hold_writer(&app).batched();

    let answers = futures_util::future::join_all(slots.iter().map(|s| hold(&app, s))).await;
    let mut won = Vec::new();
    let mut refused = Vec::new();
    for (slot, res) in slots.iter().zip(answers) {
        if res.status() == StatusCode::CREATED {
            won.push(slot.clone());
        } else {
            assert_eq!(res.status(), StatusCode::CONFLICT);
            let body: Value = res.json().await.unwrap();
            refused.push(body["error"]["code"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(
        hold_writer(&app).batched() - before,
        5,
        "the five holds were written together"
    );
    assert_eq!(
        won.len(),
        3,
        "three unpaid holds at most: {won:?} {refused:?}"
    );
    assert!(
        !(won.contains(&slots[0]) && won.contains(&slots[4])),
        "one person never holds two slots at the same time"
    );
    for code in &refused {
        assert!(
            code == "booking_overlaps" || code == "too_many_holds",
            "{refused:?}"
        );
    }
    assert!(refused.iter().any(|c| c == "too_many_holds"), "{refused:?}");
    for (sql, n) in [
        (
            "SELECT CAST(COALESCE(SUM(taken), 0) AS BIGINT) AS n FROM slot",
            3,
        ),
        ("SELECT COUNT(*) AS n FROM booking WHERE status = 'held'", 3),
        ("SELECT COUNT(*) AS n FROM booking", 3),
        (
            "SELECT COUNT(*) AS n FROM orders o JOIN booking b ON b.id = o.subject_id WHERE o.status = 'pending' AND o.amount_fen = 4000",
            3,
        ),
        (
            "SELECT COUNT(*) AS n FROM order_line l JOIN orders o ON o.id = l.order_id WHERE l.amount_fen = 4000",
            3,
        ),
        (
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'slot_held'",
            3,
        ),
    ] {
        assert_eq!(number(&app, sql).await, n, "{sql}");
    }
    for slot in &won {
        assert_eq!(taken(&app, slot).await, 1, "{slot}");
    }
    // Each answer is its own: the three that stand are the three held bookings.
    let held_slots = number(
        &app,
        &format!(
            "SELECT COUNT(*) AS n FROM booking b JOIN slot s ON s.id = b.slot_id \
             WHERE b.status = 'held' AND s.slot_number IN ('{}')",
            won.join("', '")
        ),
    )
    .await;
    assert_eq!(held_slots, 3);
}

// R-BOOK-2, R-ELIG-3, R-REG-6: what holds arriving together rest on is read once for
// all of them, and each is still checked alone: in one batch, a hold on a slot that
// does not exist, one on a cancelled slot, one on a slot that has started, and one with
// a doctor of another department each get their own refusal, while two accounts' holds
// on open slots stand and are written together. Nothing is written for the refused.
pub async fn each_hold_in_a_batch_is_checked_alone(db: Db) {
    let app =
        crate::consult_consent::approved_patient_with(db, EligibilityPolicy::default(), |c| {
            c.hold_gather_ms = 300;
        })
        .await;
    let operator = staff_client(&app, "op.alone", "operator").await;
    let cardiology = doctor(
        &app,
        &operator,
        "cardiology",
        "110110000000811",
        "2012-01-01",
    )
    .await;
    let endocrinology = doctor(
        &app,
        &operator,
        "endocrinology",
        "110110000000812",
        "2012-01-01",
    )
    .await;
    let mut slots = afternoon(&operator, &cardiology, "16:00").await;
    slots.extend(afternoon(&operator, &endocrinology, "14:30").await);
    // Cardiology 14:00, 14:30, 15:00, 15:30; endocrinology 14:00.
    assert_eq!(slots.len(), 5);
    screen_and_consent(&app).await;
    let other = many_patients(&app, 1).await.remove(0);
    exec(
        &app,
        &format!(
            "UPDATE slot SET status = 'cancelled' WHERE slot_number = '{}'",
            slots[2]
        ),
    )
    .await;
    exec(
        &app,
        &format!(
            "UPDATE slot SET starts_at = {}, ends_at = {} WHERE slot_number = '{}'",
            now() - 60,
            now() + 1740,
            slots[3]
        ),
    )
    .await;
    let before = hold_writer(&app).batched();

    let (mine, theirs) = futures_util::future::join(
        futures_util::future::join_all(
            [
                &slots[0],
                &slots[4],
                &slots[2],
                &slots[3],
                &"SL00000000000000".to_owned(),
            ]
            .into_iter()
            .map(|s| hold(&app, s)),
        ),
        hold(&other, &slots[1]),
    )
    .await;
    let mut mine = mine.into_iter();
    held(mine.next().unwrap()).await;
    held(theirs).await;
    assert_error(
        mine.next().unwrap(),
        422,
        "eligibility_wrong_department",
        None,
    )
    .await;
    assert_error(mine.next().unwrap(), 409, "slot_cancelled", None).await;
    assert_error(mine.next().unwrap(), 409, "slot_started", None).await;
    assert_error(mine.next().unwrap(), 404, "not_found", None).await;
    assert_eq!(
        hold_writer(&app).batched() - before,
        2,
        "the two that stand were written together, the refused never reached a transaction"
    );
    for (sql, n) in [
        (
            "SELECT CAST(COALESCE(SUM(taken), 0) AS BIGINT) AS n FROM slot",
            2,
        ),
        ("SELECT COUNT(*) AS n FROM booking", 2),
        ("SELECT COUNT(*) AS n FROM orders", 2),
        (
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'slot_held'",
            2,
        ),
    ] {
        assert_eq!(number(&app, sql).await, n, "{sql}");
    }
    assert_eq!(taken(&app, &slots[0]).await, 1);
    assert_eq!(taken(&app, &slots[1]).await, 1);
}

// R-BOOK-2, R-REG-2: what the bookings pages show is readable through the API from the
// same service call: the account's list and one booking, in the request's language;
// another account's booking is not found; the departments the directory filters by.
pub async fn bookings_and_departments_are_readable_through_the_api(db: Db) {
    let (app, _operator, cardio, slot) = one_place(db, "op.api", "110110000000701").await;
    screen_and_consent(&app).await;
    let booking = held(hold(&app, &slot).await).await;
    let list: Value = app.get("/api/v1/bookings").await.json().await.unwrap();
    assert_eq!(list["upcoming"][0]["booking_number"], booking.as_str());
    assert_eq!(list["upcoming"][0]["doctor_number"], cardio.as_str());
    assert_eq!(list["past"].as_array().unwrap().len(), 0);
    let one: Value = app
        .get(&format!("/api/v1/bookings/{booking}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["state"], "held");
    assert!(one["seconds_left"].as_i64().unwrap() > 0);
    assert!(one["order_number"].as_str().unwrap().starts_with("OD"));
    // The page shows the same booking.
    let page = app.page_text(&format!("/bookings/{booking}")).await;
    assert!(
        page.contains(one["order_number"].as_str().unwrap()),
        "{page}"
    );

    let mut other = app.other_client().await;
    assert_eq!(
        other
            .register("13900139002", "110101198501010025")
            .await
            .status(),
        StatusCode::CREATED
    );
    let res = other.get(&format!("/api/v1/bookings/{booking}")).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let theirs: Value = other.get("/api/v1/bookings").await.json().await.unwrap();
    assert_eq!(theirs["upcoming"].as_array().unwrap().len(), 0);

    let departments: Value = app.get("/api/v1/departments").await.json().await.unwrap();
    let departments = departments.as_array().unwrap();
    assert_eq!(
        departments.len(),
        app::domain::department::ALL_DEPARTMENTS.len()
    );
    assert!(
        departments
            .iter()
            .any(|d| d["department"] == "cardiology" && d["name"] == "心血管内科")
    );
}

fn hold_writer(app: &TestApp) -> &server::booking::hold_writer::HoldWriter {
    app.state
        .parts
        .get::<server::booking::hold_writer::HoldWriter>()
        .expect("the booking feature keeps a hold writer")
}
