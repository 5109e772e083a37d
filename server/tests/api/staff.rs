//! Staff accounts: least privilege (R-SEC-1), a second factor and immediate disabling
//! (R-SEC-3), all audited (R-SEC-2).
use crate::helpers::{Db, TestApp, assert_error, spawn_app};
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use server::staff::service::{self as staff, NewStaff};
use server::staff::totp::current_code;
use time::OffsetDateTime;

/// Creates a staff account as the CLI does on the server's host; returns its first
/// password.
pub(crate) async fn create(app: &TestApp, username: &str, role: &str) -> String {
    create_in(app, username, role, None).await
}

/// [`create`], naming the staff member's department (doctors).
pub(crate) async fn create_in(
    app: &TestApp,
    username: &str,
    role: &str,
    department: Option<&str>,
) -> String {
    staff::create_on_host(
        &app.state,
        NewStaff {
            username: username.into(),
            display_name: "李明".into(),
            role: role.into(),
            department: department.map(Into::into),
            phone: None,
        },
        &server::context::RequestContext::system(OffsetDateTime::now_utc()),
    )
    .await
    .unwrap()
    .initial_password
}

/// Logs in and enrols an authenticator; returns (secret, the code used, recovery codes).
async fn log_in_and_enrol(
    app: &TestApp,
    username: &str,
    password: &str,
) -> (String, String, Vec<String>) {
    let res = app
        .post(
            "/api/v1/staff/sessions",
            &json!({ "username": username, "password": password }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["second_factor"], "enrol");
    enrol(app).await
}

/// Enrols an authenticator for a client between its first step (password or
/// activation) and the second factor; returns (secret, the code used, recovery codes).
async fn enrol(app: &TestApp) -> (String, String, Vec<String>) {
    let enrolment: Value = app
        .get("/api/v1/staff/enrolment")
        .await
        .json()
        .await
        .unwrap();
    let secret = enrolment["secret"].as_str().unwrap().to_owned();
    assert!(enrolment["qr_svg"].as_str().unwrap().contains("<svg"));
    assert!(
        enrolment["otpauth_url"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    let code = current_code(&secret, OffsetDateTime::now_utc()).unwrap();
    let res = app
        .post("/api/v1/staff/enrolment", &json!({ "code": code }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let codes: Vec<String> = res.json::<Value>().await.unwrap()["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (secret, code, codes)
}

/// A host-made admin, logged in with both factors.
async fn logged_in_admin(app: &TestApp, username: &str) -> TestApp {
    let password = create(app, username, "admin").await;
    let mut admin = app.other_client().await;
    log_in_and_enrol(&admin, username, &password).await;
    admin.refresh_csrf().await;
    admin
}

/// The newest activation code sent to `phone` (the console SMS outbox).
async fn activation_code(app: &TestApp, phone: &str) -> String {
    for _ in 0..100 {
        let sent = app.outbox(phone).await;
        if let Some(code) = sent["messages"]
            .as_array()
            .and_then(|m| m.last())
            .and_then(|m| m["code"].as_str())
        {
            return code.to_owned();
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("no activation code for {phone}");
}

/// The whole path of a new account (R-SEC-1): `asker` asks, `approver` approves, the
/// owner activates with the code sent to their phone and enrols. Returns the account's
/// id, the password its owner chose, and the owner's logged-in client.
pub(crate) async fn onboard(
    asker: &TestApp,
    approver: &TestApp,
    body: Value,
) -> (i64, String, TestApp) {
    let res = asker.post("/api/v1/staff/accounts", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let res = approver
        .post(&format!("/api/v1/staff/accounts/{id}/approval"), &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let code = activation_code(asker, body["phone"].as_str().unwrap()).await;
    let owner = asker.other_client().await;
    let password = format!("{} chose this at dawn", body["username"].as_str().unwrap());
    let res = owner
        .post(
            "/api/v1/staff/activation",
            &json!({ "username": body["username"], "code": code, "password": password }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["second_factor"], "enrol");
    enrol(&owner).await;
    (id, password, owner)
}

// R-SEC-3: a password alone is not a staff login; enrolment by authenticator app; each
// code is accepted once; recovery codes work once.
pub async fn staff_log_in_with_a_second_factor(db: Db) {
    let mut app = spawn_app(db).await;
    let password = create(&app, "admin.li", "admin").await;

    let res = app
        .post(
            "/api/v1/staff/sessions",
            &json!({ "username": "admin.li", "password": "wrong password" }),
        )
        .await;
    assert_error(res, 401, "login_failed", None).await;
    let res = app
        .post(
            "/api/v1/staff/sessions",
            &json!({ "username": "nobody.here", "password": password }),
        )
        .await;
    assert_error(res, 401, "login_failed", None).await;

    let res = app
        .post(
            "/api/v1/staff/sessions",
            &json!({ "username": "ADMIN.LI", "password": password }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    app.refresh_csrf().await;
    let res = app.get("/api/v1/staff/me").await;
    assert_error(res, 401, "second_factor_required", None).await;
    let res = app
        .post("/api/v1/staff/enrolment", &json!({ "code": "000000" }))
        .await;
    // (A one-in-a-million chance that 000000 is the right code.)
    assert_error(res, 401, "second_factor_wrong", Some("code")).await;
    let enrolment: Value = app
        .get("/api/v1/staff/enrolment")
        .await
        .json()
        .await
        .unwrap();
    let secret = enrolment["secret"].as_str().unwrap().to_owned();
    let used = current_code(&secret, OffsetDateTime::now_utc()).unwrap();
    let res = app
        .post("/api/v1/staff/enrolment", &json!({ "code": used }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let codes = res.json::<Value>().await.unwrap()["recovery_codes"].clone();
    assert_eq!(codes.as_array().unwrap().len(), 10);
    app.refresh_csrf().await;
    let me: Value = app.get("/api/v1/staff/me").await.json().await.unwrap();
    assert_eq!(me["role"], "admin");
    assert_eq!(me["enrolled"], true);

    // Log in again: the code already used is refused (RFC 6238 5.2), a recovery code
    // works once.
    let mut again = app.other_client().await;
    let res = again
        .post(
            "/api/v1/staff/sessions",
            &json!({ "username": "admin.li", "password": password }),
        )
        .await;
    assert_eq!(
        res.json::<Value>().await.unwrap()["second_factor"],
        "verify"
    );
    again.refresh_csrf().await;
    let res = again
        .post("/api/v1/staff/second-factor", &json!({ "code": used }))
        .await;
    assert_error(res, 401, "second_factor_wrong", Some("code")).await;
    let recovery = codes[0].as_str().unwrap().to_uppercase();
    let res = again
        .post("/api/v1/staff/second-factor", &json!({ "code": recovery }))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    again.refresh_csrf().await;
    assert_eq!(again.get("/api/v1/staff/me").await.status(), StatusCode::OK);

    let mut third = app.other_client().await;
    third
        .post(
            "/api/v1/staff/sessions",
            &json!({ "username": "admin.li", "password": password }),
        )
        .await;
    third.refresh_csrf().await;
    let res = third
        .post("/api/v1/staff/second-factor", &json!({ "code": recovery }))
        .await;
    assert_error(res, 401, "second_factor_wrong", Some("code")).await;
    assert_eq!(
        third.get("/api/v1/staff/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

// R-SEC-1: each role does only its own work; R-SEC-3: a disabled account's session
// ends at once and it cannot log in; patients are not staff.
pub async fn roles_are_least_privilege_and_disabling_is_immediate(db: Db) {
    let mut admin = spawn_app(db).await;
    let password = create(&admin, "admin.li", "admin").await;
    log_in_and_enrol(&admin, "admin.li", &password).await;
    admin.refresh_csrf().await;

    let second = logged_in_admin(&admin, "admin.zhou").await;
    let (op_id, op_password, mut op) = onboard(
        &admin,
        &second,
        json!({ "username": "op.wang", "display_name": "王芳", "role": "operator", "phone": "13700137001" }),
    )
    .await;
    let res = admin
        .post(
            "/api/v1/staff/accounts",
            &json!({ "username": "op.wang", "display_name": "王芳", "role": "operator", "phone": "13700137002" }),
        )
        .await;
    assert_error(res, 409, "staff_username_taken", Some("username")).await;
    let res = admin
        .post(
            "/api/v1/staff/accounts",
            &json!({ "username": "op.li", "display_name": "王芳", "role": "operator", "phone": "1370013" }),
        )
        .await;
    assert_error(res, 422, "phone_invalid", Some("phone")).await;
    let res = admin
        .post(
            "/api/v1/staff/accounts",
            &json!({ "username": "x", "display_name": "王芳", "role": "operator" }),
        )
        .await;
    assert_error(res, 422, "staff_username_invalid", Some("username")).await;
    let res = admin
        .post(
            "/api/v1/staff/accounts",
            &json!({ "username": "root.user", "display_name": "王芳", "role": "root" }),
        )
        .await;
    assert_error(res, 422, "staff_role_invalid", Some("role")).await;

    op.refresh_csrf().await;
    assert_eq!(op.get("/api/v1/staff/me").await.status(), StatusCode::OK);
    let res = op.get("/api/v1/staff/accounts").await;
    assert_error(res, 403, "forbidden", None).await;
    let res = op
        .post(
            "/api/v1/staff/accounts",
            &json!({ "username": "op.two", "display_name": "王芳", "role": "admin" }),
        )
        .await;
    assert_error(res, 403, "forbidden", None).await;

    let auditor_password = create(&admin, "audit.zhao", "auditor").await;
    let mut auditor = admin.other_client().await;
    log_in_and_enrol(&auditor, "audit.zhao", &auditor_password).await;
    auditor.refresh_csrf().await;
    let res = auditor
        .put(
            &format!("/api/v1/staff/accounts/{op_id}/disabled"),
            &json!({ "disabled": true }),
        )
        .await;
    assert_error(res, 403, "forbidden", None).await;

    // Disabled: the operator's open session stops now, and logging in fails.
    let res = admin
        .put(
            &format!("/api/v1/staff/accounts/{op_id}/disabled"),
            &json!({ "disabled": true }),
        )
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["change"], "disabled");
    let res = op.get("/api/v1/staff/me").await;
    assert_error(res, 401, "unauthenticated", None).await;
    let res = op
        .post(
            "/api/v1/staff/sessions",
            &json!({ "username": "op.wang", "password": op_password }),
        )
        .await;
    assert_error(res, 401, "login_failed", None).await;
    let list: Value = admin
        .get("/api/v1/staff/accounts")
        .await
        .json()
        .await
        .unwrap();
    let op_row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == op_id)
        .unwrap()
        .clone();
    assert_eq!(op_row["disabled"], true);

    // A patient session is not a staff session.
    let mut patient = admin.other_client().await;
    assert_eq!(
        patient
            .register("13800138000", "110101199003071233")
            .await
            .status(),
        StatusCode::CREATED
    );
    let res = patient.get("/api/v1/staff/me").await;
    assert_error(res, 401, "unauthenticated", None).await;
    let res = patient.get("/api/v1/staff/accounts").await;
    assert_error(res, 401, "unauthenticated", None).await;

    let audit = admin
        .state
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            admin.state.db.get_database_backend(),
            "SELECT action FROM audit_log WHERE action LIKE 'staff_%' ORDER BY id",
        ))
        .await
        .unwrap();
    let actions: Vec<String> = audit
        .iter()
        .map(|r| r.try_get::<String>("", "action").unwrap())
        .collect();
    for needed in [
        "staff_created",
        "staff_enrolled",
        "staff_disabled",
        "staff_login_failed",
    ] {
        assert!(actions.iter().any(|a| a == needed), "{needed}: {actions:?}");
    }
}

// R-SEC-3: a staff session ends after its idle limit (here set to zero minutes, so the
// next request is already past it), independently of the patients' longer one.
pub async fn idle_staff_sessions_end(db: Db) {
    let app = crate::helpers::spawn_app_with(db, |c| c.staff_idle_minutes = 0).await;
    let password = create(&app, "op.wang", "operator").await;
    log_in_and_enrol(&app, "op.wang", &password).await;
    let res = app.get("/api/v1/staff/me").await;
    assert_error(res, 401, "unauthenticated", None).await;
}

// R-SEC-1: each staff desk is a page of its own, answered only to a role whose permission
// it needs (anyone else gets "not found", as for a page that does not exist), and the
// home lists exactly the desks of the role.
pub async fn each_desk_is_a_page_for_the_roles_that_work_there(db: Db) {
    let app = spawn_app(db).await;
    let desks = [
        ("/staff/proofs", "queue-count"),
        ("/staff/schedule", "scheduling"),
        ("/staff/orders", "staff-orders"),
        ("/staff/reconciliation", "reconciliation"),
        ("/staff/accounts", "created-or-table"),
        ("/staff/desk", "desk"),
    ];
    // Which desks each role works at (a doctor's desk needs a directory entry: none here).
    for (role, works_at) in [
        (
            "operator",
            &[
                "/staff/proofs",
                "/staff/schedule",
                "/staff/orders",
                "/staff/reconciliation",
            ][..],
        ),
        ("doctor", &["/staff/proofs"][..]),
        ("auditor", &["/staff/proofs"][..]),
        ("pharmacist", &[][..]),
        ("admin", &["/staff/accounts"][..]),
    ] {
        let member = crate::proofs::staff_client(&app, &format!("desk.{role}"), role).await;
        let home = member.page_text("/staff").await;
        for (path, mark) in desks {
            let listed = home.contains(&format!("href=\"{path}\""));
            assert_eq!(listed, works_at.contains(&path), "{role}'s home and {path}");
            let res = member.page(path).await;
            if works_at.contains(&path) {
                assert_eq!(res.status(), StatusCode::OK, "{role} at {path}");
                let page = res.text().await.unwrap();
                if mark != "created-or-table" {
                    assert!(
                        page.contains(&format!("data-testid=\"{mark}\"")),
                        "{role} at {path}"
                    );
                } else {
                    assert!(page.contains("<table"), "{role} at {path}");
                }
            } else {
                assert_eq!(res.status(), StatusCode::NOT_FOUND, "{role} at {path}");
            }
        }
    }
    // Without a staff login, a desk sends to the staff login.
    let res = app.page("/staff/orders").await;
    assert!(
        res.status().is_redirection() || res.url().path() == "/staff/login",
        "{}",
        res.status()
    );
}

// Security review, item 9 (R-SEC-3): looking at the enrolment again shows the same secret
// and writes nothing; the code from the secret first shown completes the enrolment.
pub async fn viewing_the_enrolment_writes_no_new_secret(db: Db) {
    let app = spawn_app(db).await;
    let password = create(&app, "op.view", "operator").await;
    let res = app
        .post(
            "/api/v1/staff/sessions",
            &json!({ "username": "op.view", "password": password }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let pending = || async {
        let row = app
            .state
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                app.state.db.get_database_backend(),
                "SELECT totp_pending_cipher FROM staff WHERE username = 'op.view'",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<Option<String>>("", "totp_pending_cipher")
            .unwrap()
    };
    let mut shown = Vec::new();
    let mut stored = Vec::new();
    for _ in 0..3 {
        let e: Value = app
            .get("/api/v1/staff/enrolment")
            .await
            .json()
            .await
            .unwrap();
        shown.push(e["secret"].as_str().unwrap().to_owned());
        stored.push(pending().await);
    }
    assert!(shown.iter().all(|s| *s == shown[0]), "{shown:?}");
    assert!(stored[0].is_some() && stored.iter().all(|s| *s == stored[0]));
    let code = current_code(&shown[0], OffsetDateTime::now_utc()).unwrap();
    let res = app
        .post("/api/v1/staff/enrolment", &json!({ "code": code }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

// Security review, item 9 (R-SEC-3): a staff session ends at its absolute lifetime
// however busy it is (here none: it ends at once, while the idle limit is far away).
pub async fn staff_sessions_end_at_their_absolute_lifetime(db: Db) {
    let app = crate::helpers::spawn_app_with(db, |c| {
        c.staff_session_hours = 0;
        c.staff_idle_minutes = 600;
    })
    .await;
    let password = create(&app, "op.long", "operator").await;
    log_in_and_enrol(&app, "op.long", &password).await;
    let res = app.get("/api/v1/staff/me").await;
    assert_error(res, 401, "unauthenticated", None).await;
}

// Security review item 1 (R-SEC-1: system maintenance apart from business operation):
// the attack path. An admin makes an operator and tries to become it: no password or
// code reaches them, they cannot approve their own request or log in as the account,
// and their own login opens no proof, file, order or price. A second admin's approval
// sends the code to the owner's phone alone; two approvals at once approve once.
// Re-enabling a disabled account needs the second admin again.
pub async fn an_admin_cannot_reach_patient_data_through_an_account_they_create(db: Db) {
    let patient = crate::helpers::spawn_patient(db).await;
    let form = crate::proofs::upload_form(
        "key-attack-01",
        vec![("a.jpg", crate::proofs::jpeg(300, 200))],
    );
    let res = crate::proofs::upload(&patient, form).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let number = res.json::<Value>().await.unwrap()["proof_number"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin = logged_in_admin(&patient, "admin.li").await;
    let second = logged_in_admin(&patient, "admin.zhou").await;
    let third = logged_in_admin(&patient, "admin.wu").await;

    // The admin's own login opens no patient data and no money.
    for path in [
        "/api/v1/staff/proofs".to_owned(),
        format!("/api/v1/staff/proofs/{number}/files/1"),
        "/api/v1/staff/orders".to_owned(),
    ] {
        let res = admin.get(&path).await;
        assert_error(res, 403, "forbidden", None).await;
    }
    let res = admin
        .post(
            "/api/v1/staff/doctors",
            &json!({ "name": "王医生", "department": "cardiology", "title": "attending", "licence_number": "110000000000001", "practising_since": "2015-01-01", "fee_yuan": 40 }),
        )
        .await;
    assert_error(res, 403, "forbidden", None).await;

    // Asking for an operator: the answer carries no password and no code.
    let phone = "13700137009";
    let res = admin
        .post(
            "/api/v1/staff/accounts",
            &json!({ "username": "op.mole", "display_name": "王芳", "role": "operator", "phone": phone }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let asked: Value = res.json().await.unwrap();
    let id = asked["id"].as_i64().unwrap();
    assert!(asked.get("initial_password").is_none(), "{asked}");
    assert_eq!(
        asked["approval_requested_by"],
        json!(admin_id(&admin).await)
    );
    assert_eq!(patient.outbox_len(phone), 0, "no code before the approval");

    // Not by the one who asked; and the account cannot be logged into meanwhile.
    let res = admin
        .post(&format!("/api/v1/staff/accounts/{id}/approval"), &json!({}))
        .await;
    assert_error(res, 403, "second_admin_required", None).await;
    let mole = patient.other_client().await;
    for password in ["", "a calm river at dawn"] {
        let res = mole
            .post(
                "/api/v1/staff/sessions",
                &json!({ "username": "op.mole", "password": password }),
            )
            .await;
        assert_error(res, 401, "login_failed", None).await;
    }
    let res = mole.get("/api/v1/staff/enrolment").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = mole
        .post(
            "/api/v1/staff/activation",
            &json!({ "username": "op.mole", "code": "abcde-fghjk", "password": "a calm river at dawn" }),
        )
        .await;
    assert_error(res, 401, "activation_failed", Some("code")).await;

    // Two other admins approve at once: one approval, one code.
    let approval = format!("/api/v1/staff/accounts/{id}/approval");
    let empty = json!({});
    let (a, b) = tokio::join!(
        second.post(&approval, &empty),
        third.post(&approval, &empty)
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [204, 404]);
    let code = activation_code(&patient, phone).await;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert_eq!(patient.outbox_len(phone), 1);
    assert_eq!(
        count(
            &patient,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'staff_approved'"
        )
        .await,
        1
    );
    // The admin's view of the account holds nothing of the code.
    let accounts = admin
        .get("/api/v1/staff/accounts")
        .await
        .text()
        .await
        .unwrap();
    assert!(!accounts.contains(&code) && !accounts.contains(&code.replace('-', "")));
    // The approver checks the phone the code goes to, masked.
    assert!(accounts.contains("137****7009"), "{accounts}");
    assert!(!accounts.contains(phone));

    // The owner activates once with their own password; the code is then spent.
    let owner = patient.other_client().await;
    let activation = json!({ "username": "op.mole", "code": code.to_uppercase(), "password": "the owner's own words" });
    let res = owner.post("/api/v1/staff/activation", &activation).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = mole.post("/api/v1/staff/activation", &activation).await;
    assert_error(res, 401, "activation_failed", Some("code")).await;
    let (_, _, _) = enrol(&owner).await;
    let mut owner = owner;
    owner.refresh_csrf().await;
    assert_eq!(
        owner.get("/api/v1/staff/proofs").await.status(),
        StatusCode::OK
    );

    // Disabled, then re-enabled: it waits for a second admin, and stays shut till then.
    let disabled = format!("/api/v1/staff/accounts/{id}/disabled");
    let res = admin.put(&disabled, &json!({ "disabled": true })).await;
    assert_eq!(res.json::<Value>().await.unwrap()["change"], "disabled");
    let res = admin.put(&disabled, &json!({ "disabled": false })).await;
    assert_eq!(
        res.json::<Value>().await.unwrap()["change"],
        "enable_requested"
    );
    let login = json!({ "username": "op.mole", "password": "the owner's own words" });
    let res = owner.post("/api/v1/staff/sessions", &login).await;
    assert_error(res, 401, "login_failed", None).await;
    let res = admin.post(&approval, &json!({})).await;
    assert_error(res, 403, "second_admin_required", None).await;
    let res = second.post(&approval, &json!({})).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = owner.post("/api/v1/staff/sessions", &login).await;
    assert_eq!(
        res.json::<Value>().await.unwrap()["second_factor"],
        "verify"
    );
    // No second code: the owner already has a password.
    assert_eq!(patient.outbox_len(phone), 1);

    for action in [
        "staff_approval_requested",
        "staff_approved",
        "staff_activation_sent",
        "staff_activated",
    ] {
        let n = count(
            &patient,
            &format!("SELECT COUNT(*) AS n FROM audit_log WHERE action = '{action}'"),
        )
        .await;
        assert!(n >= 1, "{action}");
    }
}

async fn admin_id(admin: &TestApp) -> i64 {
    admin
        .get("/api/v1/staff/me")
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    crate::booking::number(app, sql).await
}
