//! The live queue (自主在线, R-BOOK-1): a doctor goes online for a consult type; patients
//! join with the same basis as a booking (the consult consent for this person and the
//! doctor's department, and the eligibility rule asked again); each sees their place
//! and an honest wait; the doctor calls the next; a patient may leave.
//!
//! In the database: one waiting place per person (a partial unique index); joining locks
//! the doctor's presence row, so a doctor going offline at the same moment either sees
//! the new place (and closes it) or the join finds the doctor offline.
use crate::audit::{self, AuditAction};
use crate::context::RequestContext;
use crate::db::{self, consult_consent, doctor, doctor_presence, queue_entry};
use crate::error::AppError;
use crate::notices::service as notices;
use crate::state::State;
use app::domain::department::Department;
use app::domain::eligibility::{ApprovedDiagnosis, EligibilityPolicy, Eligible};
use app::domain::notice::NoticeKind;
use app::domain::schedule::{ConsultType, may_consult_online};
use app::domain::{ErrorCode, FieldError};
use rand::Rng;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use std::sync::Arc;
use time::OffsetDateTime;

pub const WAITING: &str = "waiting";

pub const CALLED: &str = "called";

pub const LEFT: &str = "left";

pub const CLOSED: &str = "closed";

/// Minutes a consult takes when the doctor has no recent history.
pub const DEFAULT_CONSULT_MINUTES: u32 = 10;

/// Moves a waiting entry to `status`, stamping `at` with `ts`; `false` if it was no
/// longer waiting (called, left or closed by someone else first).
async fn end_wait(
    db: &impl ConnectionTrait,
    id: i64,
    status: &str,
    at: queue_entry::Column,
    ts: i64,
) -> Result<bool, AppError> {
    let done = queue_entry::Entity::update_many()
        .col_expr(queue_entry::Column::Status, Expr::value(status))
        .col_expr(at, Expr::value(ts))
        .filter(queue_entry::Column::Id.eq(id))
        .filter(queue_entry::Column::Status.eq(WAITING))
        .exec(db)
        .await?
        .rows_affected;
    Ok(done == 1)
}

/// The consent and the eligibility a consult with this doctor rests on (R-REG-6,
/// R-ELIG-3), shared by holds and the queue. The patient's own consents (R-REG-2) are
/// in force: holds and joins come only through the `ConsentedPatient` extractor, which
/// has just read them.
pub(crate) async fn consult_basis(
    state: &State,
    patient_id: i64,
    member: Option<i64>,
    consent_number: &str,
    d: &doctor::Model,
    now: OffsetDateTime,
) -> Result<(consult_consent::Model, Eligible), AppError> {
    let consent = consult_consent::Entity::find()
        .filter(consult_consent::Column::ConsentNumber.eq(consent_number))
        .filter(consult_consent::Column::PatientId.eq(patient_id))
        .one(&state.db)
        .await?;
    let birth = crate::eligibility::service::birth_date(state, patient_id, member).await?;
    let approved = crate::eligibility::service::approved(state, patient_id, member).await?;
    basis(
        &state.eligibility,
        d,
        member,
        consent,
        birth.as_deref(),
        &approved,
        now,
    )
}

/// [`consult_basis`] for facts already read: the consent found by its number for the
/// account (`None`: none), the person's birth date and their approved diagnoses.
pub(crate) fn basis(
    policy: &EligibilityPolicy,
    d: &doctor::Model,
    member: Option<i64>,
    consent: Option<consult_consent::Model>,
    birth: Option<&str>,
    approved: &[(String, ApprovedDiagnosis)],
    now: OffsetDateTime,
) -> Result<(consult_consent::Model, Eligible), AppError> {
    if !may_consult_online(crate::booking::service::years_of(d, now)) {
        return Err(FieldError::general(ErrorCode::DoctorPracticeTooShort).into());
    }
    let consent = consent
        .filter(|c| c.family_member_id == member)
        .ok_or(FieldError::general(ErrorCode::ConsultConsentRequired))?;
    // R-ELIG-4: the clear screen behind the consent is at most 30 minutes old, now.
    if !app::domain::consult_consent::screen_fresh(consent.screened_at, now.unix_timestamp()) {
        return Err(FieldError::general(ErrorCode::ScreenRequired).into());
    }
    let department = Department::parse(&d.department)
        .ok_or_else(|| anyhow::anyhow!("doctor {} has an unknown department", d.doctor_number))?;
    if consent.department != department.as_str() {
        return Err(FieldError::general(ErrorCode::EligibilityWrongDepartment).into());
    }
    let birth = birth.ok_or_else(|| anyhow::anyhow!("the person's birth date is unreadable"))?;
    let eligible = crate::eligibility::service::decide_with(
        policy,
        birth,
        approved,
        crate::eligibility::service::ConsultAsk {
            icd10: &consent.icd10,
            department,
            critical: consent.critical,
            consents_in_force: true,
        },
        now,
    )?
    .map_err(|refusal| FieldError::general(refusal.code()))?
    .0;
    Ok((consent, eligible))
}

/// Goes online or offline for a consult type. Going offline closes the waiting places,
/// and their patients are told.
pub async fn set_online(
    state: &Arc<State>,
    doctor_id: i64,
    consult_type: ConsultType,
    online: bool,
    cx: &RequestContext,
) -> Result<(), AppError> {
    let now = cx.now;
    let ts = now.unix_timestamp();
    let txn = db::begin_write(&state.db).await?;
    let mut sms = Vec::new();
    if online {
        let d = doctor::Entity::find_by_id(doctor_id)
            .one(&txn)
            .await?
            .ok_or(FieldError::general(ErrorCode::NotFound))?;
        if !may_consult_online(crate::booking::service::years_of(&d, now)) {
            return Err(FieldError::general(ErrorCode::DoctorPracticeTooShort).into());
        }
        txn.execute_raw(db::sql(
            txn.get_database_backend(),
            "INSERT INTO doctor_presence (doctor_id, consult_type, online_since) VALUES ($1, $2, $3) \
             ON CONFLICT (doctor_id, consult_type) DO NOTHING",
            vec![doctor_id.into(), consult_type.as_str().into(), ts.into()],
        ))
        .await?;
    } else {
        doctor_presence::Entity::delete_many()
            .filter(doctor_presence::Column::DoctorId.eq(doctor_id))
            .filter(doctor_presence::Column::ConsultType.eq(consult_type.as_str()))
            .exec(&txn)
            .await?;
        let waiting = queue_entry::Entity::find()
            .filter(queue_entry::Column::DoctorId.eq(doctor_id))
            .filter(queue_entry::Column::ConsultType.eq(consult_type.as_str()))
            .filter(queue_entry::Column::Status.eq(WAITING))
            .all(&txn)
            .await?;
        for e in waiting {
            if end_wait(&txn, e.id, CLOSED, queue_entry::Column::EndedAt, ts).await? {
                sms.push(
                    notices::record(
                        &txn,
                        notices::Notice {
                            patient_id: e.patient_id,
                            family_member_id: e.family_member_id,
                            kind: NoticeKind::QueueClosed,
                            params: vec![],
                        },
                        now,
                    )
                    .await?,
                );
            }
        }
    }
    audit::record(
        &txn,
        cx.audit(if online {
            AuditAction::DoctorOnline
        } else {
            AuditAction::DoctorOffline
        })
        .on("doctor", doctor_id)
        .detail(serde_json::json!({ "consult_type": consult_type.as_str() })),
    )
    .await?;
    txn.commit().await?;
    for n in sms {
        notices::send_sms_after_commit(state.clone(), n);
    }
    Ok(())
}

/// The consult types a doctor is online for.
pub async fn online_types(
    db: &impl ConnectionTrait,
    doctor_id: i64,
) -> Result<Vec<ConsultType>, AppError> {
    let rows = doctor_presence::Entity::find()
        .filter(doctor_presence::Column::DoctorId.eq(doctor_id))
        .all(db)
        .await?;
    let mut types: Vec<ConsultType> = rows
        .iter()
        .filter_map(|p| ConsultType::parse(&p.consult_type))
        .collect();
    types.sort();
    Ok(types)
}

/// Recent minutes per patient for this doctor: the mean gap between the last calls,
/// within 3–60 minutes; the default without history.
pub(crate) async fn average_minutes(
    db: &impl ConnectionTrait,
    doctor_id: i64,
) -> Result<u32, AppError> {
    let calls: Vec<Option<i64>> = queue_entry::Entity::find()
        .select_only()
        .column(queue_entry::Column::CalledAt)
        .filter(queue_entry::Column::DoctorId.eq(doctor_id))
        .filter(queue_entry::Column::CalledAt.is_not_null())
        .order_by_desc(queue_entry::Column::CalledAt)
        .limit(11)
        .into_tuple()
        .all(db)
        .await?;
    let calls: Vec<i64> = calls.into_iter().flatten().collect();
    if calls.len() < 3 {
        return Ok(DEFAULT_CONSULT_MINUTES);
    }
    let span = calls[0] - calls[calls.len() - 1];
    let per = span / 60 / i64::try_from(calls.len() - 1).unwrap_or(1);
    Ok(u32::try_from(per.clamp(3, 60)).unwrap_or(DEFAULT_CONSULT_MINUTES))
}

/// Joins a doctor's queue for the person the patient acts for.
pub async fn join(
    state: &State,
    patient_id: i64,
    member: Option<i64>,
    doctor_number: &str,
    consult_type: ConsultType,
    consent_number: &str,
    cx: &RequestContext,
) -> Result<String, AppError> {
    let now = cx.now;
    let ts = now.unix_timestamp();
    let d = doctor::Entity::find()
        .filter(doctor::Column::DoctorNumber.eq(doctor_number))
        .filter(doctor::Column::Listed.eq(true))
        .one(&state.db)
        .await?
        .ok_or(FieldError::general(ErrorCode::NotFound))?;
    let (consent, eligible) =
        consult_basis(state, patient_id, member, consent_number, &d, now).await?;
    let key = crate::booking::row::person_key(patient_id, member);
    let number = format!("QE{:014x}", rand::rngs::OsRng.r#gen::<u64>() >> 8);
    let txn = db::begin_write(&state.db).await?;
    // Lock the presence row: a doctor going offline now waits for this join, or it
    // finds the doctor gone.
    let online = txn
        .execute_raw(db::sql(
            txn.get_database_backend(),
            "UPDATE doctor_presence SET online_since = online_since \
             WHERE doctor_id = $1 AND consult_type = $2",
            vec![d.id.into(), consult_type.as_str().into()],
        ))
        .await?
        .rows_affected();
    if online == 0 {
        txn.rollback().await?;
        return Err(FieldError::general(ErrorCode::DoctorOffline).into());
    }
    let inserted = queue_entry::ActiveModel {
        entry_number: Set(number.clone()),
        doctor_id: Set(d.id),
        consult_type: Set(consult_type.as_str().to_owned()),
        patient_id: Set(patient_id),
        family_member_id: Set(member),
        person_key: Set(key),
        proof_id: Set(eligible.proof_id),
        consult_consent_id: Set(consent.id),
        icd10: Set(consent.icd10.clone()),
        status: Set(WAITING.to_owned()),
        joined_at: Set(ts),
        called_at: Set(None),
        ended_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    match inserted {
        Ok(_) => {
            audit::record(
                &txn,
                cx.audit(AuditAction::QueueJoined)
                    .on("queue_entry", &number)
                    .about_member(member),
            )
            .await?;
            txn.commit().await?;
            Ok(number)
        }
        Err(e) => {
            txn.rollback().await?;
            if crate::db::is_unique_violation(&e) {
                Err(FieldError::general(ErrorCode::AlreadyQueued).into())
            } else {
                Err(e.into())
            }
        }
    }
}

/// The patient leaves the queue.
pub async fn leave(
    state: &State,
    patient_id: i64,
    number: &str,
    cx: &RequestContext,
) -> Result<(), AppError> {
    let now = cx.now;
    let e = own_entry(&state.db, patient_id, number).await?;
    let txn = db::begin_write(&state.db).await?;
    let ts = now.unix_timestamp();
    if !end_wait(&txn, e.id, LEFT, queue_entry::Column::EndedAt, ts).await? {
        txn.rollback().await?;
        return Err(FieldError::general(ErrorCode::QueueEntryNotWaiting).into());
    }
    audit::record(
        &txn,
        cx.audit(AuditAction::QueueLeft)
            .on("queue_entry", &e.entry_number)
            .about_member(e.family_member_id),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A waiting patient, as the doctor's page lists them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Waiting {
    pub entry_number: String,
    pub person_name: String,
    pub icd10: String,
    pub joined_at: i64,
}

/// The doctor's waiting list for a type, first first.
pub async fn waiting_list(
    db: &impl ConnectionTrait,
    doctor_id: i64,
    consult_type: ConsultType,
) -> Result<Vec<Waiting>, AppError> {
    let rows = queue_entry::Entity::find()
        .filter(queue_entry::Column::DoctorId.eq(doctor_id))
        .filter(queue_entry::Column::ConsultType.eq(consult_type.as_str()))
        .filter(queue_entry::Column::Status.eq(WAITING))
        .order_by_asc(queue_entry::Column::Id)
        .limit(200)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for e in rows {
        out.push(Waiting {
            person_name: crate::family::service::person_name(db, e.patient_id, e.family_member_id)
                .await?,
            entry_number: e.entry_number,
            icd10: e.icd10,
            joined_at: e.joined_at,
        });
    }
    Ok(out)
}

/// The doctor calls the next waiting patient (each place is called once, whatever
/// else calls at the same moment); `None` when nobody waits.
pub async fn call_next(
    state: &Arc<State>,
    doctor_id: i64,
    consult_type: ConsultType,
    cx: &RequestContext,
) -> Result<Option<Waiting>, AppError> {
    let now = cx.now;
    let ts = now.unix_timestamp();
    for _ in 0..5 {
        let Some(next) = queue_entry::Entity::find()
            .filter(queue_entry::Column::DoctorId.eq(doctor_id))
            .filter(queue_entry::Column::ConsultType.eq(consult_type.as_str()))
            .filter(queue_entry::Column::Status.eq(WAITING))
            .order_by_asc(queue_entry::Column::Id)
            .one(&state.db)
            .await?
        else {
            return Ok(None);
        };
        let txn = db::begin_write(&state.db).await?;
        if !end_wait(&txn, next.id, CALLED, queue_entry::Column::CalledAt, ts).await? {
            txn.rollback().await?;
            continue;
        }
        // A live-queue call opens its consult at once (R-CONS-1).
        let settings = *state.parts.get::<crate::consult::life::ConsultSettings>()?;
        let c = crate::consult::life::open_for_queue_call(&txn, &next, settings, cx).await?;
        let notice = notices::record(
            &txn,
            notices::Notice {
                patient_id: next.patient_id,
                family_member_id: next.family_member_id,
                kind: NoticeKind::QueueCalled,
                params: vec![],
            },
            now,
        )
        .await?;
        audit::record(
            &txn,
            cx.audit(AuditAction::QueueCalled)
                .on("queue_entry", &next.entry_number)
                .about_member(next.family_member_id),
        )
        .await?;
        txn.commit().await?;
        crate::chat::publish(state, c.id, c.last_seq.max(1));
        notices::send_sms_after_commit(state.clone(), notice);
        return Ok(Some(Waiting {
            person_name: crate::family::service::person_name(
                &state.db,
                next.patient_id,
                next.family_member_id,
            )
            .await?,
            entry_number: next.entry_number,
            icd10: next.icd10,
            joined_at: next.joined_at,
        }));
    }
    Err(FieldError::general(ErrorCode::Busy).into())
}

/// The directory entry linked to a staff account (a doctor's own).
pub async fn doctor_of_staff(
    db: &impl ConnectionTrait,
    staff_id: i64,
) -> Result<doctor::Model, AppError> {
    doctor::Entity::find()
        .filter(doctor::Column::StaffId.eq(staff_id))
        .one(db)
        .await?
        .ok_or_else(|| FieldError::general(ErrorCode::Forbidden).into())
}

/// The patient's own queue entry; another's is not found.
pub(crate) async fn own_entry(
    db: &impl ConnectionTrait,
    patient_id: i64,
    number: &str,
) -> Result<queue_entry::Model, AppError> {
    queue_entry::Entity::find()
        .filter(queue_entry::Column::EntryNumber.eq(number))
        .filter(queue_entry::Column::PatientId.eq(patient_id))
        .one(db)
        .await?
        .ok_or_else(|| FieldError::general(ErrorCode::NotFound).into())
}
