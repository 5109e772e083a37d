//! R-CONS-1 across servers: a message sent through one server reaches a client of
//! another, over PostgreSQL `LISTEN/NOTIFY` or Redis pub/sub. The second server is the
//! real binary, as its own process, on the same database and bus (switched on by
//! `FUZHEN_TEST_POSTGRES_URL`, and `FUZHEN_TEST_REDIS_URL` for Redis, as `.ci/run` sets).
use crate::chat::{Ws, connect_to, next, send};
use crate::consult::{paid_consult_with, uuid};
use crate::helpers::{Db, TestApp};
use base64::Engine;
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Second {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Second {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The binary on `app`'s database and keys, with `bus` settings.
async fn second_server(app: &TestApp, bus: &[(&str, String)]) -> Second {
    let (base_url, name) = app.postgres.clone().expect("a PostgreSQL test");
    let (prefix, _) = base_url.rsplit_once('/').unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_server"));
    cmd.env("FUZHEN_MODE", "dev")
        .env("DATABASE_URL", format!("{prefix}/{name}"))
        .env("FUZHEN_DATA_DIR", dir.path())
        .env("FUZHEN_LISTEN", format!("127.0.0.1:{port}"))
        .env("FUZHEN_FIELD_KEY", b64(&crate::helpers::rand_bytes()))
        .env("FUZHEN_COOKIE_KEY", b64(&[9u8; 64]))
        .env("FUZHEN_AUDIT_KEY", b64(&[6u8; 32]))
        .env("FUZHEN_CHAT_FRAMES_PER_SECOND", "10000")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (k, v) in bus {
        cmd.env(k, v);
    }
    let second = Second {
        child: cmd.spawn().unwrap(),
        base: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    };
    for _ in 0..300 {
        if reqwest::get(format!("{}/healthz", second.base))
            .await
            .is_ok()
        {
            return second;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the second server did not start");
}

/// Joins the consult and reads to its live point.
async fn joined(ws: &mut Ws, consult: &str) {
    send(
        ws,
        json!({ "type": "hello", "consults": [{ "consult": consult, "after": 0 }] }),
    )
    .await;
    while next(ws).await.expect("the replay")["type"] != "live" {}
}

/// The next entry whose text is `text`.
async fn entry_with(ws: &mut Ws, text: &str) -> Value {
    loop {
        let f = next(ws).await.expect("an entry");
        if f["type"] == "entry" && f["text"] == text {
            return f;
        }
    }
}

async fn across(bus: &str, extra: Vec<(&'static str, String)>) {
    let Some(Db::Postgres(url)) = Db::postgres() else {
        eprintln!("skipped: set FUZHEN_TEST_POSTGRES_URL to run two servers");
        return;
    };
    let redis_url = extra
        .iter()
        .find(|(k, _)| *k == "FUZHEN_REDIS_URL")
        .map(|(_, v)| v.clone());
    let bus_name = bus.to_owned();
    let p = paid_consult_with(Db::Postgres(url), "text", move |c| {
        c.bus = bus_name;
        c.redis_url = redis_url;
        c.chat_frames_per_second = 10_000;
    })
    .await;
    let mut settings = vec![("FUZHEN_BUS", bus.to_owned())];
    settings.extend(extra);
    let second = second_server(&p.patient, &settings).await;
    // The patient is on the second server; the doctor on the first.
    let origin = p.patient.base.clone();
    let mut patient = connect_to(
        &p.patient,
        &second.base,
        "/api/v1/consults/socket",
        &second.base,
    )
    .await
    .unwrap();
    let mut doctor = connect_to(
        &p.doctor,
        &p.doctor.base,
        "/api/v1/staff/consults/socket",
        &origin,
    )
    .await
    .unwrap();
    joined(&mut patient, &p.consult).await;
    joined(&mut doctor, &p.consult).await;
    // Subscriptions settle on the bus.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for i in 0..20 {
        let from_doctor = format!("医生 {i}");
        send(&mut doctor, json!({ "type": "send", "consult": p.consult, "client_id": uuid(), "text": from_doctor })).await;
        tokio::time::timeout(
            Duration::from_secs(5),
            entry_with(&mut patient, &from_doctor),
        )
        .await
        .expect("crossed the bus");
        let from_patient = format!("患者 {i}");
        send(&mut patient, json!({ "type": "send", "consult": p.consult, "client_id": uuid(), "text": from_patient })).await;
        tokio::time::timeout(
            Duration::from_secs(5),
            entry_with(&mut doctor, &from_patient),
        )
        .await
        .expect("crossed the bus");
    }
}

#[tokio::test]
async fn a_message_crosses_servers_over_postgres() {
    across("postgres", Vec::new()).await;
}

#[tokio::test]
async fn a_message_crosses_servers_over_redis() {
    let Ok(redis) = std::env::var("FUZHEN_TEST_REDIS_URL") else {
        eprintln!("skipped: set FUZHEN_TEST_REDIS_URL to run two servers over Redis");
        return;
    };
    across("redis", vec![("FUZHEN_REDIS_URL", redis)]).await;
}
