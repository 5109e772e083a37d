//! The conversation beyond text (R-CONS-1, R-CONS-4): images through the upload pipeline,
//! recalls that keep the original, read receipts and typing over the connection, unread
//! counts, and the SMS nudge for an unread message.
use crate::booking::number;
use crate::chat::{connect, next, send};
use crate::consult::{paid_consult, paid_consult_with, say, uuid};
use crate::helpers::{Db, assert_error};
use crate::proofs::{jpeg, pdf};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use time::OffsetDateTime;

fn upload_form(key: &str, client_id: Option<&str>, bytes: Vec<u8>, name: &str) -> Form {
    let mut form = Form::new()
        .text("upload_key", key.to_owned())
        .part("file", Part::bytes(bytes).file_name(name.to_owned()));
    if let Some(id) = client_id {
        form = form.text("client_id", id.to_owned());
    }
    form
}

async fn upload(app: &crate::helpers::TestApp, path: &str, form: Form) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("x-csrf-token", &app.csrf)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

// R-CONS-1, R-CONS-4: a photo goes through the upload pipeline (re-encoded, with a
// thumbnail) once per key, is sent as a message, and both sides fetch it; another
// account cannot. A recall is a new entry: the text disappears from the view, the log
// keeps it. Only one's own message is recalled.
pub async fn images_and_recalls_are_kept_with_who_and_when(db: Db) {
    let p = paid_consult(db, "image_text").await;
    let files = format!("/api/v1/consults/{}/files", p.consult);
    let res = upload(
        &p.patient,
        &files,
        upload_form("photo-key-1", None, jpeg(1200, 900), "a.jpg"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED, "{:?}", res.text().await);
    let file = res.json::<Value>().await.unwrap()["file"].clone();
    assert_eq!(
        (file["kind"].as_str(), file["width"].as_u64()),
        (Some("jpeg"), Some(1200))
    );
    // A retry with the same key: the same file, nothing stored twice.
    let again = upload(
        &p.patient,
        &files,
        upload_form("photo-key-1", None, jpeg(1200, 900), "a.jpg"),
    )
    .await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(
        again.json::<Value>().await.unwrap()["file"]["number"],
        file["number"]
    );
    assert_eq!(
        number(&p.patient, "SELECT COUNT(*) AS n FROM consult_file").await,
        1
    );
    // Not an image: refused by content, whatever its name.
    let bad = upload(
        &p.patient,
        &files,
        upload_form("photo-key-2", None, b"<html>".to_vec(), "x.jpg"),
    )
    .await;
    assert_error(bad, 422, "file_type_refused", Some("files")).await;

    let path = format!("/api/v1/consults/{}/messages", p.consult);
    let id = uuid();
    let res = p
        .patient
        .post(&path, &json!({ "client_id": id, "file": file["number"] }))
        .await;
    assert_eq!(res.status(), StatusCode::OK, "{:?}", res.text().await);
    let file_seq = res.json::<Value>().await.unwrap()["seq"].as_i64().unwrap();
    // The page's form sends a PDF in one go.
    let form_id = uuid();
    let res = upload(
        &p.patient,
        &format!("/forms/consults/{}/files", p.consult),
        upload_form("pdf-key-1", Some(&form_id), pdf(), "r.pdf")
            .text("csrf_token", p.patient.csrf.clone()),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let history: Value = p
        .doctor
        .get(&format!("/api/v1/staff/consults/{}/messages", p.consult))
        .await
        .json()
        .await
        .unwrap();
    let entries = history["entries"].as_array().unwrap();
    let photo = entries.iter().find(|e| e["seq"] == file_seq).unwrap();
    assert_eq!(photo["kind"], "file");
    let number_ = photo["file"]["number"].as_str().unwrap();
    assert!(
        entries.iter().any(|e| e["file"]["kind"] == "pdf"),
        "{history}"
    );
    let doc_file = p
        .doctor
        .get(&format!(
            "/api/v1/staff/consults/{}/files/{number_}?thumbnail=true",
            p.consult
        ))
        .await;
    assert_eq!(doc_file.status(), StatusCode::OK);
    assert_eq!(doc_file.headers()["content-type"], "image/jpeg");
    assert!(
        doc_file.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    let thumb = image::load_from_memory(&doc_file.bytes().await.unwrap()).unwrap();
    assert!(thumb.width() <= 320);
    let mut other = p.patient.other_client().await;
    assert_eq!(
        other
            .register("13800138111", "110105198001010032")
            .await
            .status(),
        StatusCode::CREATED
    );
    let theirs = other
        .get(&format!("/api/v1/consults/{}/files/{number_}", p.consult))
        .await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);

    // Recalls.
    let said: Value = say(&p.patient, &path, &uuid(), "发错了")
        .await
        .json()
        .await
        .unwrap();
    let seq = said["seq"].as_i64().unwrap();
    let doctor_said: Value = say(
        &p.doctor,
        &format!("/api/v1/staff/consults/{}/messages", p.consult),
        &uuid(),
        "收到",
    )
    .await
    .json()
    .await
    .unwrap();
    let recall = format!("/api/v1/consults/{}/recall", p.consult);
    let res = p
        .patient
        .post(
            &recall,
            &json!({ "client_id": uuid(), "seq": doctor_said["seq"] }),
        )
        .await;
    assert_error(res, 409, "recall_refused", None).await;
    let res = p
        .patient
        .post(&recall, &json!({ "client_id": uuid(), "seq": seq }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let history: Value = p
        .patient
        .get(&format!("{path}?after={}", seq - 1))
        .await
        .json()
        .await
        .unwrap();
    let original = &history["entries"][0];
    assert_eq!(original["seq"], seq);
    assert!(original.get("text").is_none(), "recalled: {original}");
    let recalled = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "recall")
        .unwrap();
    assert_eq!(recalled["recalls"], seq);
    // The log keeps the original with who and when (R-CONS-4).
    let kept = format!(
        "SELECT COUNT(*) AS n FROM consult_message WHERE seq = {seq} AND body = '发错了' AND author_id IS NOT NULL"
    );
    assert_eq!(number(&p.patient, &kept).await, 1);
}

// R-CONS-1: read receipts and typing reach the other side's connection; unread counts
// follow the read mark; an unread doctor message nudges the patient by SMS once, after
// the configured minutes, and not again within the hour.
pub async fn read_receipts_typing_unread_and_the_nudge(db: Db) {
    let p = paid_consult_with(db, "text", |c| c.chat_nudge_minutes = 10).await;
    let mut patient = connect(&p.patient, "/api/v1/consults/socket")
        .await
        .unwrap();
    let mut doctor = connect(&p.doctor, "/api/v1/staff/consults/socket")
        .await
        .unwrap();
    for ws in [&mut patient, &mut doctor] {
        send(
            ws,
            json!({ "type": "hello", "consults": [{ "consult": p.consult, "after": 0 }] }),
        )
        .await;
        while next(ws).await.unwrap()["type"] != "live" {}
    }
    send(
        &mut doctor,
        json!({ "type": "typing", "consult": p.consult }),
    )
    .await;
    let f = next(&mut patient).await.unwrap();
    assert_eq!(
        (f["type"].as_str(), f["side"].as_str()),
        (Some("typing"), Some("doctor"))
    );
    send(&mut doctor, json!({ "type": "send", "consult": p.consult, "client_id": uuid(), "text": "请问今天血压多少？" })).await;
    let mut seq = 0;
    while seq == 0 {
        let f = next(&mut patient).await.unwrap();
        if f["type"] == "entry" && f["kind"] == "text" {
            seq = f["seq"].as_i64().unwrap();
        }
    }
    let view: Value = p
        .patient
        .get(&format!("/api/v1/consults/{}", p.consult))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["unread"], 1);

    // Ten minutes unread: one nudge (message centre and SMS); again at once: none.
    let sent_at = number(
        &p.patient,
        &format!("SELECT created_at AS n FROM consult_message WHERE seq = {seq}"),
    )
    .await;
    let at = |ts: i64| OffsetDateTime::from_unix_timestamp(ts).unwrap();
    assert_eq!(
        server::chat::service::nudge_unread(&p.patient.state, at(sent_at + 599))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        server::chat::service::nudge_unread(&p.patient.state, at(sent_at + 600))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        server::chat::service::nudge_unread(&p.patient.state, at(sent_at + 1200))
            .await
            .unwrap(),
        0
    );
    let nudges = "SELECT COUNT(*) AS n FROM message WHERE kind = 'consult_reply'";
    assert_eq!(number(&p.patient, nudges).await, 1);
    // The SMS goes out after the commit.
    let mut outbox = Value::Null;
    for _ in 0..50 {
        outbox = p.patient.outbox("13800138000").await;
        if outbox.to_string().contains("医生回复了您") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(outbox.to_string().contains("医生回复了您"), "{outbox}");

    // The patient reads: the doctor sees the receipt; unread drops to 0.
    send(
        &mut patient,
        json!({ "type": "read", "consult": p.consult, "seq": seq }),
    )
    .await;
    loop {
        let f = next(&mut doctor).await.unwrap();
        if f["type"] == "read" {
            assert_eq!(
                (f["side"].as_str(), f["seq"].as_i64()),
                (Some("patient"), Some(seq))
            );
            break;
        }
    }
    let view: Value = p
        .patient
        .get(&format!("/api/v1/consults/{}", p.consult))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["unread"], 0);
    let doctor_view: Value = p
        .doctor
        .get("/api/v1/staff/consults/desk")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        doctor_view["in_progress"][0]["consult"]["other_read_seq"],
        seq
    );
    // Read marks never go back, nor past the end.
    send(
        &mut patient,
        json!({ "type": "read", "consult": p.consult, "seq": 1 }),
    )
    .await;
    send(
        &mut patient,
        json!({ "type": "read", "consult": p.consult, "seq": 10_000 }),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let read = number(
        &p.patient,
        &format!(
            "SELECT patient_read_seq AS n FROM consult WHERE consult_number = '{}'",
            p.consult
        ),
    )
    .await;
    assert_eq!(read, seq);
}

// R-CONS-1: a patient's message the doctor leaves unread for the nudge time texts the
// doctor's phone once (the consult's number, no patient data), not again within the hour.
pub async fn an_unread_patient_message_texts_the_doctor(db: Db) {
    use sea_orm::ConnectionTrait;
    let p = paid_consult_with(db, "text", |c| c.chat_nudge_minutes = 10).await;
    let state = &p.patient.state;
    let staff_id = number(
        &p.patient,
        "SELECT id AS n FROM staff WHERE username = 'dr.consult'",
    )
    .await;
    let cipher = state
        .crypto
        .encrypt(
            "13700137000",
            &server::staff::totp::totp_context(staff_id, "phone"),
        )
        .unwrap();
    state
        .db
        .execute_unprepared(&format!(
            "UPDATE staff SET phone_cipher = '{cipher}' WHERE id = {staff_id}"
        ))
        .await
        .unwrap();
    let sent: Value = say(
        &p.patient,
        &format!("/api/v1/consults/{}/messages", p.consult),
        &uuid(),
        "医生，我头晕。",
    )
    .await
    .json()
    .await
    .unwrap();
    let seq = sent["seq"].as_i64().unwrap();
    let patient_texts = p.patient.outbox_len("13800138000");
    let sent_at = number(
        &p.patient,
        &format!("SELECT created_at AS n FROM consult_message WHERE seq = {seq}"),
    )
    .await;
    let at = |ts: i64| OffsetDateTime::from_unix_timestamp(ts).unwrap();
    let nudge = |ts| server::chat::service::nudge_unread(state, at(ts));
    assert_eq!(nudge(sent_at + 599).await.unwrap(), 0);
    assert_eq!(nudge(sent_at + 600).await.unwrap(), 1);
    assert_eq!(nudge(sent_at + 3000).await.unwrap(), 0);
    let mut outbox = Value::Null;
    for _ in 0..50 {
        outbox = p.patient.outbox("13700137000").await;
        if outbox.to_string().contains("尚未阅读") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let text = outbox.to_string();
    assert!(
        text.contains(&p.consult) && text.contains("尚未阅读"),
        "{outbox}"
    );
    assert!(
        !text.contains("头晕"),
        "the SMS carries no patient data: {outbox}"
    );
    // The patient, who has read everything, is not texted.
    assert_eq!(p.patient.outbox_len("13800138000"), patient_texts);
    // An hour on, still unread: one more.
    assert_eq!(nudge(sent_at + 600 + 3600).await.unwrap(), 1);
}
