//! The conditions list a diagnosis is picked from (R-ELIG-2, R-ELIG-3).
use crate::helpers::{Db, spawn_app};
use serde_json::Value;

// R-ELIG-2: search works on Chinese, pinyin initials, English and the ICD-10 code, for
// anyone (the list is public), and answers at most 20.
pub async fn conditions_are_searched_by_chinese_initials_and_code(db: Db) {
    let app = spawn_app(db).await;
    for q in ["高血压", "gxy", "I10", "hypertension"] {
        let body: Value = app
            .get(&format!("/api/v1/conditions?q={}", urlencode(q)))
            .await
            .json()
            .await
            .unwrap();
        let found = body["conditions"].as_array().unwrap();
        assert!(found.len() <= 20, "{q}");
        let i10 = found.iter().find(|c| c["icd10"] == "I10").expect(q);
        assert_eq!(i10["department"], "cardiology");
        assert_eq!(i10["name_zh"], "原发性高血压");
    }
    let body: Value = app.get("/api/v1/conditions?q=").await.json().await.unwrap();
    assert_eq!(body["conditions"], serde_json::json!([]));
    let res = app.get("/api/v1/conditions?q=%E7%97%85").await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["conditions"].as_array().unwrap().len(), 20, "capped");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
