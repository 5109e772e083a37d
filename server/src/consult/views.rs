//! Consults as each side sees them: the patient's list and page, the doctor's desk and
//! the brief the doctor reads before answering (R-CONS-2).
use super::access::{self, Participant};
use crate::context::RequestContext;
use crate::db::{consult, diagnosis_proof, doctor, family_member, medical_record, patient};
use crate::error::AppError;
use crate::state::State;
use app::consult::{
    ConsultDesk, ConsultView, DeskItem, DiagnosisBrief, DoctorConsult, PastConsult, PatientBrief,
};
use app::domain::consult::{AnswerClock, ConsultStatus, Side};
use app::domain::proof::ProofStatus;
use app::domain::record::RecordStatus;
use app::domain::schedule::ConsultType;
use app::domain::{age, china_time};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashMap;
use std::sync::Arc;
use time::OffsetDateTime;

/// The views of `rows` for `viewer`, with the names and record numbers they show.
pub async fn views(
    db: &impl ConnectionTrait,
    rows: &[consult::Model],
    viewer: Side,
) -> Result<Vec<ConsultView>, AppError> {
    let doctor_ids: Vec<i64> = rows.iter().map(|c| c.doctor_id).collect();
    let doctors: HashMap<i64, doctor::Model> = doctor::Entity::find()
        .filter(doctor::Column::Id.is_in(doctor_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d))
        .collect();
    let records: HashMap<i64, String> = medical_record::Entity::find()
        .filter(medical_record::Column::ConsultId.is_in(rows.iter().map(|c| c.id)))
        .filter(medical_record::Column::Status.eq(RecordStatus::Archived.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.consult_id, r.record_number))
        .collect();
    let mut out = Vec::with_capacity(rows.len());
    for c in rows {
        let d = doctors.get(&c.doctor_id);
        let person_name =
            crate::family::service::person_name(db, c.patient_id, c.family_member_id).await?;
        let (read, other_read) = match viewer {
            Side::Doctor => (c.doctor_read_seq, c.patient_read_seq),
            _ => (c.patient_read_seq, c.doctor_read_seq),
        };
        let consult_type = ConsultType::parse(&c.consult_type).unwrap_or(ConsultType::Text);
        out.push(ConsultView {
            consult_number: c.consult_number.clone(),
            status: ConsultStatus::parse(&c.status).unwrap_or(ConsultStatus::Waiting),
            consult_type,
            doctor_name: d.map(|d| d.name.clone()).unwrap_or_default(),
            doctor_number: d.map(|d| d.doctor_number.clone()).unwrap_or_default(),
            person_name,
            icd10: c.icd10.clone(),
            opens_at: c.opens_at,
            answer_promised_by: c.answer_promised_by,
            closes_unanswered_at: c.closes_unanswered_at,
            first_answer_at: c.first_answer_at,
            patient_writes_until: c
                .first_answer_at
                .filter(|_| consult_type != ConsultType::Video)
                .map(|f| f + c.text_window_secs),
            end_reason: c.end_reason.clone(),
            last_seq: c.last_seq,
            unread: unread(db, c, viewer, read).await?,
            other_read_seq: other_read,
            record_number: records.get(&c.id).cloned(),
        });
    }
    Ok(out)
}

/// Entries from the other side after the viewer's read mark (moves and own entries do
/// not count).
async fn unread(
    db: &impl ConnectionTrait,
    c: &consult::Model,
    viewer: Side,
    read: i64,
) -> Result<i64, AppError> {
    if read >= c.last_seq {
        return Ok(0);
    }
    let other = match viewer {
        Side::Doctor => Side::Patient,
        _ => Side::Doctor,
    };
    use sea_orm::PaginatorTrait;
    Ok(crate::db::consult_message::Entity::find()
        .filter(crate::db::consult_message::Column::ConsultId.eq(c.id))
        .filter(crate::db::consult_message::Column::Seq.gt(read))
        .filter(crate::db::consult_message::Column::Side.eq(other.as_str()))
        .filter(crate::db::consult_message::Column::Kind.is_in(["text", "file"]))
        .count(db)
        .await? as i64)
}

/// The account's consults (for its holder and its family members), newest first.
pub async fn list_for_patient(
    db: &impl ConnectionTrait,
    patient_id: i64,
) -> Result<Vec<ConsultView>, AppError> {
    let rows = consult::Entity::find()
        .filter(consult::Column::PatientId.eq(patient_id))
        .order_by_desc(consult::Column::CreatedAt)
        .order_by_desc(consult::Column::Id)
        .limit(100)
        .all(db)
        .await?;
    views(db, &rows, Side::Patient).await
}

/// One consult for a participant.
pub async fn view(
    db: &impl ConnectionTrait,
    who: Participant,
    number: &str,
) -> Result<ConsultView, AppError> {
    let c = access::find(db, who, number).await?;
    let mut v = views(db, std::slice::from_ref(&c), who.side()).await?;
    v.pop()
        .ok_or_else(|| anyhow::anyhow!("no view of consult {}", c.id).into())
}

/// Total unread doctor entries over the account's open consults (the tab bar's badge).
pub async fn unread_for_patient(
    db: &impl ConnectionTrait,
    patient_id: i64,
) -> Result<i64, AppError> {
    let open = consult::Entity::find()
        .filter(consult::Column::PatientId.eq(patient_id))
        .filter(consult::Column::Status.is_in([
            ConsultStatus::Waiting.as_str(),
            ConsultStatus::InProgress.as_str(),
        ]))
        .all(db)
        .await?;
    let mut n = 0;
    for c in &open {
        n += unread(db, c, Side::Patient, c.patient_read_seq).await?;
    }
    Ok(n)
}

async fn age_and_sex(
    db: &impl ConnectionTrait,
    c: &consult::Model,
    now: OffsetDateTime,
) -> Result<(u32, String), AppError> {
    let (birth, sex) = match c.family_member_id {
        Some(id) => family_member::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|m| (m.birth_date, m.sex)),
        None => patient::Entity::find_by_id(c.patient_id)
            .one(db)
            .await?
            .map(|p| (p.birth_date, p.sex)),
    }
    .unwrap_or_default();
    let years = age::parse_ymd(&birth)
        .map(|b| age::age_on(b, china_time::today(now)))
        .unwrap_or(0);
    Ok((years, sex))
}

/// The doctor's desk (R-CONS-2).
pub async fn desk(
    state: &Arc<State>,
    doctor_id: i64,
    now: OffsetDateTime,
) -> Result<ConsultDesk, AppError> {
    let rows = consult::Entity::find()
        .filter(consult::Column::DoctorId.eq(doctor_id))
        .filter(consult::Column::Status.is_in([
            ConsultStatus::Waiting.as_str(),
            ConsultStatus::InProgress.as_str(),
        ]))
        .order_by_asc(consult::Column::AnswerPromisedBy)
        .limit(500)
        .all(&state.db)
        .await?;
    let views = views(&state.db, &rows, Side::Doctor).await?;
    let ts = now.unix_timestamp();
    let today = china_time::today(now);
    let mut desk = ConsultDesk::default();
    for (c, v) in rows.iter().zip(views) {
        let (age, sex) = age_and_sex(&state.db, c, now).await?;
        let clock = AnswerClock {
            promised_by: c.answer_promised_by,
            closes_at: c.closes_unanswered_at,
        };
        let item = DeskItem {
            age,
            sex,
            answer_left_secs: clock.left(ts),
            consult: v,
        };
        if item.consult.consult_type == ConsultType::Video && china_time::day(c.opens_at) == today {
            desk.video_today.push(item.clone());
        }
        match item.consult.status {
            ConsultStatus::Waiting => desk.waiting.push(item),
            _ => desk.in_progress.push(item),
        }
    }
    Ok(desk)
}

/// What the doctor reads before answering (R-CONS-2); the opening is logged (R-EMR-2).
pub async fn for_doctor(
    state: &Arc<State>,
    who: Participant,
    number: &str,
    cx: &RequestContext,
) -> Result<DoctorConsult, AppError> {
    let Participant::Doctor { staff_id, .. } = who else {
        return Err(app::domain::FieldError::general(app::domain::ErrorCode::Forbidden).into());
    };
    let c = access::find(&state.db, who, number).await?;
    access::log_access(&state.db, &c, staff_id, access::Access::Read, None, cx).await?;
    let consult = view(&state.db, who, number).await?;
    let (age, sex) = age_and_sex(&state.db, &c, cx.now).await?;
    let mut proofs = diagnosis_proof::Entity::find()
        .filter(diagnosis_proof::Column::PatientId.eq(c.patient_id))
        .filter(diagnosis_proof::Column::Status.eq(ProofStatus::Approved.as_str()));
    proofs = match c.family_member_id {
        Some(id) => proofs.filter(diagnosis_proof::Column::FamilyMemberId.eq(id)),
        None => proofs.filter(diagnosis_proof::Column::FamilyMemberId.is_null()),
    };
    let diagnoses = crate::eligibility::service::approved_from(proofs.all(&state.db).await?)
        .into_iter()
        .map(|(proof_number, d)| DiagnosisBrief {
            icd10: d.icd10,
            proof_number,
            diagnosed_on: d.diagnosed_on.to_string(),
        })
        .collect();
    let past_rows = consult::Entity::find()
        .filter(consult::Column::PersonKey.eq(&c.person_key))
        .filter(consult::Column::Id.ne(c.id))
        .order_by_desc(consult::Column::CreatedAt)
        .limit(20)
        .all(&state.db)
        .await?;
    let past = views(&state.db, &past_rows, Side::Doctor)
        .await?
        .into_iter()
        .zip(&past_rows)
        .map(|(v, c)| PastConsult {
            consult_number: v.consult_number,
            status: v.status,
            icd10: v.icd10,
            doctor_name: v.doctor_name,
            at: c.opens_at,
            record_number: v.record_number,
        })
        .collect();
    let (guardian_name, relationship) = match c.family_member_id {
        Some(id) => {
            let m = family_member::Entity::find_by_id(id).one(&state.db).await?;
            let g = patient::Entity::find_by_id(c.patient_id)
                .one(&state.db)
                .await?;
            (g.map(|g| g.real_name), m.map(|m| m.relationship))
        }
        None => (None, None),
    };
    Ok(DoctorConsult {
        patient: PatientBrief {
            person_name: consult.person_name.clone(),
            person_number: crate::records::service::person_number(
                &state.db,
                c.patient_id,
                c.family_member_id,
            )
            .await?,
            age,
            sex,
            guardian_name,
            relationship,
            diagnoses,
            past,
        },
        consult,
    })
}
