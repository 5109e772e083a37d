//! The consult's risk notice and informed consent (R-REG-6), after the emergency screen
//! (R-ELIG-4), with the eligibility asked again (R-ELIG-1, R-ELIG-5).
use crate::helpers::{Db, TestApp, assert_error, spawn_app_with};
use crate::proofs::{jpeg, staff_client, upload, upload_form};
use crate::screen::answers;
use app::domain::eligibility::{AgePolicy, EligibilityPolicy};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

/// A patient with an approved hypertension proof (cardiology).
pub(crate) async fn approved_patient(db: Db, policy: EligibilityPolicy) -> TestApp {
    approved_patient_with(db, policy, |_| {}).await
}

/// [`approved_patient`] on a server configured further by `tweak`.
pub(crate) async fn approved_patient_with(
    db: Db,
    policy: EligibilityPolicy,
    tweak: impl FnOnce(&mut server::config::Config),
) -> TestApp {
    let mut app = spawn_app_with(db, |c| {
        c.eligibility = policy;
        // The booking test logs 200 people in from one address.
        c.login_per_ip = 1_000_000;
        tweak(c);
    })
    .await;
    assert_eq!(
        app.register("13800138000", "110101199003071233")
            .await
            .status(),
        StatusCode::CREATED
    );
    let res = upload(
        &app,
        upload_form("consult-key-1", vec![("a.jpg", jpeg(60, 40))]),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let number = res.json::<Value>().await.unwrap()["proof_number"]
        .as_str()
        .unwrap()
        .to_owned();
    let operator = staff_client(&app, "op.wang", "operator").await;
    let approve = json!({ "decision": "approve", "icd10": "I10", "department": "cardiology" });
    let res = operator
        .post(&format!("/api/v1/staff/proofs/{number}/decision"), &approve)
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    app
}

async fn count(app: &TestApp, sql: &str) -> i64 {
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

fn consent(version: &str, accept: bool) -> Value {
    json!({ "icd10": "I10", "department": "cardiology", "version": version, "accept": accept })
}

// R-REG-6: no consent without a clear screen for this person; then the notice of the
// version in force, ticked, is recorded once with its version, audited, and cannot be
// changed afterwards (the database refuses).
pub async fn the_consult_notice_is_confirmed_after_a_clear_screen(db: Db) {
    let app = approved_patient(db, EligibilityPolicy::default()).await;
    let notice: Value = app
        .get("/api/v1/consult-notice")
        .await
        .json()
        .await
        .unwrap();
    let version = notice["version"].as_str().unwrap().to_owned();
    assert_eq!(version.len(), 64);
    assert!(notice["text"].as_str().unwrap().contains("120"));

    let res = app
        .post("/api/v1/consult-consents", &consent(&version, true))
        .await;
    assert_error(res, 409, "screen_required", None).await;

    let clear = app.post("/api/v1/emergency-screen", &answers(&[])).await;
    assert_eq!(clear.status(), StatusCode::OK);
    let res = app
        .post("/api/v1/consult-consents", &consent(&version, false))
        .await;
    assert_error(res, 422, "consent_missing", Some("consent")).await;
    let res = app
        .post("/api/v1/consult-consents", &consent(&"0".repeat(64), true))
        .await;
    assert_error(res, 409, "consent_outdated", Some("consent")).await;
    // R-ELIG-3: asked again: another department does not treat this diagnosis.
    let res = app
        .post(
            "/api/v1/consult-consents",
            &json!({ "icd10": "I10", "department": "neurology", "version": version, "accept": true }),
        )
        .await;
    assert_error(res, 422, "eligibility_wrong_department", None).await;
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM consult_consent").await,
        0
    );

    let res = app
        .post("/api/v1/consult-consents", &consent(&version, true))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let given: Value = res.json().await.unwrap();
    let number = given["consent_number"].as_str().unwrap();
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT COUNT(*) AS n FROM consult_consent WHERE consent_number = '{number}' \
                 AND notice_version = '{version}' AND icd10 = 'I10' AND family_member_id IS NULL"
            )
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'consult_consent_given'"
        )
        .await,
        1
    );
    // A record of a fact: the database refuses to rewrite it.
    let changed = app
        .state
        .db
        .execute_unprepared("UPDATE consult_consent SET notice_version = 'forged'")
        .await;
    assert!(changed.is_err(), "consult_consent rows cannot change");

    // An emergency answer takes the clear screen away.
    let stop = app
        .post("/api/v1/emergency-screen", &answers(&["chest_pain"]))
        .await;
    assert_eq!(stop.status(), StatusCode::OK);
    let res = app
        .post("/api/v1/consult-consents", &consent(&version, true))
        .await;
    assert_error(res, 409, "screen_required", None).await;
}

// R-REG-7 / R-ELIG-4: a screen answered for the account holder does not count for a
// child the patient then acts for.
pub async fn a_screen_counts_only_for_the_person_it_was_for(db: Db) {
    let app = approved_patient(db, EligibilityPolicy::default()).await;
    let version = app.state.consult_notice_version.clone();
    assert_eq!(
        app.post("/api/v1/emergency-screen", &answers(&[]))
            .await
            .status(),
        StatusCode::OK
    );
    let member = app.add_child().await;
    let res = app
        .client
        .put(app.url("/api/v1/acting-for"))
        .header("x-csrf-token", &app.csrf)
        .json(&json!({ "member_number": member["member_number"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .post("/api/v1/consult-consents", &consent(&version, true))
        .await;
    assert_error(res, 409, "screen_required", None).await;
}

// R-ELIG-5: "critically ill" goes on under the national rule and is refused under the
// hospital's stricter one, in the patient's words; the form leads the same way.
pub async fn a_critical_condition_is_refused_under_the_hospital_rule(db: Db) {
    let mut critical = answers(&[]);
    critical["critical"] = json!(true);

    let national = approved_patient(db_again(&db), EligibilityPolicy::default()).await;
    let version = national.state.consult_notice_version.clone();
    national.post("/api/v1/emergency-screen", &critical).await;
    let res = national
        .post("/api/v1/consult-consents", &consent(&version, true))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        count(
            &national,
            "SELECT COUNT(*) AS n FROM consult_consent WHERE critical = TRUE"
        )
        .await,
        1
    );
    drop(national);

    let hospital = EligibilityPolicy {
        age: AgePolicy::hospital(80),
        ..EligibilityPolicy::default()
    };
    let app = approved_patient(db, hospital).await;
    app.post("/api/v1/emergency-screen", &critical).await;
    let res = app
        .post("/api/v1/consult-consents", &consent(&version, true))
        .await;
    assert_error(res, 422, "eligibility_critical", None).await;

    // Without JavaScript: the screen form leads to the notice page, which says why not.
    let mut form: Vec<(String, String)> = answers_form("no");
    form.push(("critical".into(), "yes".into()));
    form.push(("choice".into(), "I10:cardiology".into()));
    form.push(("csrf_token".into(), app.csrf.clone()));
    let res = app
        .client
        .post(app.url("/forms/consult/screen"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(to, "/consult/consent?choice=I10:cardiology");
    let html = app.page(&to).await.text().await.unwrap();
    assert!(html.contains("data-testid=\"refusal\""), "{html}");
    assert!(!html.contains("name=\"accept\""));
}

// R-REG-6 without JavaScript: screen, then the notice page with its version, then the
// confirmation form; a choice that is not a diagnosis and department goes back to start.
pub async fn the_consult_notice_works_as_plain_forms(db: Db) {
    let app = approved_patient(db, EligibilityPolicy::default()).await;
    let html = app
        .page("/consult/consent?choice=I10:cardiology")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("data-testid=\"screen-first\""));

    let mut form = answers_form("no");
    form.push(("critical".into(), "no".into()));
    form.push(("choice".into(), "I10:cardiology\r\nX-Evil: 1".into()));
    form.push(("csrf_token".into(), app.csrf.clone()));
    let res = app
        .client
        .post(app.url("/forms/consult/screen"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["location"],
        "/consult/start?notice=screen_clear",
        "a choice that does not parse is dropped, not echoed"
    );

    let html = app
        .page("/consult/consent?choice=I10:cardiology")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("data-testid=\"consult-notice\""), "{html}");
    let version = app.state.consult_notice_version.clone();
    assert!(html.contains(&version));
    let confirm = |accept: bool| {
        let mut f = vec![
            ("choice".to_owned(), "I10:cardiology".to_owned()),
            ("version".to_owned(), version.clone()),
            ("csrf_token".to_owned(), app.csrf.clone()),
        ];
        if accept {
            f.push(("accept".into(), "yes".into()));
        }
        f
    };
    let res = app
        .client
        .post(app.url("/forms/consult/consent"))
        .form(&confirm(false))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["location"],
        "/consult/consent?choice=I10:cardiology&error=consent_missing&field=consent"
    );
    let res = app
        .client
        .post(app.url("/forms/consult/consent"))
        .form(&confirm(true))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["location"],
        "/doctors?mine=1&department=cardiology&notice=consult_ready"
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM consult_consent").await,
        1
    );
}

fn answers_form(value: &str) -> Vec<(String, String)> {
    answers(&[])["answers"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| (k.clone(), value.to_owned()))
        .collect()
}

fn db_again(db: &Db) -> Db {
    match db {
        Db::Sqlite => Db::Sqlite,
        Db::Postgres(url) => Db::Postgres(url.clone()),
    }
}
