//! Records as the patient and the doctor read them, and the patient's "who viewed my
//! record" (R-EMR-2, R-EMR-4).
use super::service::{addenda, person_number, revisions, status_of, text_of};
use crate::db::{consult, doctor, medical_record, record_access, staff};
use crate::error::AppError;
use app::domain::record::{RecordStatus, RecordText};
use app::records::{AccessView, AddendumView, RecordView, RevisionView};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashMap;

async fn staff_names(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, staff::Model>, AppError> {
    Ok(staff::Entity::find()
        .filter(staff::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect())
}

pub async fn record_view(
    db: &impl ConnectionTrait,
    r: &medical_record::Model,
    consult_number: &str,
) -> Result<RecordView, AppError> {
    let doctor_name = doctor::Entity::find_by_id(r.doctor_id)
        .one(db)
        .await?
        .map(|d| d.name)
        .unwrap_or_default();
    let added = addenda(db, r.id).await?;
    let names = staff_names(db, added.iter().map(|a| a.author_id)).await?;
    Ok(RecordView {
        record_number: r.record_number.clone(),
        consult_number: consult_number.to_owned(),
        status: status_of(r)?,
        revision: r.revision,
        text: text_of(r),
        person_name: crate::family::service::person_name(db, r.patient_id, r.family_member_id)
            .await?,
        person_number: person_number(db, r.patient_id, r.family_member_id).await?,
        doctor_name,
        archived_at: r.archived_at,
        content_hash: r.content_hash.clone(),
        prev_hash: r.prev_hash.clone(),
        addenda: added
            .into_iter()
            .map(|a| AddendumView {
                author_name: names
                    .get(&a.author_id)
                    .map(|s| s.display_name.clone())
                    .unwrap_or_default(),
                body: a.body,
                at: a.created_at,
            })
            .collect(),
    })
}

pub async fn revision_views(
    db: &impl ConnectionTrait,
    record_id: i64,
) -> Result<Vec<RevisionView>, AppError> {
    let revs = revisions(db, record_id).await?;
    let names = staff_names(db, revs.iter().map(|r| r.author_id)).await?;
    Ok(revs
        .into_iter()
        .map(|r| RevisionView {
            revision: r.revision,
            author_name: names
                .get(&r.author_id)
                .map(|s| s.display_name.clone())
                .unwrap_or_default(),
            text: serde_json::from_str::<RecordText>(&r.body).unwrap_or_default(),
            saved_at: r.saved_at,
        })
        .collect())
}

/// The account's archived records (its holder's and its family members'), newest first
/// (R-EMR-4). Drafts are the doctor's until confirmed.
pub async fn for_patient(
    db: &impl ConnectionTrait,
    patient_id: i64,
) -> Result<Vec<RecordView>, AppError> {
    let rows = medical_record::Entity::find()
        .filter(medical_record::Column::PatientId.eq(patient_id))
        .filter(medical_record::Column::Status.eq(RecordStatus::Archived.as_str()))
        .order_by_desc(medical_record::Column::ArchivedAt)
        .limit(100)
        .all(db)
        .await?;
    let numbers: HashMap<i64, String> = consult::Entity::find()
        .filter(consult::Column::Id.is_in(rows.iter().map(|r| r.consult_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.consult_number))
        .collect();
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let number = numbers.get(&r.consult_id).cloned().unwrap_or_default();
        out.push(record_view(db, r, &number).await?);
    }
    Ok(out)
}

/// Every staff access to the account's consults and records, newest first (R-EMR-2).
pub async fn access_log(
    db: &impl ConnectionTrait,
    patient_id: i64,
) -> Result<Vec<AccessView>, AppError> {
    let rows = record_access::Entity::find()
        .filter(record_access::Column::PatientId.eq(patient_id))
        .order_by_desc(record_access::Column::At)
        .order_by_desc(record_access::Column::Id)
        .limit(200)
        .all(db)
        .await?;
    let names = staff_names(db, rows.iter().map(|r| r.staff_id)).await?;
    let numbers: HashMap<i64, String> = consult::Entity::find()
        .filter(consult::Column::Id.is_in(rows.iter().map(|r| r.consult_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.consult_number))
        .collect();
    Ok(rows
        .into_iter()
        .map(|r| {
            let s = names.get(&r.staff_id);
            AccessView {
                staff_name: s.map(|s| s.display_name.clone()).unwrap_or_default(),
                staff_role: s.map(|s| s.role.clone()).unwrap_or_default(),
                action: r.action,
                consult_number: numbers.get(&r.consult_id).cloned().unwrap_or_default(),
                reason: r.reason,
                at: r.at,
            }
        })
        .collect())
}
