//! The OpenAPI document is generated from the handlers; these prove it covers every
//! route under /api/v1 with every method the route answers.
use crate::helpers::{Db, spawn_app};
use reqwest::Method;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Every `"/api/v1/…"` string in the server's source: the paths it can route.
fn api_paths_in_source(dir: &Path, found: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            api_paths_in_source(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for piece in text.split("\"/api/v1/").skip(1) {
                let rest = piece.split('"').next().unwrap();
                found.insert(format!("/api/v1/{rest}"));
            }
        }
    }
}

pub async fn every_api_route_is_documented(db: Db) {
    let mut app = spawn_app(db).await;
    let spec: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    assert_eq!(spec["openapi"].as_str().map(|v| &v[..2]), Some("3."));
    let paths = spec["paths"].as_object().unwrap();

    let mut in_source = BTreeSet::new();
    api_paths_in_source(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut in_source,
    );
    in_source.remove("/api/v1/{*rest}"); // the API's own 404
    assert!(in_source.len() >= 10, "the source scan found {in_source:?}");
    let undocumented: Vec<_> = in_source
        .iter()
        .filter(|p| !paths.contains_key(*p))
        .collect();
    assert!(
        undocumented.is_empty(),
        "routed but not in the OpenAPI document: {undocumented:?}"
    );

    // Each documented path answers exactly the documented methods: any other gets 405
    // with `Allow`, which must list no more than the document does. Logged in, so the
    // patient groups' extractors let the method check through.
    assert_eq!(
        app.register("13800138000", "11010519491231002X")
            .await
            .status(),
        201
    );
    // Staff routes need a staff session with both factors.
    let staff = app.other_client().await;
    let password = crate::staff::create(&app, "admin.li", "admin").await;
    staff
        .post(
            "/api/v1/staff/sessions",
            &serde_json::json!({ "username": "admin.li", "password": password }),
        )
        .await;
    let enrolment: Value = staff
        .get("/api/v1/staff/enrolment")
        .await
        .json()
        .await
        .unwrap();
    let code = server::staff::totp::current_code(
        enrolment["secret"].as_str().unwrap(),
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    let res = staff
        .post(
            "/api/v1/staff/enrolment",
            &serde_json::json!({ "code": code }),
        )
        .await;
    assert_eq!(res.status(), 200);
    for (path, item) in paths {
        let client = if path.starts_with("/api/v1/staff/")
            && ![
                "/api/v1/staff/sessions",
                "/api/v1/staff/second-factor",
                "/api/v1/staff/enrolment",
            ]
            .contains(&path.as_str())
        {
            &staff.client
        } else {
            &app.client
        };
        let documented: BTreeSet<String> = METHODS
            .iter()
            .filter(|m| item.get(**m).is_some())
            .map(|m| m.to_uppercase())
            .collect();
        assert!(!documented.is_empty(), "{path} documents no operation");
        let res = client
            .request(Method::OPTIONS, app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 405, "OPTIONS {path}");
        let mut allowed: BTreeSet<String> = res.headers()["allow"]
            .to_str()
            .unwrap()
            .split(',')
            .map(|m| m.trim().to_owned())
            .collect();
        allowed.remove("HEAD"); // implied by GET
        assert_eq!(allowed, documented, "{path}: methods routed vs documented");
        for m in &documented {
            let op = &item[m.to_lowercase()];
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{m} {path}"
            );
            if m != "GET" {
                let csrf = op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|p| p["name"] == "X-CSRF-Token");
                assert!(csrf, "{m} {path} documents the CSRF header");
            }
        }
    }

    // The request and response types are described from the real structs.
    let register = &spec["components"]["schemas"]["Register"]["properties"];
    for field in [
        "phone",
        "code",
        "password",
        "real_name",
        "id_number",
        "consents",
    ] {
        assert!(register.get(field).is_some(), "Register.{field}");
    }
    let codes = &spec["components"]["schemas"]["ErrorBody"]["properties"]["error"]["properties"]["code"]
        ["enum"];
    assert!(
        codes
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "login_failed")
    );
    assert!(
        spec["components"]["schemas"]["PatientProfile"]["properties"]["id_number_masked"]
            .is_object()
    );
}
