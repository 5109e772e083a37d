//! SQLite's write-ahead log is copied back into the database by a job, not by the commit
//! that happens to fill it: that copy ends with an fsync, and the writer that ran it made
//! every message and hold queued behind it wait (tens of milliseconds on a small disk).
//! A passive checkpoint runs beside the writers; the commit's own checkpoint stays as a
//! backstop at [`AUTOCHECKPOINT_PAGES`] (40 MiB of log) should the job fall behind.
use crate::feature::{Feature, Job};
use sea_orm::{ConnectionTrait, DbBackend};
use std::time::Duration;

/// Pages of log after which a commit checkpoints anyway (SQLite's default is 1,000).
pub const AUTOCHECKPOINT_PAGES: u32 = 10_000;

pub struct SqliteLog;

impl Feature for SqliteLog {
    fn jobs(&self) -> Vec<Job> {
        vec![Job {
            name: "copying SQLite's log into the database",
            every: Duration::from_millis(500),
            first_after: Duration::from_millis(500),
            run: |state, _now| {
                Box::pin(async move {
                    if state.db.get_database_backend() == DbBackend::Sqlite {
                        state
                            .db
                            .execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
                            .await?;
                    }
                    Ok(())
                })
            },
        }]
    }
}
