//! The consult connection (R-CONS-1): ordering, de-duplication and resume under forced
//! disconnects; every bad frame refused without a panic or a change.
use crate::consult::{Paid, paid_consult_with};
use crate::helpers::{Db, TestApp};
use futures_util::{SinkExt, StreamExt};
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub(crate) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A consult connection as the app's page opens it: the session cookie, our origin.
pub(crate) async fn connect(
    app: &TestApp,
    path: &str,
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    connect_from(app, path, &app.base).await
}

async fn connect_from(
    app: &TestApp,
    path: &str,
    origin: &str,
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    connect_to(app, &app.base, path, origin).await
}

/// A connection to the server at `base` with `app`'s cookies (another server of the
/// same deployment shares the sessions).
pub(crate) async fn connect_to(
    app: &TestApp,
    base: &str,
    path: &str,
    origin: &str,
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    use reqwest::cookie::CookieStore;
    let url = base.replace("http://", "ws://") + path;
    let mut req = url.as_str().into_client_request().unwrap();
    let cookie_url: reqwest::Url = app.base.parse().unwrap();
    if let Some(cookies) = app.jar.cookies(&cookie_url) {
        req.headers_mut().insert("cookie", cookies);
    }
    req.headers_mut().insert("origin", origin.parse().unwrap());
    Ok(tokio_tungstenite::connect_async(req).await?.0)
}

pub(crate) async fn send(ws: &mut Ws, frame: Value) {
    ws.send(Message::text(frame.to_string())).await.unwrap();
}

/// The next JSON frame (pings and pongs skipped); `None` when the connection closed.
pub(crate) async fn next(ws: &mut Ws) -> Option<Value> {
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s")?;
        match msg {
            Ok(Message::Text(t)) => return Some(serde_json::from_str(&t).unwrap()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// The close code the server ends with.
async fn close_code(ws: &mut Ws) -> Option<u16> {
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
            .await
            .ok()?
        {
            Some(Ok(Message::Close(Some(f)))) => return Some(f.code.into()),
            Some(Ok(Message::Close(None))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => {}
        }
    }
}

/// One side of the conversation as a phone keeps it: an outbox of unsent messages, what
/// has been acknowledged, and the entries seen by seq.
struct Phone {
    path: &'static str,
    consult: String,
    outbox: Vec<(String, String)>,
    acked: HashSet<String>,
    seen: BTreeMap<i64, Value>,
    /// Send frames written, resends included.
    sent: usize,
}

impl Phone {
    fn last(&self) -> i64 {
        self.seen.keys().next_back().copied().unwrap_or(0)
    }

    fn take(&mut self, f: &Value) {
        match f["type"].as_str().unwrap() {
            "entry" => {
                let seq = f["seq"].as_i64().unwrap();
                // In order, without gaps or repeats, on every connection.
                assert_eq!(seq, self.last() + 1, "{f}");
                self.seen.insert(seq, f.clone());
            }
            "ack" => {
                self.acked
                    .insert(f["client_id"].as_str().unwrap().to_owned());
            }
            "error" => panic!("refused: {f}"),
            _ => {}
        }
    }

    /// Connects, resumes, sends some of the outbox and reads; drops the connection at a
    /// random point (or ends it after reading to the end).
    async fn session(&mut self, app: &TestApp, rng: &mut rand::rngs::StdRng) {
        let mut ws = connect(app, self.path).await.unwrap();
        send(&mut ws, json!({ "type": "hello", "consults": [{ "consult": self.consult, "after": self.last() }] })).await;
        loop {
            let f = next(&mut ws).await.expect("the replay");
            self.take(&f);
            if f["type"] == "live" {
                break;
            }
        }
        let unsent: Vec<(String, String)> = self
            .outbox
            .iter()
            .filter(|(id, _)| !self.acked.contains(id))
            .take(rng.gen_range(1..40))
            .cloned()
            .collect();
        let drop_after = rng.gen_range(0..=unsent.len() * 2);
        let mut frames = 0;
        for (id, text) in &unsent {
            send(
                &mut ws,
                json!({ "type": "send", "consult": self.consult, "client_id": id, "text": text }),
            )
            .await;
            self.sent += 1;
            frames += 1;
            if frames == drop_after {
                // A drop: the phone's network goes, mid-flight.
                return;
            }
        }
        // Read until every message sent here is acknowledged, or drop half-way.
        while unsent.iter().any(|(id, _)| !self.acked.contains(id)) {
            let Some(f) = next(&mut ws).await else { return };
            self.take(&f);
            frames += 1;
            if frames == drop_after {
                return;
            }
        }
        let _ = ws.close(None).await;
    }
}

/// A phone sends its whole outbox over connections that drop at random; how many
/// connections it took.
async fn talk(phone: &mut Phone, app: &TestApp, seed: u64) -> usize {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut sessions = 0;
    while phone.acked.len() < phone.outbox.len() {
        phone.session(app, &mut rng).await;
        sessions += 1;
        assert!(sessions < 1_000, "no progress");
    }
    sessions
}

// R-CONS-1: 1,000 messages from two phones whose connections drop at random: none lost,
// none stored twice, all in the same order on both sides (each resumes from its last
// seq and resends its unacknowledged messages with their ids).
pub async fn a_thousand_messages_survive_random_drops(db: Db) {
    let p: Paid = paid_consult_with(db, "image_text", |c| c.chat_frames_per_second = 100_000).await;
    // The patient writes from payment (a text consult); the doctor answers.
    let mut patient = Phone {
        path: "/api/v1/consults/socket",
        consult: p.consult.clone(),
        outbox: (0..500)
            .map(|i| (crate::consult::uuid(), format!("患者 {i}")))
            .collect(),
        acked: HashSet::new(),
        seen: BTreeMap::new(),
        sent: 0,
    };
    let mut doctor = Phone {
        path: "/api/v1/staff/consults/socket",
        consult: p.consult.clone(),
        outbox: (0..500)
            .map(|i| (crate::consult::uuid(), format!("医生 {i}")))
            .collect(),
        acked: HashSet::new(),
        seen: BTreeMap::new(),
        sent: 0,
    };
    let (a, b) = tokio::join!(
        talk(&mut patient, &p.patient, 7),
        talk(&mut doctor, &p.doctor, 11)
    );
    assert!(a > 10 && b > 10, "the connections dropped often: {a}, {b}");
    // Messages whose acknowledgement was lost were sent again, and stored once.
    assert!(
        patient.sent + doctor.sent > 1_050,
        "{} resends",
        patient.sent + doctor.sent - 1_000
    );
    // Both catch up to the end.
    for (phone, app) in [(&mut patient, &p.patient), (&mut doctor, &p.doctor)] {
        let mut ws = connect(app, phone.path).await.unwrap();
        send(&mut ws, json!({ "type": "hello", "consults": [{ "consult": phone.consult, "after": phone.last() }] })).await;
        loop {
            let f = next(&mut ws).await.unwrap();
            phone.take(&f);
            if f["type"] == "live" {
                break;
            }
        }
    }
    let texts = |phone: &Phone| -> Vec<String> {
        phone
            .seen
            .values()
            .filter_map(|e| e["text"].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(
        texts(&patient),
        texts(&doctor),
        "the same order on both sides"
    );
    let all = texts(&patient);
    assert_eq!(all.len(), 1_000);
    assert_eq!(
        all.iter().collect::<HashSet<_>>().len(),
        1_000,
        "none twice"
    );
    assert_eq!(patient.last(), doctor.last());
    let stored = crate::booking::number(
        &p.patient,
        "SELECT COUNT(*) AS n FROM consult_message WHERE kind = 'text'",
    )
    .await;
    assert_eq!(stored, 1_000);
    // Each side's ids come back to it alone.
    let own: HashSet<String> = patient
        .seen
        .values()
        .filter_map(|e| e["client_id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        own,
        patient.outbox.iter().map(|(id, _)| id.clone()).collect()
    );
}

// R-CONS-1, security: malformed JSON, unknown types, binary frames and another account's
// consult get an error frame and change nothing; an oversized frame, another site's page,
// no session, too many connections and an ended session close the connection.
pub async fn bad_frames_are_refused_and_change_nothing(db: Db) {
    let p = paid_consult_with(db, "text", |c| {
        c.chat_ping_secs = 1;
        c.chat_connections_per_account = 2;
    })
    .await;
    let path = "/api/v1/consults/socket";
    let mut ws = connect(&p.patient, path).await.unwrap();
    for bad in [
        "{",
        "[]",
        r#"{"type":"shout"}"#,
        r#"{"type":"send","consult":1}"#,
    ] {
        ws.send(Message::text(bad)).await.unwrap();
        let f = next(&mut ws).await.unwrap();
        assert_eq!(f["code"], "invalid_json", "{bad}: {f}");
    }
    ws.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    assert_eq!(next(&mut ws).await.unwrap()["code"], "invalid_json");
    // Someone else's consult reads like a missing one.
    let mut other = p.patient.other_client().await;
    assert_eq!(
        other
            .register("13800138111", "110105198001010032")
            .await
            .status(),
        reqwest::StatusCode::CREATED
    );
    let mut theirs = connect(&other, path).await.unwrap();
    send(&mut theirs, json!({ "type": "hello", "consults": [{ "consult": p.consult, "after": 0 }, { "consult": "CS00000000000000", "after": 0 }] })).await;
    let a = next(&mut theirs).await.unwrap();
    let b = next(&mut theirs).await.unwrap();
    assert_eq!(a["code"], "not_found");
    assert_eq!(b["code"], "not_found");
    send(&mut theirs, json!({ "type": "send", "consult": p.consult, "client_id": crate::consult::uuid(), "text": "hi" })).await;
    assert_eq!(next(&mut theirs).await.unwrap()["code"], "not_found");
    send(
        &mut theirs,
        json!({ "type": "typing", "consult": p.consult }),
    )
    .await;
    assert_eq!(next(&mut theirs).await.unwrap()["code"], "not_found");
    // A refused message names itself; blocked words are named (R-CONS-5).
    let id = crate::consult::uuid();
    send(
        &mut ws,
        json!({ "type": "send", "consult": p.consult, "client_id": id, "text": "代开处方" }),
    )
    .await;
    let f = next(&mut ws).await.unwrap();
    assert_eq!(
        (f["code"].as_str(), f["client_id"].as_str()),
        (Some("text_blocked"), Some(id.as_str()))
    );
    assert_eq!(f["words"][0], "代开处方");
    let stored = crate::booking::number(
        &p.patient,
        "SELECT COUNT(*) AS n FROM consult_message WHERE kind <> 'event'",
    )
    .await;
    assert_eq!(stored, 0, "nothing was stored");
    // Too big: the connection closes (1009), nothing stored.
    ws.send(Message::text("x".repeat(65 * 1024))).await.unwrap();
    assert!(next(&mut ws).await.is_none());

    // Another site's page cannot open it with the patient's cookie.
    assert!(
        connect_from(&p.patient, path, "https://evil.example")
            .await
            .is_err()
    );
    // No session: refused at the upgrade.
    let anonymous = p.patient.other_client().await;
    assert!(connect(&anonymous, path).await.is_err());
    // Two connections per account here: the third is closed at once.
    let _one = connect(&p.patient, path).await.unwrap();
    let mut two = connect(&p.patient, path).await.unwrap();
    let mut three = connect(&p.patient, path).await.unwrap();
    assert_eq!(close_code(&mut three).await, Some(4429));
    // The session ends (logged out elsewhere): the connection closes at the next ping.
    use sea_orm::ConnectionTrait;
    p.patient
        .state
        .db
        .execute_unprepared("DELETE FROM session WHERE patient_id IS NOT NULL")
        .await
        .unwrap();
    // The job that checks the sessions of open connections (every 20 s) runs now.
    let parts = p
        .patient
        .state
        .parts
        .get::<server::chat::ChatParts>()
        .unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let ended = parts
        .sessions
        .check(&p.patient.state.db, now)
        .await
        .unwrap();
    assert!(ended >= 1, "the deleted session is found ended");
    assert_eq!(close_code(&mut two).await, Some(4401));
}
