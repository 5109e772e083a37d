//! Security review item 2: image decoding is bounded. The server runs as its own process
//! (the real binary, so its peak resident memory is its own), eight patients upload at
//! once, and its peak RSS is read from `/proc/<pid>/status` (`VmHWM`):
//! - eight "pixel bombs" (7,740 x 7,740 16-bit RGBA: under the pixel limit, 480 MB
//!   decoded) are refused from their header and cost nothing;
//! - eight 25 MP photos (75 MB decoded, 150 MB with the copy re-encoding takes) decode
//!   through the pool, whose budget (`FUZHEN_DECODE_MEMORY_MIB`, 600) bounds them:
//!   unbounded they would take 1.2 GB at once;
//! - meanwhile another patient's requests keep answering.
#![expect(
    clippy::unwrap_used,
    reason = "tests: an unwrap that fails is a failed assertion"
)]
use reqwest::multipart::{Form, Part};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The dev token, as the server reads it: 32 bytes, base64.
const TOKEN: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
const BUDGET_MIB: u64 = 600;

struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_server"))
            .env("FUZHEN_MODE", "dev")
            .env("FUZHEN_DATA_DIR", dir.path())
            .env("FUZHEN_LISTEN", format!("127.0.0.1:{port}"))
            .env("FUZHEN_DEV_TOKEN", TOKEN)
            .env("FUZHEN_DECODE_MEMORY_MIB", BUDGET_MIB.to_string())
            .env("FUZHEN_SMS_PER_IP_PER_HOUR", "1000")
            .env("FUZHEN_THROTTLE_PER_MINUTE", "100000")
            // A debug build decodes slowly; the figure wanted here is memory, not time.
            .env("FUZHEN_REQUEST_TIMEOUT_SECS", "600")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let server = Self {
            child,
            base,
            _dir: dir,
        };
        for _ in 0..300 {
            if reqwest::get(format!("{}/api/v1/csrf", server.base))
                .await
                .is_ok()
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server did not start");
    }

    /// The process's peak resident set so far, in MiB.
    fn peak_rss_mib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .unwrap()
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .unwrap();
        kib / 1024
    }
}

/// A logged-in patient's client and CSRF token.
struct Patient {
    client: Client,
    csrf: String,
}

/// An 18-digit resident ID with a valid check digit (GB 11643), different for each n.
fn id_number(n: u32) -> String {
    let first = format!("11010519800101{:03}", n % 1000);
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{first}{check}")
}

async fn register(server: &Server, n: u32) -> Patient {
    let client = Client::builder().cookie_store(true).build().unwrap();
    let base = &server.base;
    let csrf: Value = client
        .get(format!("{base}/api/v1/csrf"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csrf = csrf["csrf_token"].as_str().unwrap().to_owned();
    let phone = format!("1380013{n:04}");
    let res = client
        .post(format!("{base}/api/v1/sms-codes"))
        .header("x-csrf-token", &csrf)
        .json(&json!({ "phone": phone, "purpose": "register" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let mut code = None;
    for _ in 0..100 {
        let outbox: Value = client
            .get(format!("{base}/api/v1/dev/sms-outbox?phone={phone}"))
            .header("x-fuzhen-dev-token", TOKEN)
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
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let consents: Value = client
        .get(format!("{base}/api/v1/consents"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = client
        .post(format!("{base}/api/v1/registrations"))
        .header("x-csrf-token", &csrf)
        .json(&json!({
            "phone": phone, "code": code.unwrap(), "password": "a calm river at dawn",
            "real_name": "张三", "id_number": id_number(n), "consents": consents["current"],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
    let csrf: Value = client
        .get(format!("{base}/api/v1/csrf"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Patient {
        client,
        csrf: csrf["csrf_token"].as_str().unwrap().to_owned(),
    }
}

async fn upload(
    server: &Server,
    p: &Patient,
    key: String,
    file: Vec<u8>,
    name: &str,
) -> reqwest::Response {
    let form = Form::new()
        .text("institution", "北京协和医院")
        .text("diagnosed_on", "2026-06-01")
        .text("icd10", "I10")
        .text("note", "")
        .text("idempotency_key", key)
        .part("files", Part::bytes(file).file_name(name.to_owned()));
    p.client
        .post(format!("{}/api/v1/proofs", server.base))
        .header("x-csrf-token", &p.csrf)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// A PNG whose header says 7,740 x 7,740, 16-bit RGBA (59.9 MP, 480 MB decoded).
fn pixel_bomb() -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
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
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        png.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        png.extend_from_slice(&body);
        png.extend_from_slice(&crc32(&body).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&7_740u32.to_be_bytes());
    ihdr.extend_from_slice(&7_740u32.to_be_bytes());
    ihdr.extend_from_slice(&[16, 6, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(b"IEND", &[]);
    png
}

/// A 5,000 x 5,000 photo (25 MP): small as a file, 75 MB decoded.
fn big_photo() -> Vec<u8> {
    let img = image::RgbImage::from_fn(5_000, 5_000, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x + y) % 239) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap();
    out.into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_pixel_bombs_and_big_photos_stay_within_the_decoding_budget() {
    let server = Server::start().await;
    let mut patients = Vec::new();
    for n in 0..9 {
        patients.push(register(&server, n).await);
    }
    let other = patients.pop().unwrap();
    let before = server.peak_rss_mib();

    // Eight bombs at once: each refused from its header.
    let bomb = pixel_bomb();
    let answers = futures_util::future::join_all(patients.iter().enumerate().map(|(i, p)| {
        upload(
            &server,
            p,
            format!("bomb-key-{i:04}"),
            bomb.clone(),
            "bomb.png",
        )
    }))
    .await;
    for res in answers {
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "image_too_large");
    }
    let after_bombs = server.peak_rss_mib();

    // Eight big photos at once, while another patient keeps asking for their page.
    let photo = big_photo();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = tokio::spawn({
        let (client, url, stop) = (
            other.client.clone(),
            format!("{}/api/v1/me", server.base),
            stop.clone(),
        );
        async move {
            let (mut answered, mut slowest) = (0u32, Duration::ZERO);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let started = Instant::now();
                let res = client
                    .get(&url)
                    .timeout(Duration::from_secs(10))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), StatusCode::OK);
                slowest = slowest.max(started.elapsed());
                answered += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            (answered, slowest)
        }
    });
    let started = Instant::now();
    let answers = futures_util::future::join_all(patients.iter().enumerate().map(|(i, p)| {
        upload(
            &server,
            p,
            format!("photo-key-{i:04}"),
            photo.clone(),
            "photo.jpg",
        )
    }))
    .await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (answered, slowest) = watcher.await.unwrap();
    let took = started.elapsed();
    for res in answers {
        assert_eq!(
            res.status(),
            StatusCode::CREATED,
            "{}",
            res.text().await.unwrap()
        );
    }
    let peak = server.peak_rss_mib();
    println!(
        "peak RSS: {before} MiB before, {after_bombs} MiB after 8 bombs, {peak} MiB after 8 photos of 25 MP ({:.1} s); budget {BUDGET_MIB} MiB; {answered} other requests, slowest {slowest:?}",
        took.as_secs_f64()
    );
    assert!(
        after_bombs < before + 64,
        "bombs cost memory: {after_bombs} MiB"
    );
    assert!(
        peak < before + BUDGET_MIB,
        "decodes took {peak} MiB (from {before} MiB)"
    );
}
