//! Messages are written to the log in batches (group commit): what arrives while one batch
//! is being written goes into the next, in one transaction. A consult's row is locked, its
//! write window asked, its counter taken and the entry inserted for each message in turn,
//! so every rule holds per message as it would alone; only the commit is shared. On SQLite,
//! where writers queue for one lock, this is what lets a server take thousands of messages
//! a second (docs/performance.md, "Consult connections").
//!
//! A batch is written by a task started by the first message that finds no writer at work;
//! it ends when the queue is empty, so an idle server holds nothing.
use super::log::NewEntry;
use super::service::{refused, window};
use crate::consult::life;
use crate::context::RequestContext;
use crate::db::{self, consult, consult_message};
use crate::error::AppError;
use crate::orders::AfterCommit;
use crate::state::State;
use app::chat::protocol::FileRef;
use app::domain::consult::{ConsultEvent, ConsultStatus, Side, WriteRefused};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement, Value,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// The most messages in one transaction.
const MAX_BATCH: usize = 256;

/// A message to store, checked and ready.
pub struct Pending {
    pub consult_id: i64,
    pub side: Side,
    /// The doctor's staff id when the doctor writes (their first answer starts the service).
    pub doctor: Option<i64>,
    pub entry: NewEntry,
    /// The file a file message shows (sent with the news).
    pub file: Option<FileRef>,
    pub cx: RequestContext,
}

/// What became of a message.
#[derive(Debug)]
pub enum Written {
    /// Stored as `message`; the log now ends at `last` (the consult's move after a doctor's
    /// first answer is an entry too).
    Stored {
        message: consult_message::Model,
        last: i64,
    },
    /// Sent before: stored with this seq.
    Repeat { seq: i64 },
}

type Reply = oneshot::Sender<Result<Written, AppError>>;

/// The queue of messages waiting for the next batch.
#[derive(Default)]
pub struct Writer {
    queue: Mutex<Queue>,
}

#[derive(Default)]
struct Queue {
    pending: Vec<(Pending, Reply)>,
    writing: bool,
}

impl Writer {
    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Stores `p` in the next batch and waits for its commit.
pub async fn write(state: &Arc<State>, p: Pending) -> Result<Written, AppError> {
    let parts = state
        .parts
        .get::<super::ChatParts>()
        .map_err(|_| anyhow::anyhow!("the chat is not set up"))?;
    let (reply, answer) = oneshot::channel();
    let start = {
        let mut q = parts.writer.lock();
        q.pending.push((p, reply));
        !std::mem::replace(&mut q.writing, true)
    };
    if start {
        tokio::spawn(drain(state.clone()));
    }
    answer
        .await
        .map_err(|_| anyhow::anyhow!("the message writer stopped"))?
}

/// Resets the writer's flag however the task ends, so the next message starts another.
struct Writing(Arc<State>);

impl Drop for Writing {
    fn drop(&mut self) {
        if let Ok(parts) = self.0.parts.get::<super::ChatParts>() {
            parts.writer.lock().writing = false;
        }
    }
}

async fn drain(state: Arc<State>) {
    let writing = Writing(state);
    let state = &writing.0;
    let Ok(parts) = state.parts.get::<super::ChatParts>() else {
        return;
    };
    loop {
        let mut batch = {
            let mut q = parts.writer.lock();
            if q.pending.is_empty() {
                q.writing = false;
                return;
            }
            let n = q.pending.len().min(MAX_BATCH);
            q.pending.drain(..n).collect::<Vec<_>>()
        };
        // One order of row locks for every server's batches: no deadlock on PostgreSQL.
        batch.sort_by_key(|(p, _)| p.consult_id);
        let (pending, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        match write_batch(state, &pending).await {
            Ok(outcomes) => {
                for ((p, outcome), reply) in pending.iter().zip(outcomes).zip(replies) {
                    if let Ok(Written::Stored { message, last }) = &outcome {
                        super::news(
                            state,
                            super::hub::News {
                                consult_id: p.consult_id,
                                what: super::hub::What::Entry { seq: *last },
                                fresh: Some(Arc::new(super::hub::Fresh {
                                    message: message.clone(),
                                    file: p.file.clone(),
                                })),
                            },
                        );
                    }
                    let _ = reply.send(outcome);
                }
            }
            Err(e) => {
                tracing::warn!(error = ?e, messages = pending.len(), "a batch of consult messages failed");
                for reply in replies {
                    let _ = reply.send(Err(anyhow::anyhow!("the batch failed").into()));
                }
            }
        }
    }
}

/// One transaction for the batch, in a handful of statements whatever its size: the
/// consults' rows locked and read, the messages already stored with these client ids, the
/// counters and the senders' read marks moved, every entry inserted; then the doctors'
/// first answers. Each message's outcome, or the database's failure (then nothing of the
/// batch is stored, and every sender retries with the same client id).
async fn write_batch(
    state: &Arc<State>,
    batch: &[Pending],
) -> Result<Vec<Result<Written, AppError>>, AppError> {
    let txn = db::begin_write(&state.db).await?;
    let mut ids: Vec<i64> = batch.iter().map(|p| p.consult_id).collect();
    ids.dedup();
    let consults: HashMap<i64, consult::Model> = consult::Entity::find()
        .filter(consult::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(consult::Column::Id)
        .lock_exclusive()
        .all(&txn)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let mut numbered: HashMap<(i64, Side, &str), i64> = stored_before(&txn, &ids, batch).await?;
    let mut last: HashMap<i64, i64> = consults.iter().map(|(id, c)| (*id, c.last_seq)).collect();
    let mut plan = Vec::with_capacity(batch.len());
    for p in batch {
        let now = p.cx.now.unix_timestamp();
        let Some(c) = consults.get(&p.consult_id) else {
            plan.push(Plan::Done(Err(refused(WriteRefused::Ended))));
            continue;
        };
        let client_id = p.entry.client_id.as_deref().unwrap_or_default();
        if let Some(seq) = numbered.get(&(p.consult_id, p.side, client_id)) {
            plan.push(Plan::Done(Ok(Written::Repeat { seq: *seq })));
            continue;
        }
        if let Err(r) = window(c)?.may_write(p.side, now) {
            plan.push(Plan::Done(Err(refused(r))));
            continue;
        }
        let seq = last.entry(p.consult_id).or_default();
        *seq += 1;
        numbered.insert((p.consult_id, p.side, client_id), *seq);
        plan.push(Plan::Insert(*seq));
    }
    let inserts: Vec<(&Pending, i64)> = batch
        .iter()
        .zip(&plan)
        .filter_map(|(p, plan)| match plan {
            Plan::Insert(seq) => Some((p, *seq)),
            Plan::Done(_) => None,
        })
        .collect();
    let mut stored = HashMap::new();
    if !inserts.is_empty() {
        let now = inserts
            .iter()
            .map(|(p, _)| p.cx.now.unix_timestamp())
            .max()
            .unwrap_or_default();
        txn.execute_raw(counters(txn.get_database_backend(), &inserts, now))
            .await?;
        stored = consult_message::Entity::find()
            .from_raw_sql(entries(txn.get_database_backend(), &inserts))
            .all(&txn)
            .await?
            .into_iter()
            .map(|m| ((m.consult_id, m.seq), m))
            .collect::<HashMap<_, _>>();
    }
    // The doctor's first answer starts the service: the consult moves, in this transaction.
    let mut after = AfterCommit::default();
    let mut moved_to: HashMap<i64, i64> = HashMap::new();
    for (p, _) in &inserts {
        let Some(c) = consults.get(&p.consult_id) else {
            continue;
        };
        if let Some(staff_id) = p.doctor
            && life::status_of(c)? == ConsultStatus::Waiting
            && !moved_to.contains_key(&p.consult_id)
        {
            let step = life::step(
                &txn,
                p.consult_id,
                ConsultEvent::DoctorAnswered,
                Some(staff_id),
                None,
                &p.cx,
                &mut after,
            )
            .await?;
            if step != life::Moved::Stale {
                let at = last.get(&p.consult_id).copied().unwrap_or_default() + 1;
                moved_to.insert(p.consult_id, at);
            }
        }
    }
    txn.commit().await?;
    after.run(state);
    Ok(batch
        .iter()
        .zip(plan)
        .map(|(p, plan)| match plan {
            Plan::Done(outcome) => outcome,
            Plan::Insert(seq) => match stored.remove(&(p.consult_id, seq)) {
                Some(message) => Ok(Written::Stored {
                    message,
                    last: moved_to.get(&p.consult_id).copied().unwrap_or(seq),
                }),
                None => Err(anyhow::anyhow!("entry {seq} was not stored").into()),
            },
        })
        .collect())
}

/// What the batch does with a message.
enum Plan {
    Done(Result<Written, AppError>),
    Insert(i64),
}

/// The messages of the batch that were stored before (a resend), by consult, side and
/// client id.
async fn stored_before<'a>(
    txn: &impl ConnectionTrait,
    ids: &[i64],
    batch: &'a [Pending],
) -> Result<HashMap<(i64, Side, &'a str), i64>, AppError> {
    let client_ids: Vec<&str> = batch
        .iter()
        .filter_map(|p| p.entry.client_id.as_deref())
        .collect();
    let rows: Vec<(i64, String, Option<String>, i64)> = consult_message::Entity::find()
        .select_only()
        .column(consult_message::Column::ConsultId)
        .column(consult_message::Column::Side)
        .column(consult_message::Column::ClientId)
        .column(consult_message::Column::Seq)
        .filter(consult_message::Column::ConsultId.is_in(ids.iter().copied()))
        .filter(consult_message::Column::ClientId.is_in(client_ids))
        .into_tuple()
        .all(txn)
        .await?;
    let mut found = HashMap::new();
    for (consult_id, side, client_id, seq) in rows {
        let Some(p) = batch.iter().find(|p| {
            p.consult_id == consult_id
                && p.side.as_str() == side
                && p.entry.client_id.as_deref() == client_id.as_deref()
        }) else {
            continue;
        };
        if let Some(c) = p.entry.client_id.as_deref() {
            found.insert((consult_id, p.side, c), seq);
        }
    }
    Ok(found)
}

/// One statement for every consult of the batch: its counter to its last new entry, and each
/// sender's read mark to their own last message (they have read what they wrote).
fn counters(backend: DbBackend, inserts: &[(&Pending, i64)], now: i64) -> Statement {
    let mut last: Vec<(i64, i64)> = Vec::new();
    let mut read = [Vec::<(i64, i64)>::new(), Vec::new()];
    for (p, seq) in inserts {
        upsert(&mut last, p.consult_id, *seq);
        match p.side {
            Side::Patient => upsert(&mut read[0], p.consult_id, *seq),
            Side::Doctor => upsert(&mut read[1], p.consult_id, *seq),
            Side::System => {}
        }
    }
    let mut values: Vec<Value> = vec![now.into()];
    let mut text = String::from("UPDATE consult SET updated_at = $1");
    text.push_str(&case("last_seq", &last, &mut values));
    for (column, pairs) in [
        ("patient_read_seq", &read[0]),
        ("doctor_read_seq", &read[1]),
    ] {
        if !pairs.is_empty() {
            text.push_str(&case(column, pairs, &mut values));
        }
    }
    let ids: Vec<String> = last
        .iter()
        .map(|(id, _)| {
            values.push((*id).into());
            format!("${}", values.len())
        })
        .collect();
    text.push_str(&format!(" WHERE id IN ({})", ids.join(", ")));
    db::sql(backend, &text, values)
}

/// `, column = CASE id WHEN … THEN … ELSE column END`, its values pushed to `values`.
fn case(column: &str, pairs: &[(i64, i64)], values: &mut Vec<Value>) -> String {
    let mut sql = format!(", {column} = CASE id");
    for (id, seq) in pairs {
        values.push((*id).into());
        values.push((*seq).into());
        sql.push_str(&format!(
            " WHEN ${} THEN ${}",
            values.len() - 1,
            values.len()
        ));
    }
    sql.push_str(&format!(" ELSE {column} END"));
    sql
}

/// Keeps the highest seq per consult (entries come in seq order within a consult).
fn upsert(pairs: &mut Vec<(i64, i64)>, id: i64, seq: i64) {
    match pairs.iter_mut().find(|(i, _)| *i == id) {
        Some(pair) => pair.1 = pair.1.max(seq),
        None => pairs.push((id, seq)),
    }
}

/// One insert of every new entry, returning the stored rows.
fn entries(backend: DbBackend, inserts: &[(&Pending, i64)]) -> Statement {
    let mut values: Vec<Value> = Vec::with_capacity(inserts.len() * 10);
    let mut rows = Vec::with_capacity(inserts.len());
    for (p, seq) in inserts {
        let e = &p.entry;
        let first = values.len() + 1;
        values.extend([
            p.consult_id.into(),
            (*seq).into(),
            e.side.as_str().into(),
            e.author_id.into(),
            e.client_id.clone().into(),
            e.kind.as_str().into(),
            e.body.clone().into(),
            e.file_id.into(),
            e.recalls_seq.into(),
            p.cx.now.unix_timestamp().into(),
        ]);
        let marks: Vec<String> = (first..first + 10).map(|i| format!("${i}")).collect();
        rows.push(format!("({})", marks.join(", ")));
    }
    let text = format!(
        "INSERT INTO consult_message (consult_id, seq, side, author_id, client_id, kind, body, \
         file_id, recalls_seq, created_at) VALUES {} RETURNING *",
        rows.join(", ")
    );
    db::sql(backend, &text, values)
}
