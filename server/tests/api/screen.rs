//! The emergency screen before a consult (R-ELIG-4).
use crate::helpers::{Db, TestApp, assert_error, spawn_patient};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Map, Value, json};

const FLAGS: [&str; 10] = [
    "chest_pain",
    "breathing_difficulty",
    "heavy_bleeding",
    "lost_consciousness",
    "stroke_signs",
    "seizure",
    "severe_allergy",
    "poisoning",
    "infant_high_fever",
    "self_harm",
];

pub(crate) fn answers(yes: &[&str]) -> Value {
    let map: Map<String, Value> = FLAGS
        .iter()
        .map(|f| (f.to_string(), json!(yes.contains(f))))
        .collect();
    json!({ "answers": map, "critical": false })
}

async fn rows(app: &TestApp, sql: &str) -> Vec<sea_orm::QueryResult> {
    app.state
        .db
        .query_all_raw(Statement::from_string(
            app.state.db.get_database_backend(),
            sql,
        ))
        .await
        .unwrap()
}

// R-ELIG-4: all no goes on; any yes stops and is recorded (for the person acted for),
// audited without the health detail; an unanswered question is refused.
pub async fn any_yes_stops_the_consult_and_is_logged(db: Db) {
    let app = spawn_patient(db).await;
    let clear: Value = app
        .post("/api/v1/emergency-screen", &answers(&[]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(clear, json!({ "outcome": "clear", "flags": [] }));
    assert!(
        rows(&app, "SELECT id FROM emergency_screen")
            .await
            .is_empty()
    );

    let mut partial = answers(&[]);
    partial["answers"]
        .as_object_mut()
        .unwrap()
        .remove("seizure");
    let res = app.post("/api/v1/emergency-screen", &partial).await;
    assert_error(res, 422, "screen_unanswered", Some("screen")).await;
    // R-ELIG-5: the critical question is part of the screen.
    let mut no_critical = answers(&[]);
    no_critical.as_object_mut().unwrap().remove("critical");
    let res = app.post("/api/v1/emergency-screen", &no_critical).await;
    assert_error(res, 422, "screen_unanswered", Some("screen")).await;

    // Acting for a child: the stop is recorded for the child.
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
    let stop: Value = app
        .post(
            "/api/v1/emergency-screen",
            &answers(&["infant_high_fever", "breathing_difficulty"]),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stop["outcome"], "emergency");
    assert_eq!(
        stop["flags"],
        json!(["breathing_difficulty", "infant_high_fever"])
    );
    let stored = rows(&app, "SELECT flags, family_member_id FROM emergency_screen").await;
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].try_get::<String>("", "flags").unwrap(),
        "breathing_difficulty,infant_high_fever"
    );
    assert!(
        stored[0]
            .try_get::<Option<i64>>("", "family_member_id")
            .unwrap()
            .is_some()
    );
    let audit = rows(
        &app,
        "SELECT on_behalf_of, detail FROM audit_log WHERE action = 'emergency_screen_stopped'",
    )
    .await;
    assert_eq!(audit.len(), 1);
    assert!(
        audit[0]
            .try_get::<Option<i64>>("", "on_behalf_of")
            .unwrap()
            .is_some()
    );
    assert_eq!(
        audit[0].try_get::<Option<String>>("", "detail").unwrap(),
        None
    );

    // Without JavaScript: the form sends a yes to the go-to-hospital page, which anyone
    // can open.
    let mut form: Vec<(String, String)> = FLAGS
        .iter()
        .map(|f| {
            (
                f.to_string(),
                if *f == "self_harm" { "yes" } else { "no" }.to_string(),
            )
        })
        .collect();
    form.push(("csrf_token".into(), app.csrf.clone()));
    let res = app
        .client
        .post(app.url("/forms/consult/screen"))
        .header("accept", "text/html")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection());
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(to, "/emergency?flags=self_harm");
    let page = TestApp::bare_client()
        .get(app.url(&to))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("tel:120") && html.contains("12356"),
        "120 and the helpline"
    );
}
