//! The last step before a consult is requested (R-REG-6): with a clear emergency
//! screen for the same person in the last 30 minutes (R-ELIG-4), and the eligibility
//! asked again with the screen's answer to "critical" (R-ELIG-5), the patient confirms
//! the consult's risk notice; the confirmation is recorded once, with its version.
use crate::audit::{self, AuditAction};
use crate::context::RequestContext;
use crate::db::{self, consult_consent};
use crate::eligibility::service as eligibility;
use crate::error::AppError;
use crate::state::State;
use app::domain::consult_consent::ScreenPass;
use app::domain::department::Department;
use app::domain::eligibility::{Eligible, Refusal};
use app::domain::{ErrorCode, Field, FieldError};
use rand::Rng;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use time::OffsetDateTime;

/// Where the patient stands before confirming.
#[derive(Debug)]
pub enum Prepared {
    /// The screen for this person is missing or too old.
    ScreenFirst,
    Refused(Refusal),
    Ready(Eligible),
}

/// What a consult is for.
#[derive(Debug, Clone)]
pub struct ConsultFor {
    pub patient_id: i64,
    pub member: Option<i64>,
    pub icd10: String,
    pub department: Department,
}

pub async fn prepare(
    state: &State,
    consult: &ConsultFor,
    screen: Option<ScreenPass>,
    now: OffsetDateTime,
) -> Result<Prepared, AppError> {
    let Some(pass) = screen.filter(|p| p.holds_for(consult.member, now.unix_timestamp())) else {
        return Ok(Prepared::ScreenFirst);
    };
    Ok(
        match eligibility::check(
            state,
            consult.patient_id,
            consult.member,
            &consult.icd10,
            consult.department,
            pass.critical,
            now,
        )
        .await?
        {
            Ok((eligible, _)) => Prepared::Ready(eligible),
            Err(refusal) => Prepared::Refused(refusal),
        },
    )
}

/// Records the confirmation of the notice `version` (the one in force); returns the
/// consent's number, which the booking will carry.
pub async fn give(
    state: &State,
    consult: &ConsultFor,
    screen: Option<ScreenPass>,
    accepted: bool,
    version: &str,
    cx: &RequestContext,
) -> Result<String, AppError> {
    let ip = cx.ip.as_str();
    let now = cx.now;
    if !accepted {
        return Err(FieldError::new(ErrorCode::ConsentMissing, Field::Consent).into());
    }
    if version != state.consult_notice_version {
        return Err(FieldError::new(ErrorCode::ConsentOutdated, Field::Consent).into());
    }
    let eligible = match prepare(state, consult, screen, now).await? {
        Prepared::ScreenFirst => return Err(FieldError::general(ErrorCode::ScreenRequired).into()),
        Prepared::Refused(refusal) => return Err(FieldError::general(refusal.code()).into()),
        Prepared::Ready(eligible) => eligible,
    };
    let critical = screen.is_some_and(|p| p.critical);
    let number = format!("CC{:016x}", rand::rngs::OsRng.r#gen::<u64>());
    let txn = db::begin_write(&state.db).await?;
    consult_consent::ActiveModel {
        consent_number: Set(number.clone()),
        patient_id: Set(consult.patient_id),
        family_member_id: Set(consult.member),
        proof_id: Set(eligible.proof_id),
        icd10: Set(consult.icd10.clone()),
        department: Set(consult.department.as_str().to_owned()),
        notice_version: Set(version.to_owned()),
        critical: Set(critical),
        accepted_at: Set(now.unix_timestamp()),
        screened_at: Set(screen.map(|p| p.at)),
        ip: Set(ip.to_owned()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        cx.audit(AuditAction::ConsultConsentGiven)
            .on("consult_consent", &number)
            .about_member(consult.member),
    )
    .await?;
    txn.commit().await?;
    Ok(number)
}
