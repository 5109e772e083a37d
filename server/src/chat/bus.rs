//! How news of consults reaches the other servers ([`super::hub`]). Every server delivers
//! its own news to its own connections at once; the bus carries it to the others, which
//! deliver what they hear. A lost message on the bus delays an entry until the client
//! resumes, never loses it, because the log is the database. PostgreSQL's `NOTIFY` carries
//! ids only (its payload is small, and the servers read the log); Redis carries the new
//! entry too, so the other servers send it on without reading the log.
//!
//! News is handed to an [`Outbox`]: one task per server publishes what has gathered
//! since its last publish as one message, so a busy server sends one bus message per
//! round trip rather than one per entry, and the other servers wake once for all of it.
use super::hub::{Fresh, Hub, News};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// The channel every server listens on.
pub const CHANNEL: &str = "fuzhen_consult";

/// Most news in one bus message (on PostgreSQL ids only, about 70 bytes each).
const POSTGRES_BATCH: usize = 64;
const REDIS_BATCH: usize = 256;
/// The largest bus message: PostgreSQL's `NOTIFY` takes under 8,000 bytes; Redis far
/// more, but one message of a few hundred kilobytes at most keeps every server's reads
/// short.
const POSTGRES_PAYLOAD: usize = 7_900;
const REDIS_PAYLOAD: usize = 512 * 1024;
/// News waiting for the publisher; beyond this it is dropped (the clients' resume
/// catches up).
const OUTBOX: usize = 8192;

#[async_trait::async_trait]
pub trait Bus: Send + Sync {
    /// Tells the other servers; best effort.
    async fn publish(&self, news: &[News]);
    /// Most news in one call.
    fn batch(&self) -> usize;
}

/// Where this server's news waits for the bus: nothing for one server alone (the
/// embedded default), else a queue drained by one publishing task.
pub struct Outbox(
    Option<mpsc::Sender<News>>,
    /// Whether news is being dropped (said once in the log, not for every piece).
    std::sync::atomic::AtomicBool,
);

impl Outbox {
    /// One server: nothing to tell anyone else.
    pub fn none() -> Self {
        Self(None, Default::default())
    }

    /// Starts the task that publishes on `bus`.
    pub fn start(bus: Arc<dyn Bus>) -> Self {
        let (tx, mut rx) = mpsc::channel::<News>(OUTBOX);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(bus.batch());
            while rx.recv_many(&mut batch, bus.batch()).await > 0 {
                bus.publish(&batch).await;
                batch.clear();
            }
        });
        Self(Some(tx), Default::default())
    }

    /// Queues `news` for the other servers.
    pub fn send(&self, news: News) {
        use std::sync::atomic::Ordering;
        let Some(tx) = &self.0 else {
            return;
        };
        let dropped = tx.try_send(news).is_err();
        if self.1.swap(dropped, Ordering::Relaxed) != dropped && dropped {
            tracing::warn!("the consult bus is behind; news dropped (clients catch up on resume)");
        }
    }
}

/// One piece of news on the wire, with the entry itself on Redis.
#[derive(serde::Serialize, serde::Deserialize)]
struct Wire {
    #[serde(flatten)]
    news: News,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    entry: Option<Fresh>,
}

/// `<server>\n<JSON array>`: a server skips its own messages by the first line, without
/// reading the rest. Each message stays under `budget` bytes (a call's offer is a few
/// kilobytes, so on PostgreSQL one may travel alone); a single piece of news larger than
/// that is dropped with a warning.
fn encode(from: u64, news: &[News], with_entry: bool, budget: usize) -> Vec<String> {
    let head = format!("{from}\n[");
    let mut out = Vec::new();
    let mut payload = head.clone();
    for n in news {
        let wire = Wire {
            news: n.clone(),
            entry: n.fresh.as_deref().filter(|_| with_entry).cloned(),
        };
        let Ok(json) = serde_json::to_string(&wire) else {
            continue;
        };
        if head.len() + json.len() + 1 > budget {
            tracing::warn!(
                bytes = json.len(),
                "news too large for the consult bus; dropped"
            );
            continue;
        }
        if payload.len() + json.len() + 2 > budget {
            payload.push(']');
            out.push(std::mem::replace(&mut payload, head.clone()));
        }
        if payload.len() > head.len() {
            payload.push(',');
        }
        payload.push_str(&json);
    }
    if payload.len() > head.len() {
        payload.push(']');
        out.push(payload);
    }
    out
}

/// Hands what another server sent to this server's connections.
fn heard(hub: &Hub, me: u64, payload: &str) {
    let Some((from, json)) = payload.split_once('\n') else {
        tracing::warn!("unreadable news on the consult bus");
        return;
    };
    if from.parse::<u64>().ok() == Some(me) {
        return;
    }
    match serde_json::from_str::<Vec<Wire>>(json) {
        Ok(wire) => {
            for w in wire {
                hub.deliver(News {
                    fresh: w.entry.map(Arc::new),
                    ..w.news
                });
            }
        }
        Err(e) => tracing::warn!(error = %e, "unreadable news on the consult bus"),
    }
}

/// PostgreSQL `NOTIFY` on the database every server shares.
pub struct Postgres {
    db: sea_orm::DatabaseConnection,
    me: u64,
}

impl Postgres {
    /// Publishes through `db` and listens on a connection of its own to `url`, reconnecting
    /// after a failure (news missed meanwhile is caught up by the clients' resume).
    pub fn start(db: sea_orm::DatabaseConnection, url: String, hub: Arc<Hub>) -> Self {
        let me = rand::random::<u64>();
        tokio::spawn(async move {
            use sea_orm::sqlx::postgres::PgListener;
            loop {
                let listened = async {
                    let mut l = PgListener::connect(&url).await?;
                    l.listen(CHANNEL).await?;
                    loop {
                        let n = l.recv().await?;
                        heard(&hub, me, n.payload());
                    }
                    #[allow(unreachable_code)]
                    Ok::<(), sea_orm::sqlx::Error>(())
                }
                .await;
                if let Err(e) = listened {
                    tracing::warn!(error = %e, "the consult bus (PostgreSQL) dropped; reconnecting");
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        Self { db, me }
    }
}

#[async_trait::async_trait]
impl Bus for Postgres {
    async fn publish(&self, news: &[News]) {
        use sea_orm::ConnectionTrait;
        for payload in encode(self.me, news, false, POSTGRES_PAYLOAD) {
            let sent = self
                .db
                .execute_raw(crate::db::sql(
                    sea_orm::DbBackend::Postgres,
                    "SELECT pg_notify($1, $2)",
                    vec![CHANNEL.into(), payload.into()],
                ))
                .await;
            if let Err(e) = sent {
                tracing::warn!(error = %e, "news not published on the consult bus");
            }
        }
    }
    fn batch(&self) -> usize {
        POSTGRES_BATCH
    }
}

/// Redis pub/sub, for servers that share a Redis (`FUZHEN_BUS=redis`, `FUZHEN_REDIS_URL`).
/// The `redis` crate's async client: a small tree on tokio, with no TLS of its own to
/// bring a second provider (Redis sits on the internal network).
pub struct Redis {
    client: redis::Client,
    /// Only the outbox's task publishes, so the lock is never contended.
    publisher: tokio::sync::Mutex<Option<redis::aio::MultiplexedConnection>>,
    me: u64,
}

impl Redis {
    /// Publishes on one multiplexed connection (made again after a failure) and listens
    /// on another, resubscribing after a drop.
    pub fn start(url: &str, hub: Arc<Hub>) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        let me = rand::random::<u64>();
        let listener = client.clone();
        tokio::spawn(async move {
            use futures_util::StreamExt;
            loop {
                match listener.get_async_pubsub().await {
                    Ok(mut pubsub) => match pubsub.subscribe(CHANNEL).await {
                        Ok(()) => {
                            let mut messages = pubsub.on_message();
                            while let Some(m) = messages.next().await {
                                if let Ok(payload) = std::str::from_utf8(m.get_payload_bytes()) {
                                    heard(&hub, me, payload);
                                }
                            }
                            tracing::warn!("the consult bus (Redis) dropped; reconnecting");
                        }
                        Err(e) => tracing::warn!(error = %e, "cannot subscribe to the consult bus"),
                    },
                    Err(e) => tracing::warn!(error = %e, "cannot reach Redis for the consult bus"),
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        Ok(Self {
            client,
            publisher: tokio::sync::Mutex::new(None),
            me,
        })
    }
}

#[async_trait::async_trait]
impl Bus for Redis {
    async fn publish(&self, news: &[News]) {
        let mut publisher = self.publisher.lock().await;
        let conn = match publisher.as_mut() {
            Some(c) => c,
            None => match self.client.get_multiplexed_async_connection().await {
                Ok(c) => publisher.insert(c),
                Err(e) => {
                    tracing::warn!(error = %e, "news not published on the consult bus (Redis)");
                    return;
                }
            },
        };
        for payload in encode(self.me, news, true, REDIS_PAYLOAD) {
            let sent: redis::RedisResult<i64> = redis::cmd("PUBLISH")
                .arg(CHANNEL)
                .arg(payload)
                .query_async(&mut *conn)
                .await;
            if let Err(e) = sent {
                tracing::warn!(error = %e, "news not published on the consult bus (Redis)");
                *publisher = None;
                return;
            }
        }
    }
    fn batch(&self) -> usize {
        REDIS_BATCH
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::hub::{Signal, What};
    use app::chat::protocol::SdpKind;
    use app::domain::consult::Side;

    fn read(n: i64) -> News {
        News {
            consult_id: n,
            what: What::Read {
                side: Side::Patient,
                seq: n,
            },
            fresh: None,
        }
    }

    #[test]
    fn bus_messages_stay_under_the_budget_and_an_offer_may_travel_alone() {
        let offer = |bytes: usize| News {
            consult_id: 9,
            what: What::Signal(Box::new(Signal {
                call: "CL1".into(),
                from: Side::Doctor,
                generation: 1,
                kind: SdpKind::Offer,
                sdp: "v".repeat(bytes),
            })),
            fresh: None,
        };
        let news = vec![read(1), offer(7_700), read(2), read(3), offer(20_000)];
        let out = encode(7, &news, false, POSTGRES_PAYLOAD);
        // Split into more than one message; the oversized offer is dropped.
        assert!(out.len() >= 2, "{out:?}");
        let mut heard = 0;
        for payload in &out {
            assert!(payload.len() <= POSTGRES_PAYLOAD, "{}", payload.len());
            let (from, json) = payload.split_once('\n').unwrap();
            assert_eq!(from, "7");
            heard += serde_json::from_str::<Vec<Wire>>(json).unwrap().len();
        }
        assert_eq!(heard, 4);
        assert!(encode(7, &[], false, POSTGRES_PAYLOAD).is_empty());
    }
}
