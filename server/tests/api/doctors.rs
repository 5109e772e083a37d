//! The doctor directory (R-DOC-1, R-ELIG-3): public profiles with licence, years of
//! practice, fees from the price list and "not yet rated"; search by name, pinyin
//! initials, specialty and condition; paging; the patient's own filter; operators add
//! doctors and publish prices, nobody else does.
use crate::consult_consent::approved_patient;
use crate::helpers::{Db, TestApp, assert_error, spawn_app};
use crate::proofs::staff_client;
use app::domain::eligibility::EligibilityPolicy;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn doctor(name: &str, department: &str, licence: &str, since: &str, specialties: &str) -> Value {
    json!({
        "name": name, "title": "attending", "department": department,
        "licence_number": licence, "practicing_since": since,
        "specialties": specialties, "bio": "",
    })
}

async fn list(app: &TestApp, query: &str) -> Value {
    let res = app.get(&format!("/api/v1/doctors{query}")).await;
    assert_eq!(res.status(), StatusCode::OK, "{query}");
    res.json().await.unwrap()
}

fn names(list: &Value) -> Vec<String> {
    list["doctors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect()
}

pub async fn the_directory_is_searched_filtered_and_paged(db: Db) {
    let app = spawn_app(db).await;
    let operator = staff_client(&app, "op.wang", "operator").await;
    let made = operator
        .post(
            "/api/v1/staff/doctors",
            &doctor(
                "张晓波",
                "cardiology",
                "110110000000001",
                "2015-03-01",
                "高血压、运动处方",
            ),
        )
        .await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let zhang = made.json::<Value>().await.unwrap()["doctor_number"]
        .as_str()
        .unwrap()
        .to_owned();
    for (i, (name, dept, since)) in [
        ("李静怡", "endocrinology", "2010-01-01"),
        ("王新手", "cardiology", "2025-01-01"),
    ]
    .into_iter()
    .enumerate()
    {
        let res = operator
            .post(
                "/api/v1/staff/doctors",
                &doctor(name, dept, &format!("11011000000010{i}"), since, "糖尿病"),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let res = operator
        .put(
            "/api/v1/staff/consult-prices",
            &json!({ "title": "attending", "consult_type": "video", "fee_fen": 5050 }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    // R-DOC-1: the profile shows the licence, the years, the published fee and no
    // rating until there are reviews.
    let profile: Value = app
        .get(&format!("/api/v1/doctors/{zhang}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(profile["licence_number"], "110110000000001");
    assert_eq!(profile["title"], "attending");
    assert!(profile["practice_years"].as_u64().unwrap() >= 11);
    assert_eq!(profile["may_consult_online"], true);
    assert_eq!(profile["rating"], Value::Null);
    assert_eq!(
        profile["fees"],
        json!([{ "consult_type": "video", "fen": 5050 }])
    );
    let html = app
        .page(&format!("/doctors/{zhang}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("暂无评价") && html.contains("¥50.50"),
        "{html}"
    );
    // Fewer than three years: listed, but not online (the page says so).
    let all = list(&app, "").await;
    let new = all["doctors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "王新手")
        .unwrap();
    assert_eq!(new["may_consult_online"], false);

    // Search: the name, its initials, a specialty, a condition's department.
    assert_eq!(
        names(&list(&app, "?q=%E5%BC%A0%E6%99%93").await),
        ["张晓波"]
    );
    assert_eq!(names(&list(&app, "?q=zxb").await), ["张晓波"]);
    // A specialty, in Chinese or by its initials.
    assert_eq!(
        names(&list(&app, "?q=%E8%BF%90%E5%8A%A8").await),
        ["张晓波"]
    );
    assert_eq!(names(&list(&app, "?q=YDCF").await), ["张晓波"]);
    // A condition (hypertension: 高血压, gxy, I10) finds the department that treats it:
    // both cardiologists.
    assert_eq!(names(&list(&app, "?q=gxy").await), ["张晓波", "王新手"]);
    assert_eq!(names(&list(&app, "?q=I10").await), ["张晓波", "王新手"]);
    assert_eq!(
        names(&list(&app, "?department=endocrinology").await),
        ["李静怡"]
    );
    assert_eq!(
        list(&app, "?q=%25").await["total"],
        0,
        "a wildcard is only a character"
    );
    assert_eq!(list(&app, "?q=nobody-at-all").await["total"], 0);

    // Paging: within bounds, and bad numbers are refused, not guessed.
    let page = list(&app, "?page=1").await;
    assert_eq!(
        (page["page"].as_u64(), page["pages"].as_u64()),
        (Some(1), Some(1))
    );
    for (bad, field) in [
        ("0", "page"),
        ("-1", "page"),
        ("1001", "page"),
        ("99999999999999999999", "query"),
        ("x", "query"),
    ] {
        let res = app.get(&format!("/api/v1/doctors?page={bad}")).await;
        assert_error(res, 400, "invalid_query", Some(field)).await;
    }
    let res = app.get("/api/v1/doctors?department=nowhere").await;
    assert_error(res, 400, "invalid_query", Some("query")).await;
    let res = app.get("/api/v1/doctors/DR000000000000").await;
    assert_error(res, 404, "not_found", None).await;
    let res = app.get("/api/v1/doctors/DR000000000000/photo").await;
    assert_error(res, 404, "not_found", None).await;
    let page = app.page("/doctors?page=-5&q=zxb").await;
    assert_eq!(page.status(), StatusCode::OK, "the page clamps instead");

    // Only operators and admins add doctors; a licence number is registered once.
    let res = operator
        .post(
            "/api/v1/staff/doctors",
            &doctor("赵重复", "cardiology", "110110000000001", "2015-03-01", ""),
        )
        .await;
    assert_error(res, 409, "licence_number_taken", Some("licence_number")).await;
    let res = operator
        .post(
            "/api/v1/staff/doctors",
            &doctor("赵短号", "cardiology", "11011", "2015-03-01", ""),
        )
        .await;
    assert_error(res, 422, "licence_number_invalid", Some("licence_number")).await;
    let auditor = staff_client(&app, "audit.zhao", "auditor").await;
    let res = auditor
        .post(
            "/api/v1/staff/doctors",
            &doctor("赵审计", "cardiology", "110110000000009", "2015-03-01", ""),
        )
        .await;
    assert_error(res, 403, "forbidden", None).await;
    let res = app
        .post(
            "/api/v1/staff/doctors",
            &doctor("赵患者", "cardiology", "110110000000008", "2015-03-01", ""),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

// R-ELIG-3: "my doctors" are those whose department treats an approved diagnosis of
// the person the patient acts for; the page says whose.
pub async fn patients_find_doctors_for_their_approved_diagnoses(db: Db) {
    let app = approved_patient(db, EligibilityPolicy::default()).await;
    let operator = staff_client(&app, "op.li", "operator").await;
    for (i, dept) in ["cardiology", "endocrinology"].into_iter().enumerate() {
        let res = operator
            .post(
                "/api/v1/staff/doctors",
                &doctor(
                    &format!("医生{}", ["甲", "乙"][i]),
                    dept,
                    &format!("11011000000020{i}"),
                    "2012-05-01",
                    "",
                ),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let mine: Value = app.get("/api/v1/me/doctors").await.json().await.unwrap();
    assert_eq!(names(&mine), ["医生甲"], "hypertension is cardiology's");
    let html = app.page("/doctors?mine=1").await.text().await.unwrap();
    assert!(
        html.contains("医生甲") && !html.contains("医生乙"),
        "{html}"
    );
    // Anonymous: the filter box is not offered and `mine` lists everyone.
    let anonymous = TestApp::bare_client()
        .get(app.url("/doctors?mine=1"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(anonymous.contains("医生乙") && !anonymous.contains("f-mine"));
}

// Security review item 8c: what changes money or who treats whom is audited (a doctor
// added, a fee published with the fee it replaced, an account linked, a reconciliation
// run), and a fee of 0 is refused unless it is marked free on purpose.
pub async fn money_changes_are_audited_and_a_free_fee_is_on_purpose(db: Db) {
    let app = spawn_app(db).await;
    let operator = staff_client(&app, "op.money", "operator").await;
    let res = operator
        .post(
            "/api/v1/staff/doctors",
            &doctor(
                "王丽",
                "cardiology",
                "110110000000701",
                "2010-01-01",
                "高血压",
            ),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let number = res.json::<Value>().await.unwrap()["doctor_number"]
        .as_str()
        .unwrap()
        .to_owned();
    let price = |fee: i64, free: bool| json!({ "title": "attending", "consult_type": "text", "fee_fen": fee, "free": free });
    let res = operator
        .put("/api/v1/staff/consult-prices", &price(0, false))
        .await;
    assert_error(res, 422, "fee_zero_not_free", Some("fee_fen")).await;
    let res = operator
        .put("/api/v1/staff/consult-prices", &price(500, true))
        .await;
    assert_error(res, 422, "fee_zero_not_free", Some("fee_fen")).await;
    for (fee, free) in [(3000, false), (0, true)] {
        let res = operator
            .put("/api/v1/staff/consult-prices", &price(fee, free))
            .await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }
    staff_client(&app, "dr.money", "doctor").await;
    let res = operator
        .put(
            &format!("/api/v1/staff/doctors/{number}/account"),
            &json!({ "username": "dr.money" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = operator
        .post("/api/v1/staff/reconciliation/2026-12-01", &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    for (action, n) in [
        ("doctor_created", 1),
        ("price_published", 2),
        ("doctor_account_linked", 1),
        ("reconciliation_run", 1),
    ] {
        let sql = format!("SELECT COUNT(*) AS n FROM audit_log WHERE action = '{action}'");
        assert_eq!(crate::booking::number(&app, &sql).await, n, "{action}");
    }
    let detail = crate::booking::number(
        &app,
        "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'price_published' AND detail LIKE '%\"previous_fen\":3000%'",
    )
    .await;
    assert_eq!(detail, 1, "the change names the fee it replaced");
}
