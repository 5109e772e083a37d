//! R-CONS-3: a paid consult with no doctor answer by its limit closes itself and is
//! refunded in full through the order runner (`unanswered`); the patient is told in the
//! message centre and by SMS. Safe on several servers at once: each consult moves once,
//! under its row lock, by the machine.
use super::life::{self, Moved};
use crate::context::RequestContext;
use crate::db::{self, consult};
use crate::error::AppError;
use crate::orders::AfterCommit;
use crate::state::State;
use app::domain::consult::{ConsultEvent, ConsultStatus};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use std::sync::Arc;
use time::OffsetDateTime;

/// Closes the waiting consults whose limit has passed at `now`; how many it closed.
pub async fn close_unanswered(state: &Arc<State>, now: OffsetDateTime) -> Result<usize, AppError> {
    let due: Vec<i64> = consult::Entity::find()
        .select_only()
        .column(consult::Column::Id)
        .filter(consult::Column::Status.eq(ConsultStatus::Waiting.as_str()))
        .filter(consult::Column::ClosesUnansweredAt.lte(now.unix_timestamp()))
        .limit(200)
        .into_tuple()
        .all(&state.db)
        .await?;
    let cx = RequestContext::system(now);
    let mut closed = 0;
    for id in due {
        let txn = db::begin_write(&state.db).await?;
        let mut after = AfterCommit::default();
        let moved = life::step(
            &txn,
            id,
            ConsultEvent::AnswerTimedOut,
            None,
            None,
            &cx,
            &mut after,
        )
        .await?;
        txn.commit().await?;
        after.run(state);
        if moved != Moved::Stale {
            closed += 1;
        }
    }
    Ok(closed)
}
