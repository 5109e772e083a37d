//! A doctor's desk (R-BOOK-1): each consult type's live queue, online or not, who waits,
//! and the doctor's own schedule.
use super::queue::{online_types, waiting_list};
use crate::db::doctor;
use crate::error::AppError;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};

/// Whether this staff account is linked to a doctor of the directory.
pub async fn is_doctor(db: &impl ConnectionTrait, staff_id: i64) -> Result<bool, AppError> {
    Ok(doctor::Entity::find()
        .filter(doctor::Column::StaffId.eq(staff_id))
        .count(db)
        .await?
        > 0)
}

/// A doctor's desk: each consult type, online or not, and who waits.
pub async fn desk(
    db: &(impl ConnectionTrait + sea_orm::TransactionTrait),
    staff_id: i64,
    locale: app::i18n::Locale,
    cx: &crate::context::RequestContext,
) -> Result<Option<app::booking::DoctorDesk>, AppError> {
    let now = cx.now;
    let Some(d) = doctor::Entity::find()
        .filter(doctor::Column::StaffId.eq(staff_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let online = online_types(db, d.id).await?;
    let mut queues = Vec::new();
    for t in app::domain::schedule::ALL_CONSULT_TYPES {
        let waiting = waiting_list(db, d.id, *t)
            .await?
            .into_iter()
            .map(|w| (w.person_name, w.icd10))
            .collect();
        queues.push(app::booking::DeskQueue {
            consult_type: *t,
            online: online.contains(t),
            waiting,
        });
    }
    let schedule = crate::booking::schedule::doctor_schedule(db, d.id, 7, locale, now).await?;
    // Who waits is patients' data: every look is logged (R-EMR-2).
    let shown: usize = queues.iter().map(|q| q.waiting.len()).sum();
    crate::audit::record_alone(
        db,
        cx.audit(crate::audit::AuditAction::WaitingListViewed)
            .on("doctor", d.id)
            .detail(serde_json::json!({ "shown": shown })),
    )
    .await?;
    Ok(Some(app::booking::DoctorDesk {
        doctor_name: d.name,
        queues,
        schedule,
    }))
}
