//! The medical record (R-EMR-1 … R-EMR-4): revisions while a draft, confirmed with the
//! consult's completion, archived for good (the database refuses changes), addenda, the
//! patient's reading and "who viewed my record".
use crate::booking::number;
use crate::consult::{paid_consult, say, uuid};
use crate::helpers::{Db, assert_error};
use crate::payments::order_status;
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

fn draft(revision: i64, advice: &str) -> Value {
    json!({
        "revision": revision,
        "chief_complaint": "血压控制不佳两周",
        "present_illness": "规律服用氨氯地平 5mg，晨起血压 150/95 mmHg。",
        "icd10": "I10",
        "advice": advice,
        "follow_up": "两周后复诊",
    })
}

// R-EMR-1, R-EMR-3, R-EMR-4: every save is a revision with author and time; a stale save
// is refused; completing needs a complete record with an approved diagnosis, archives it
// with a hash linked to the person's previous record, and the database then refuses any
// change; corrections are addenda; the patient reads it with their one number.
pub async fn a_completed_consult_archives_its_record_for_good(db: Db) {
    let p = paid_consult(db, "text").await;
    let record = format!("/api/v1/staff/consults/{}/record", p.consult);
    let complete = format!("/api/v1/staff/consults/{}/completion", p.consult);
    // No record yet: the consult cannot be completed.
    assert_error(
        p.doctor.post(&complete, &json!({ "revision": 0 })).await,
        409,
        "record_required",
        None,
    )
    .await;
    let res = p.doctor.put(&record, &draft(0, "")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let saved: Value = res.json().await.unwrap();
    assert_eq!(saved["revision"], 1);
    assert_eq!(saved["status"], "draft");
    // Incomplete (no advice): not confirmable, and the field is named.
    assert_error(
        p.doctor.post(&complete, &json!({ "revision": 1 })).await,
        422,
        "record_field_missing",
        Some("advice"),
    )
    .await;
    let res = p
        .doctor
        .put(&record, &draft(1, "氨氯地平加至 10mg 每日一次"))
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["revision"], 2);
    // A save from a stale page (revision 1 again) is refused and changes nothing.
    assert_error(
        p.doctor.put(&record, &draft(1, "别的")).await,
        409,
        "record_changed",
        None,
    )
    .await;
    // A diagnosis that is not the patient's approved one is refused at confirmation.
    let mut other = draft(2, "氨氯地平加至 10mg 每日一次");
    other["icd10"] = json!("E11.9");
    assert_eq!(p.doctor.put(&record, &other).await.status(), StatusCode::OK);
    assert_error(
        p.doctor.post(&complete, &json!({ "revision": 3 })).await,
        422,
        "record_diagnosis_invalid",
        Some("icd10"),
    )
    .await;
    assert_eq!(
        p.doctor
            .put(&record, &draft(3, "氨氯地平加至 10mg 每日一次"))
            .await
            .status(),
        StatusCode::OK
    );
    let revisions: Value = p.doctor.get(&record).await.json().await.unwrap();
    assert_eq!(
        revisions["revisions"].as_array().unwrap().len(),
        4,
        "{revisions}"
    );
    assert_eq!(
        revisions["revisions"][0]["author_name"],
        revisions["revisions"][3]["author_name"]
    );

    // The patient sees no draft.
    let mine: Value = p.patient.get("/api/v1/records").await.json().await.unwrap();
    assert_eq!(mine.as_array().unwrap().len(), 0);

    let res = p.doctor.post(&complete, &json!({ "revision": 4 })).await;
    assert_eq!(res.status(), StatusCode::OK);
    let archived: Value = res.json().await.unwrap();
    assert_eq!(archived["status"], "archived");
    assert_eq!(archived["prev_hash"], "", "the person's first record");
    let hash = archived["content_hash"].as_str().unwrap().to_owned();
    assert_eq!(hash.len(), 64);
    let view: Value = p
        .patient
        .get(&format!("/api/v1/consults/{}", p.consult))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["status"], "completed");
    assert_eq!(view["record_number"], archived["record_number"]);
    // Completed without a chat answer: the record is the service.
    assert_eq!(order_status(&p.patient, &p.order).await, "served");
    let told = "SELECT COUNT(*) AS n FROM message WHERE kind = 'consult_completed'";
    assert_eq!(number(&p.patient, told).await, 1);

    // Archived: no save, no second completion; the database itself refuses changes.
    assert_error(
        p.doctor.put(&record, &draft(4, "改")).await,
        409,
        "consult_ended",
        None,
    )
    .await;
    assert_error(
        p.doctor.post(&complete, &json!({ "revision": 4 })).await,
        409,
        "consult_ended",
        None,
    )
    .await;
    let db = &p.patient.state.db;
    for sql in [
        "UPDATE medical_record SET advice = 'tampered'",
        "DELETE FROM medical_record",
        "UPDATE record_revision SET body = '{}'",
        "DELETE FROM record_revision",
        "UPDATE consult_message SET body = 'tampered'",
        "DELETE FROM consult_message",
    ] {
        assert!(
            db.execute_unprepared(sql).await.is_err(),
            "{sql} must be refused"
        );
    }

    // A correction is a signed addendum beside it.
    let add = format!("/api/v1/staff/consults/{}/record/addenda", p.consult);
    assert_error(
        p.doctor.post(&add, &json!({ "body": " " })).await,
        422,
        "record_field_missing",
        Some("body"),
    )
    .await;
    let res = p
        .doctor
        .post(&add, &json!({ "body": "补充：如出现头晕请及时就医。" }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // R-EMR-4: the patient reads it, with the addendum and their one patient number.
    let mine: Value = p.patient.get("/api/v1/records").await.json().await.unwrap();
    assert_eq!(mine[0]["record_number"], archived["record_number"]);
    assert_eq!(mine[0]["text"]["advice"], "氨氯地平加至 10mg 每日一次");
    assert_eq!(
        mine[0]["addenda"][0]["body"],
        "补充：如出现头晕请及时就医。"
    );
    assert_eq!(mine[0]["content_hash"], hash.as_str());
    let patient_number = number(&p.patient, "SELECT COUNT(*) AS n FROM patient").await;
    assert_eq!(patient_number, 1);
    assert!(mine[0]["person_number"].as_str().unwrap().len() > 4);
    let one = p
        .patient
        .get(&format!(
            "/api/v1/records/{}",
            archived["record_number"].as_str().unwrap()
        ))
        .await;
    assert_eq!(one.status(), StatusCode::OK);
    // Another account cannot read it.
    let mut other = p.patient.other_client().await;
    assert_eq!(
        other
            .register("13800138111", "110105198001010032")
            .await
            .status(),
        StatusCode::CREATED
    );
    let theirs = other
        .get(&format!(
            "/api/v1/records/{}",
            archived["record_number"].as_str().unwrap()
        ))
        .await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
}

// R-EMR-2: every staff read and print of a patient's consult or record is logged, and
// the patient sees who, in which role, when and why.
pub async fn patients_see_who_viewed_their_record(db: Db) {
    let p = paid_consult(db, "text").await;
    let log: Value = p
        .patient
        .get("/api/v1/records/access-log")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(log.as_array().unwrap().len(), 0);
    let opened = p
        .doctor
        .get(&format!("/api/v1/staff/consults/{}", p.consult))
        .await;
    assert_eq!(opened.status(), StatusCode::OK);
    let brief: Value = opened.json().await.unwrap();
    // R-CONS-2: the doctor sees the approved diagnosis with its proof before answering.
    assert_eq!(brief["patient"]["diagnoses"][0]["icd10"], "I10", "{brief}");
    assert!(brief["patient"]["age"].as_u64().unwrap() >= 18);
    let print = format!("/api/v1/staff/consults/{}/record/print", p.consult);
    assert_error(
        p.doctor
            .post(&print, &json!({ "reason": "患者要求" }))
            .await,
        409,
        "record_required",
        None,
    )
    .await;
    let res = p
        .doctor
        .put(
            &format!("/api/v1/staff/consults/{}/record", p.consult),
            &draft(0, "继续服药"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        p.doctor
            .post(&print, &json!({ "reason": "患者要求" }))
            .await
            .status(),
        StatusCode::OK
    );
    let log: Value = p
        .patient
        .get("/api/v1/records/access-log")
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    // The refused print showed nothing and is not there; the one that printed is.
    assert_eq!(actions, vec!["print", "read"], "{log}");
    assert_eq!(log[0]["staff_role"], "doctor");
    assert_eq!(log[0]["reason"], "患者要求");
    assert_eq!(log[1]["consult_number"], p.consult.as_str());
    // Reading the chat history as the doctor is a read too.
    let history = p
        .doctor
        .get(&format!("/api/v1/staff/consults/{}/messages", p.consult))
        .await;
    assert_eq!(history.status(), StatusCode::OK);
    let _ = say(
        &p.patient,
        &format!("/api/v1/consults/{}/messages", p.consult),
        &uuid(),
        "您好",
    )
    .await;
    let audit = "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'consult_viewed'";
    assert_eq!(
        number(&p.patient, audit).await,
        3,
        "the opening, the print and the history"
    );
}
