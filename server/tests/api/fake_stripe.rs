//! A local stand-in for Stripe's API: it records every request async-stripe sends (path,
//! headers, form fields) and answers in the shape Stripe's objects have, remembering
//! idempotency keys as Stripe does. It can fail the next calls (5xx) or be down.
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub form: HashMap<String, String>,
}

#[derive(Default)]
pub struct Books {
    pub requests: Vec<Recorded>,
    /// Answer this many more calls with a 500.
    pub fail_next: u32,
    /// Answer every call with a 503.
    pub down: bool,
    pub intents: Vec<Value>,
    pub refunds: Vec<Value>,
    pub sessions: Vec<Value>,
    /// Idempotency key → the object first made under it.
    pub keyed: HashMap<String, Value>,
}

#[derive(Clone)]
pub struct FakeStripe {
    pub url: String,
    pub books: Arc<Mutex<Books>>,
}

impl FakeStripe {
    pub async fn start() -> FakeStripe {
        let books = Arc::new(Mutex::new(Books::default()));
        let router = Router::new()
            .route("/v1/payment_intents", post(create_intent).get(list_intents))
            .route("/v1/payment_intents/{id}", get(retrieve_intent))
            .route("/v1/payment_intents/{id}/cancel", post(cancel_intent))
            .route("/v1/refunds", post(create_refund).get(list_refunds))
            .route("/v1/checkout/sessions", post(create_session))
            .route("/v1/checkout/sessions/{id}", get(retrieve_session))
            .route("/v1/checkout/sessions/{id}/expire", post(expire_session))
            .with_state(books.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        FakeStripe { url, books }
    }

    pub fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.books.lock().expect("books")
    }

    /// The requests to `path` so far.
    pub fn calls(&self, method: &str, path: &str) -> Vec<Recorded> {
        self.books()
            .requests
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .cloned()
            .collect()
    }

    /// Stripe's side of a payment: what the customer did there.
    pub fn set_intent_status(&self, id: &str, status: &str) {
        let mut b = self.books();
        for pi in &mut b.intents {
            if pi["id"] == id {
                pi["status"] = json!(status);
                if status == "succeeded" {
                    pi["amount_received"] = pi["amount"].clone();
                    pi["next_action"] = Value::Null;
                }
            }
        }
    }

    /// The customer paid on Checkout: the session completes and its PaymentIntent
    /// (with the session's metadata, as `payment_intent_data` asked) has succeeded.
    pub fn complete_session(&self, id: &str) -> Value {
        let mut b = self.books();
        let pi_id = format!("pi_{}", b.intents.len() + 1);
        let Some(session) = b.sessions.iter_mut().find(|s| s["id"] == id) else {
            return Value::Null;
        };
        session["status"] = json!("complete");
        session["payment_status"] = json!("paid");
        session["payment_intent"] = json!(pi_id);
        let pi = json!({
            "id": pi_id, "object": "payment_intent",
            "amount": session["amount_total"], "amount_capturable": 0,
            "amount_received": session["amount_total"],
            "capture_method": "automatic", "confirmation_method": "automatic",
            "created": time::OffsetDateTime::now_utc().unix_timestamp(),
            "currency": "cny", "livemode": false,
            "metadata": session["payment_intent_metadata"].clone(),
            "payment_method_types": ["card"], "status": "succeeded",
        });
        b.intents.push(pi.clone());
        pi
    }

    pub fn intent(&self, id: &str) -> Value {
        self.books()
            .intents
            .iter()
            .find(|pi| pi["id"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    }
}

type Shared = State<Arc<Mutex<Books>>>;

fn parse_form(body: &str) -> HashMap<String, String> {
    form_urlencoded::parse(body.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Records the call; `Some(answer)` when the fake is told to fail it.
fn record(
    books: &mut Books,
    method: &str,
    path: &str,
    headers: &HeaderMap,
    body: &str,
) -> Option<Response> {
    books.requests.push(Recorded {
        method: method.to_owned(),
        path: path.to_owned(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        form: parse_form(body),
    });
    if books.down {
        return Some(error(StatusCode::SERVICE_UNAVAILABLE, "api_error", "down"));
    }
    if books.fail_next > 0 {
        books.fail_next -= 1;
        return Some(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "boom",
        ));
    }
    let authorised = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "Bearer sk_test_fuzhen");
    if !authorised {
        return Some(error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "Invalid API Key provided",
        ));
    }
    None
}

fn error(status: StatusCode, kind: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "error": { "type": kind, "message": message } })),
    )
        .into_response()
}

fn key(headers: &HeaderMap) -> Option<String> {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn next_action(id: &str, method: &str) -> Value {
    match method {
        "alipay" => json!({
            "type": "alipay_handle_redirect",
            "alipay_handle_redirect": {
                "native_data": null, "native_url": null,
                "return_url": "https://fake-stripe.test/return",
                "url": format!("https://fake-stripe.test/alipay/{id}"),
            }
        }),
        _ => json!({
            "type": "wechat_pay_display_qr_code",
            "wechat_pay_display_qr_code": {
                "data": format!("weixin://wxpay/bizpayurl?pr={id}"),
                "hosted_instructions_url": format!("https://fake-stripe.test/wechat/{id}"),
                "image_data_url": "data:image/png;base64,AA==",
                "image_url_png": "https://fake-stripe.test/qr.png",
                "image_url_svg": "https://fake-stripe.test/qr.svg",
            }
        }),
    }
}

async fn create_intent(State(books): Shared, headers: HeaderMap, body: String) -> Response {
    let mut b = books.lock().expect("books");
    if let Some(answer) = record(&mut b, "POST", "/v1/payment_intents", &headers, &body) {
        return answer;
    }
    let key = key(&headers);
    if let Some(existing) = key.as_ref().and_then(|k| b.keyed.get(k)) {
        return Json(existing.clone()).into_response();
    }
    let form = parse_form(&body);
    let id = format!("pi_{}", b.intents.len() + 1);
    let method = form
        .get("payment_method_data[type]")
        .cloned()
        .unwrap_or_default();
    let pi = json!({
        "id": id, "object": "payment_intent",
        "amount": form.get("amount").and_then(|a| a.parse::<i64>().ok()).unwrap_or(0),
        "amount_capturable": 0, "amount_received": 0,
        "capture_method": "automatic", "confirmation_method": "automatic",
        "created": time::OffsetDateTime::now_utc().unix_timestamp(),
        "currency": form.get("currency").cloned().unwrap_or_default(),
        "livemode": false,
        "metadata": { "order_number": form.get("metadata[order_number]").cloned().unwrap_or_default() },
        "payment_method_types": [method.clone()],
        "status": "requires_action",
        "next_action": next_action(&id, &method),
    });
    b.intents.push(pi.clone());
    remember(&mut b, key, pi)
}

async fn retrieve_intent(
    State(books): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let mut b = books.lock().expect("books");
    if let Some(answer) = record(
        &mut b,
        "GET",
        &format!("/v1/payment_intents/{id}"),
        &headers,
        "",
    ) {
        return answer;
    }
    found(&b.intents, &id, "payment_intent")
}

async fn cancel_intent(
    State(books): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: String,
) -> Response {
    let mut b = books.lock().expect("books");
    let path = format!("/v1/payment_intents/{id}/cancel");
    if let Some(answer) = record(&mut b, "POST", &path, &headers, &body) {
        return answer;
    }
    let Some(pi) = b.intents.iter_mut().find(|pi| pi["id"] == id.as_str()) else {
        return error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "No such payment_intent",
        );
    };
    if pi["status"] == "succeeded" || pi["status"] == "processing" {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "You cannot cancel this PaymentIntent because it has a status of succeeded.",
        );
    }
    pi["status"] = json!("canceled");
    pi["next_action"] = Value::Null;
    Json(pi.clone()).into_response()
}

async fn create_refund(State(books): Shared, headers: HeaderMap, body: String) -> Response {
    let mut b = books.lock().expect("books");
    if let Some(answer) = record(&mut b, "POST", "/v1/refunds", &headers, &body) {
        return answer;
    }
    let key = key(&headers);
    if let Some(existing) = key.as_ref().and_then(|k| b.keyed.get(k)) {
        return Json(existing.clone()).into_response();
    }
    let form = parse_form(&body);
    let refund = json!({
        "id": format!("re_{}", b.refunds.len() + 1), "object": "refund",
        "amount": form.get("amount").and_then(|a| a.parse::<i64>().ok()).unwrap_or(0),
        "created": time::OffsetDateTime::now_utc().unix_timestamp(),
        "currency": "cny",
        "status": "pending",
        "payment_intent": form.get("payment_intent").cloned(),
        "metadata": {
            "order_number": form.get("metadata[order_number]").cloned().unwrap_or_default(),
            "refund_key": form.get("metadata[refund_key]").cloned().unwrap_or_default(),
        },
    });
    b.refunds.push(refund.clone());
    remember(&mut b, key, refund)
}

fn list(url: &str, data: Vec<Value>) -> Response {
    Json(json!({ "object": "list", "url": url, "has_more": false, "data": data })).into_response()
}

async fn list_intents(
    State(books): Shared,
    headers: HeaderMap,
    Query(_q): Query<HashMap<String, String>>,
) -> Response {
    let mut b = books.lock().expect("books");
    if let Some(answer) = record(&mut b, "GET", "/v1/payment_intents", &headers, "") {
        return answer;
    }
    list("/v1/payment_intents", b.intents.clone())
}

async fn list_refunds(
    State(books): Shared,
    headers: HeaderMap,
    Query(_q): Query<HashMap<String, String>>,
) -> Response {
    let mut b = books.lock().expect("books");
    if let Some(answer) = record(&mut b, "GET", "/v1/refunds", &headers, "") {
        return answer;
    }
    list("/v1/refunds", b.refunds.clone())
}

async fn create_session(State(books): Shared, headers: HeaderMap, body: String) -> Response {
    let mut b = books.lock().expect("books");
    if let Some(answer) = record(&mut b, "POST", "/v1/checkout/sessions", &headers, &body) {
        return answer;
    }
    let key = key(&headers);
    if let Some(existing) = key.as_ref().and_then(|k| b.keyed.get(k)) {
        return Json(existing.clone()).into_response();
    }
    let form = parse_form(&body);
    let id = format!("cs_test_{}", b.sessions.len() + 1);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let amount = form
        .get("line_items[0][price_data][unit_amount]")
        .and_then(|a| a.parse::<i64>().ok())
        .unwrap_or(0);
    let session = json!({
        "id": id, "object": "checkout.session",
        "amount_total": amount,
        "automatic_tax": { "enabled": false, "liability": null, "provider": null, "status": null },
        "client_reference_id": form.get("client_reference_id"),
        "created": now,
        "currency": "cny",
        "custom_fields": [],
        "custom_text": { "after_submit": null, "shipping_address": null, "submit": null, "terms_of_service_acceptance": null },
        "expires_at": form.get("expires_at").and_then(|e| e.parse::<i64>().ok()).unwrap_or(now + 1800),
        "livemode": false,
        "metadata": { "order_number": form.get("metadata[order_number]").cloned().unwrap_or_default() },
        "mode": "payment",
        "payment_intent": null,
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "shipping_options": [],
        "status": "open",
        "success_url": form.get("success_url"),
        "url": format!("https://fake-stripe.test/checkout/{id}"),
        // Not Stripe's: what the PaymentIntent made on completion will carry.
        "payment_intent_metadata": { "order_number": form.get("payment_intent_data[metadata][order_number]").cloned().unwrap_or_default() },
    });
    b.sessions.push(session.clone());
    remember(&mut b, key, session)
}

async fn retrieve_session(
    State(books): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let mut b = books.lock().expect("books");
    if let Some(answer) = record(
        &mut b,
        "GET",
        &format!("/v1/checkout/sessions/{id}"),
        &headers,
        "",
    ) {
        return answer;
    }
    found(&b.sessions, &id, "checkout.session")
}

async fn expire_session(
    State(books): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: String,
) -> Response {
    let mut b = books.lock().expect("books");
    let path = format!("/v1/checkout/sessions/{id}/expire");
    if let Some(answer) = record(&mut b, "POST", &path, &headers, &body) {
        return answer;
    }
    let Some(s) = b.sessions.iter_mut().find(|s| s["id"] == id.as_str()) else {
        return error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "No such checkout.session",
        );
    };
    if s["status"] != "open" {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "Only Checkout Sessions with a status of open can be expired.",
        );
    }
    s["status"] = json!("expired");
    s["url"] = Value::Null;
    Json(s.clone()).into_response()
}

/// Keeps what was made under its idempotency key (Stripe answers a repeat with it) and
/// answers with it.
fn remember(books: &mut Books, key: Option<String>, made: Value) -> Response {
    if let Some(k) = key {
        books.keyed.insert(k, made.clone());
    }
    Json(made).into_response()
}

/// The object with `id`, or Stripe's 404.
fn found(objects: &[Value], id: &str, what: &str) -> Response {
    match objects.iter().find(|o| o["id"] == id) {
        Some(o) => Json(o.clone()).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            &format!("No such {what}"),
        ),
    }
}
