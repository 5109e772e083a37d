//! The demo data for local use: every role can log in with the README's credentials,
//! proofs exist in every state, a consult has been asked and answered, a second run
//! changes nothing, production refuses.
use crate::helpers::{Db, TestApp, spawn_app};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use server::config::Mode;
use server::demo::{self, Seeded};
use server::staff::totp::current_code;
use time::OffsetDateTime;

async fn statuses(app: &TestApp) -> Vec<String> {
    app.state
        .db
        .query_all_raw(Statement::from_string(
            app.state.db.get_database_backend(),
            "SELECT status FROM diagnosis_proof ORDER BY status",
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String>("", "status").unwrap())
        .collect()
}

pub async fn demo_data_covers_every_role_and_state(db: Db) {
    let app = spawn_app(db).await;
    assert!(demo::seed(&app.state, Mode::Production).await.is_err());
    assert!(matches!(
        demo::seed(&app.state, Mode::Dev).await.unwrap(),
        Seeded::Created
    ));
    assert!(matches!(
        demo::seed(&app.state, Mode::Dev).await.unwrap(),
        Seeded::AlreadyThere
    ));
    assert_eq!(
        statuses(&app).await,
        ["approved", "approved", "rejected", "submitted", "withdrawn"]
    );

    // Each role logs in with the documented password and authenticator secret.
    for (username, _, role, _, secret) in demo::STAFF {
        let mut staff = app.other_client().await;
        let res = staff
            .post(
                "/api/v1/staff/sessions",
                &json!({ "username": username, "password": demo::STAFF_PASSWORD }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{username}");
        staff.refresh_csrf().await;
        let code = current_code(secret, OffsetDateTime::now_utc()).unwrap();
        let res = staff
            .post("/api/v1/staff/second-factor", &json!({ "code": code }))
            .await;
        assert!(res.status().is_success(), "{username}: {}", res.status());
        staff.refresh_csrf().await;
        let me: Value = staff.get("/api/v1/staff/me").await.json().await.unwrap();
        assert_eq!(me["role"], *role);
    }

    // A demo patient logs in and sees the family member and the proofs.
    let mut patient = app.other_client().await;
    let res = patient
        .post(
            "/api/v1/sessions",
            &json!({ "phone": demo::PATIENTS[0].0, "password": demo::PATIENT_PASSWORD }),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    patient.refresh_csrf().await;
    let family: Value = patient
        .get("/api/v1/family-members")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(family["members"].as_array().unwrap().len(), 1, "{family}");
    let proofs: Value = patient.get("/api/v1/proofs").await.json().await.unwrap();
    assert_eq!(proofs.as_array().unwrap().len(), 3, "{proofs}");

    // And a paid text consult with demo.doctor: asked, answered, so in progress.
    let consults: Value = patient.get("/api/v1/consults").await.json().await.unwrap();
    let consults = consults.as_array().unwrap();
    assert_eq!(consults.len(), 1, "{consults:?}");
    assert_eq!(consults[0]["status"], "in_progress", "{consults:?}");
    let number = consults[0]["consult_number"].as_str().unwrap();
    let history: Value = patient
        .get(&format!("/api/v1/consults/{number}/messages?after=0"))
        .await
        .json()
        .await
        .unwrap();
    let sides: Vec<&str> = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "text")
        .filter_map(|e| e["side"].as_str())
        .collect();
    assert_eq!(sides, ["patient", "doctor"], "{history}");
}
