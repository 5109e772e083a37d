//! Whether the sessions behind this server's open connections still hold: a connection
//! closes soon after its session is logged out, revoked or expired. One job asks the
//! database for all of them, 500 to a query, instead of every connection asking at each
//! ping (10,000 phones would be 400 queries a second).
use crate::accounts::session_store::stored_id;
use crate::db::session;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Sessions asked about in one query.
const CHUNK: usize = 500;

/// The sessions of this server's connections, by their stored id.
#[derive(Default)]
pub struct SessionWatch {
    sessions: Mutex<HashMap<String, Shared>>,
}

/// One session's connections: how many, and whether the session has ended.
struct Shared {
    connections: usize,
    ended: Arc<AtomicBool>,
}

/// A connection's hold on its session's watch; dropping it stops the watch when it was
/// the session's last connection.
pub struct Watched {
    watch: Arc<SessionWatch>,
    key: String,
    ended: Arc<AtomicBool>,
}

impl Watched {
    /// Whether the last check found the session gone or expired.
    pub fn ended(&self) -> bool {
        self.ended.load(Ordering::Relaxed)
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        let mut sessions = self
            .watch
            .sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(s) = sessions.get_mut(&self.key) {
            s.connections = s.connections.saturating_sub(1);
            if s.connections == 0 {
                sessions.remove(&self.key);
            }
        }
    }
}

impl SessionWatch {
    /// Watches the session `id` for a new connection.
    pub fn watch(self: &Arc<Self>, id: &tower_sessions::session::Id) -> Watched {
        let key = stored_id(id);
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let shared = sessions.entry(key.clone()).or_insert_with(|| Shared {
            connections: 0,
            ended: Arc::new(AtomicBool::new(false)),
        });
        shared.connections += 1;
        Watched {
            watch: self.clone(),
            key,
            ended: shared.ended.clone(),
        }
    }

    /// Marks the watched sessions that are gone or expired at `now` (unix seconds); how
    /// many. A failed query leaves its sessions as they were (the next round asks again).
    pub async fn check(
        &self,
        db: &impl ConnectionTrait,
        now: i64,
    ) -> Result<usize, sea_orm::DbErr> {
        let keys: Vec<String> = {
            let sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
            sessions
                .iter()
                .filter(|(_, s)| !s.ended.load(Ordering::Relaxed))
                .map(|(k, _)| k.clone())
                .collect()
        };
        let mut ended = 0;
        for chunk in keys.chunks(CHUNK) {
            let alive: HashSet<String> = session::Entity::find()
                .select_only()
                .column(session::Column::Id)
                .filter(session::Column::Id.is_in(chunk.iter().cloned()))
                .filter(session::Column::ExpiresAt.gt(now))
                .into_tuple()
                .all(db)
                .await?
                .into_iter()
                .collect();
            let sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
            for key in chunk.iter().filter(|k| !alive.contains(k.as_str())) {
                if let Some(s) = sessions.get(key) {
                    s.ended.store(true, Ordering::Relaxed);
                    ended += 1;
                }
            }
        }
        Ok(ended)
    }
}
