//! Holds per second and hold latency (R-BOOK-2), against a running server seeded with
//! the demo data (`server dev seed`). Patients with an approved diagnosis, screened and
//! consented, hold slots in three phases:
//! 1. across many slots, holds only: 64 clients, each with its own patients and its own
//!    slots; a patient may run 3 unpaid holds, so each client moves on to its next patient
//!    after three (the phase ends when its time is up or the patients have held their 3);
//! 2. across many slots, each hold then cancelled by the same client (a cancel is a write
//!    as heavy as a hold: this is the pair's rate);
//! 3. all clients on one place, a winner cancelling to free it again (contention).
//!
//! Prints figures; `scripts/bench.sh` runs it on SQLite and PostgreSQL.
//!
//!   bench_holds <base URL> <seconds per phase> [clients] [patients per client]
#![expect(
    clippy::unwrap_used,
    reason = "a benchmark: a failed unwrap is a failed run"
)]
use reqwest::Client;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
/// Unpaid holds one account may run at once (`too_many_holds` beyond).
const MAX_RUNNING_HOLDS: usize = 3;
const OPERATOR: (&str, &str) = ("demo.operator", "FUZHENDEMOOPERATORAAAAAAAAAAAAAA");

struct Api {
    base: String,
    client: Client,
    csrf: String,
}

impl Api {
    async fn new(base: &str) -> Api {
        let client = Client::builder().cookie_store(true).build().unwrap();
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
            csrf: csrf["csrf_token"].as_str().unwrap().to_owned(),
        }
    }
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("x-csrf-token", &self.csrf);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }
    async fn get_json(&self, path: &str) -> Value {
        let res = self.send(reqwest::Method::GET, path, None).await;
        res.json().await.unwrap()
    }
    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }
    async fn ok(&self, path: &str, body: Value) -> Value {
        let res = self.post(path, body).await;
        let status = res.status();
        let text = res.text().await.unwrap();
        assert!(status.is_success(), "POST {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

async fn operator(base: &str) -> Api {
    let op = Api::new(base).await;
    op.ok(
        "/api/v1/staff/sessions",
        json!({ "username": OPERATOR.0, "password": server::demo::STAFF_PASSWORD }),
    )
    .await;
    let code =
        server::staff::totp::current_code(OPERATOR.1, time::OffsetDateTime::now_utc()).unwrap();
    op.ok("/api/v1/staff/second-factor", json!({ "code": code }))
        .await;
    op
}

/// A patient with an approved hypertension proof, screened and consented (cardiology).
async fn patient(base: &str, op: &Api, i: usize) -> Api {
    let p = Api::new(base).await;
    let phone = format!("1360{:07}", 1_000_000 + i);
    p.ok(
        "/api/v1/sms-codes",
        json!({ "phone": phone, "purpose": "register" }),
    )
    .await;
    let mut code = None;
    for _ in 0..100 {
        let outbox: Value = p
            .client
            .get(format!("{base}/api/v1/dev/sms-outbox?phone={phone}"))
            // The outbox answers only with the dev token the server was started with.
            .header(
                "x-fuzhen-dev-token",
                std::env::var("FUZHEN_DEV_TOKEN").unwrap_or_default(),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        code = outbox["messages"]
            .as_array()
            .and_then(|m| m.last())
            .and_then(|m| m["code"].as_str().map(str::to_owned));
        if code.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let consents: Value = p.get_json("/api/v1/consents").await;
    p.ok(
        "/api/v1/registrations",
        json!({ "phone": phone, "code": code.unwrap(), "password": "bench password 2026",
                "real_name": "测试", "id_number": id_number(i), "consents": consents["current"] }),
    )
    .await;
    let form = reqwest::multipart::Form::new()
        .text("institution", "北京协和医院")
        .text("diagnosed_on", "2026-06-01")
        .text("icd10", "I10")
        .text("idempotency_key", format!("bench-holds-{i:06}"))
        .part(
            "files",
            reqwest::multipart::Part::bytes(PDF).file_name("r.pdf"),
        );
    let proof: Value = p
        .client
        .post(format!("{base}/api/v1/proofs"))
        .header("x-csrf-token", &p.csrf)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let number = proof["proof_number"].as_str().unwrap();
    op.ok(
        &format!("/api/v1/staff/proofs/{number}/decision"),
        json!({ "decision": "approve", "icd10": "I10", "department": "cardiology" }),
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
    let notice: Value = p.get_json("/api/v1/consult-notice").await;
    p.ok(
        "/api/v1/consult-consents",
        json!({ "icd10": "I10", "department": "cardiology", "version": notice["version"], "accept": true }),
    )
    .await;
    p
}

/// A valid 18-digit ID number for a 1980s birth date, different for each `i`.
fn id_number(i: usize) -> String {
    let first = format!(
        "110105198{}{:02}{:02}{:03}",
        i % 10,
        1 + (i / 10) % 12,
        1 + (i / 120) % 28,
        100 + i % 900
    );
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    format!(
        "{first}{}",
        ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'][(sum % 11) as usize]
    )
}

/// Latencies of the holds made: (holds answered, per second, p50 ms, p99 ms).
fn report(label: &str, mut latencies: Vec<Duration>, secs: f64, extra: &str) {
    latencies.sort();
    let pick = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "   {label:<38} {:>8.0} holds/s   p50 {:>6.1} ms   p99 {:>6.1} ms   ({} answered{extra})",
        latencies.len() as f64 / secs,
        pick(0.5),
        pick(0.99),
        latencies.len()
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = args
        .get(1)
        .expect("base URL")
        .trim_end_matches('/')
        .to_owned();
    let secs: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10);
    let clients: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(64);
    let op = operator(&base).await;

    // Four cardiologists with 5-minute appointments all day for two weeks.
    let tomorrow = app::domain::china_time::today(time::OffsetDateTime::now_utc())
        .next_day()
        .unwrap();
    let mut slots: Vec<String> = Vec::new();
    for d in 0..4 {
        let doctor = op
            .ok(
                "/api/v1/staff/doctors",
                json!({ "name": format!("压测医生{}", ["甲", "乙", "丙", "丁"][d]), "title": "attending",
                        "department": "cardiology", "licence_number": format!("11011099{:07}", d + clients * 10),
                        "practicing_since": "2010-01-01", "specialties": "高血压", "bio": "" }),
            )
            .await["doctor_number"]
            .as_str()
            .unwrap()
            .to_owned();
        for day in 0..14 {
            let date = app::domain::schedule::add_days(tomorrow, day);
            let made = op
                .ok(
                    &format!("/api/v1/staff/doctors/{doctor}/sessions"),
                    json!({ "date": date.to_string(), "start": "00:00", "end": "24:00",
                            "consult_type": "text", "slot_minutes": 5 }),
                )
                .await;
            slots.extend(
                made["slot_numbers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_owned()),
            );
        }
    }
    // One place everybody wants: a session with capacity 1, on the first doctor's page.
    let contested = {
        let doctor = op
            .ok(
                "/api/v1/staff/doctors",
                json!({ "name": "压测医生戊", "title": "attending", "department": "cardiology",
                        "licence_number": format!("11011098{:07}", clients), "practicing_since": "2010-01-01",
                        "specialties": "高血压", "bio": "" }),
            )
            .await["doctor_number"]
            .as_str()
            .unwrap()
            .to_owned();
        let made = op
            .ok(
                &format!("/api/v1/staff/doctors/{doctor}/sessions"),
                json!({ "date": tomorrow.to_string(), "start": "09:00", "end": "09:30",
                        "consult_type": "text", "capacity": 1 }),
            )
            .await;
        made["slot_numbers"][0].as_str().unwrap().to_owned()
    };

    // Each client: one patient who holds and cancels (phases 2 and 3), and its own
    // patients for holds only (phase 1), three holds each.
    let per_client: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(16);
    let made_at = Instant::now();
    let mut everyone = Vec::with_capacity(clients * (1 + per_client));
    for chunk in (0..clients * (1 + per_client))
        .collect::<Vec<_>>()
        .chunks(16)
    {
        let made =
            futures_util::future::join_all(chunk.iter().map(|&i| patient(&base, &op, i))).await;
        everyone.extend(made);
    }
    let mut everyone = everyone.into_iter();
    let mut people = Vec::with_capacity(clients);
    let mut holders: Vec<Vec<Api>> = Vec::with_capacity(clients);
    for _ in 0..clients {
        people.push(everyone.next().unwrap());
        holders.push(everyone.by_ref().take(per_client).collect());
    }
    println!(
        "   ({} patients made in {:.0} s; {} slots of 4 doctors)",
        clients * (1 + per_client),
        made_at.elapsed().as_secs_f64(),
        slots.len()
    );
    // Client k's own slots: the last 3 per patient for holds only, the rest to cycle on.
    let per = slots.len() / clients;
    let kept = MAX_RUNNING_HOLDS * per_client;
    assert!(
        per > kept,
        "too few slots for {per_client} patients per client"
    );

    // 1. Across many slots, holds only.
    let deadline = Instant::now() + Duration::from_secs(secs);
    let runs = holders.iter().enumerate().map(|(k, mine)| {
        let own: Vec<String> = slots[(k + 1) * per - kept..(k + 1) * per].to_vec();
        async move {
            let (mut lat, mut failed) = (Vec::new(), 0usize);
            'patients: for (j, p) in mine.iter().enumerate() {
                for slot in &own[j * MAX_RUNNING_HOLDS..(j + 1) * MAX_RUNNING_HOLDS] {
                    if Instant::now() >= deadline {
                        break 'patients;
                    }
                    let t = Instant::now();
                    let res = p
                        .post("/api/v1/holds", json!({ "slot_number": slot }))
                        .await;
                    let ok = res.status().is_success();
                    let _ = res.bytes().await;
                    lat.push(t.elapsed());
                    failed += usize::from(!ok);
                }
            }
            (lat, failed)
        }
    });
    let started = Instant::now();
    let results = futures_util::future::join_all(runs).await;
    let failed: usize = results.iter().map(|(_, f)| f).sum();
    let all: Vec<Duration> = results.into_iter().flat_map(|(l, _)| l).collect();
    report(
        "across many slots (holds only)",
        all,
        started.elapsed().as_secs_f64(),
        &format!(", {failed} refused"),
    );

    // 2. Across many slots: client k holds its own slots in turn, cancelling each.
    let deadline = Instant::now() + Duration::from_secs(secs);
    let runs = people.iter().enumerate().map(|(k, p)| {
        let mine: Vec<String> = slots[k * per..(k + 1) * per - kept].to_vec();
        async move {
            let mut lat = Vec::new();
            let mut j = 0;
            while Instant::now() < deadline && j < mine.len() {
                let t = Instant::now();
                let res = p
                    .post("/api/v1/holds", json!({ "slot_number": mine[j] }))
                    .await;
                let status = res.status();
                let body: Value = res.json().await.unwrap_or(Value::Null);
                lat.push(t.elapsed());
                if status.is_success() {
                    let n = body["booking_number"].as_str().unwrap().to_owned();
                    p.send(
                        reqwest::Method::DELETE,
                        &format!("/api/v1/bookings/{n}"),
                        None,
                    )
                    .await;
                }
                j += 1;
            }
            lat
        }
    });
    let started = Instant::now();
    let all: Vec<Duration> = futures_util::future::join_all(runs)
        .await
        .into_iter()
        .flatten()
        .collect();
    report(
        "across many slots (hold, then cancel)",
        all,
        started.elapsed().as_secs_f64(),
        "",
    );

    // 3. Contention: everyone holds the one place; a winner cancels, freeing it again.
    let deadline = Instant::now() + Duration::from_secs(secs);
    let runs = people.iter().map(|p| {
        let slot = contested.clone();
        async move {
            let (mut lat, mut won) = (Vec::new(), 0usize);
            while Instant::now() < deadline {
                let t = Instant::now();
                let res = p
                    .post("/api/v1/holds", json!({ "slot_number": slot }))
                    .await;
                let status = res.status();
                let body: Value = res.json().await.unwrap_or(Value::Null);
                lat.push(t.elapsed());
                if status.is_success() {
                    won += 1;
                    let n = body["booking_number"].as_str().unwrap().to_owned();
                    p.send(
                        reqwest::Method::DELETE,
                        &format!("/api/v1/bookings/{n}"),
                        None,
                    )
                    .await;
                } else {
                    assert_eq!(body["error"]["code"], "slot_taken", "{body}");
                }
            }
            (lat, won)
        }
    });
    let started = Instant::now();
    let results = futures_util::future::join_all(runs).await;
    let won: usize = results.iter().map(|(_, w)| w).sum();
    let all: Vec<Duration> = results.into_iter().flat_map(|(l, _)| l).collect();
    report(
        "one place, all clients (contention)",
        all,
        started.elapsed().as_secs_f64(),
        &format!(", {won} won"),
    );
}
