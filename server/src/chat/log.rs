//! The consult's log (R-CONS-1, R-CONS-4): every entry numbered by the consult's counter
//! in the transaction that stores it, so numbers have no gaps and follow commit order.
//! Entries are never changed or deleted (the database refuses it).
use crate::db::{self, consult, consult_message};
use crate::error::AppError;
use app::chat::protocol::{Entry, EntryKind, FileRef};
use app::domain::call::CallNote;
use app::domain::consult::{ConsultStatus, Side};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};

/// An entry to store.
pub struct NewEntry {
    pub side: Side,
    pub author_id: Option<i64>,
    pub client_id: Option<String>,
    pub kind: EntryKind,
    pub body: String,
    pub file_id: Option<i64>,
    pub recalls_seq: Option<i64>,
}

/// What an event entry's body holds: a move of the consult (its new status and the
/// reason the patient sees), or a step of its call.
#[derive(Serialize, Deserialize)]
pub struct EventBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ConsultStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<CallNote>,
}

impl NewEntry {
    /// The consult moved to `status` (with the reason the patient sees).
    pub fn moved(status: ConsultStatus, reason: Option<String>, author: Option<i64>) -> Self {
        let side = if author.is_some() {
            Side::Doctor
        } else {
            Side::System
        };
        Self {
            side,
            author_id: author,
            client_id: None,
            kind: EntryKind::Event,
            body: serde_json::to_string(&EventBody {
                status: Some(status),
                reason,
                call: None,
            })
            .unwrap_or_default(),
            file_id: None,
            recalls_seq: None,
        }
    }

    /// A step of a call, by `side` (`author`: the patient's or the doctor's id; none for
    /// the server's own steps).
    pub fn call(note: CallNote, side: Side, author: Option<i64>) -> Self {
        Self {
            side,
            author_id: author,
            client_id: None,
            kind: EntryKind::Event,
            body: serde_json::to_string(&EventBody {
                status: None,
                reason: None,
                call: Some(note),
            })
            .unwrap_or_default(),
            file_id: None,
            recalls_seq: None,
        }
    }
}

/// The counter's next number, taken by the transaction's first statement (SQLite then
/// holds the write lock from the start; on PostgreSQL the row lock orders writers).
/// `None`: no such consult.
pub async fn next_seq(
    txn: &impl ConnectionTrait,
    consult_id: i64,
    now: i64,
) -> Result<Option<i64>, AppError> {
    let row = txn
        .query_one_raw(db::sql(
            txn.get_database_backend(),
            "UPDATE consult SET last_seq = last_seq + 1, updated_at = $1 WHERE id = $2 \
             RETURNING last_seq",
            vec![now.into(), consult_id.into()],
        ))
        .await?;
    Ok(match row {
        Some(r) => Some(r.try_get::<i64>("", "last_seq")?),
        None => None,
    })
}

/// Stores an entry with the number `seq` taken by [`next_seq`] in this transaction.
pub async fn insert(
    txn: &impl ConnectionTrait,
    consult_id: i64,
    seq: i64,
    e: NewEntry,
    now: i64,
) -> Result<consult_message::Model, sea_orm::DbErr> {
    consult_message::ActiveModel {
        consult_id: Set(consult_id),
        seq: Set(seq),
        side: Set(e.side.as_str().to_owned()),
        author_id: Set(e.author_id),
        client_id: Set(e.client_id),
        kind: Set(e.kind.as_str().to_owned()),
        body: Set(e.body),
        file_id: Set(e.file_id),
        recalls_seq: Set(e.recalls_seq),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await
}

/// Numbers and stores an entry in one go (the server's own entries: moves).
pub async fn append(
    txn: &impl ConnectionTrait,
    consult_id: i64,
    e: NewEntry,
    now: i64,
) -> Result<consult_message::Model, AppError> {
    let seq = next_seq(txn, consult_id, now)
        .await?
        .ok_or_else(|| anyhow::anyhow!("consult {consult_id} vanished"))?;
    Ok(insert(txn, consult_id, seq, e, now).await?)
}

/// The entry a client already sent with this id, if any.
pub async fn by_client_id(
    db: &impl ConnectionTrait,
    consult_id: i64,
    side: Side,
    client_id: &str,
) -> Result<Option<consult_message::Model>, AppError> {
    Ok(consult_message::Entity::find()
        .filter(consult_message::Column::ConsultId.eq(consult_id))
        .filter(consult_message::Column::Side.eq(side.as_str()))
        .filter(consult_message::Column::ClientId.eq(client_id))
        .one(db)
        .await?)
}

/// Entries after `after`, in order, at most `limit`.
pub async fn after(
    db: &impl ConnectionTrait,
    consult_id: i64,
    after: i64,
    limit: u64,
) -> Result<Vec<consult_message::Model>, AppError> {
    Ok(consult_message::Entity::find()
        .filter(consult_message::Column::ConsultId.eq(consult_id))
        .filter(consult_message::Column::Seq.gt(after))
        .order_by_asc(consult_message::Column::Seq)
        .limit(limit)
        .all(db)
        .await?)
}

/// The seqs recalled among `rows`' consult up to their last seq (their text is not shown).
pub async fn recalled(db: &impl ConnectionTrait, consult_id: i64) -> Result<Vec<i64>, AppError> {
    let seqs: Vec<Option<i64>> = consult_message::Entity::find()
        .select_only()
        .column(consult_message::Column::RecallsSeq)
        .filter(consult_message::Column::ConsultId.eq(consult_id))
        .filter(consult_message::Column::Kind.eq(EntryKind::Recall.as_str()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(seqs.into_iter().flatten().collect())
}

/// An entry as both sides see it: a recalled message shows no text (the log keeps it),
/// and the client id only to its own side.
pub fn view(
    c: &consult::Model,
    m: &consult_message::Model,
    file: Option<FileRef>,
    recalled: bool,
    viewer: Side,
) -> Entry {
    let side = Side::parse(&m.side).unwrap_or(Side::System);
    let kind = EntryKind::parse(&m.kind).unwrap_or(EntryKind::Event);
    let moved = (kind == EntryKind::Event)
        .then(|| serde_json::from_str::<EventBody>(&m.body).ok())
        .flatten();
    Entry {
        consult: c.consult_number.clone(),
        seq: m.seq,
        side,
        kind,
        text: (kind == EntryKind::Text && !recalled).then(|| m.body.clone()),
        file: if recalled { None } else { file },
        recalls: m.recalls_seq,
        status: moved.as_ref().and_then(|b| b.status),
        call: moved.as_ref().and_then(|b| b.call.clone()),
        reason: moved.and_then(|b| b.reason),
        client_id: m.client_id.clone().filter(|_| side == viewer),
        at: m.created_at,
    }
}
