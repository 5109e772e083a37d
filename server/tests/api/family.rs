//! Family members (就诊人) and guardians: R-REG-7, R-SEC-2.
use crate::helpers::{Db, TestApp, assert_error, spawn_app};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

const GUARDIAN_PHONE: &str = "13800138000";
const GUARDIAN_ID: &str = "110101199003071233";
const OTHER_PHONE: &str = "13900139000";

fn other_id() -> String {
    id("11010119880505123")
}

/// A valid ID number from its first 17 digits (GB 11643 check digit).
fn id(first17: &str) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    let check = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'][(sum % 11) as usize];
    format!("{first17}{check}")
}

/// A child born in 2019, numbered `n`.
fn child_id(n: u32) -> String {
    id(&format!("11010120190601{n:03}"))
}

fn child(id_number: &str) -> Value {
    json!({
        "real_name": "张小明",
        "id_number": id_number,
        "relationship": "child",
        "guardian_confirmed": true,
    })
}

async fn registered(db: Db, phone: &str, id_number: &str) -> TestApp {
    let mut app = spawn_app(db).await;
    assert_eq!(
        app.register(phone, id_number).await.status(),
        StatusCode::CREATED
    );
    app
}

async fn count(app: &TestApp, table: &str) -> i64 {
    let row = app
        .state
        .db
        .query_one_raw(Statement::from_string(
            app.state.db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

// R-REG-7, R-SEC-2: a guardian adds a child, chooses to act for them, and the audit log
// says which account acted for whom.
pub async fn guardian_adds_a_child_and_acts_for_them(db: Db) {
    let app = registered(db, GUARDIAN_PHONE, GUARDIAN_ID).await;
    let kid = child_id(1);
    let res = app.post("/api/v1/family-members", &child(&kid)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let member: Value = res.json().await.unwrap();
    assert_eq!(member["real_name"], "张小明");
    assert_eq!(member["dependency"], "minor");
    assert_eq!(member["relationship"], "child");
    assert_eq!(member["birth_date"], "2019-06-01");
    assert_eq!(
        member["id_number_masked"],
        format!("{}{}", "*".repeat(14), &kid[14..])
    );
    let number = member["member_number"].as_str().unwrap().to_owned();

    let list: Value = app
        .get("/api/v1/family-members")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["members"].as_array().unwrap().len(), 1);
    assert_eq!(
        list["acting_for"],
        Value::Null,
        "acting for oneself at first"
    );
    let chosen = app
        .put("/api/v1/acting-for", &json!({ "member_number": number }))
        .await;
    assert_eq!(chosen.status(), StatusCode::NO_CONTENT);
    let list: Value = app
        .get("/api/v1/family-members")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["acting_for"],
        json!(number),
        "remembered for the session"
    );
    let back = app
        .put("/api/v1/acting-for", &json!({ "member_number": null }))
        .await;
    assert_eq!(back.status(), StatusCode::NO_CONTENT);
    let list: Value = app
        .get("/api/v1/family-members")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["acting_for"], Value::Null);

    // The full ID number is stored encrypted, never in clear.
    let stored = app
        .state
        .db
        .query_one_raw(Statement::from_string(
            app.state.db.get_database_backend(),
            "SELECT id_number_cipher, declaration_version FROM family_member",
        ))
        .await
        .unwrap()
        .unwrap();
    let cipher: String = stored.try_get("", "id_number_cipher").unwrap();
    assert!(!cipher.contains(&kid[..14]));
    let version: String = stored.try_get("", "declaration_version").unwrap();
    assert!(
        !version.is_empty(),
        "the guardian's declaration is recorded"
    );

    let audit = app
        .state
        .db
        .query_one_raw(Statement::from_string(
            app.state.db.get_database_backend(),
            "SELECT actor_kind, actor_id, on_behalf_of, entity_id, detail FROM audit_log \
             WHERE action = 'family_member_added'",
        ))
        .await
        .unwrap()
        .expect("an audit row");
    assert_eq!(
        audit.try_get::<String>("", "actor_kind").unwrap(),
        "patient"
    );
    assert!(
        audit
            .try_get::<Option<i64>>("", "actor_id")
            .unwrap()
            .is_some()
    );
    assert!(
        audit
            .try_get::<Option<i64>>("", "on_behalf_of")
            .unwrap()
            .is_some()
    );
    assert_eq!(
        audit.try_get::<Option<String>>("", "entity_id").unwrap(),
        Some(number)
    );
    let detail = audit
        .try_get::<Option<String>>("", "detail")
        .unwrap()
        .unwrap();
    assert!(
        !detail.contains("张小明") && !detail.contains(&kid),
        "nothing personal"
    );
}

// R-REG-7: one ID number is one person here: never added twice, by the same guardian or
// another, never both an account holder and a dependant; removing frees it.
pub async fn a_person_is_on_file_once(db: Db) {
    let app = registered(db, GUARDIAN_PHONE, GUARDIAN_ID).await;
    let mut other = app.other_client().await;
    assert_eq!(
        other.register(OTHER_PHONE, &other_id()).await.status(),
        StatusCode::CREATED
    );
    let kid = child_id(2);
    let first = app.post("/api/v1/family-members", &child(&kid)).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let number = first.json::<Value>().await.unwrap()["member_number"]
        .as_str()
        .unwrap()
        .to_owned();
    for who in [&app, &other] {
        let again = who.post("/api/v1/family-members", &child(&kid)).await;
        assert_error(again, 409, "family_member_on_file", Some("id_number")).await;
    }
    // An account holder cannot be someone's dependant (declared without capacity or not).
    let holder = json!({
        "real_name": "张三", "id_number": &other_id(), "relationship": "spouse",
        "guardian_confirmed": true, "adult_lacks_capacity": true,
    });
    let res = app.post("/api/v1/family-members", &holder).await;
    assert_error(res, 409, "family_member_on_file", Some("id_number")).await;

    // A dependant (an adult without capacity) cannot register an account of their own.
    let ward_id = id("31011519700101003");
    let ward = json!({
        "real_name": "张三", "id_number": ward_id, "relationship": "parent",
        "guardian_confirmed": true, "adult_lacks_capacity": true,
    });
    let res = app.post("/api/v1/family-members", &ward).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let mut third = app.other_client().await;
    let res = third.register("13700137000", &ward_id).await;
    assert_error(res, 409, "account_exists", None).await;
    assert_eq!(app.patient_count().await, 2);

    // Removed: the child is off the list and may be added by the other guardian.
    assert_eq!(
        app.delete(&format!("/api/v1/family-members/{number}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let list: Value = app
        .get("/api/v1/family-members")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["members"].as_array().unwrap().len(),
        1,
        "only the ward"
    );
    let res = other.post("/api/v1/family-members", &child(&kid)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        count(&app, "family_member").await,
        3,
        "the removed row stays"
    );
}

// R-REG-7: an adult with full capacity is not a dependant ("an adult added as a child"),
// the guardian must declare, relationships must fit the age; bad input writes nothing.
pub async fn who_may_be_added_is_checked(db: Db) {
    let app = registered(db, GUARDIAN_PHONE, GUARDIAN_ID).await;
    let adult = id("11010120000101001");
    let cases = [
        (
            child(&adult),
            422,
            "family_adult_has_capacity",
            Some("id_number"),
        ),
        (
            json!({ "real_name": "张小明", "id_number": child_id(3), "relationship": "child" }),
            422,
            "family_guardian_unconfirmed",
            Some("guardian_confirmed"),
        ),
        (
            json!({ "real_name": "张小明", "id_number": child_id(3), "relationship": "spouse", "guardian_confirmed": true }),
            422,
            "family_relationship_invalid",
            Some("relationship"),
        ),
        (
            json!({ "real_name": "张小明", "id_number": child_id(3), "relationship": "boss", "guardian_confirmed": true }),
            422,
            "family_relationship_invalid",
            Some("relationship"),
        ),
        (
            child(&format!("{}0", &child_id(3)[..17])),
            422,
            "id_number_check_digit",
            Some("id_number"),
        ),
        (
            json!({ "real_name": "", "id_number": child_id(3), "relationship": "child", "guardian_confirmed": true }),
            422,
            "real_name_invalid",
            Some("real_name"),
        ),
    ];
    for (body, status, code, field) in cases {
        let res = app.post("/api/v1/family-members", &body).await;
        assert_error(res, status, code, field).await;
    }
    assert_eq!(count(&app, "family_member").await, 0);
    assert_eq!(
        count(&app, "identity_claim").await,
        1,
        "only the guardian's own"
    );
    // Full-width digits and spaces from a phone keyboard are fine.
    let typed: String = child_id(4)
        .chars()
        .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap())
        .collect();
    let res = app.post("/api/v1/family-members", &child(&typed)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

// R-REG-7: another account's family member does not exist, as far as you can tell.
pub async fn another_accounts_member_is_not_found(db: Db) {
    let app = registered(db, GUARDIAN_PHONE, GUARDIAN_ID).await;
    let mut other = app.other_client().await;
    assert_eq!(
        other.register(OTHER_PHONE, &other_id()).await.status(),
        StatusCode::CREATED
    );
    let res = app
        .post("/api/v1/family-members", &child(&child_id(5)))
        .await;
    let number = res.json::<Value>().await.unwrap()["member_number"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = other
        .delete(&format!("/api/v1/family-members/{number}"))
        .await;
    assert_error(res, 404, "not_found", None).await;
    let res = other
        .put("/api/v1/acting-for", &json!({ "member_number": number }))
        .await;
    assert_error(res, 404, "not_found", Some("member_number")).await;
    let list: Value = other
        .get("/api/v1/family-members")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["members"], json!([]));
    // Logged out: nothing at all.
    let anon = TestApp::bare_client();
    let res = anon
        .get(app.url("/api/v1/family-members"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

// R-REG-7: at most 10 dependants, even when 15 adds race.
pub async fn concurrent_adds_stop_at_the_cap(db: Db) {
    let app = registered(db, GUARDIAN_PHONE, GUARDIAN_ID).await;
    let mut set = tokio::task::JoinSet::new();
    for n in 10..25 {
        let (client, url, csrf) = (
            app.client.clone(),
            app.url("/api/v1/family-members"),
            app.csrf.clone(),
        );
        let body = child(&child_id(n));
        set.spawn(async move {
            client
                .post(url)
                .header("x-csrf-token", csrf)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    let mut statuses = Vec::new();
    while let Some(status) = set.join_next().await {
        statuses.push(status.unwrap());
    }
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 10, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    assert_eq!(count(&app, "family_member").await, 10);
    let res = app
        .post("/api/v1/family-members", &child(&child_id(99)))
        .await;
    assert_error(res, 409, "family_limit_reached", None).await;
}

// R-REG-7: two guardians adding the same child at once: exactly one gets them.
pub async fn racing_guardians_cannot_both_add_a_child(db: Db) {
    let app = registered(db, GUARDIAN_PHONE, GUARDIAN_ID).await;
    let mut other = app.other_client().await;
    assert_eq!(
        other.register(OTHER_PHONE, &other_id()).await.status(),
        StatusCode::CREATED
    );
    let mut set = tokio::task::JoinSet::new();
    for who in [&app, &other].repeat(5) {
        let (client, url, csrf) = (
            who.client.clone(),
            who.url("/api/v1/family-members"),
            who.csrf.clone(),
        );
        set.spawn(async move {
            client
                .post(url)
                .header("x-csrf-token", csrf)
                .json(&child(&child_id(7)))
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    let mut created = 0;
    while let Some(status) = set.join_next().await {
        match status.unwrap() {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(count(&app, "family_member").await, 1);
}

// Security review, item 9 (R-REG-7): a member removed on one device is not silently
// replaced by the guardian on another. That session's next action is refused with
// `family_member_removed` (a form goes back to its page with it); the action after that
// is the guardian's own, as the patient has been told.
pub async fn a_removed_member_is_not_silently_replaced(db: Db) {
    let app = registered(db, GUARDIAN_PHONE, GUARDIAN_ID).await;
    let res = app
        .post("/api/v1/family-members", &child(&child_id(7)))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let number = res.json::<Value>().await.unwrap()["member_number"]
        .as_str()
        .unwrap()
        .to_owned();
    // The same account on a second device acts for the child.
    let second = app.other_client().await;
    let login = json!({ "phone": GUARDIAN_PHONE, "password": "a calm river at dawn" });
    assert_eq!(
        second.post("/api/v1/sessions", &login).await.status(),
        StatusCode::OK
    );
    let mut second = second;
    second.refresh_csrf().await;
    let res = second
        .put("/api/v1/acting-for", &json!({ "member_number": number }))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // The first device removes the child.
    let res = app
        .delete(&format!("/api/v1/family-members/{number}"))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // The second device's next action is refused, and says why.
    let screen = crate::screen::answers(&["chest_pain"]);
    let res = second.post("/api/v1/emergency-screen", &screen).await;
    assert_error(res, 409, "family_member_removed", None).await;
    let stopped = "SELECT COUNT(*) AS n FROM emergency_screen";
    assert_eq!(
        crate::booking::number(&app, stopped).await,
        0,
        "nothing was done for anyone"
    );
    // Then it acts for the guardian, who has been told.
    let res = second.post("/api/v1/emergency-screen", &screen).await;
    assert_eq!(res.status(), StatusCode::OK);
    let own = "SELECT COUNT(*) AS n FROM emergency_screen WHERE family_member_id IS NULL";
    assert_eq!(crate::booking::number(&app, own).await, 1);
}
