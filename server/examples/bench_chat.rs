//! The consult connection under load (R-CONS-1): N WebSocket clients in consult pairs
//! (a patient's connection and a doctor's for each consult), against servers seeded with
//! the demo data. Prints the server's memory per connection, the messages per second
//! sent and delivered, and the delivery latency (send to the other side's receipt, p50
//! and p99).
//!
//! Set-up: the demo patient 王建国 pays for one text consult with the demo cardiologist
//! (demo.doctor); the benchmark then copies its booking and consult in the database, so
//! there is one consult per pair; the patients' connections go to the first server and
//! the doctors' to the last (two servers: the message crosses the bus).
//!
//!   bench_chat <database URL> <connections> <messages/s> <seconds> <base URL>:<pid> [<base URL>:<pid>]
#![expect(
    clippy::unwrap_used,
    reason = "a benchmark: a failed unwrap is a failed run"
)]
use futures_util::{SinkExt, StreamExt};
use reqwest::Client;
use reqwest::cookie::CookieStore;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

struct Api {
    base: String,
    client: Client,
    jar: Arc<reqwest::cookie::Jar>,
    csrf: String,
}

impl Api {
    async fn new(base: &str) -> Api {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let client = Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let csrf: Value = client
            .get(format!("{base}/api/v1/csrf"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Api {
            base: base.to_owned(),
            client,
            jar,
            csrf: csrf["csrf_token"].as_str().unwrap().to_owned(),
        }
    }

    async fn ok(&self, path: &str, body: Value) -> Value {
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        assert!(status.is_success(), "POST {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    async fn get(&self, path: &str) -> Value {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    fn cookie(&self) -> reqwest::header::HeaderValue {
        self.jar.cookies(&self.base.parse().unwrap()).unwrap()
    }
}

async fn staff(base: &str, username: &str, secret: &str) -> Api {
    let s = Api::new(base).await;
    s.ok(
        "/api/v1/staff/sessions",
        json!({ "username": username, "password": server::demo::STAFF_PASSWORD }),
    )
    .await;
    let code = server::staff::totp::current_code(secret, time::OffsetDateTime::now_utc()).unwrap();
    s.ok("/api/v1/staff/second-factor", json!({ "code": code }))
        .await;
    s
}

/// One paid text consult of 王建国 with demo.doctor, on a day `run` picks (a second run
/// on the same database takes another); its consult id.
async fn first_consult(base: &str, db: &sea_orm::DatabaseConnection, run: u16) -> i64 {
    let op = staff(base, "demo.operator", "FUZHENDEMOOPERATORAAAAAAAAAAAAAA").await;
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT d.doctor_number AS n FROM doctor d JOIN staff s ON s.id = d.staff_id \
             WHERE s.username = 'demo.doctor'",
        ))
        .await
        .unwrap()
        .unwrap();
    let doctor: String = row.try_get("", "n").unwrap();
    let day = app::domain::schedule::add_days(
        app::domain::china_time::today(time::OffsetDateTime::now_utc()),
        4 + i64::from(run % 40),
    );
    let made = op
        .ok(
            &format!("/api/v1/staff/doctors/{doctor}/sessions"),
            json!({ "date": day.to_string(), "start": "20:00", "end": "21:00", "consult_type": "text", "slot_minutes": 30 }),
        )
        .await;
    let slot = made["slot_numbers"][0].as_str().unwrap().to_owned();
    let p = Api::new(base).await;
    p.ok(
        "/api/v1/sessions",
        json!({ "phone": "13900000001", "password": server::demo::PATIENT_PASSWORD }),
    )
    .await;
    let flags = [
        "chest_pain",
        "breathing_difficulty",
        "heavy_bleeding",
        "lost_consciousness",
        "stroke_signs",
        "seizure",
        "severe_allergy",
        "poisoning",
        "infant_high_fever",
        "self_harm",
    ];
    let answers: serde_json::Map<String, Value> = flags
        .iter()
        .map(|f| (f.to_string(), json!(false)))
        .collect();
    p.ok(
        "/api/v1/emergency-screen",
        json!({ "answers": answers, "critical": false }),
    )
    .await;
    let notice = p.get("/api/v1/consult-notice").await;
    p.ok(
        "/api/v1/consult-consents",
        json!({ "icd10": "I10", "department": "cardiology", "version": notice["version"], "accept": true }),
    )
    .await;
    let held = p.ok("/api/v1/holds", json!({ "slot_number": slot })).await;
    let booking = held["booking_number"].as_str().unwrap();
    let next = p
        .ok(
            &format!("/api/v1/bookings/{booking}/payment"),
            json!({ "payment_method": "wechat_pay" }),
        )
        .await;
    let order = next["url"]
        .as_str()
        .unwrap()
        .trim_start_matches("/pay/sandbox/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let res = p
        .client
        .post(format!("{base}/forms/pay/sandbox/{order}"))
        .form(&[("choice", "succeed"), ("csrf_token", p.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT c.id AS n FROM consult c JOIN booking b ON b.id = c.booking_id \
                 WHERE b.booking_number = '{booking}'"
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}

/// Copies the consult (and its booking, as a cancelled one, so no place is taken) until
/// there are `n`; their numbers.
async fn copies(
    db: &sea_orm::DatabaseConnection,
    template: i64,
    n: usize,
    run: u16,
) -> Vec<String> {
    let more = n.saturating_sub(1);
    let tag = format!("BK{run:04x}B");
    let series =
        format!("WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < {more})");
    let booking_columns = "slot_id, patient_id, family_member_id, person_key, proof_id, \
        consult_consent_id, icd10, status, starts_at, ends_at, held_at, hold_expires_at, \
        confirmed_at, cancelled_at, cancel_reason, refund_due, reminder_sent_at";
    db.execute_unprepared(&format!(
        "INSERT INTO booking (booking_number, {booking_columns}) {series} \
         SELECT '{tag}' || k.i, slot_id, patient_id, family_member_id, person_key, proof_id, \
         consult_consent_id, icd10, 'cancelled', starts_at, ends_at, held_at, hold_expires_at, \
         confirmed_at, held_at, 'bench', FALSE, reminder_sent_at \
         FROM booking, k WHERE booking.id = (SELECT booking_id FROM consult WHERE id = {template})"
    ))
    .await
    .unwrap();
    let consult_columns = "patient_id, family_member_id, person_key, doctor_id, consult_type, \
        icd10, proof_id, status, opens_at, answer_promised_by, closes_unanswered_at, \
        text_window_secs, first_answer_at, ended_at, ended_by, end_reason, last_seq, \
        patient_read_seq, doctor_read_seq, patient_nudged_at, doctor_nudged_at, created_at, \
        updated_at";
    db.execute_unprepared(&format!(
        "INSERT INTO consult (consult_number, booking_id, {consult_columns}) \
         SELECT 'CS' || b.booking_number, b.id, c.patient_id, c.family_member_id, \
         c.person_key, c.doctor_id, c.consult_type, c.icd10, c.proof_id, 'in_progress', \
         c.opens_at, c.answer_promised_by, c.closes_unanswered_at + 86400000, \
         c.text_window_secs * 1000, c.opens_at, NULL, NULL, NULL, 0, 0, 0, NULL, NULL, \
         c.created_at, c.updated_at \
         FROM booking b, consult c WHERE b.booking_number LIKE '{tag}%' AND c.id = {template}"
    ))
    .await
    .unwrap();
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT consult_number AS n FROM consult WHERE id = {template} \
                 OR consult_number LIKE 'CS{tag}%' ORDER BY id"
            ),
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.try_get::<String>("", "n").unwrap())
        .take(n)
        .collect()
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .map(|v| v.trim().trim_end_matches("kB").trim().parse().unwrap_or(0))
        })
        .unwrap_or(0)
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(base: &str, path: &str, cookie: &reqwest::header::HeaderValue, consult: &str) -> Ws {
    let url = base.replace("http://", "ws://") + path;
    let mut req = url.as_str().into_client_request().unwrap();
    req.headers_mut().insert("cookie", cookie.clone());
    // A client with small buffers: 10,000 of them share this process.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_write_buffer_size(64 * 1024);
    let mut ws = loop {
        match tokio_tungstenite::connect_async_with_config(req.clone(), Some(config), true).await {
            Ok((ws, _)) => break ws,
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    let hello = json!({ "type": "hello", "consults": [{ "consult": consult, "after": 0 }] });
    ws.send(Message::text(hello.to_string())).await.unwrap();
    loop {
        if let Some(Ok(Message::Text(t))) = ws.next().await
            && t.contains("\"live\"")
        {
            return ws;
        }
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let db_url = &args[1];
    let conns: usize = args[2].parse().unwrap();
    let rate: f64 = args[3].parse().unwrap();
    let secs: u64 = args[4].parse().unwrap();
    let servers: Vec<(String, u32)> = args[5..]
        .iter()
        .map(|s| {
            let (base, pid) = s.rsplit_once(':').unwrap();
            (base.to_owned(), pid.parse().unwrap())
        })
        .collect();
    let (patient_base, doctor_base) = (&servers[0].0, &servers[servers.len() - 1].0);
    let db = server::db::connect(db_url).await.unwrap();
    let run: u16 = rand::random();
    let template = first_consult(patient_base, &db, run).await;
    let pairs = conns / 2;
    let consults = copies(&db, template, pairs, run).await;
    let patient = Api::new(patient_base).await;
    patient
        .ok(
            "/api/v1/sessions",
            json!({ "phone": "13900000001", "password": server::demo::PATIENT_PASSWORD }),
        )
        .await;
    let doctor = staff(
        doctor_base,
        "demo.doctor",
        "FUZHENDEMODOCTORAAAAAAAAAAAAAAAA",
    )
    .await;
    let before: Vec<u64> = servers.iter().map(|(_, pid)| rss_kib(*pid)).collect();

    // Connect, 200 at a time.
    let started = Instant::now();
    let (pc, dc) = (patient.cookie(), doctor.cookie());
    let mut sockets: Vec<(Ws, String, bool)> = Vec::with_capacity(conns);
    for chunk in consults.chunks(100) {
        let opened = futures_util::future::join_all(chunk.iter().flat_map(|c| {
            let (pc, dc) = (pc.clone(), dc.clone());
            [
                tokio::spawn({
                    let (b, c) = (patient_base.clone(), c.clone());
                    async move { (open(&b, "/api/v1/consults/socket", &pc, &c).await, c, true) }
                }),
                tokio::spawn({
                    let (b, c) = (doctor_base.clone(), c.clone());
                    async move {
                        (
                            open(&b, "/api/v1/staff/consults/socket", &dc, &c).await,
                            c,
                            false,
                        )
                    }
                }),
            ]
        }))
        .await;
        sockets.extend(opened.into_iter().map(Result::unwrap));
    }
    let connect_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle: Vec<u64> = servers.iter().map(|(_, pid)| rss_kib(*pid)).collect();
    let total_before: u64 = before.iter().sum();
    let total_idle: u64 = idle.iter().sum();
    println!(
        "   {} connections ({} consult pairs) open in {connect_secs:.1} s; server RSS {} MiB before, {} MiB connected: {:.1} KiB per connection",
        sockets.len(),
        pairs,
        total_before / 1024,
        total_idle / 1024,
        (total_idle.saturating_sub(total_before)) as f64 / sockets.len() as f64,
    );

    // Each connection sends every `period`, at its own phase; the other side records the
    // latency from the time in the text.
    let origin = Instant::now();
    let period = Duration::from_secs_f64(sockets.len() as f64 / rate);
    let latencies = Arc::new(std::sync::Mutex::new(Vec::<u64>::with_capacity(
        (rate * secs as f64) as usize + 1000,
    )));
    let sent = Arc::new(AtomicU64::new(0));
    let end = origin + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for (i, (ws, consult, is_patient)) in sockets.into_iter().enumerate() {
        let latencies = latencies.clone();
        let sent = sent.clone();
        let phase = period.mul_f64((i as f64 * 0.618_034) % 1.0);
        tasks.push(tokio::spawn(async move {
            let (mut tx, mut rx) = ws.split();
            let me = if is_patient {
                "\"patient\""
            } else {
                "\"doctor\""
            };
            let reader = tokio::spawn(async move {
                let mut seen = Vec::new();
                while let Some(Ok(m)) = rx.next().await {
                    if let Message::Text(t) = m
                        && t.contains("\"entry\"")
                        && !t.contains(me)
                        && let Some(at) = t.split("bench@").nth(1).and_then(|r| r.split('"').next())
                        && let Ok(us) = at.parse::<u64>()
                    {
                        seen.push((origin.elapsed().as_micros() as u64).saturating_sub(us));
                    }
                }
                seen
            });
            tokio::time::sleep(phase).await;
            let mut tick = tokio::time::interval(period);
            loop {
                tick.tick().await;
                if Instant::now() >= end {
                    break;
                }
                let text = format!("bench@{}", origin.elapsed().as_micros());
                let frame = json!({ "type": "send", "consult": consult,
                    "client_id": uuid::Uuid::now_v7().to_string(), "text": text });
                if tx.send(Message::text(frame.to_string())).await.is_err() {
                    break;
                }
                sent.fetch_add(1, Ordering::Relaxed);
            }
            // Let the last messages arrive, then close.
            tokio::time::sleep(Duration::from_secs(2)).await;
            let _ = tx.close().await;
            let seen = tokio::time::timeout(Duration::from_secs(5), reader)
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default();
            latencies.lock().unwrap().extend(seen);
        }));
    }
    let mut peak: Vec<u64> = idle.clone();
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(500)).await;
        for (p, (_, pid)) in peak.iter_mut().zip(&servers) {
            *p = (*p).max(rss_kib(*pid));
        }
    }
    for t in tasks {
        let _ = t.await;
    }
    let mut l = std::mem::take(&mut *latencies.lock().unwrap());
    l.sort_unstable();
    let pick = |q: f64| {
        l.get(((l.len() as f64 * q) as usize).min(l.len().saturating_sub(1)))
            .map_or(0.0, |us| *us as f64 / 1000.0)
    };
    let sent = sent.load(Ordering::Relaxed);
    println!(
        "   {:.0} messages/s sent ({} in {secs} s), {} delivered to the other side; delivery p50 {:.1} ms, p99 {:.1} ms; server RSS peak {} MiB",
        sent as f64 / secs as f64,
        sent,
        l.len(),
        pick(0.5),
        pick(0.99),
        peak.iter().sum::<u64>() / 1024,
    );
}
