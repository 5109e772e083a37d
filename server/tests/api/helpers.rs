//! Starts the real server on a random port against a fresh database and talks HTTP.
use reqwest::{Client, Response, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use server::config::Config;
use server::startup::Application;
use server::state::AppState;

pub enum Db {
    Sqlite,
    Postgres(String),
}

impl Db {
    /// PostgreSQL only when `FUZHEN_TEST_POSTGRES_URL` is set (as `.ci/run` does).
    pub fn postgres() -> Option<Db> {
        std::env::var("FUZHEN_TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .map(Db::Postgres)
    }
}

pub struct TestApp {
    pub base: String,
    pub client: Client,
    /// The client's cookies (a WebSocket client sends them too).
    pub jar: std::sync::Arc<reqwest::cookie::Jar>,
    pub state: AppState,
    pub csrf: String,
    pub _dir: tempfile::TempDir,
    /// The PostgreSQL database made for this test, dropped when the test ends.
    pub postgres: Option<(String, String)>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let Some((base, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(admin) = Database::connect(&base).await {
                    let _ = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

pub async fn spawn_app(db: Db) -> TestApp {
    spawn_app_with(db, |_| {}).await
}

/// A server with one patient registered (13800138000) and logged in.
pub async fn spawn_patient(db: Db) -> TestApp {
    let mut app = spawn_app(db).await;
    assert_eq!(
        app.register("13800138000", "110101199003071233")
            .await
            .status(),
        StatusCode::CREATED
    );
    app
}

pub async fn spawn_app_with(db: Db, tweak: impl FnOnce(&mut Config)) -> TestApp {
    if let Ok(filter) = std::env::var("FUZHEN_TEST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let (database_url, postgres) = match db {
        Db::Sqlite => (
            format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display()),
            None,
        ),
        Db::Postgres(base) => {
            let (url, name) = fresh_postgres(&base).await;
            (url, Some((base, name)))
        }
    };
    let mut config = Config::dev(
        dir.path().to_path_buf(),
        database_url,
        rand_bytes(),
        [9u8; 64],
    );
    // Every request here comes from 127.0.0.1: one test turns the per-address limit on.
    config.throttle_per_minute = 1_000_000;
    config.sms_per_ip_per_hour = 1000;
    tweak(&mut config);
    let app = Application::build(config).await.expect("app builds");
    let base = format!("http://{}", app.address());
    let state = app.state();
    tokio::spawn(app.run_until_stopped());
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let client = Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut app = TestApp {
        base,
        client,
        jar,
        state,
        csrf: String::new(),
        _dir: dir,
        postgres,
    };
    app.refresh_csrf().await;
    app
}

pub(crate) fn rand_bytes() -> [u8; 32] {
    let mut b = [0u8; 32];
    for (i, x) in b.iter_mut().enumerate() {
        *x = (i as u8).wrapping_mul(31).wrapping_add(7);
    }
    b
}

/// A uniquely named database per test on the PostgreSQL server: (URL, name).
pub(crate) async fn fresh_postgres(base: &str) -> (String, String) {
    let name = format!("fuzhen_test_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(base)
        .await
        .expect("connect to PostgreSQL");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create database");
    let (prefix, _) = base.rsplit_once('/').expect("URL has a database part");
    (format!("{prefix}/{name}"), name)
}

impl TestApp {
    /// A client that keeps no cookies.
    pub fn bare_client() -> Client {
        Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    }

    /// Another browser on the same server: its own cookies, no shared state.
    pub async fn other_client(&self) -> TestApp {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let client = Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let mut other = TestApp {
            base: self.base.clone(),
            client,
            jar,
            state: self.state.clone(),
            csrf: String::new(),
            _dir: tempfile::tempdir().expect("temp dir"),
            postgres: None,
        };
        other.refresh_csrf().await;
        other
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn refresh_csrf(&mut self) {
        let body: Value = self
            .client
            .get(self.url("/api/v1/csrf"))
            .send()
            .await
            .expect("csrf")
            .json()
            .await
            .expect("json");
        self.csrf = body["csrf_token"].as_str().expect("token").to_owned();
    }

    pub async fn put(&self, path: &str, body: &Value) -> Response {
        self.client
            .put(self.url(path))
            .header("x-csrf-token", &self.csrf)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.client
            .delete(self.url(path))
            .header("x-csrf-token", &self.csrf)
            .send()
            .await
            .expect("request")
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .header("x-csrf-token", &self.csrf)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// A plain form as a browser without JavaScript posts it, with the CSRF token.
    pub async fn form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut body = fields.to_vec();
        body.push(("csrf_token", &self.csrf));
        self.client
            .post(self.url(path))
            .form(&body)
            .send()
            .await
            .expect("request")
    }

    /// A page as a browser asks for it (gates answer a browser with a redirect).
    pub async fn page(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .header("accept", "text/html,application/xhtml+xml")
            .send()
            .await
            .expect("request")
    }

    /// A page's HTML, as a browser asks for it.
    pub async fn page_text(&self, path: &str) -> String {
        self.page(path).await.text().await.expect("page body")
    }

    /// Codes sent and rate-limit windows begun so far are two minutes old.
    pub async fn two_minutes_pass(&self) {
        use sea_orm::ConnectionTrait;
        for sql in [
            "UPDATE sms_code SET created_at = created_at - 120",
            "UPDATE rate_counter SET window_end = window_end - 120",
        ] {
            self.state
                .db
                .execute_unprepared(sql)
                .await
                .expect("time passes");
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub fn outbox_len(&self, phone: &str) -> usize {
        self.state
            .sms
            .outbox()
            .map_or(0, |o| o.messages_for(phone).len())
    }

    /// Asks for a code. SMS go out in the background, so this waits (up to 1 s) until the
    /// outbox has one more message, when one is expected.
    pub async fn send_code(&self, phone: &str, purpose: &str) -> Response {
        let before = self.outbox_len(phone);
        let res = self
            .post(
                "/api/v1/sms-codes",
                &json!({ "phone": phone, "purpose": purpose }),
            )
            .await;
        if res.status() == StatusCode::ACCEPTED {
            for _ in 0..100 {
                if self.outbox_len(phone) > before {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
        res
    }

    /// What the console SMS sent to `phone`, read through the dev route with its token.
    pub async fn outbox(&self, phone: &str) -> Value {
        let token = self.state.sms.outbox().expect("console SMS").token();
        self.client
            .get(self.url(&format!("/api/v1/dev/sms-outbox?phone={phone}")))
            .header("x-fuzhen-dev-token", token)
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json")
    }

    /// The newest code the console SMS sent to `phone`.
    pub async fn last_code(&self, phone: &str) -> String {
        let body = self.outbox(phone).await;
        let messages = body["messages"].as_array().expect("messages");
        messages.last().expect("a message was sent")["code"]
            .as_str()
            .expect("code")
            .to_owned()
    }

    pub async fn consents(&self) -> Value {
        let body: Value = self
            .get("/api/v1/consents")
            .await
            .json()
            .await
            .expect("json");
        body["current"].clone()
    }

    pub async fn registration(&self, phone: &str, id_number: &str) -> Value {
        json!({
            "phone": phone,
            "code": "",
            "password": "a calm river at dawn",
            "real_name": "张三",
            "id_number": id_number,
            "consents": self.consents().await,
        })
    }

    /// Sends a code and registers; returns the response.
    pub async fn register(&mut self, phone: &str, id_number: &str) -> Response {
        assert_eq!(
            self.send_code(phone, "register").await.status(),
            StatusCode::ACCEPTED
        );
        let mut body = self.registration(phone, id_number).await;
        body["code"] = json!(self.last_code(phone).await);
        let res = self.post("/api/v1/registrations", &body).await;
        if res.status() == StatusCode::CREATED {
            self.refresh_csrf().await;
        }
        res
    }

    /// Adds the patient's child 张小明 (born 2019-06-01) as a family member; returns it.
    pub async fn add_child(&self) -> Value {
        let child = json!({
            "real_name": "张小明", "id_number": "11010120190601001X",
            "relationship": "child", "guardian_confirmed": true,
        });
        let res = self.post("/api/v1/family-members", &child).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json().await.expect("the family member")
    }

    pub async fn patient_count(&self) -> u64 {
        use sea_orm::{EntityTrait, PaginatorTrait};
        server::db::patient::Entity::find()
            .count(&self.state.db)
            .await
            .expect("count")
    }
}

/// Asserts the documented error shape and returns the body.
pub async fn assert_error(res: Response, status: u16, code: &str, field: Option<&str>) -> Value {
    assert_eq!(res.status().as_u16(), status, "status for {code}");
    let body: Value = res.json().await.expect("error body is JSON");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert_eq!(
        body["error"]["field"],
        field.map_or(Value::Null, |f| json!(f)),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    body
}
