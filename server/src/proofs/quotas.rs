//! Upload quotas (security review item 2): an account or an address cannot make the
//! server decode without end.
use crate::context::RequestContext;
use crate::db::{self, diagnosis_proof};
use crate::error::AppError;
use crate::state::State;
use app::domain::proof::ProofStatus;
use app::domain::upload::{FILES_PER_ACCOUNT_PER_DAY, PROOFS_WAITING_PER_ACCOUNT};
use app::domain::{ErrorCode, Field, FieldError};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};

/// The upload quotas (security review item 2), checked before any file is decoded:
/// files per account a day and per address an hour, each counted by one statement, and
/// the proofs waiting for review (checked again, under a lock, when the proof is saved).
pub(super) async fn within_quotas(
    state: &State,
    patient_id: i64,
    files: usize,
    cx: &RequestContext,
) -> Result<(), AppError> {
    let n = i64::try_from(files).unwrap_or(i64::MAX);
    if waiting_proofs(&state.db, patient_id).await? >= PROOFS_WAITING_PER_ACCOUNT {
        return Err(FieldError::general(ErrorCode::ProofsWaitingLimit).into());
    }
    files_within_quotas(state, &format!("upload-files:{patient_id}"), n, cx).await
}

/// The file quotas of any upload (a proof's, a consult's): files per account a day
/// (`account` names the counter) and per address an hour, counted first, then judged,
/// so parallel uploads cannot all slip under a limit.
pub(crate) async fn files_within_quotas(
    state: &State,
    account: &str,
    n: i64,
    cx: &RequestContext,
) -> Result<(), AppError> {
    let now = cx.now.unix_timestamp();
    let quota = || AppError::from(FieldError::new(ErrorCode::UploadQuota, Field::Files));
    let (today, _) = db::count_hits(&state.db, account, n, 24 * 3600, now).await?;
    if today > FILES_PER_ACCOUNT_PER_DAY {
        // A refused upload does not use up what is left.
        db::uncount_hits(&state.db, account, n).await?;
        return Err(quota());
    }
    let address = format!("upload-files-ip:{}", cx.ip);
    let (this_hour, _) = db::count_hits(&state.db, &address, n, 3600, now).await?;
    if this_hour > state.uploads_per_address_per_hour {
        db::count_hits(&state.db, &address, -n, 3600, now).await?;
        db::uncount_hits(&state.db, account, n).await?;
        return Err(quota());
    }
    Ok(())
}

pub(super) async fn waiting_proofs(
    db: &impl ConnectionTrait,
    patient_id: i64,
) -> Result<u64, sea_orm::DbErr> {
    diagnosis_proof::Entity::find()
        .filter(diagnosis_proof::Column::PatientId.eq(patient_id))
        .filter(diagnosis_proof::Column::Status.eq(ProofStatus::Submitted.as_str()))
        .count(db)
        .await
}
