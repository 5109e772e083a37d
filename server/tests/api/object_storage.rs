//! Where uploaded files are kept (R-ELIG-2): files left without a proof are swept, and
//! the same code stores to a real S3-protocol server (moto) when `FUZHEN_TEST_S3` is set.
use crate::helpers::{Db, spawn_app_with};
use crate::proofs::{jpeg, upload, upload_form};
use reqwest::StatusCode;
use serde_json::Value;
use server::config::S3Settings;
use server::proofs::orphans;
use time::OffsetDateTime;

// R-ELIG-2: a file whose proof row never came (a crash between storing and committing)
// is deleted once it is older than the grace period; the files of real proofs stay.
pub async fn files_without_a_proof_are_swept(db: Db) {
    let mut app = spawn_app_with(db, |_| {}).await;
    assert_eq!(
        app.register("13800138000", "110101199003071233")
            .await
            .status(),
        StatusCode::CREATED
    );
    let res = upload(
        &app,
        upload_form("sweep-key-1", vec![("a.jpg", jpeg(40, 30))]),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    sweep_keeps_proofs_and_deletes_orphans(&app.state).await;
}

async fn sweep_keeps_proofs_and_deletes_orphans(state: &server::state::AppState) {
    let files = &state.files;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let real = files.written_before("proofs", i64::MAX).await.unwrap();
    assert_eq!(real.len(), 2, "the image and its thumbnail: {real:?}");
    files
        .put("proofs/NOSUCHPROOF/1.jpg", b"left behind".to_vec())
        .await
        .unwrap();
    // Too young: its upload may still be committing.
    assert_eq!(orphans::sweep(state, now).await.unwrap(), 0);
    let later = now + orphans::GRACE_SECS + 60;
    assert_eq!(orphans::sweep(state, later).await.unwrap(), 1);
    let left = files.written_before("proofs", i64::MAX).await.unwrap();
    assert_eq!(left.len(), 2);
    assert!(left.iter().all(|k| real.contains(k)), "{left:?}");
    // Sweeping again (another server, the next tick) finds nothing more.
    assert_eq!(orphans::sweep(state, later).await.unwrap(), 0);
}

/// `moto_server` on a free port, stopped when dropped.
struct Moto {
    child: std::process::Child,
    url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_moto(command: &str) -> Moto {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(command)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("FUZHEN_TEST_S3: cannot start {command}: {e}"));
    let moto = Moto {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    for _ in 0..150 {
        if client.get(&moto.url).send().await.is_ok() {
            return moto;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("moto_server did not start on port {port}");
}

// R-ELIG-2: the S3 implementation of the storage, against a real S3-protocol server:
// upload, the owner reads the file back, the objects sit under the configured prefix,
// and the orphan sweep lists and deletes there too.
#[tokio::test]
async fn uploads_are_stored_in_s3_compatible_storage() {
    let Some(command) = std::env::var("FUZHEN_TEST_S3")
        .ok()
        .filter(|v| !v.is_empty())
    else {
        eprintln!("skipped: set FUZHEN_TEST_S3=moto_server (as .ci/run does) to test S3 storage");
        return;
    };
    let moto = start_moto(&command).await;
    let bucket = "fuzhen-proofs";
    let made = reqwest::Client::new()
        .put(format!("{}/{bucket}", moto.url))
        .send()
        .await
        .unwrap();
    assert!(made.status().is_success(), "{}", made.status());
    let settings = S3Settings {
        bucket: bucket.into(),
        endpoint: Some(moto.url.clone()),
        region: "us-east-1".into(),
        access_key_id: "testing".into(),
        secret_access_key: String::from("testing").into(),
        prefix: "ci".into(),
    };
    let mut app = spawn_app_with(Db::Sqlite, |c| c.object_storage = Some(settings)).await;
    assert_eq!(
        app.register("13800138000", "110101199003071233")
            .await
            .status(),
        StatusCode::CREATED
    );
    let res = upload(
        &app,
        upload_form("s3-key-0001", vec![("a.jpg", jpeg(40, 30))]),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let proof: Value = res.json().await.unwrap();
    let number = proof["proof_number"].as_str().unwrap();

    // Nothing on the local disk; the objects are in the bucket, under the prefix.
    assert!(!app._dir.path().join("files").exists());
    let listing = reqwest::Client::new()
        .get(format!("{}/{bucket}?list-type=2", moto.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        listing.contains(&format!("<Key>ci/proofs/{number}/1.jpg</Key>")),
        "{listing}"
    );

    let file = app
        .client
        .get(app.url(&format!("/api/v1/proofs/{number}/files/1")))
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), StatusCode::OK);
    let bytes = file.bytes().await.unwrap();
    assert_eq!(
        &bytes[..2],
        &[0xFF, 0xD8],
        "a JPEG, read back from the bucket"
    );

    sweep_keeps_proofs_and_deletes_orphans(&app.state).await;
}
