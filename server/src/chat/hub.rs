//! Live news of consults, to the connections that show them (R-CONS-1). The log is the
//! database; news only says "consult 12 has entry 40", so a lost piece of news delays a
//! message until the client's next resume or gap check, never loses it. Each connection
//! has one bounded queue: a connection whose queue is full is dropped from the hub (its
//! socket closes and the client resumes), so no memory grows for a slow or sleeping phone.
//!
//! Between servers the news travels on a [`Bus`]: in the process (the embedded default),
//! PostgreSQL `LISTEN/NOTIFY` or Redis pub/sub; each server delivers what it hears to its
//! own connections.
use crate::db::consult_message;
use app::chat::protocol::{CallView, FileRef, SdpKind};
use app::domain::consult::Side;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// What happened in a consult.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct News {
    pub consult_id: i64,
    pub what: What,
    /// The entry itself, when the news never left this process: its connections send it
    /// without reading the log again.
    #[serde(skip)]
    pub fresh: Option<Arc<Fresh>>,
}

/// An entry just stored, as the sender's server has it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fresh {
    pub message: consult_message::Model,
    pub file: Option<FileRef>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum What {
    /// The log has entries up to `seq`.
    Entry {
        seq: i64,
    },
    Read {
        side: Side,
        seq: i64,
    },
    Typing {
        side: Side,
    },
    /// The consult's call as it stands now.
    Call(Box<CallView>),
    /// An offer or answer from one side of a call to the other.
    Signal(Box<Signal>),
}

/// A session description on its way to the other side of a call.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Signal {
    pub call: String,
    pub from: Side,
    pub generation: u32,
    pub kind: SdpKind,
    pub sdp: String,
}

/// Queue length per connection.
pub const QUEUE: usize = 256;

type Subscriber = (u64, mpsc::Sender<News>);

/// The connections of this server, by the consults they show.
#[derive(Default)]
pub struct Hub {
    consults: Mutex<HashMap<i64, Vec<Subscriber>>>,
    next_id: AtomicU64,
    accounts: Mutex<HashMap<String, usize>>,
}

/// One connection's place in the hub; leaving drops it from every consult.
pub struct Listener {
    pub id: u64,
    pub news: mpsc::Receiver<News>,
    sender: mpsc::Sender<News>,
}

impl Hub {
    /// A new connection's queue.
    pub fn listener(&self) -> Listener {
        let (sender, news) = mpsc::channel(QUEUE);
        Listener {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            news,
            sender,
        }
    }

    /// The connection hears `consult_id`'s news from now on.
    pub fn join(&self, l: &Listener, consult_id: i64) {
        let mut consults = self.consults.lock().unwrap_or_else(|e| e.into_inner());
        let subs = consults.entry(consult_id).or_default();
        if !subs.iter().any(|(id, _)| *id == l.id) {
            subs.push((l.id, l.sender.clone()));
        }
    }

    /// The connection leaves every consult it joined.
    pub fn leave(&self, l: &Listener, consult_ids: impl IntoIterator<Item = i64>) {
        let mut consults = self.consults.lock().unwrap_or_else(|e| e.into_inner());
        for c in consult_ids {
            if let Some(subs) = consults.get_mut(&c) {
                subs.retain(|(id, _)| *id != l.id);
                if subs.is_empty() {
                    consults.remove(&c);
                }
            }
        }
    }

    /// Hands news to this server's connections of its consult. A full queue drops that
    /// connection from the consult; its socket sees it and closes.
    pub fn deliver(&self, news: News) {
        let mut consults = self.consults.lock().unwrap_or_else(|e| e.into_inner());
        let Some(subs) = consults.get_mut(&news.consult_id) else {
            return;
        };
        subs.retain(|(_, tx)| tx.try_send(news.clone()).is_ok());
        if subs.is_empty() {
            consults.remove(&news.consult_id);
        }
    }

    /// Whether the connection still hears `consult_id` (false once dropped as slow).
    pub fn hears(&self, l: &Listener, consult_id: i64) -> bool {
        let consults = self.consults.lock().unwrap_or_else(|e| e.into_inner());
        consults
            .get(&consult_id)
            .is_some_and(|subs| subs.iter().any(|(id, _)| *id == l.id))
    }

    /// Counts a connection of `account` against `limit`; `None` if it has as many as it
    /// may. The slot is given back when the [`Seat`] drops.
    pub fn seat(self: &Arc<Self>, account: String, limit: usize) -> Option<Seat> {
        let mut accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        let n = accounts.entry(account.clone()).or_default();
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(Seat {
            hub: self.clone(),
            account,
        })
    }
}

/// One of an account's connections.
pub struct Seat {
    hub: Arc<Hub>,
    account: String,
}

impl Drop for Seat {
    fn drop(&mut self) {
        let mut accounts = self.hub.accounts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = accounts.get_mut(&self.account) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                accounts.remove(&self.account);
            }
        }
    }
}
