//! The consult, desk and record pages as a phone without WebAssembly uses them: the
//! server-rendered conversation, plain forms that write to it (a repeated submit stores
//! once), the doctor's record form, and the patient's records and access log.
use crate::booking::number;
use crate::consult::paid_consult;
use crate::helpers::Db;
use reqwest::StatusCode;

/// The value of the hidden `name` input in a page.
fn hidden(page: &str, name: &str) -> String {
    let at = page
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("no {name} in the page"));
    let rest = &page[at..];
    let v = rest.find("value=\"").unwrap() + 7;
    rest[v..v + rest[v..].find('"').unwrap()].to_owned()
}

// R-CONS-1, R-CONS-3 without WebAssembly: the page shows the promised answer time and the
// conversation; the plain form posts a message (stored once if posted twice) and the
// reloaded page shows it; the doctor's page shows the brief, and its forms write the
// record and complete the consult; the patient reads the record and who viewed it.
pub async fn a_consult_works_with_plain_forms_and_pages(db: Db) {
    let p = paid_consult(db, "image_text").await;
    let list = p.patient.page_text("/consults").await;
    assert!(list.contains(&format!("/consults/{}", p.consult)), "{list}");
    let path = format!("/consults/{}", p.consult);
    let page = p.patient.page_text(&path).await;
    assert!(page.contains("医生承诺在"), "the promised answer time");
    assert!(page.contains("问诊已开始"), "the opening entry");
    let client_id = hidden(&page, "client_id");
    let form = format!("/forms/consults/{}/messages", p.consult);
    for _ in 0..2 {
        let res = p
            .patient
            .form(
                &form,
                &[("client_id", &client_id), ("text", "今天早上血压 148/92")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(
            res.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with(&path)
        );
    }
    assert_eq!(
        number(
            &p.patient,
            "SELECT COUNT(*) AS n FROM consult_message WHERE kind = 'text'"
        )
        .await,
        1
    );
    let page = p.patient.page_text(&path).await;
    assert!(page.contains("今天早上血压 148/92"));
    // A refused message comes back to the page with its reason.
    let res = p
        .patient
        .form(
            &form,
            &[("client_id", &crate::consult::uuid()), ("text", "代开处方")],
        )
        .await;
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .contains("error=text_blocked")
    );

    // The doctor: the desk, then the consult with the patient's brief.
    let home = p.doctor.page_text("/staff").await;
    assert!(
        home.contains("/staff/consults"),
        "the desk is on the doctor's home"
    );
    let desk = p.doctor.page_text("/staff/consults").await;
    assert!(
        desk.contains(&format!("/staff/consults/{}", p.consult)),
        "{desk}"
    );
    let staff_path = format!("/staff/consults/{}", p.consult);
    let page = p.doctor.page_text(&staff_path).await;
    assert!(
        page.contains("I10") && page.contains("今天早上血压 148/92"),
        "{page}"
    );
    let reply = hidden(&page, "client_id");
    let res = p
        .doctor
        .form(
            &format!("/forms/staff/consults/{}/messages", p.consult),
            &[("client_id", &reply), ("text", "请继续服药")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // The doctor's reply shows on the patient's 问诊 tab until the consult page shows it.
    assert!(p.patient.page_text("/me").await.contains("consult-badge"));
    p.patient.page_text(&path).await;
    assert!(!p.patient.page_text("/me").await.contains("consult-badge"));
    let record = format!("/forms/staff/consults/{}/record", p.consult);
    let fields = [
        ("revision", "0"),
        ("chief_complaint", "血压偏高"),
        ("present_illness", "服药规律"),
        ("icd10", "I10"),
        ("advice", "氨氯地平加量"),
        ("follow_up", "两周后复诊"),
    ];
    let res = p.doctor.form(&record, &fields).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = p.doctor.page_text(&staff_path).await;
    assert_eq!(hidden(&page, "revision"), "1");
    // Completing from the form saves what is on it, then archives it.
    let mut completing = fields;
    completing[0] = ("revision", "1");
    completing[4] = ("advice", "氨氯地平加至 10mg");
    let res = p
        .doctor
        .form(
            &format!("/forms/staff/consults/{}/completion", p.consult),
            &completing,
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{:?}",
        res.headers().get("location")
    );
    assert!(
        !res.headers()["location"]
            .to_str()
            .unwrap()
            .contains("error")
    );
    let page = p.doctor.page_text(&staff_path).await;
    assert!(page.contains("已归档"), "{page}");

    // The patient reads the record, and who viewed it.
    let page = p.patient.page_text(&path).await;
    assert!(page.contains("问诊已完成"));
    let records = p.patient.page_text("/records").await;
    assert!(records.contains("I10"), "{records}");
    let record_number = number(
        &p.patient,
        "SELECT COUNT(*) AS n FROM medical_record WHERE status = 'archived'",
    )
    .await;
    assert_eq!(record_number, 1);
    let access = p.patient.page_text("/records/access").await;
    assert!(
        access.contains("医生") && access.contains(&p.consult),
        "{access}"
    );
}
