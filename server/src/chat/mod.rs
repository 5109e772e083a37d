//! The consult's conversation (R-CONS-1, R-CONS-4, R-CONS-5): the log of each consult in
//! the database, the connection that carries it live (one WebSocket per page), the REST
//! history for gaps and for pages without WebAssembly, files through the upload
//! pipeline, read receipts, typing, recalls and the unread nudge.
pub mod api;
pub mod bus;
pub mod files;
pub mod hub;
pub mod log;
pub mod service;
pub mod sessions;
pub mod socket;
pub mod writer;

use crate::config::{Config, Mode};
use crate::feature::{Feature, Job, logged};
use crate::orders::AfterCommit;
use crate::parts::Parts;
use crate::state::{AppState, State};
use crate::web::api::ApiRoutes;
use hub::{Hub, News, What};
use std::sync::Arc;
use std::time::Duration;

pub struct Chat;

/// How often the sessions behind open connections are checked (a logged-out session's
/// connections close within this and a ping).
const SESSION_CHECK: Duration = Duration::from_secs(20);

/// What the chat keeps for the life of the server.
pub struct ChatParts {
    pub hub: Arc<Hub>,
    pub sessions: Arc<sessions::SessionWatch>,
    /// Messages waiting for the next batch.
    pub writer: writer::Writer,
    /// News for the other servers.
    pub outbox: bus::Outbox,
    pub connections_per_account: usize,
    /// Seconds a message may stay unread before the reader is nudged by SMS.
    pub nudge_secs: i64,
    pub frames_per_second: f64,
    pub ping_every: Duration,
}

impl Feature for Chat {
    fn api(&self, _mode: Mode, state: &AppState) -> ApiRoutes {
        api::routes(state)
    }
    fn forms(&self, state: &AppState) -> axum::Router<AppState> {
        api::form_routes(state)
    }
    fn parts(&self, config: &Config, db: &sea_orm::DatabaseConnection, parts: &mut Parts) {
        let hub = Arc::new(Hub::default());
        let bus: Option<Arc<dyn bus::Bus>> = match config.bus.as_str() {
            "postgres" if config.database_url.starts_with("postgres") => Some(Arc::new(
                bus::Postgres::start(db.clone(), config.database_url.clone(), hub.clone()),
            )),
            "redis" => match config
                .redis_url
                .as_deref()
                .map(|url| bus::Redis::start(url, hub.clone()))
            {
                Some(Ok(redis)) => Some(Arc::new(redis)),
                _ => {
                    tracing::warn!(
                        "FUZHEN_BUS=redis needs a valid FUZHEN_REDIS_URL; one server only"
                    );
                    None
                }
            },
            other => {
                if other != "local" {
                    tracing::warn!(
                        bus = other,
                        "unknown or unusable FUZHEN_BUS; one server only"
                    );
                }
                None
            }
        };
        parts.insert(ChatParts {
            hub,
            sessions: Arc::default(),
            writer: writer::Writer::default(),
            outbox: bus.map_or_else(bus::Outbox::none, bus::Outbox::start),
            connections_per_account: config.chat_connections_per_account.max(1),
            nudge_secs: config.chat_nudge_minutes.clamp(1, 24 * 60) * 60,
            frames_per_second: f64::from(config.chat_frames_per_second.max(1)),
            ping_every: Duration::from_secs(config.chat_ping_secs.clamp(1, 300)),
        });
    }
    fn jobs(&self) -> Vec<Job> {
        vec![
            Job {
                name: "checking the sessions of consult connections",
                every: SESSION_CHECK,
                first_after: SESSION_CHECK,
                run: |state, now| {
                    Box::pin(async move {
                        if let Ok(parts) = state.parts.get::<ChatParts>() {
                            parts
                                .sessions
                                .check(&state.db, now.unix_timestamp())
                                .await?;
                        }
                        Ok(())
                    })
                },
            },
            Job {
                name: "nudging unread consult messages",
                every: Duration::from_secs(30),
                first_after: Duration::from_secs(30),
                run: |state, now| {
                    Box::pin(async move {
                        logged(
                            "nudging unread messages",
                            service::nudge_unread(&state, now).await,
                        );
                        Ok(())
                    })
                },
            },
        ]
    }
}

/// Tells this server's connections and the others that `consult_id` has entries up to
/// `seq` (after the transaction that stored them has committed).
pub fn publish(state: &Arc<State>, consult_id: i64, seq: i64) {
    news(
        state,
        News {
            consult_id,
            what: What::Entry { seq },
            fresh: None,
        },
    );
}

/// Delivers news here at once and sends it on the bus.
pub fn news(state: &Arc<State>, news: News) {
    let Ok(parts) = state.parts.get::<ChatParts>() else {
        return;
    };
    parts.hub.deliver(news.clone());
    parts.outbox.send(news);
}

/// [`publish`], once `after`'s transaction has committed.
pub fn publish_after(after: &mut AfterCommit, consult_id: i64, seq: i64) {
    after
        .tasks
        .push(Box::new(move |state| publish(state, consult_id, seq)));
}
