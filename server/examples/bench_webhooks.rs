//! Webhook deliveries per second (R-PAY-4), against a running server with the Stripe
//! provider and the webhook secret `whsec_bench`, on the database it uses (seeded with
//! the demo data, for a patient): the replay of `server::orders::payments::replay` — 1,000
//! deliveries for 300 orders with repeats, reordering and stale signatures, 16 at a
//! time — timed until every order is where its events say. Prints figures.
//!
//!   bench_webhooks <base URL> <DATABASE_URL>
#![expect(
    clippy::unwrap_used,
    reason = "a benchmark: a failed unwrap is a failed run"
)]
use futures_util::StreamExt;
use sea_orm::{ConnectionTrait, Database, Statement};
use server::orders::payments::replay::{self, ORDERS, expired, succeeds};
use server::orders::payments::webhook_signature::sign;
use std::time::{Duration, Instant};

const SECRET: &str = "whsec_bench";

async fn count(db: &sea_orm::DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (base, url) = (&args[1], &args[2]);
    let db = Database::connect(url.as_str()).await.unwrap();
    let patient = count(
        &db,
        "SELECT MIN(patient_id) AS n FROM diagnosis_proof WHERE status = 'approved'",
    )
    .await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for i in 0..ORDERS {
        for statement in replay::insert_order(i, patient, now) {
            db.execute_unprepared(&statement).await.unwrap();
        }
    }
    let plan = replay::plan();
    let client = reqwest::Client::new();
    let hook = format!("{base}/api/v1/payments/stripe/webhook");
    let started = Instant::now();
    let latencies: Vec<(u16, Duration)> =
        futures_util::stream::iter(plan.deliveries.iter().map(|&(e, age)| {
            let body = plan.events[e].clone();
            let (client, hook) = (&client, &hook);
            async move {
                let t = time::OffsetDateTime::now_utc().unix_timestamp() - age;
                let at = Instant::now();
                let status = client
                    .post(hook)
                    .header("content-type", "application/json")
                    .header(
                        "stripe-signature",
                        sign(SECRET.as_bytes(), t, body.as_bytes()),
                    )
                    .body(body)
                    .send()
                    .await
                    .map_or(0, |r| r.status().as_u16());
                (status, at.elapsed())
            }
        }))
        .buffer_unordered(16)
        .collect()
        .await;
    let answered = started.elapsed();
    let unprocessed = "SELECT COUNT(*) AS n FROM payment_event WHERE processed_at IS NULL";
    while count(&db, unprocessed).await > 0 && started.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let applied = started.elapsed();
    let mut ms: Vec<f64> = latencies
        .iter()
        .map(|(_, d)| d.as_secs_f64() * 1000.0)
        .collect();
    ms.sort_by(f64::total_cmp);
    let pct = |p: f64| ms[((ms.len() as f64 - 1.0) * p) as usize];
    let ok = latencies.iter().filter(|(s, _)| *s == 200).count();
    let stale = latencies.iter().filter(|(s, _)| *s == 400).count();
    println!(
        "   {} deliveries ({ok} accepted, {stale} stale refused) for {ORDERS} orders: answered in {:.2} s ({:.0}/s, p50 {:.1} ms, p99 {:.1} ms), all applied in {:.2} s",
        latencies.len(),
        answered.as_secs_f64(),
        latencies.len() as f64 / answered.as_secs_f64(),
        pct(0.5),
        pct(0.99),
        applied.as_secs_f64()
    );
    let paid = (0..ORDERS).filter(|&i| succeeds(i) && !expired(i)).count() as i64;
    let refunding = (0..ORDERS).filter(|&i| succeeds(i) && expired(i)).count() as i64;
    let got_paid = count(
        &db,
        "SELECT COUNT(*) AS n FROM orders WHERE status = 'paid' AND order_number LIKE 'ODREPLAY%'",
    )
    .await;
    let got_refunding = count(
        &db,
        "SELECT COUNT(*) AS n FROM orders WHERE status = 'refunding' AND order_number LIKE 'ODREPLAY%'",
    )
    .await;
    let verdict = if (got_paid, got_refunding, stale) == (paid, refunding, replay::stale(&plan)) {
        "every order where its events say"
    } else {
        "WRONG"
    };
    println!("   paid {got_paid}/{paid}, refunding {got_refunding}/{refunding}: {verdict}");
}
