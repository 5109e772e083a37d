//! What a hold rests on (R-BOOK-2, R-REG-6, R-ELIG-3), read for every hold of a batch
//! at once: the slots, the consult consents, the approved diagnoses and the birth dates
//! not known yet. A few reads however many holds (it was three a hold), then each hold
//! is checked alone by the same rules as a consult in the queue ([`prepare`]).
use crate::booking::holds::HoldRequest;
use crate::booking::holds::PreparedHold;
use crate::booking::holds::listed_doctor_and_fee;
use crate::booking::row::OPEN;
use crate::booking::row::person_key;
use crate::db::{consult_consent, diagnosis_proof, family_member, patient, slot};
use crate::doctors::directory::Snapshot;
use crate::eligibility::service::approved_from;
use crate::error::AppError;
use app::domain::eligibility::EligibilityPolicy;
use app::domain::proof::ProofStatus;
use app::domain::{ErrorCode, FieldError};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::HashMap;
use std::sync::Arc;
use time::OffsetDateTime;

/// A hold asked for, with what the request knew.
pub(crate) struct HoldAsk {
    pub req: HoldRequest,
    pub hold_secs: i64,
    pub ip: String,
    pub now: OffsetDateTime,
    /// The directory (doctors and price list) as the request found it.
    pub directory: Arc<Snapshot>,
}

/// The rows some holds rest on.
pub(crate) struct Facts {
    slots: HashMap<String, slot::Model>,
    consents: HashMap<String, consult_consent::Model>,
    /// Approved proofs of the accounts (and their family members).
    proofs: Vec<diagnosis_proof::Model>,
    member_births: HashMap<i64, (i64, String)>,
    patient_births: HashMap<i64, String>,
}

/// The facts of all of `asks`: five statements at most, whatever their number, sent
/// side by side.
pub(crate) async fn read(db: &impl ConnectionTrait, asks: &[&HoldAsk]) -> Result<Facts, AppError> {
    let slot_numbers = distinct(asks.iter().map(|a| a.req.slot_number.clone()).collect());
    let consent_numbers = distinct(asks.iter().map(|a| a.req.consult_consent.clone()).collect());
    let patients = distinct(asks.iter().map(|a| a.req.patient_id).collect::<Vec<i64>>());
    let unknown = |member: bool| {
        distinct(
            asks.iter()
                .filter(|a| a.req.known_birth_date.is_none() && a.req.member.is_some() == member)
                .map(|a| a.req.member.unwrap_or(a.req.patient_id))
                .collect::<Vec<i64>>(),
        )
    };
    let (members, accounts) = (unknown(true), unknown(false));
    // Side by side, on connections of their own: one round trip's wait, not four.
    let slots = slot::Entity::find()
        .filter(slot::Column::SlotNumber.is_in(slot_numbers))
        .all(db);
    let consents = consult_consent::Entity::find()
        .filter(consult_consent::Column::ConsentNumber.is_in(consent_numbers))
        .all(db);
    let proofs = diagnosis_proof::Entity::find()
        .filter(diagnosis_proof::Column::PatientId.is_in(patients))
        .filter(diagnosis_proof::Column::Status.eq(ProofStatus::Approved.as_str()))
        .all(db);
    let births = async {
        let mut members_born: Vec<(i64, i64, String)> = Vec::new();
        if !members.is_empty() {
            members_born = family_member::Entity::find()
                .select_only()
                .columns([
                    family_member::Column::Id,
                    family_member::Column::GuardianId,
                    family_member::Column::BirthDate,
                ])
                .filter(family_member::Column::Id.is_in(members))
                .into_tuple()
                .all(db)
                .await?;
        }
        let mut accounts_born: Vec<(i64, String)> = Vec::new();
        if !accounts.is_empty() {
            accounts_born = patient::Entity::find()
                .select_only()
                .columns([patient::Column::Id, patient::Column::BirthDate])
                .filter(patient::Column::Id.is_in(accounts))
                .into_tuple()
                .all(db)
                .await?;
        }
        Ok::<_, sea_orm::DbErr>((members_born, accounts_born))
    };
    let (slots, consents, proofs, (members_born, accounts_born)) =
        tokio::try_join!(slots, consents, proofs, births)?;
    let facts = Facts {
        slots: slots
            .into_iter()
            .map(|s| (s.slot_number.clone(), s))
            .collect(),
        consents: consents
            .into_iter()
            .map(|c| (c.consent_number.clone(), c))
            .collect(),
        proofs,
        member_births: members_born
            .into_iter()
            .map(|(id, guardian, b)| (id, (guardian, b)))
            .collect(),
        patient_births: accounts_born.into_iter().collect(),
    };
    Ok(facts)
}

fn distinct<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort_unstable();
    v.dedup();
    v
}

/// Checks one hold against its facts, in the order a patient should hear why not: the
/// slot (exists, open, not started), its doctor and fee, then the consent and the
/// eligibility rule asked again now. Reads only for a doctor the directory does not hold.
pub(crate) async fn prepare(
    db: &impl ConnectionTrait,
    policy: &EligibilityPolicy,
    ask: &HoldAsk,
    facts: &Facts,
) -> Result<PreparedHold, AppError> {
    let req = &ask.req;
    let ts = ask.now.unix_timestamp();
    let target = facts
        .slots
        .get(&req.slot_number)
        .ok_or(FieldError::general(ErrorCode::NotFound))?;
    if target.status != OPEN {
        return Err(FieldError::general(ErrorCode::SlotCancelled).into());
    }
    if target.starts_at <= ts {
        return Err(FieldError::general(ErrorCode::SlotStarted).into());
    }
    let (d, fee) = listed_doctor_and_fee(db, &ask.directory, target).await?;
    let consent = facts
        .consents
        .get(&req.consult_consent)
        .filter(|c| c.patient_id == req.patient_id)
        .cloned();
    let birth = match (&req.known_birth_date, req.member) {
        (Some(known), _) => Some(known.as_str()),
        (None, Some(m)) => facts
            .member_births
            .get(&m)
            .filter(|(owner, _)| *owner == req.patient_id)
            .map(|(_, b)| b.as_str()),
        (None, None) => facts
            .patient_births
            .get(&req.patient_id)
            .map(String::as_str),
    };
    let approved = approved_from(
        facts
            .proofs
            .iter()
            .filter(|p| p.patient_id == req.patient_id && p.family_member_id == req.member)
            .cloned(),
    );
    // R-REG-6 / R-ELIG-3: the consent for this person, with this doctor's department;
    // then the eligibility rule, asked again now.
    let (consent, eligible) =
        crate::booking::queue::basis(policy, &d, req.member, consent, birth, &approved, ask.now)?;
    Ok(PreparedHold {
        patient_id: req.patient_id,
        member: req.member,
        key: person_key(req.patient_id, req.member),
        target: target.clone(),
        doctor: d,
        fee,
        consent,
        proof_id: eligible.proof_id,
        number: crate::db::new_number("BK"),
        hold_secs: ask.hold_secs,
        ip: ask.ip.clone(),
        now: ask.now,
    })
}

/// One hold's facts read and checked, alone.
pub(crate) async fn prepare_alone(
    db: &impl ConnectionTrait,
    policy: &EligibilityPolicy,
    ask: &HoldAsk,
) -> Result<PreparedHold, AppError> {
    let facts = read(db, &[ask]).await?;
    prepare(db, policy, ask, &facts).await
}
