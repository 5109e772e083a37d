//! tower-sessions' store over our own database (no second SQL driver), so sessions
//! survive restarts, are shared by instances, and can be revoked per patient.
//! Rows are keyed by a hash of the session id: a leaked table does not let anyone in.
use crate::accounts::patient_context;
use crate::accounts::patient_context::PatientContext;
use crate::crypto::sha256_hex;
use crate::db::session;
use async_trait::async_trait;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    sea_query::OnConflict,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result, SessionStore};

pub const PATIENT_ID: &str = "patient_id";

#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: DatabaseConnection,
    read_with: Arc<ReadWith>,
}

/// Patient contexts read in the same statement as their session, until the request
/// that loaded the session takes its own ([`DbSessionStore::take_context`]).
#[derive(Debug, Default)]
struct ReadWith(Mutex<HashMap<Id, (Instant, Arc<PatientContext>)>>);

/// A context is taken by the request that read it, within microseconds; one no request
/// took (a request that did not need it) is not used after this.
const FRESH: Duration = Duration::from_secs(1);
/// Contexts kept at most: past it, stale ones go, then all (each is then read again).
const MAX_READ_WITH: usize = 4096;

impl ReadWith {
    fn take(&self, id: &Id, patient_id: i64) -> Option<Arc<PatientContext>> {
        let (at, found) = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id)?;
        (at.elapsed() < FRESH && found.patient.id == patient_id).then_some(found)
    }

    fn keep(&self, id: Id, found: PatientContext, at: Instant) {
        let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() >= MAX_READ_WITH {
            kept.retain(|_, (at, _)| at.elapsed() < FRESH);
            if kept.len() >= MAX_READ_WITH {
                kept.clear();
            }
        }
        kept.insert(id, (at, Arc::new(found)));
    }
}

/// What the table holds instead of the id itself.
pub fn stored_id(id: &Id) -> String {
    sha256_hex(&id.to_string())
}

/// Deletes every session of a patient except `keep` (R-REG-5: log out everywhere,
/// password change and reset), inside the caller's transaction.
pub async fn revoke_patient(
    db: &impl ConnectionTrait,
    patient_id: i64,
    keep: Option<Id>,
) -> std::result::Result<u64, sea_orm::DbErr> {
    let mut q = session::Entity::delete_many().filter(session::Column::PatientId.eq(patient_id));
    if let Some(keep) = keep {
        q = q.filter(session::Column::Id.ne(stored_id(&keep)));
    }
    Ok(q.exec(db).await?.rows_affected)
}

impl DbSessionStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            read_with: Arc::default(),
        }
    }

    /// The context of `patient_id` read with session `id` just now, if any: each is taken
    /// once, by the request that loaded the session.
    pub fn take_context(&self, id: &Id, patient_id: i64) -> Option<Arc<PatientContext>> {
        self.read_with.take(id, patient_id)
    }

    pub async fn delete_expired(&self, now: i64) -> anyhow::Result<u64> {
        Ok(session::Entity::delete_many()
            .filter(session::Column::ExpiresAt.lte(now))
            .exec(&self.db)
            .await?
            .rows_affected)
    }

    fn row(&self, record: &Record) -> Result<session::ActiveModel> {
        let data = serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))?;
        Ok(session::ActiveModel {
            id: Set(stored_id(&record.id)),
            patient_id: Set(record.data.get(PATIENT_ID).and_then(|v| v.as_i64())),
            data: Set(data),
            expires_at: Set(record.expiry_date.unix_timestamp()),
        })
    }
}

fn backend(e: impl std::fmt::Display) -> Error {
    Error::Backend(e.to_string())
}

#[async_trait]
impl SessionStore for DbSessionStore {
    /// New and re-keyed sessions are inserted, with a fresh id on the (unlikely) collision.
    async fn create(&self, record: &mut Record) -> Result<()> {
        loop {
            let inserted = session::Entity::insert(self.row(record)?)
                .on_conflict(
                    OnConflict::column(session::Column::Id)
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(&self.db)
                .await
                .map_err(backend)?;
            if inserted == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    /// Only updates: a session revoked ("log out everywhere", password reset) while one of
    /// its requests was in flight must not be written back by that request.
    async fn save(&self, record: &Record) -> Result<()> {
        let row = self.row(record)?;
        session::Entity::update_many()
            .set(row)
            .filter(session::Column::Id.eq(stored_id(&record.id)))
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }

    /// With a patient's session, their context in the same statement (kept for
    /// [`DbSessionStore::take_context`]).
    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let Some((row, found)) = patient_context::load_with_session(&self.db, &stored_id(id), now)
            .await
            .map_err(|e| Error::Backend(format!("{e:?}")))?
        else {
            return Ok(None);
        };
        if let Some(found) = found {
            self.read_with.keep(*id, found, Instant::now());
        }
        let data = serde_json::from_str(&row.data).map_err(|e| Error::Decode(e.to_string()))?;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(row.expires_at)
            .map_err(|e| Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        session::Entity::delete_by_id(stored_id(id))
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(patient_id: i64) -> PatientContext {
        let mut found = crate::accounts::patient_context::tests::example();
        found.patient.id = patient_id;
        found
    }

    // A context read with a session goes to one request of that session, for that patient,
    // while fresh; never to another session or patient.
    #[test]
    fn a_context_read_with_a_session_is_taken_once_by_it() {
        let kept = ReadWith::default();
        let (mine, theirs) = (Id(1), Id(2));
        kept.keep(mine, context(7), Instant::now());
        assert!(kept.take(&theirs, 7).is_none(), "another session");
        assert!(kept.take(&mine, 8).is_none(), "another patient");
        kept.keep(mine, context(7), Instant::now());
        assert_eq!(kept.take(&mine, 7).map(|f| f.patient.id), Some(7));
        assert!(kept.take(&mine, 7).is_none(), "taken once");
        if let Some(old) = Instant::now().checked_sub(FRESH) {
            kept.keep(mine, context(7), old);
            assert!(kept.take(&mine, 7).is_none(), "not fresh");
        }
    }
}
