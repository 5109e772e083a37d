//! Whether the person a patient acts for may start a follow-up consult (R-ELIG-1,
//! R-ELIG-3, R-ELIG-5, R-REG-2): gathers the facts from the database and asks the one
//! domain rule, `app::domain::eligibility::decide`.
use crate::accounts::consents;
use crate::db::{diagnosis_proof, family_member, patient};
use crate::error::AppError;
use crate::state::State;
use app::domain::age::parse_ymd;
use app::domain::china_time;
use app::domain::department::Department;
use app::domain::eligibility::{
    ApprovedDiagnosis, Candidate, ConsultRequest, Eligible, Refusal, decide,
};
use app::domain::proof::ProofStatus;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use time::OffsetDateTime;

/// The approved diagnoses of one person (the account holder, or `member`).
pub async fn approved(
    state: &State,
    patient_id: i64,
    member: Option<i64>,
) -> Result<Vec<(String, ApprovedDiagnosis)>, AppError> {
    let mut q = diagnosis_proof::Entity::find()
        .filter(diagnosis_proof::Column::PatientId.eq(patient_id))
        .filter(diagnosis_proof::Column::Status.eq(ProofStatus::Approved.as_str()));
    q = match member {
        Some(id) => q.filter(diagnosis_proof::Column::FamilyMemberId.eq(id)),
        None => q.filter(diagnosis_proof::Column::FamilyMemberId.is_null()),
    };
    Ok(approved_from(q.all(&state.db).await?))
}

/// The approved diagnoses among `proofs` (any status, any person: the caller picks the
/// person's), with their proof numbers.
pub fn approved_from(
    proofs: impl IntoIterator<Item = diagnosis_proof::Model>,
) -> Vec<(String, ApprovedDiagnosis)> {
    proofs
        .into_iter()
        .filter(|p| p.status == ProofStatus::Approved.as_str())
        .filter_map(|p| {
            Some((
                p.proof_number,
                ApprovedDiagnosis {
                    proof_id: p.id,
                    icd10: p.approved_icd10?,
                    department: Department::parse(&p.approved_department?)?,
                    diagnosed_on: parse_ymd(&p.diagnosed_on)?,
                },
            ))
        })
        .collect()
}

/// The decision for one consult request, and the proof it would be booked against.
pub async fn check(
    state: &State,
    patient_id: i64,
    member: Option<i64>,
    icd10: &str,
    department: Department,
    critical: bool,
    now: OffsetDateTime,
) -> Result<Result<(Eligible, String), Refusal>, AppError> {
    let rows = consents::effective(&state.db, patient_id).await?;
    let consents_in_force =
        !rows.is_empty() && consents::outstanding_views(state, &rows).is_empty();
    let birth = birth_date(state, patient_id, member)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the person's birth date is unreadable"))?;
    let approved = approved(state, patient_id, member).await?;
    decide_with(
        &state.eligibility,
        &birth,
        &approved,
        ConsultAsk {
            icd10,
            department,
            critical,
            consents_in_force,
        },
        now,
    )
}

/// The birth date (`YYYY-MM-DD`) of the account holder, or of `member`; `None` when the
/// row is gone.
pub async fn birth_date(
    state: &State,
    patient_id: i64,
    member: Option<i64>,
) -> Result<Option<String>, AppError> {
    Ok(match member {
        Some(id) => family_member::Entity::find_by_id(id)
            .one(&state.db)
            .await?
            .map(|m| m.birth_date),
        None => patient::Entity::find_by_id(patient_id)
            .one(&state.db)
            .await?
            .map(|p| p.birth_date),
    })
}

/// A consult asked for, with whether the patient's consents are in force (R-REG-2).
pub struct ConsultAsk<'a> {
    pub icd10: &'a str,
    pub department: Department,
    pub critical: bool,
    pub consents_in_force: bool,
}

/// The rule for facts already read: the person's birth date (`YYYY-MM-DD`) and their
/// approved diagnoses. `Err` only when the birth date is unreadable.
pub fn decide_with(
    policy: &app::domain::eligibility::EligibilityPolicy,
    birth: &str,
    approved: &[(String, ApprovedDiagnosis)],
    ask: ConsultAsk<'_>,
    now: OffsetDateTime,
) -> Result<Result<(Eligible, String), Refusal>, AppError> {
    let birth =
        parse_ymd(birth).ok_or_else(|| anyhow::anyhow!("the person's birth date is unreadable"))?;
    let diagnoses: Vec<ApprovedDiagnosis> = approved.iter().map(|(_, d)| d.clone()).collect();
    let decision = decide(
        policy,
        Candidate {
            birth_date: birth,
            consents_in_force: ask.consents_in_force,
            critical: ask.critical,
            diagnoses: &diagnoses,
        },
        ConsultRequest {
            icd10: ask.icd10,
            department: ask.department,
            today: china_time::today(now),
        },
    );
    Ok(decision.map(|e| {
        let number = approved
            .iter()
            .find(|(_, d)| d.proof_id == e.proof_id)
            .map(|(n, _)| n.clone())
            .unwrap_or_default();
        (e, number)
    }))
}
