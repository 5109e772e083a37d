//! tower-sessions' store over our own database (no second SQL driver), so sessions
//! survive restarts, are shared by instances, and can be revoked per patient.
//! Rows are keyed by a hash of the session id: a leaked table does not let anyone in.
use crate::crypto::sha256_hex;
use crate::db::session;
use async_trait::async_trait;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    sea_query::OnConflict,
};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result, SessionStore};

pub const PATIENT_ID: &str = "patient_id";

#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: DatabaseConnection,
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
        Self { db }
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

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let Some(row) = session::Entity::find_by_id(stored_id(id))
            .filter(session::Column::ExpiresAt.gt(now))
            .one(&self.db)
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
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
