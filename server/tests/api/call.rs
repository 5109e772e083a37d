//! Calls in video consults (R-CONS-1, R-CONS-4, R-CONS-6, R-CONS-7): started by the
//! doctor within the consult's time, joined, left and ended over the consult connection,
//! each step an entry of the consult's log; offers relayed only between the two sides of
//! a running backup call; one call at a time, decided by the database.
use crate::chat::{Ws, connect, next, send};
use crate::consult::{Paid, paid_consult};
use crate::helpers::Db;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

const PATIENT: &str = "/api/v1/consults/socket";
const DOCTOR: &str = "/api/v1/staff/consults/socket";

/// A connection that follows the consult, read to its `live`.
async fn follow(app: &crate::helpers::TestApp, path: &str, consult: &str) -> Ws {
    let mut ws = connect(app, path).await.unwrap();
    send(
        &mut ws,
        json!({ "type": "hello", "consults": [{ "consult": consult, "after": 0 }] }),
    )
    .await;
    while next(&mut ws).await.unwrap()["type"] != "live" {}
    ws
}

/// Frames until one of `kind` (and, for entries, a call step) arrives.
async fn until(ws: &mut Ws, want: impl Fn(&Value) -> bool) -> Value {
    loop {
        let f = next(ws).await.expect("a frame");
        if want(&f) {
            return f;
        }
    }
}

fn call_frame(f: &Value) -> bool {
    f["type"] == "call"
}

fn step(name: &'static str) -> impl Fn(&Value) -> bool {
    move |f| f["type"] == "entry" && f["call"]["step"] == name
}

fn error(code: &'static str) -> impl Fn(&Value) -> bool {
    move |f| f["type"] == "error" && f["code"] == code
}

fn action(consult: &str, action: Value) -> Value {
    json!({ "type": "call", "consult": consult, "action": action })
}

async fn count(p: &Paid, sql: &str) -> i64 {
    crate::booking::number(&p.patient, sql).await
}

/// Moves the appointment to now: its time has come.
async fn open_now(p: &Paid) {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    p.patient
        .state
        .db
        .execute_unprepared(&format!(
            "UPDATE consult SET opens_at = {now} WHERE consult_number = '{}'",
            p.consult
        ))
        .await
        .unwrap();
}

// R-CONS-1, R-CONS-4, R-CONS-6: the doctor calls within the consult's time, the patient
// answers, offers pass between them, drops and leaves are logged, the doctor ends it.
pub async fn a_call_is_started_answered_relayed_and_ended_in_the_consult_log(db: Db) {
    let p = paid_consult(db, "video").await;
    let c = p.consult.clone();
    let mut patient = follow(&p.patient, PATIENT, &c).await;
    let mut doctor = follow(&p.doctor, DOCTOR, &c).await;
    let video = json!({ "do": "start", "media": "video" });
    // Two days before the appointment: not yet.
    send(&mut doctor, action(&c, video.clone())).await;
    until(&mut doctor, error("consult_not_yet_open")).await;
    open_now(&p).await;
    // Only the doctor calls; the patient cannot join a call that is not running.
    send(&mut patient, action(&c, video.clone())).await;
    until(&mut patient, error("forbidden")).await;
    send(&mut patient, action(&c, json!({ "do": "join" }))).await;
    until(&mut patient, error("call_not_running")).await;
    // A connection that has not said hello for the consult is refused as for a stranger.
    let mut fresh = connect(&p.doctor, DOCTOR).await.unwrap();
    send(&mut fresh, action(&c, video.clone())).await;
    until(&mut fresh, error("not_found")).await;

    send(&mut doctor, action(&c, video.clone())).await;
    let started = until(&mut patient, call_frame).await;
    assert_eq!(started["live"], true, "{started}");
    assert_eq!(started["system"], "direct", "no media server: the backup");
    assert_eq!(
        (
            started["doctor_in"].as_bool(),
            started["patient_in"].as_bool()
        ),
        (Some(true), Some(false))
    );
    let call = started["call"].as_str().unwrap().to_owned();
    let entry = until(&mut patient, step("started")).await;
    assert_eq!(
        (entry["side"].as_str(), entry["call"]["call"].as_str()),
        (Some("doctor"), Some(call.as_str()))
    );
    until(&mut doctor, call_frame).await;
    send(&mut doctor, action(&c, video.clone())).await;
    until(&mut doctor, error("call_already_live")).await;

    // The patient answers: both are in, and the service has begun (R-CONS-3).
    send(&mut patient, action(&c, json!({ "do": "join" }))).await;
    let joined = until(&mut doctor, call_frame).await;
    assert_eq!(joined["patient_in"], true, "{joined}");
    until(&mut doctor, step("joined")).await;
    let status = until(&mut doctor, |f| {
        f["type"] == "entry" && f["status"].is_string()
    })
    .await;
    assert_eq!(status["status"], "in_progress");

    // An offer goes to the other side only.
    let offer = "v=0\r\no=- 1 2 IN IP4 10.9.0.2\r\ns=-\r\n";
    send(&mut doctor, json!({ "type": "signal", "consult": c, "call": call, "generation": 1, "kind": "offer", "sdp": offer })).await;
    let got = until(&mut patient, |f| f["type"] == "signal").await;
    assert_eq!(
        (
            got["from"].as_str(),
            got["sdp"].as_str(),
            got["generation"].as_i64()
        ),
        (Some("doctor"), Some(offer), Some(1))
    );
    // Not a session description, or for another call: refused, nothing relayed.
    send(&mut patient, json!({ "type": "signal", "consult": c, "call": call, "generation": 1, "kind": "answer", "sdp": "<script>" })).await;
    until(&mut patient, error("signal_invalid")).await;
    send(&mut patient, json!({ "type": "signal", "consult": c, "call": "CL00000000000000", "generation": 1, "kind": "answer", "sdp": offer })).await;
    until(&mut patient, error("call_not_running")).await;
    send(&mut patient, json!({ "type": "signal", "consult": c, "call": call, "generation": 1, "kind": "answer", "sdp": "v=0\r\n" })).await;
    let answer = until(&mut doctor, |f| f["type"] == "signal").await;
    assert_eq!(answer["from"], "patient");

    // The patient's phone drops: the connection closing leaves the call, logged.
    drop(patient);
    let dropped = until(&mut doctor, step("left")).await;
    assert_eq!(dropped["side"], "patient");
    // Back: the page rejoins with one tap (a join again).
    let mut patient = follow(&p.patient, PATIENT, &c).await;
    send(&mut patient, action(&c, json!({ "do": "join" }))).await;
    until(&mut doctor, step("joined")).await;
    // A page of the patient's that is not in the call cannot send offers.
    let mut other_tab = follow(&p.patient, PATIENT, &c).await;
    send(&mut other_tab, json!({ "type": "signal", "consult": c, "call": call, "generation": 2, "kind": "answer", "sdp": "v=0\r\n" })).await;
    until(&mut other_tab, error("call_not_running")).await;
    // Voice only, then the doctor ends the call; the consult goes on.
    send(
        &mut patient,
        action(&c, json!({ "do": "fall_back", "to": "voice" })),
    )
    .await;
    let voice = until(&mut doctor, step("fell_back")).await;
    assert_eq!(voice["call"]["to"], "voice");
    send(&mut patient, action(&c, json!({ "do": "end" }))).await;
    until(&mut patient, error("forbidden")).await;
    send(&mut doctor, action(&c, json!({ "do": "end" }))).await;
    let ended = until(&mut patient, call_frame).await;
    assert_eq!(
        (ended["live"].as_bool(), ended["media"].as_str()),
        (Some(false), Some("voice"))
    );
    assert!(
        ended.get("ice_servers").is_none(),
        "no credentials for an ended call"
    );
    until(&mut patient, step("ended")).await;
    let steps = count(
        &p,
        "SELECT COUNT(*) AS n FROM consult_message WHERE body LIKE '%\"call\":%'",
    )
    .await;
    assert_eq!(steps, 6, "started, joined, left, joined, fell back, ended");
    assert_eq!(
        count(
            &p,
            "SELECT COUNT(*) AS n FROM consult WHERE status = 'in_progress'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &p,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action IN ('call_started', 'call_ended')"
        )
        .await,
        2
    );
    // A new call may start once the last has ended.
    send(
        &mut doctor,
        action(&c, json!({ "do": "start", "media": "voice" })),
    )
    .await;
    let again = until(&mut doctor, |f| call_frame(f) && f["live"] == true).await;
    assert_ne!(again["call"], call.as_str());
    assert_eq!(
        (again["live"].as_bool(), again["media"].as_str()),
        (Some(true), Some("voice"))
    );
}

// Security: someone else's consult answers "not found" to calls and signals, exactly
// like one that does not exist; two starts at once make one call (the database's index).
pub async fn calls_of_someone_elses_consult_are_not_found_and_only_one_runs(db: Db) {
    let p = paid_consult(db, "video").await;
    let c = p.consult.clone();
    open_now(&p).await;
    let mut other = p.patient.other_client().await;
    assert_eq!(
        other
            .register("13800138112", "110105198001010032")
            .await
            .status(),
        reqwest::StatusCode::CREATED
    );
    let mut theirs = connect(&other, PATIENT).await.unwrap();
    send(
        &mut theirs,
        json!({ "type": "hello", "consults": [{ "consult": c, "after": 0 }] }),
    )
    .await;
    until(&mut theirs, error("not_found")).await;
    send(&mut theirs, action(&c, json!({ "do": "join" }))).await;
    until(&mut theirs, error("not_found")).await;
    send(&mut theirs, json!({ "type": "signal", "consult": c, "call": "CL1", "generation": 1, "kind": "offer", "sdp": "v=0\r\n" })).await;
    until(&mut theirs, error("not_found")).await;

    // Four of the doctor's pages start a call at the same moment: one call.
    let mut pages = Vec::new();
    for _ in 0..4 {
        pages.push(follow(&p.doctor, DOCTOR, &c).await);
    }
    let start = action(&c, json!({ "do": "start", "media": "video" }));
    futures_util::future::join_all(pages.iter_mut().map(|ws| send(ws, start.clone()))).await;
    let mut refused = 0;
    for ws in &mut pages {
        let f = until(ws, |f| call_frame(f) || f["type"] == "error").await;
        if f["type"] == "error" {
            assert_eq!(f["code"], "call_already_live", "{f}");
            refused += 1;
        }
    }
    assert_eq!(refused, 3);
    assert_eq!(count(&p, "SELECT COUNT(*) AS n FROM consult_call").await, 1);
    // The consult ends (referred): its call ends with it.
    let res = p
        .doctor
        .post(
            &format!("/api/v1/staff/consults/{c}/referral"),
            &json!({ "reason": "需要线下检查" }),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let ended = until(&mut pages[0], |f| call_frame(f) && f["live"] == false).await;
    assert_eq!(ended["consult"], c.as_str());
    assert_eq!(
        count(
            &p,
            "SELECT COUNT(*) AS n FROM consult_call WHERE end_cause = 'consult_ended'"
        )
        .await,
        1
    );
    send(
        &mut pages[1],
        action(&c, json!({ "do": "start", "media": "video" })),
    )
    .await;
    until(&mut pages[1], error("consult_ended")).await;
}

// R-CONS-7: a recording, once stored, is never changed, replaced or deleted: the database
// refuses it.
pub async fn recordings_cannot_be_changed_or_deleted(db: Db) {
    let p = paid_consult(db, "video").await;
    open_now(&p).await;
    let mut doctor = follow(&p.doctor, DOCTOR, &p.consult).await;
    send(
        &mut doctor,
        action(&p.consult, json!({ "do": "start", "media": "video" })),
    )
    .await;
    until(&mut doctor, call_frame).await;
    let db = &p.patient.state.db;
    db.execute_unprepared(
        "INSERT INTO call_recording (recording_number, call_id, part, consult_id, made_by, \
         object_key, content_type, sha256, bytes, duration_ms, keep_until, created_at) \
         SELECT 'RC1', id, 0, consult_id, 'server', 'recordings/x.webm', 'video/webm', 'ab', 10, \
         1000, 2000000000, 1 FROM consult_call",
    )
    .await
    .unwrap();
    for sql in [
        "UPDATE call_recording SET sha256 = 'cd'",
        "DELETE FROM call_recording",
        "INSERT INTO call_recording (recording_number, call_id, part, consult_id, made_by, \
         object_key, content_type, sha256, bytes, duration_ms, keep_until, created_at) \
         SELECT 'RC2', call_id, 0, consult_id, 'client', 'recordings/y.webm', 'video/webm', \
         'ef', 10, 1000, 2000000000, 1 FROM call_recording",
    ] {
        assert!(db.execute_unprepared(sql).await.is_err(), "{sql}");
    }
    assert_eq!(
        count(
            &p,
            "SELECT COUNT(*) AS n FROM call_recording WHERE sha256 = 'ab'"
        )
        .await,
        1
    );
}

async fn put_piece(app: &crate::helpers::TestApp, path: &str, bytes: &[u8]) -> reqwest::StatusCode {
    app.client
        .put(app.url(path))
        .header("x-csrf-token", &app.csrf)
        .header("content-type", "application/octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap()
        .status()
}

// R-CONS-7, R-EMR-2: the doctor's page uploads a backup call's recording in pieces (a
// piece sent again is stored once, the upload resumes from what the server holds); the
// completed part is one object with its SHA-256 in the consult's record; the doctor's
// read of it is logged and the patient sees it; nobody else can upload or read it.
pub async fn a_backup_calls_recording_goes_up_in_pieces_into_the_record(db: Db) {
    use sha2::Digest;
    let p = paid_consult(db, "video").await;
    let c = p.consult.clone();
    open_now(&p).await;
    let mut doctor = follow(&p.doctor, DOCTOR, &c).await;
    send(
        &mut doctor,
        action(&c, json!({ "do": "start", "media": "video" })),
    )
    .await;
    let call = until(&mut doctor, call_frame).await["call"]
        .as_str()
        .unwrap()
        .to_owned();
    let pieces: Vec<Vec<u8>> = (0..3u8)
        .map(|i| vec![i + 1; 1000 + usize::from(i)])
        .collect();
    let path = |part: i32, i: usize| format!("/api/v1/staff/calls/{call}/recording/{part}/{i}");
    assert_eq!(
        put_piece(&p.doctor, &path(0, 0), &pieces[0]).await,
        reqwest::StatusCode::NO_CONTENT
    );
    // The same piece again (a retry after a lost answer): stored once.
    assert_eq!(
        put_piece(&p.doctor, &path(0, 0), &pieces[0]).await,
        reqwest::StatusCode::NO_CONTENT
    );
    assert_eq!(
        put_piece(&p.doctor, &path(0, 2), &pieces[2]).await,
        reqwest::StatusCode::NO_CONTENT
    );
    let progress: Value = p
        .doctor
        .get(&format!("/api/v1/staff/calls/{call}/recording"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        progress["parts"],
        json!([{ "part": 0, "pieces": [0, 2] }]),
        "{progress}"
    );
    // A part with a missing piece cannot be completed.
    let finish = format!("/api/v1/staff/calls/{call}/recording/0/finish");
    let res = p
        .doctor
        .post(&finish, &json!({ "pieces": 3, "duration_ms": 15_000 }))
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::CONFLICT);
    // Only the call's doctor uploads: a patient has no staff session, an operator is not
    // a doctor.
    assert_eq!(
        put_piece(&p.patient, &path(0, 1), &pieces[1]).await,
        reqwest::StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        put_piece(&p.operator, &path(0, 1), &pieces[1]).await,
        reqwest::StatusCode::FORBIDDEN
    );
    assert_eq!(
        put_piece(&p.doctor, &path(0, 1), &pieces[1]).await,
        reqwest::StatusCode::NO_CONTENT
    );
    let res = p
        .doctor
        .post(&finish, &json!({ "pieces": 3, "duration_ms": 15_000 }))
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::CREATED);
    let rec: Value = res.json().await.unwrap();
    let whole: Vec<u8> = pieces.concat();
    assert_eq!(
        rec["sha256"],
        hex::encode(sha2::Sha256::digest(&whole)),
        "{rec}"
    );
    assert_eq!(rec["bytes"], whole.len());
    assert_eq!(rec["made_by"], "client");
    // Complete for good: no piece, and no second completion.
    assert_eq!(
        put_piece(&p.doctor, &path(0, 3), &pieces[0]).await,
        reqwest::StatusCode::CONFLICT
    );
    let again = p
        .doctor
        .post(&finish, &json!({ "pieces": 3, "duration_ms": 15_000 }))
        .await;
    assert_ne!(again.status(), reqwest::StatusCode::CREATED);
    // In the consult's record, on both sides.
    let calls: Value = p
        .patient
        .get(&format!("/api/v1/consults/{c}/calls"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(calls[0]["recording"], "recorded", "{calls}");
    let number = calls[0]["recordings"][0]["recording_number"]
        .as_str()
        .unwrap()
        .to_owned();
    let mine = p
        .patient
        .get(&format!("/api/v1/consults/{c}/recordings/{number}"))
        .await;
    assert_eq!(mine.status(), reqwest::StatusCode::OK);
    assert_eq!(mine.bytes().await.unwrap().to_vec(), whole);
    let log: Value = p
        .patient
        .get("/api/v1/records/access-log")
        .await
        .json()
        .await
        .unwrap();
    let before = log.as_array().unwrap().len();
    let theirs = p
        .doctor
        .get(&format!("/api/v1/staff/consults/{c}/recordings/{number}"))
        .await;
    assert_eq!(theirs.status(), reqwest::StatusCode::OK);
    let log: Value = p
        .patient
        .get("/api/v1/records/access-log")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        log.as_array().unwrap().len(),
        before + 1,
        "the doctor's read is in the patient's log: {log}"
    );
    // Someone else's account: not found.
    let mut other = p.patient.other_client().await;
    assert_eq!(
        other
            .register("13800138113", "110105198001010032")
            .await
            .status(),
        reqwest::StatusCode::CREATED
    );
    assert_eq!(
        other
            .get(&format!("/api/v1/consults/{c}/recordings/{number}"))
            .await
            .status(),
        reqwest::StatusCode::NOT_FOUND
    );
    // A page that cannot record says why; a recorded call keeps "recorded".
    let res = p
        .doctor
        .post(
            &format!("/api/v1/staff/calls/{call}/recording/unavailable"),
            &json!({ "reason": "此浏览器不支持录制" }),
        )
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::NO_CONTENT);
    assert_eq!(
        count(
            &p,
            "SELECT COUNT(*) AS n FROM consult_call WHERE recording = 'recorded'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &p,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'recording_stored'"
        )
        .await,
        1
    );
}

// R-CONS-7: a doctor's page that closed mid-call leaves pieces behind: after the grace
// period they become the recording (as far as they run without a gap); a call with
// nothing uploaded is marked not recorded, with why.
pub async fn recordings_left_behind_are_settled_after_the_grace_period(db: Db) {
    let p = paid_consult(db, "video").await;
    let c = p.consult.clone();
    open_now(&p).await;
    let mut doctor = follow(&p.doctor, DOCTOR, &c).await;
    let start = action(&c, json!({ "do": "start", "media": "video" }));
    let end = action(&c, json!({ "do": "end" }));
    send(&mut doctor, start.clone()).await;
    let first = until(&mut doctor, |f| call_frame(f) && f["live"] == true).await["call"]
        .as_str()
        .unwrap()
        .to_owned();
    for i in [0, 1, 3] {
        let path = format!("/api/v1/staff/calls/{first}/recording/0/{i}");
        assert_eq!(
            put_piece(&p.doctor, &path, &[i as u8 + 1; 100]).await,
            reqwest::StatusCode::NO_CONTENT
        );
    }
    send(&mut doctor, end.clone()).await;
    until(&mut doctor, |f| call_frame(f) && f["live"] == false).await;
    send(&mut doctor, start).await;
    until(&mut doctor, |f| call_frame(f) && f["live"] == true).await;
    send(&mut doctor, end).await;
    until(&mut doctor, |f| call_frame(f) && f["live"] == false).await;
    let state = &p.patient.state;
    let now = time::OffsetDateTime::now_utc();
    // Within the grace period the page may still come back: nothing happens.
    assert_eq!(
        server::call::recording::settle_abandoned(state, now)
            .await
            .unwrap(),
        0
    );
    let later = now + time::Duration::seconds(server::call::recording::UPLOAD_GRACE_SECS + 1);
    assert_eq!(
        server::call::recording::settle_abandoned(state, later)
            .await
            .unwrap(),
        2
    );
    let calls: Value = p
        .patient
        .get(&format!("/api/v1/consults/{c}/calls"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(calls[0]["recording"], "recorded", "{calls}");
    assert_eq!(
        calls[0]["recordings"][0]["bytes"], 200,
        "pieces 0 and 1; 3 is after a gap"
    );
    assert_eq!(calls[1]["recording"], "none");
    assert!(calls[1]["note"].as_str().unwrap().contains("未上传录像"));
    // Settled once.
    assert_eq!(
        server::call::recording::settle_abandoned(state, later)
            .await
            .unwrap(),
        0
    );
}

// Resources: one call's recording is limited in bytes, counted under the call's lock, so
// pieces sent at once cannot pass the quota together; a piece sent again replaces its own
// count.
pub async fn a_calls_recording_is_limited_in_bytes_even_sent_at_once(db: Db) {
    let p = crate::consult::paid_consult_with(db, "video", |c| c.calls.recording_max_bytes = 2_500)
        .await;
    let c = p.consult.clone();
    open_now(&p).await;
    let mut doctor = follow(&p.doctor, DOCTOR, &c).await;
    send(
        &mut doctor,
        action(&c, json!({ "do": "start", "media": "video" })),
    )
    .await;
    let call = until(&mut doctor, call_frame).await["call"]
        .as_str()
        .unwrap()
        .to_owned();
    let paths: Vec<String> = (0..8)
        .map(|i| format!("/api/v1/staff/calls/{call}/recording/0/{i}"))
        .collect();
    let statuses = futures_util::future::join_all(
        paths
            .iter()
            .map(|path| put_piece(&p.doctor, path, &[7; 1_000])),
    )
    .await;
    let stored = statuses
        .iter()
        .filter(|s| **s == reqwest::StatusCode::NO_CONTENT)
        .count();
    assert_eq!(stored, 2, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == reqwest::StatusCode::NO_CONTENT
                || *s == reqwest::StatusCode::PAYLOAD_TOO_LARGE)
    );
    assert_eq!(
        count(
            &p,
            "SELECT CAST(COALESCE(SUM(bytes), 0) AS BIGINT) AS n FROM call_recording_chunk"
        )
        .await,
        2_000
    );
    // The same piece again, a little larger, still fits: its own count is replaced.
    let progress: Value = p
        .doctor
        .get(&format!("/api/v1/staff/calls/{call}/recording"))
        .await
        .json()
        .await
        .unwrap();
    let first = progress["parts"][0]["pieces"][0].as_i64().unwrap();
    let again = put_piece(
        &p.doctor,
        &format!("/api/v1/staff/calls/{call}/recording/0/{first}"),
        &[8; 1_400],
    )
    .await;
    assert_eq!(again, reqwest::StatusCode::NO_CONTENT);
    assert_eq!(
        count(
            &p,
            "SELECT CAST(COALESCE(SUM(bytes), 0) AS BIGINT) AS n FROM call_recording_chunk"
        )
        .await,
        2_400
    );
}

/// R-CONS-7 (全程留痕): what Janus's event handler reports about a call's room is kept
/// with the call, in order, append-only; only the media server (the shared secret) may
/// report.
pub async fn the_media_servers_reports_are_kept_with_the_call(db: Db) {
    use base64::Engine;
    let p = crate::consult::paid_consult_with(db, "video", |c| {
        c.calls.janus = Some(server::config::calls::JanusSettings {
            // Never reached: the reports are what this test is about.
            url: "http://127.0.0.1:9/janus".into(),
            api_secret: secrecy::SecretBox::from(String::from("janus shared secret")),
            recordings: "/tmp/fuzhen-no-recordings".into(),
        })
    })
    .await;
    let c = p.consult.clone();
    open_now(&p).await;
    let mut doctor = follow(&p.doctor, DOCTOR, &c).await;
    send(
        &mut doctor,
        action(&c, json!({ "do": "start", "media": "video" })),
    )
    .await;
    until(&mut doctor, call_frame).await;
    // As if the call had opened room 77 on the media server.
    p.patient
        .state
        .db
        .execute_unprepared("UPDATE consult_call SET room = '77'")
        .await
        .unwrap();
    let reports = json!([
        {"type": 64, "handle_id": 9, "timestamp": 1_765_170_000_000_000_i64,
         "event": {"plugin": "janus.plugin.videoroom",
                   "data": {"event": "joined", "room": 77, "id": 4813, "display": "patient"}}},
        {"type": 16, "handle_id": 9, "timestamp": 1_765_170_001_000_000_i64,
         "event": {"connection": "webrtcup"}},
        {"type": 1, "session_id": 5, "event": {"name": "created"}},
        // Another room's: not this consult's.
        {"type": 64, "handle_id": 10, "event": {"data": {"event": "joined", "room": 78, "id": 2}}},
    ]);
    let deliver = |password: Option<&str>| {
        let mut req = p
            .patient
            .client
            .post(p.patient.url("/api/v1/calls/media-events"))
            .header("content-type", "application/json")
            .body(reports.to_string());
        if let Some(pw) = password {
            let basic = base64::engine::general_purpose::STANDARD.encode(format!("janus:{pw}"));
            req = req.header("authorization", format!("Basic {basic}"));
        }
        req.send()
    };
    assert_eq!(deliver(None).await.unwrap().status(), 401);
    assert_eq!(
        deliver(Some("janus shared secreT")).await.unwrap().status(),
        401
    );
    assert_eq!(
        count(&p, "SELECT COUNT(*) AS n FROM call_media_event").await,
        0
    );
    assert_eq!(
        deliver(Some("janus shared secret")).await.unwrap().status(),
        204
    );
    let calls: Value = p
        .doctor
        .get(&format!("/api/v1/staff/consults/{c}/calls"))
        .await
        .json()
        .await
        .unwrap();
    let seen = &calls[0]["media_events"];
    assert_eq!(seen.as_array().map(Vec::len), Some(2), "{calls}");
    assert_eq!(seen[0]["what"], "joined");
    assert_eq!(seen[0]["side"], "patient");
    assert_eq!(seen[0]["at_ms"], 1_765_170_000_000_i64);
    assert_eq!(seen[1]["what"], "connected");
    assert_eq!(seen[1]["side"], "patient");
    let db = &p.patient.state.db;
    for sql in [
        "UPDATE call_media_event SET what = 'left'",
        "DELETE FROM call_media_event",
    ] {
        assert!(db.execute_unprepared(sql).await.is_err(), "{sql}");
    }
}
