//! The consult's medical record (R-EMR-1 … R-EMR-4). The doctor writes it while the
//! consult is open: each save is a new revision (append-only, with author and time) and
//! updates the draft, only if the draft is still at the revision the doctor read.
//! Completing the consult confirms it: the record is archived in the same transaction as
//! the consult's move, with a content hash over its canonical JSON linked to the person's
//! previous archived record; from then the database refuses any change, and corrections
//! are signed addenda shown beside it.
use crate::consult::access::{self, Access, Participant};
use crate::consult::life::{self, Moved};
use crate::context::RequestContext;
use crate::db::{
    self, consult, family_member, medical_record, patient, record_addendum, record_revision,
};
use crate::error::AppError;
use crate::orders::AfterCommit;
use crate::state::State;
use app::domain::consult::{ConsultEvent, ConsultStatus};
use app::domain::record::{RecordStatus, RecordText, parse_addendum};
use app::domain::{ErrorCode, FieldError};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};
use std::collections::BTreeMap;
use std::sync::Arc;

pub(crate) fn text_of(r: &medical_record::Model) -> RecordText {
    RecordText {
        chief_complaint: r.chief_complaint.clone(),
        present_illness: r.present_illness.clone(),
        icd10: r.icd10.clone(),
        advice: r.advice.clone(),
        follow_up: r.follow_up.clone(),
    }
}

pub(crate) fn status_of(r: &medical_record::Model) -> Result<RecordStatus, AppError> {
    RecordStatus::parse(&r.status)
        .ok_or_else(|| anyhow::anyhow!("record {} has no known status", r.id).into())
}

/// The consult's record, if one was begun.
pub async fn of_consult(
    db: &impl ConnectionTrait,
    consult_id: i64,
) -> Result<Option<medical_record::Model>, AppError> {
    Ok(medical_record::Entity::find()
        .filter(medical_record::Column::ConsultId.eq(consult_id))
        .one(db)
        .await?)
}

/// Saves the doctor's draft as revision `expected + 1`: refused when the record is
/// archived, when the consult has ended, or when another save came first.
pub async fn save(
    state: &Arc<State>,
    who: Participant,
    number: &str,
    expected: i32,
    text: RecordText,
    cx: &RequestContext,
) -> Result<medical_record::Model, AppError> {
    let Participant::Doctor { staff_id, .. } = who else {
        return Err(FieldError::general(ErrorCode::Forbidden).into());
    };
    let text = text.parse()?;
    let c = access::find(&state.db, who, number).await?;
    let now = cx.now.unix_timestamp();
    let txn = db::begin_write(&state.db).await?;
    let current = life::locked(&txn, c.id).await?;
    if !life::status_of(&current)?.is_open() {
        txn.rollback().await?;
        return Err(FieldError::general(ErrorCode::ConsultEnded).into());
    }
    let existing = of_consult(&txn, c.id).await?;
    let record = match existing {
        Some(r) => {
            status_of(&r)?.may_change()?;
            let done = medical_record::Entity::update_many()
                .col_expr(medical_record::Column::Revision, Expr::value(expected + 1))
                .col_expr(
                    medical_record::Column::ChiefComplaint,
                    Expr::value(text.chief_complaint.clone()),
                )
                .col_expr(
                    medical_record::Column::PresentIllness,
                    Expr::value(text.present_illness.clone()),
                )
                .col_expr(
                    medical_record::Column::Icd10,
                    Expr::value(text.icd10.clone()),
                )
                .col_expr(
                    medical_record::Column::Advice,
                    Expr::value(text.advice.clone()),
                )
                .col_expr(
                    medical_record::Column::FollowUp,
                    Expr::value(text.follow_up.clone()),
                )
                .col_expr(medical_record::Column::UpdatedAt, Expr::value(now))
                .filter(medical_record::Column::Id.eq(r.id))
                .filter(medical_record::Column::Revision.eq(expected))
                .filter(medical_record::Column::Status.eq(RecordStatus::Draft.as_str()))
                .exec(&txn)
                .await?
                .rows_affected;
            if done != 1 {
                txn.rollback().await?;
                return Err(FieldError::general(ErrorCode::RecordChanged).into());
            }
            medical_record::Entity::find_by_id(r.id)
                .one(&txn)
                .await?
                .ok_or_else(|| anyhow::anyhow!("record {} vanished", r.id))?
        }
        None if expected == 0 => {
            medical_record::ActiveModel {
                record_number: Set(db::new_number("MR")),
                consult_id: Set(c.id),
                patient_id: Set(c.patient_id),
                family_member_id: Set(c.family_member_id),
                person_key: Set(c.person_key.clone()),
                doctor_id: Set(c.doctor_id),
                status: Set(RecordStatus::Draft.as_str().to_owned()),
                revision: Set(1),
                chief_complaint: Set(text.chief_complaint.clone()),
                present_illness: Set(text.present_illness.clone()),
                icd10: Set(text.icd10.clone()),
                advice: Set(text.advice.clone()),
                follow_up: Set(text.follow_up.clone()),
                created_at: Set(now),
                updated_at: Set(now),
                archived_at: Set(None),
                archived_by: Set(None),
                prev_hash: Set(None),
                content_hash: Set(None),
                ..Default::default()
            }
            .insert(&txn)
            .await?
        }
        None => {
            txn.rollback().await?;
            return Err(FieldError::general(ErrorCode::RecordChanged).into());
        }
    };
    record_revision::ActiveModel {
        record_id: Set(record.id),
        revision: Set(record.revision),
        author_id: Set(staff_id),
        body: Set(serde_json::to_string(&text).map_err(anyhow::Error::from)?),
        saved_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    crate::audit::record(
        &txn,
        cx.audit(crate::audit::AuditAction::RecordSaved)
            .on("medical_record", &record.record_number)
            .about_member(record.family_member_id)
            .detail(serde_json::json!({ "revision": record.revision })),
    )
    .await?;
    txn.commit().await?;
    Ok(record)
}

/// The person's number (R-EMR-3): the account holder's patient number or the family
/// member's number, the same on every record of theirs.
pub async fn person_number(
    db: &impl ConnectionTrait,
    patient_id: i64,
    member: Option<i64>,
) -> Result<String, AppError> {
    let number = match member {
        Some(id) => family_member::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|m| m.member_number),
        None => patient::Entity::find_by_id(patient_id)
            .one(db)
            .await?
            .map(|p| p.patient_number),
    };
    number.ok_or_else(|| anyhow::anyhow!("the record's person vanished").into())
}

/// The archived record's hash: SHA-256 of its canonical JSON (keys sorted, no spaces),
/// which includes the previous record's hash.
pub fn content_hash(fields: &BTreeMap<&str, serde_json::Value>) -> String {
    let canonical = serde_json::to_string(fields).unwrap_or_default();
    crate::crypto::sha256_hex(&canonical)
}

/// The canonical content of an archived record.
pub fn canonical(
    r: &medical_record::Model,
    person_number: &str,
    consult_number: &str,
    archived_at: i64,
    archived_by: i64,
    prev_hash: &str,
) -> BTreeMap<&'static str, serde_json::Value> {
    use serde_json::json;
    BTreeMap::from([
        ("record_number", json!(r.record_number)),
        ("consult_number", json!(consult_number)),
        ("person_number", json!(person_number)),
        ("doctor_id", json!(r.doctor_id)),
        ("revision", json!(r.revision)),
        ("chief_complaint", json!(r.chief_complaint)),
        ("present_illness", json!(r.present_illness)),
        ("icd10", json!(r.icd10)),
        ("advice", json!(r.advice)),
        ("follow_up", json!(r.follow_up)),
        ("archived_at", json!(archived_at)),
        ("archived_by", json!(archived_by)),
        ("prev_hash", json!(prev_hash)),
    ])
}

/// Completes the consult (R-EMR-1): the record, saved at revision `expected` and ready,
/// is archived and the consult moves to completed, in one transaction.
pub async fn complete(
    state: &Arc<State>,
    who: Participant,
    number: &str,
    expected: i32,
    cx: &RequestContext,
) -> Result<medical_record::Model, AppError> {
    let Participant::Doctor { staff_id, .. } = who else {
        return Err(FieldError::general(ErrorCode::Forbidden).into());
    };
    let c = access::find(&state.db, who, number).await?;
    let approved: Vec<String> =
        crate::eligibility::service::approved(state, c.patient_id, c.family_member_id)
            .await?
            .into_iter()
            .map(|(_, d)| d.icd10)
            .collect();
    let now = cx.now.unix_timestamp();
    let txn = db::begin_write(&state.db).await?;
    let current = life::locked(&txn, c.id).await?;
    if !life::status_of(&current)?.is_open() {
        txn.rollback().await?;
        return Err(FieldError::general(ErrorCode::ConsultEnded).into());
    }
    let Some(r) = of_consult(&txn, c.id).await? else {
        txn.rollback().await?;
        return Err(FieldError::general(ErrorCode::RecordRequired).into());
    };
    if r.revision != expected {
        txn.rollback().await?;
        return Err(FieldError::general(ErrorCode::RecordChanged).into());
    }
    status_of(&r)?.may_change()?;
    text_of(&r).ready_to_confirm(&approved)?;
    let prev: String = medical_record::Entity::find()
        .filter(medical_record::Column::PersonKey.eq(&r.person_key))
        .filter(medical_record::Column::Status.eq(RecordStatus::Archived.as_str()))
        .order_by_desc(medical_record::Column::ArchivedAt)
        .order_by_desc(medical_record::Column::Id)
        .one(&txn)
        .await?
        .and_then(|p| p.content_hash)
        .unwrap_or_default();
    let person = person_number(&txn, r.patient_id, r.family_member_id).await?;
    let hash = content_hash(&canonical(
        &r,
        &person,
        &c.consult_number,
        now,
        staff_id,
        &prev,
    ));
    let done = medical_record::Entity::update_many()
        .col_expr(
            medical_record::Column::Status,
            Expr::value(RecordStatus::Archived.as_str()),
        )
        .col_expr(medical_record::Column::ArchivedAt, Expr::value(now))
        .col_expr(medical_record::Column::ArchivedBy, Expr::value(staff_id))
        .col_expr(medical_record::Column::PrevHash, Expr::value(prev))
        .col_expr(medical_record::Column::ContentHash, Expr::value(hash))
        .col_expr(medical_record::Column::UpdatedAt, Expr::value(now))
        .filter(medical_record::Column::Id.eq(r.id))
        .filter(medical_record::Column::Revision.eq(expected))
        .filter(medical_record::Column::Status.eq(RecordStatus::Draft.as_str()))
        .exec(&txn)
        .await?
        .rows_affected;
    if done != 1 {
        txn.rollback().await?;
        return Err(FieldError::general(ErrorCode::RecordChanged).into());
    }
    let mut after = AfterCommit::default();
    let moved = life::step(
        &txn,
        c.id,
        ConsultEvent::Complete,
        Some(staff_id),
        None,
        cx,
        &mut after,
    )
    .await?;
    if moved != Moved::To(ConsultStatus::Completed) {
        txn.rollback().await?;
        return Err(FieldError::general(ErrorCode::ConsultEnded).into());
    }
    crate::audit::record(
        &txn,
        cx.audit(crate::audit::AuditAction::RecordArchived)
            .on("medical_record", &r.record_number)
            .about_member(r.family_member_id),
    )
    .await?;
    txn.commit().await?;
    after.run(state);
    Ok(medical_record::Entity::find_by_id(r.id)
        .one(&state.db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("record {} vanished", r.id))?)
}

/// Refers the patient to a physical visit (R-ELIG-4) with the reason they see; before
/// any service the money goes back (R-PAY-2).
pub async fn refer(
    state: &Arc<State>,
    who: Participant,
    number: &str,
    reason: &str,
    cx: &RequestContext,
) -> Result<(), AppError> {
    let Participant::Doctor { staff_id, .. } = who else {
        return Err(FieldError::general(ErrorCode::Forbidden).into());
    };
    let reason = app::domain::consult::parse_reason(reason)?;
    let c = access::find(&state.db, who, number).await?;
    let txn = db::begin_write(&state.db).await?;
    let mut after = AfterCommit::default();
    let moved = life::step(
        &txn,
        c.id,
        ConsultEvent::ReferOffline,
        Some(staff_id),
        Some(reason),
        cx,
        &mut after,
    )
    .await?;
    if moved == Moved::Stale {
        txn.rollback().await?;
        return Err(FieldError::general(ErrorCode::ConsultEnded).into());
    }
    txn.commit().await?;
    after.run(state);
    Ok(())
}

/// A signed addendum to the consult's archived record, by its doctor.
pub async fn add_addendum(
    state: &Arc<State>,
    who: Participant,
    number: &str,
    body: &str,
    cx: &RequestContext,
) -> Result<record_addendum::Model, AppError> {
    let Participant::Doctor { staff_id, .. } = who else {
        return Err(FieldError::general(ErrorCode::Forbidden).into());
    };
    let body = parse_addendum(body)?;
    let c = access::find(&state.db, who, number).await?;
    let r = of_consult(&state.db, c.id)
        .await?
        .filter(|r| r.status == RecordStatus::Archived.as_str())
        .ok_or(FieldError::general(ErrorCode::RecordRequired))?;
    let now = cx.now.unix_timestamp();
    let fields = BTreeMap::from([
        ("record_hash", serde_json::json!(r.content_hash)),
        ("author_id", serde_json::json!(staff_id)),
        ("body", serde_json::json!(body)),
        ("created_at", serde_json::json!(now)),
    ]);
    let txn = db::begin_write(&state.db).await?;
    let a = record_addendum::ActiveModel {
        record_id: Set(r.id),
        author_id: Set(staff_id),
        body: Set(body),
        content_hash: Set(content_hash(&fields)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    crate::audit::record(
        &txn,
        cx.audit(crate::audit::AuditAction::RecordAddendum)
            .on("medical_record", &r.record_number)
            .about_member(r.family_member_id),
    )
    .await?;
    txn.commit().await?;
    Ok(a)
}

/// The record's revisions, oldest first.
pub async fn revisions(
    db: &impl ConnectionTrait,
    record_id: i64,
) -> Result<Vec<record_revision::Model>, AppError> {
    Ok(record_revision::Entity::find()
        .filter(record_revision::Column::RecordId.eq(record_id))
        .order_by_asc(record_revision::Column::Revision)
        .all(db)
        .await?)
}

pub async fn addenda(
    db: &impl ConnectionTrait,
    record_id: i64,
) -> Result<Vec<record_addendum::Model>, AppError> {
    Ok(record_addendum::Entity::find()
        .filter(record_addendum::Column::RecordId.eq(record_id))
        .order_by_asc(record_addendum::Column::Id)
        .all(db)
        .await?)
}

/// A staff member prints or copies a record: logged first (R-EMR-2).
pub async fn log_staff_use(
    state: &Arc<State>,
    who: Participant,
    number: &str,
    access_kind: Access,
    reason: Option<String>,
    cx: &RequestContext,
) -> Result<consult::Model, AppError> {
    let Participant::Doctor { staff_id, .. } = who else {
        return Err(FieldError::general(ErrorCode::Forbidden).into());
    };
    let c = access::find(&state.db, who, number).await?;
    access::log_access(&state.db, &c, staff_id, access_kind, reason, cx).await?;
    Ok(c)
}
