//! How calls end without the doctor ending them: with their consult, and after running
//! longer than any call may.
use super::service::{EndCause, announce, announce_now, end_in, log_step, note, running};
use crate::context::RequestContext;
use crate::db::{self, consult, consult_call};
use crate::error::AppError;
use crate::orders::AfterCommit;
use crate::state::State;
use app::domain::call::CallStep;
use app::domain::consult::Side;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::sync::Arc;

/// Ends the consult's running call with it (the consult has just ended in `txn`).
pub async fn end_with_consult(
    txn: &impl ConnectionTrait,
    c: &consult::Model,
    cx: &RequestContext,
    after: &mut AfterCommit,
) -> Result<(), AppError> {
    let Some(call) = running(txn, c.id).await? else {
        return Ok(());
    };
    let now = cx.now.unix_timestamp();
    if let Some(ended) = end_in(txn, &call, EndCause::ConsultEnded, now).await? {
        log_step(
            txn,
            &ended,
            note(&ended, CallStep::Ended, None),
            Side::System,
            None,
            now,
            after,
        )
        .await?;
        announce(after, ended, c.consult_number.clone());
    }
    Ok(())
}

/// Ends calls that have run longer than any call may (a doctor who left without ending
/// one); returns how many.
pub async fn end_overlong(state: &Arc<State>, now: i64) -> Result<usize, AppError> {
    let old = consult_call::Entity::find()
        .filter(consult_call::Column::EndedAt.is_null())
        .filter(consult_call::Column::StartedAt.lt(now - app::domain::call::MAX_CALL_SECS))
        .all(&state.db)
        .await?;
    let mut n = 0;
    for call in old {
        let txn = db::begin_write(&state.db).await?;
        let mut after = AfterCommit::default();
        let Some(ended) = end_in(&txn, &call, EndCause::TooLong, now).await? else {
            txn.rollback().await?;
            continue;
        };
        log_step(
            &txn,
            &ended,
            note(&ended, CallStep::Ended, None),
            Side::System,
            None,
            now,
            &mut after,
        )
        .await?;
        let number = consult::Entity::find_by_id(call.consult_id)
            .one(&txn)
            .await?
            .map(|c| c.consult_number)
            .unwrap_or_default();
        txn.commit().await?;
        announce_now(state, &ended, &number);
        after.run(state);
        n += 1;
    }
    Ok(n)
}
