//! The primary media system (R-CONS-6) against a real Janus (Debian's `janus`), started
//! here with the configuration kept in `deploy/janus/`: rooms are made and closed only
//! with the API secret, each private and recorded, and the health check tells a working
//! server from a wrong secret or none. Switched on by `FUZHEN_TEST_JANUS` (the `janus`
//! command), which `.ci/run` sets.
use server::call::janus::Janus;
use server::call::media::MediaProvider;
use std::process::{Child, Command, Stdio};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Janus running on a free port with `deploy/janus/` filled in; killed on drop.
pub(crate) struct RunningJanus {
    child: Child,
    pub url: String,
    pub secret: String,
    pub recordings: tempfile::TempDir,
    _configs: tempfile::TempDir,
}

impl Drop for RunningJanus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) async fn start_janus(command: &str) -> RunningJanus {
    let configs = tempfile::tempdir().unwrap();
    let recordings = tempfile::Builder::new()
        .prefix("fuzhen-recordings")
        .tempdir_in("/tmp")
        .unwrap();
    let port = free_port();
    let secret = format!("{:032x}", rand::random::<u128>());
    let rtp = 20_000 + (port % 200) * 50;
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/janus");
    for name in [
        "janus.jcfg",
        "janus.transport.http.jcfg",
        "janus.plugin.videoroom.jcfg",
    ] {
        let text = std::fs::read_to_string(repo.join(name))
            .unwrap()
            .replace("@CONFIGS@", &configs.path().display().to_string())
            .replace("@API_SECRET@", &secret)
            .replace("@HTTP_PORT@", &port.to_string())
            .replace("@HTTP_IP@", "127.0.0.1")
            .replace("@RTP_PORTS@", &format!("{rtp}-{}", rtp + 49))
            .replace("@NAT@", "");
        std::fs::write(configs.path().join(name), text).unwrap();
    }
    let child = Command::new(command)
        .arg("-F")
        .arg(configs.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("janus starts");
    let url = format!("http://127.0.0.1:{port}/janus");
    let janus = RunningJanus {
        child,
        url: url.clone(),
        secret,
        recordings,
        _configs: configs,
    };
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client
            .get(format!("{url}/info"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return janus;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("janus did not answer on {url}");
}

// R-CONS-6: the primary's rooms are made and closed by the server with its secret; a
// wrong secret is refused and fails the health check; without the admin API.
#[tokio::test]
async fn janus_rooms_are_made_only_with_the_secret_and_recorded() {
    let Ok(command) = std::env::var("FUZHEN_TEST_JANUS") else {
        eprintln!("skipped: set FUZHEN_TEST_JANUS=janus to test the media server");
        return;
    };
    let running = start_janus(&command).await;
    let recordings = running.recordings.path().display().to_string();
    let janus = Janus::new(&running.url, &running.secret, &recordings).unwrap();
    assert!(janus.check_health().await, "healthy with the right secret");
    let room = janus
        .open_room("CL0000000000001", "CS0000000000001")
        .await
        .unwrap()
        .expect("a room id");
    assert!(janus.room_exists(&room).await.unwrap());
    assert!(
        std::path::Path::new(&janus.recording_folder("CS0000000000001")).is_dir(),
        "the consult's recordings folder"
    );
    janus.close_room(&room).await;
    assert!(!janus.room_exists(&room).await.unwrap(), "closed");

    let intruder = Janus::new(&running.url, "guess", &recordings).unwrap();
    assert!(
        !intruder.check_health().await,
        "a wrong secret fails the check"
    );
    assert!(
        intruder.open_room("CL2", "CS2").await.is_err(),
        "and makes no room"
    );
    // The admin API is not there at all.
    assert!(
        reqwest::Client::new()
            .get("http://127.0.0.1:7088/admin")
            .send()
            .await
            .is_err()
    );
    drop(running);
    assert!(
        !janus.check_health().await,
        "a stopped server fails the check"
    );
}
