//! Diagnosis proofs and the review queue: R-ELIG-2, R-EMR-2, R-SEC-1, R-CONS-5, and the
//! OWASP file-upload rules.
use crate::helpers::{Db, TestApp, assert_error, spawn_patient};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use server::staff::totp::current_code;
use time::OffsetDateTime;

pub(crate) fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::new_rgb8(w, h)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap();
    out.into_inner()
}

/// A one-page PDF, written out with its cross-reference table.
pub(crate) fn pdf() -> Vec<u8> {
    let objects = [
        "<</Type/Catalog/Pages 2 0 R>>",
        "<</Type/Pages/Kids[3 0 R]/Count 1>>",
        "<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>",
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj{body}endobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(b"xref\n0 4\n0000000000 65535 f \n");
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer<</Size 4/Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
    );
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A tiny PNG file that says it is 30,000 x 30,000 pixels: a decompression bomb's header.
fn png_bomb() -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        png.extend_from_slice(&body);
        png.extend_from_slice(&crc32(&body).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&30_000u32.to_be_bytes());
    ihdr.extend_from_slice(&30_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(b"IEND", &[]);
    png
}

/// Named files of one upload.
pub(crate) type Files<'a> = Vec<(&'a str, Vec<u8>)>;

pub(crate) fn upload_form(key: &str, files: Files<'_>) -> Form {
    let mut form = Form::new()
        .text("institution", "北京协和医院")
        .text("diagnosed_on", "2026-06-01")
        .text("icd10", "I10")
        .text("note", "")
        .text("idempotency_key", key.to_owned());
    for (name, bytes) in files {
        form = form.part("files", Part::bytes(bytes).file_name(name.to_owned()));
    }
    form
}

pub(crate) async fn upload(app: &TestApp, form: Form) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/proofs"))
        .header("x-csrf-token", &app.csrf)
        .multipart(form)
        .send()
        .await
        .unwrap()
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

/// Counts the stored files under the data dir's `files/`.
fn stored_files(app: &TestApp) -> usize {
    fn walk(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| {
                        if e.path().is_dir() {
                            walk(&e.path())
                        } else {
                            1
                        }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    walk(&app._dir.path().join("files"))
}

// R-ELIG-2 / OWASP: kinds by content, sizes and pixels bounded, nothing half-stored,
// names never used, a retry finds the first upload.
pub async fn uploads_are_checked_by_content_and_stored_once(db: Db) {
    let app = spawn_patient(db).await;
    let res = upload(
        &app,
        upload_form(
            "key-00000001",
            vec![
                ("../../etc/passwd.jpg", jpeg(1200, 900)),
                ("report.jpg", pdf()),
            ],
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let proof: Value = res.json().await.unwrap();
    assert_eq!(proof["status"], "submitted");
    assert_eq!(proof["diagnosis"], "原发性高血压");
    assert_eq!(proof["department"], "cardiology");
    assert_eq!(proof["files"][0]["kind"], "jpeg");
    assert_eq!(
        proof["files"][1]["kind"], "pdf",
        "a PDF named .jpg is a PDF"
    );
    let number = proof["proof_number"].as_str().unwrap().to_owned();
    assert_eq!(stored_files(&app), 3, "image, its thumbnail, the PDF");
    assert!(!app._dir.path().join("etc").exists());

    // The same key again (a retry after a lost answer): the first proof, nothing new.
    let again = upload(
        &app,
        upload_form("key-00000001", vec![("a.jpg", jpeg(10, 10))]),
    )
    .await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(
        again.json::<Value>().await.unwrap()["proof_number"],
        json!(number)
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM diagnosis_proof").await,
        1
    );

    // Files are served to the owner as data: the PDF downloads, nothing sniffs.
    let pdf = app.get(&format!("/api/v1/proofs/{number}/files/2")).await;
    assert_eq!(pdf.status(), StatusCode::OK);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(
        pdf.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(pdf.headers()["x-content-type-options"], "nosniff");
    let thumb = app
        .get(&format!("/api/v1/proofs/{number}/files/1?thumbnail=true"))
        .await;
    assert_eq!(thumb.headers()["content-type"], "image/jpeg");
    let thumb = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
    assert!(thumb.width() <= 320);

    let bad: Vec<(&str, Files, u16, &str)> = vec![
        (
            "exe",
            vec![(
                "photo.jpg",
                b"MZ\x90\0\x03\0\0\0 this is a program".to_vec(),
            )],
            422,
            "file_type_refused",
        ),
        ("empty", vec![("empty.jpg", Vec::new())], 422, "file_empty"),
        (
            "bomb",
            vec![("big.png", png_bomb())],
            422,
            "image_too_large",
        ),
        (
            "cut",
            vec![("cut.jpg", {
                let mut j = jpeg(600, 400);
                j.truncate(j.len() / 2);
                j
            })],
            422,
            "file_damaged",
        ),
        ("none", vec![], 422, "files_missing"),
        (
            "six",
            (0..6).map(|_| ("p.jpg", jpeg(20, 20))).collect(),
            422,
            "files_too_many",
        ),
    ];
    for (what, files, status, code) in bad {
        let res = upload(&app, upload_form(&format!("key-bad-{what}"), files)).await;
        assert_error(res, status, code, Some("files")).await;
    }
    // Blocked words in the note name themselves (R-CONS-5).
    let form =
        upload_form("key-words-1", vec![("a.jpg", jpeg(10, 10))]).text("note", "请帮我代开处方");
    let body = assert_error(upload(&app, form).await, 422, "text_blocked", Some("note")).await;
    assert_eq!(body["error"]["words"], json!(["代开处方"]));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("代开处方")
    );
    let form = upload_form("key-code-1", vec![("a.jpg", jpeg(10, 10))]).text("icd10", "Z99.99");
    assert_error(
        upload(&app, form).await,
        422,
        "condition_unknown",
        Some("icd10"),
    )
    .await;
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM diagnosis_proof").await,
        1
    );
    assert_eq!(
        stored_files(&app),
        3,
        "refused uploads leave no file behind"
    );

    // The no-JS form posts multipart with the CSRF token in its action's query; without
    // it nothing is stored.
    let res = app
        .client
        .post(app.url("/forms/proofs"))
        .header("accept", "text/html")
        .multipart(upload_form("key-nocsrf-1", vec![("a.jpg", jpeg(10, 10))]))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection());
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .contains("error=csrf_missing")
    );
    let res = app
        .client
        .post(app.url(&format!("/forms/proofs?csrf_token={}", app.csrf)))
        .header("accept", "text/html")
        .multipart(upload_form("key-form-0001", vec![("a.jpg", jpeg(10, 10))]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/proofs?notice=proof_submitted");
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM diagnosis_proof").await,
        2
    );
    assert_eq!(stored_files(&app), 5);

    // Someone else's proof is not found; a proof is withdrawn once.
    let mut other = app.other_client().await;
    assert_eq!(
        other
            .register("13900139000", "11010119880505123X")
            .await
            .status(),
        StatusCode::CREATED
    );
    let res = other.get(&format!("/api/v1/proofs/{number}/files/1")).await;
    assert_error(res, 404, "not_found", None).await;
    let del = |who: &TestApp| {
        who.client
            .delete(who.url(&format!("/api/v1/proofs/{number}")))
            .header("x-csrf-token", &who.csrf)
            .send()
    };
    assert_error(del(&other).await.unwrap(), 404, "not_found", None).await;
    assert_eq!(del(&app).await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_error(del(&app).await.unwrap(), 409, "proof_not_pending", None).await;
    let list: Value = app.get("/api/v1/proofs").await.json().await.unwrap();
    let first = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["proof_number"] == json!(number))
        .unwrap();
    assert_eq!(first["status"], "withdrawn");
}

pub(crate) async fn staff_client(app: &TestApp, username: &str, role: &str) -> TestApp {
    staff_client_in(app, username, role, None).await
}

/// [`staff_client`] for a staff member of a department (doctors).
pub(crate) async fn staff_client_in(
    app: &TestApp,
    username: &str,
    role: &str,
    department: Option<&str>,
) -> TestApp {
    let password = crate::staff::create_in(app, username, role, department).await;
    let client = app.other_client().await;
    client
        .post(
            "/api/v1/staff/sessions",
            &json!({ "username": username, "password": password }),
        )
        .await;
    let e: Value = client
        .get("/api/v1/staff/enrolment")
        .await
        .json()
        .await
        .unwrap();
    let code = current_code(e["secret"].as_str().unwrap(), OffsetDateTime::now_utc()).unwrap();
    let res = client
        .post("/api/v1/staff/enrolment", &json!({ "code": code }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    client
}

// R-ELIG-2: the queue is oldest first; an operator opens the file (logged, R-EMR-2)
// and decides once; the patient is told in the message centre and by SMS. R-SEC-1: the
// auditor only reads; patients are not staff.
pub async fn operators_review_proofs_once_and_patients_are_told(db: Db) {
    let app = spawn_patient(db).await;
    for key in ["key-first-001", "key-second-02"] {
        let res = upload(&app, upload_form(key, vec![("a.jpg", jpeg(300, 200))])).await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let res = app.get("/api/v1/staff/proofs").await;
    assert_error(res, 401, "unauthenticated", None).await;

    let operator = staff_client(&app, "op.wang", "operator").await;
    let queue: Value = operator
        .get("/api/v1/staff/proofs")
        .await
        .json()
        .await
        .unwrap();
    let queue = queue.as_array().unwrap();
    assert_eq!(queue.len(), 2);
    assert!(
        queue[0]["waiting_secs"].as_i64().unwrap() >= queue[1]["waiting_secs"].as_i64().unwrap()
    );
    let number = queue[0]["proof_number"].as_str().unwrap().to_owned();
    let file = operator
        .get(&format!("/api/v1/staff/proofs/{number}/files/1"))
        .await;
    assert_eq!(file.status(), StatusCode::OK);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'proof_file_viewed'"
        )
        .await,
        1
    );

    let auditor = staff_client(&app, "audit.zhao", "auditor").await;
    assert_eq!(
        auditor.get("/api/v1/staff/proofs").await.status(),
        StatusCode::OK
    );
    let approve = json!({ "decision": "approve", "icd10": "I10", "department": "cardiology" });
    let res = auditor
        .post(&format!("/api/v1/staff/proofs/{number}/decision"), &approve)
        .await;
    assert_error(res, 403, "forbidden", None).await;

    let res = operator
        .post(&format!("/api/v1/staff/proofs/{number}/decision"), &approve)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = operator
        .post(
            &format!("/api/v1/staff/proofs/{number}/decision"),
            &json!({ "decision": "reject", "reason": "unreadable", "note": "" }),
        )
        .await;
    assert_error(res, 409, "proof_not_pending", None).await;

    let second = queue[1]["proof_number"].as_str().unwrap().to_owned();
    let res = operator
        .post(
            &format!("/api/v1/staff/proofs/{second}/decision"),
            &json!({ "decision": "reject", "reason": "unreadable", "note": "照片太模糊" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    let list: Value = app.get("/api/v1/proofs").await.json().await.unwrap();
    let by = |n: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|p| p["proof_number"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(by(&number)["status"], "approved");
    assert_eq!(by(&number)["approved_icd10"], "I10");
    assert_eq!(by(&second)["status"], "rejected");
    assert_eq!(by(&second)["reject_reason"], "unreadable");
    let messages: Value = app.get("/api/v1/messages").await.json().await.unwrap();
    let titles: Vec<&str> = messages["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["title"].as_str().unwrap())
        .collect();
    assert!(
        titles.contains(&"诊断证明已通过审核") && titles.contains(&"诊断证明未通过审核"),
        "{titles:?}"
    );
    let rejected = messages["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "proof_rejected")
        .unwrap();
    assert!(rejected["body"].as_str().unwrap().contains("照片太模糊"));
    // The SMS goes out in the background.
    let mut sms = 0;
    for _ in 0..50 {
        sms = app
            .state
            .sms
            .outbox()
            .map(|o| {
                o.messages_for("13800138000")
                    .iter()
                    .filter(|m| m.body.contains("诊断证明"))
                    .count()
            })
            .unwrap_or(0);
        if sms == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(sms, 2, "one SMS per decision");

    // R-ELIG-1/3: the approved diagnosis makes a consult possible, with its department.
    let ask = |icd10: &str, department: &str| json!({ "icd10": icd10, "department": department });
    let yes: Value = app
        .post("/api/v1/eligibility", &ask("I10", "cardiology"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(yes["eligible"], true, "{yes}");
    assert_eq!(yes["proof_number"], json!(number));
    let other_dept: Value = app
        .post("/api/v1/eligibility", &ask("I10", "neurology"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(other_dept["eligible"], false);
    assert_eq!(other_dept["reason"], "eligibility_wrong_department");
    assert!(
        other_dept["message"]
            .as_str()
            .unwrap()
            .contains("心血管内科")
    );
    let first: Value = app
        .post("/api/v1/eligibility", &ask("E11.9", "endocrinology"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["reason"], "eligibility_first_visit");
    let page = app
        .page("/consult/start?choice=I10:cardiology")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("data-testid=\"eligible\""),
        "the start page says yes"
    );
}

// Security review, item 5 (R-ELIG-2): an uploaded file keeps its own sandboxing policy
// when the owner or staff open it; the page policy does not replace it.
pub async fn proof_files_keep_their_sandbox_policy(db: Db) {
    let app = spawn_patient(db).await;
    let res = upload(
        &app,
        upload_form(
            "key-sandbox-1",
            vec![("a.jpg", jpeg(40, 30)), ("report.pdf", active_pdf())],
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let number = res.json::<Value>().await.unwrap()["proof_number"]
        .as_str()
        .unwrap()
        .to_owned();
    let operator = staff_client(&app, "op.sandbox", "operator").await;
    for (who, path) in [
        (&app, format!("/api/v1/proofs/{number}/files/1")),
        (
            &app,
            format!("/api/v1/proofs/{number}/files/1?thumbnail=true"),
        ),
        (&operator, format!("/api/v1/staff/proofs/{number}/files/1")),
    ] {
        let res = who.get(&path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(
            res.headers()["content-security-policy"],
            "default-src 'none'; sandbox",
            "{path}"
        );
    }
    // Item 5, the PDF part: what is served (to the owner and to staff) is the PDF
    // without its JavaScript, launch action and embedded program, as an attachment.
    for (who, path) in [
        (&app, format!("/api/v1/proofs/{number}/files/2")),
        (&operator, format!("/api/v1/staff/proofs/{number}/files/2")),
    ] {
        let res = who.get(&path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert!(
            res.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
        let served = res.bytes().await.unwrap();
        for needle in [
            &b"JavaScript"[..],
            b"app.alert",
            b"Launch",
            b"MZ evil",
            b"OpenAction",
        ] {
            assert!(
                !served.windows(needle.len()).any(|w| w == needle),
                "{path}: {}",
                String::from_utf8_lossy(needle)
            );
        }
        assert_eq!(
            lopdf::Document::load_mem(&served)
                .unwrap()
                .get_pages()
                .len(),
            1
        );
    }
}

/// A one-page PDF that runs JavaScript when opened, launches a program from a link and
/// carries an embedded program.
fn active_pdf() -> Vec<u8> {
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let file = doc.add_object(Stream::new(
        dictionary! { "Type" => "EmbeddedFile" },
        b"MZ evil program".to_vec(),
    ));
    let js = doc.add_object(dictionary! {
        "S" => "JavaScript", "JS" => Object::string_literal("app.alert('owned')"),
    });
    let link = doc.add_object(dictionary! {
        "Type" => "Annot", "Subtype" => "Link",
        "Rect" => vec![0.into(), 0.into(), 100.into(), 100.into()],
        "A" => dictionary! { "S" => "Launch", "F" => Object::string_literal("calc.exe") },
    });
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Annots" => vec![link.into()],
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1,
        }),
    );
    let catalog = doc.add_object(dictionary! {
        "Type" => "Catalog", "Pages" => pages_id, "OpenAction" => js,
        "Names" => dictionary! {
            "EmbeddedFiles" => dictionary! {
                "Names" => vec![Object::string_literal("a.exe"), dictionary! {
                    "Type" => "Filespec", "EF" => dictionary! { "F" => file },
                }.into()],
            },
        },
    });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

// Security review item 2: uploads are limited per account and per address. At most five
// proofs wait for review per account, also when eight arrive at once (the account's row
// is the lock); the files of a day and an hour are counted in the database, a refused
// upload gives its files back, and nothing is stored for it.
pub async fn uploads_are_limited_per_account_and_address(db: Db) {
    let app = spawn_patient(db).await;
    let uploads = (0..8).map(|i| {
        let form = upload_form(&format!("key-limit-{i:04}"), vec![("a.jpg", jpeg(64, 48))]);
        upload(&app, form)
    });
    let answers = futures_util::future::join_all(uploads).await;
    let mut created = 0;
    for res in answers {
        match res.status() {
            StatusCode::CREATED => created += 1,
            _ => {
                assert_error(res, 409, "proofs_waiting_limit", None).await;
            }
        }
    }
    assert_eq!(created, 5);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) AS n FROM diagnosis_proof WHERE status = 'submitted'"
        )
        .await,
        5
    );
    assert_eq!(stored_files(&app), 10, "five images and their thumbnails");

    // A day's files: 30 per account. With 29 used, two more are refused, one is not
    // (after a proof is withdrawn, so that one may wait).
    let patient = count(&app, "SELECT MIN(id) AS n FROM patient").await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let key = format!("upload-files:{patient}");
    let used = count(
        &app,
        &format!("SELECT \"count\" AS n FROM rate_counter WHERE \"key\" = '{key}'"),
    )
    .await;
    server::db::count_hits(&app.state.db, &key, 29 - used, 86_400, now)
        .await
        .unwrap();
    let list: Value = app.get("/api/v1/proofs").await.json().await.unwrap();
    let first = list[0]["proof_number"].as_str().unwrap().to_owned();
    let res = app.delete(&format!("/api/v1/proofs/{first}")).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let two = upload_form(
        "key-quota-0001",
        vec![("a.jpg", jpeg(64, 48)), ("b.jpg", jpeg(64, 48))],
    );
    assert_error(upload(&app, two).await, 429, "upload_quota", Some("files")).await;
    let one = upload_form("key-quota-0002", vec![("a.jpg", jpeg(64, 48))]);
    assert_eq!(upload(&app, one).await.status(), StatusCode::CREATED);

    // An address's hour: another account behind the same address is refused too.
    let ip_key = "upload-files-ip:127.0.0.1";
    let used = count(
        &app,
        &format!("SELECT \"count\" AS n FROM rate_counter WHERE \"key\" = '{ip_key}'"),
    )
    .await;
    server::db::count_hits(
        &app.state.db,
        ip_key,
        app.state.uploads_per_address_per_hour - used,
        3_600,
        now,
    )
    .await
    .unwrap();
    let mut other = app.other_client().await;
    assert_eq!(
        other
            .register("13800138111", "110105198001010032")
            .await
            .status(),
        StatusCode::CREATED
    );
    let stored = stored_files(&app);
    let form = upload_form("key-quota-0003", vec![("a.jpg", jpeg(64, 48))]);
    assert_error(
        upload(&other, form).await,
        429,
        "upload_quota",
        Some("files"),
    )
    .await;
    assert_eq!(
        stored_files(&app),
        stored,
        "nothing stored for a refused upload"
    );
}
