//! The doctor directory in memory (R-DOC-1): the most visited pages after the home page
//! read the listed doctors and the price list from a snapshot instead of the database.
//! A change made here replaces it at once; changes made by another server show within
//! [`MAX_AGE`].
use crate::db::{consult_price, doctor};
use crate::error::AppError;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How stale another server's change may be seen here.
pub const MAX_AGE: Duration = Duration::from_secs(5);

/// The listed doctors (by id) and the price list, as read at `at`.
pub struct Snapshot {
    pub at: Instant,
    pub doctors: Vec<doctor::Model>,
    pub prices: Vec<consult_price::Model>,
}

pub struct Directory {
    current: RwLock<Option<Arc<Snapshot>>>,
    stale: AtomicBool,
    /// One reload at a time: a burst of requests does not read the tables 64 times.
    reloading: tokio::sync::Mutex<()>,
}

impl Default for Directory {
    fn default() -> Self {
        Self {
            current: RwLock::new(None),
            stale: AtomicBool::new(true),
            reloading: tokio::sync::Mutex::new(()),
        }
    }
}

impl Directory {
    fn fresh(&self) -> Option<Arc<Snapshot>> {
        if self.stale.load(Ordering::Acquire) {
            return None;
        }
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        current
            .as_ref()
            .filter(|s| s.at.elapsed() < MAX_AGE)
            .cloned()
    }

    /// The snapshot, reloaded when a change was made here or it is older than
    /// [`MAX_AGE`].
    pub async fn snapshot(&self, db: &DatabaseConnection) -> Result<Arc<Snapshot>, AppError> {
        if let Some(s) = self.fresh() {
            return Ok(s);
        }
        let _one = self.reloading.lock().await;
        if let Some(s) = self.fresh() {
            return Ok(s);
        }
        // Marked fresh before reading: a change during the read marks it stale again.
        self.stale.store(false, Ordering::Release);
        let doctors = doctor::Entity::find()
            .filter(doctor::Column::Listed.eq(true))
            .order_by_asc(doctor::Column::Id)
            .all(db)
            .await?;
        let prices = consult_price::Entity::find().all(db).await?;
        let snapshot = Arc::new(Snapshot {
            at: Instant::now(),
            doctors,
            prices,
        });
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(snapshot.clone());
        Ok(snapshot)
    }

    /// A doctor or a price changed: the next read reloads.
    pub fn changed(&self) {
        self.stale.store(true, Ordering::Release);
    }
}
