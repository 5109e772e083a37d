//! A live queue as patients see it (R-BOOK-1): a doctor's open queues with the wait, and
//! one's own place in one.
use super::queue::{WAITING, average_minutes, online_types, own_entry};
use crate::db::{doctor, queue_entry};
use crate::error::AppError;
use crate::state::State;
use app::domain::schedule::{ConsultType, estimated_wait_minutes};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};

/// Where a patient stands in a queue.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct QueueStatus {
    pub entry_number: String,
    pub doctor_number: String,
    pub consult_type: ConsultType,
    /// `waiting`, `called`, `left` or `closed`.
    pub status: String,
    /// Waiting: people ahead (0: next).
    pub ahead: u32,
    /// Waiting: an honest estimate, rounded up to five minutes.
    pub wait_minutes: u32,
}

/// A doctor's queue for a type, as the directory shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct QueueSummary {
    pub consult_type: ConsultType,
    pub waiting: u32,
    pub wait_minutes: u32,
}

/// How long each online queue of a doctor is.
pub async fn summaries(
    db: &impl ConnectionTrait,
    doctor_id: i64,
) -> Result<Vec<QueueSummary>, AppError> {
    let mut out = Vec::new();
    let average = average_minutes(db, doctor_id).await?;
    for t in online_types(db, doctor_id).await? {
        let waiting = queue_entry::Entity::find()
            .filter(queue_entry::Column::DoctorId.eq(doctor_id))
            .filter(queue_entry::Column::ConsultType.eq(t.as_str()))
            .filter(queue_entry::Column::Status.eq(WAITING))
            .count(db)
            .await?;
        let waiting = u32::try_from(waiting).unwrap_or(u32::MAX);
        out.push(QueueSummary {
            consult_type: t,
            waiting,
            wait_minutes: estimated_wait_minutes(waiting, average),
        });
    }
    Ok(out)
}

/// Where the patient's place stands now.
pub async fn status(
    db: &impl ConnectionTrait,
    patient_id: i64,
    number: &str,
) -> Result<QueueStatus, AppError> {
    let e = own_entry(db, patient_id, number).await?;
    let ahead = if e.status == WAITING {
        queue_entry::Entity::find()
            .filter(queue_entry::Column::DoctorId.eq(e.doctor_id))
            .filter(queue_entry::Column::ConsultType.eq(&e.consult_type))
            .filter(queue_entry::Column::Status.eq(WAITING))
            .filter(queue_entry::Column::Id.lt(e.id))
            .count(db)
            .await?
    } else {
        0
    };
    let ahead = u32::try_from(ahead).unwrap_or(u32::MAX);
    let average = average_minutes(db, e.doctor_id).await?;
    let doctor_number = doctor::Entity::find_by_id(e.doctor_id)
        .one(db)
        .await?
        .map(|d| d.doctor_number)
        .unwrap_or_default();
    Ok(QueueStatus {
        entry_number: e.entry_number,
        doctor_number,
        consult_type: ConsultType::parse(&e.consult_type).unwrap_or(ConsultType::Text),
        status: e.status.clone(),
        ahead,
        wait_minutes: if e.status == WAITING {
            estimated_wait_minutes(ahead, average)
        } else {
            0
        },
    })
}

/// A doctor's open queues, by the public number (none for an unknown doctor).
pub async fn summaries_by_number(
    state: &State,
    number: &str,
) -> Result<Vec<QueueSummary>, AppError> {
    let snapshot = state.directory.snapshot(&state.db).await?;
    match snapshot.doctors.iter().find(|d| d.doctor_number == number) {
        Some(d) => summaries(&state.db, d.id).await,
        None => Ok(Vec::new()),
    }
}

/// The patient's place, as the queue page shows it; `None` for anyone else's.
pub async fn place(
    db: &impl ConnectionTrait,
    patient_id: i64,
    number: &str,
) -> Result<Option<app::booking::QueuePlace>, AppError> {
    let s = match status(db, patient_id, number).await {
        Ok(s) => s,
        Err(AppError::Rejected { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let doctor_name = doctor::Entity::find()
        .filter(doctor::Column::DoctorNumber.eq(&s.doctor_number))
        .one(db)
        .await?
        .map(|d| d.name)
        .unwrap_or_default();
    Ok(Some(app::booking::QueuePlace {
        entry_number: s.entry_number,
        doctor_name,
        doctor_number: s.doctor_number,
        consult_type: s.consult_type,
        status: s.status,
        ahead: s.ahead,
        wait_minutes: s.wait_minutes,
    }))
}
