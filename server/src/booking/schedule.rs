//! Doctors' schedules (R-DOC-1, R-BOOK-1, R-BOOK-4): sessions published as slots, free
//! slots as lists show them, a slot cancelled by the hospital.
use super::free_slot::{FreeSlot, free_slot};
use super::row::moving;
use super::row::{OPEN, booking_notice};
use super::service::years_of;
use crate::audit::{self, AuditAction};
use crate::context::RequestContext;
use crate::db::{self, booking, doctor, schedule_session, slot};
use crate::error::AppError;
use crate::notices::service as notices;
use crate::staff::auth::StaffMember;
use crate::state::AppState;
use crate::state::State;
use app::domain::booking::BookingEvent;
use app::domain::booking::BookingStatus;
use app::domain::china_time;
use app::domain::department::Department;
use app::domain::notice::NoticeKind;
use app::domain::schedule::{
    ConsultType, DayWord, SessionPlan, change_allowed, day_word, plan_slots,
};
use app::domain::{ErrorCode, Field, FieldError};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use std::sync::Arc;
use time::{Date, OffsetDateTime};

/// How many free slots a "just taken" answer suggests.
pub const NEXT_SLOTS: u64 = 5;

async fn listed_doctor(db: &impl ConnectionTrait, number: &str) -> Result<doctor::Model, AppError> {
    doctor::Entity::find()
        .filter(doctor::Column::DoctorNumber.eq(number))
        .filter(doctor::Column::Listed.eq(true))
        .one(db)
        .await?
        .ok_or_else(|| FieldError::general(ErrorCode::NotFound).into())
}

/// Publishes a session of a doctor's schedule; returns the new slots' numbers. A doctor
/// with fewer than three years of practice is refused here, by the server (R-DOC-1).
pub async fn publish_session(
    state: &State,
    doctor_number: &str,
    consult_type: ConsultType,
    plan: SessionPlan,
    by_staff: i64,
    cx: &RequestContext,
) -> Result<Vec<String>, AppError> {
    let now = cx.now;
    let d = listed_doctor(&state.db, doctor_number).await?;
    let planned = plan_slots(plan, years_of(&d, now), now.unix_timestamp())
        .map_err(|code| FieldError::new(code, Field::Body))?;
    let (first, last) = match (planned.first(), planned.last()) {
        (Some(f), Some(l)) => (f.starts_at, l.ends_at),
        _ => return Err(FieldError::new(ErrorCode::ScheduleTimesInvalid, Field::Body).into()),
    };
    let txn = db::begin_write(&state.db).await?;
    let session = schedule_session::ActiveModel {
        doctor_id: Set(d.id),
        consult_type: Set(consult_type.as_str().to_owned()),
        starts_at: Set(first),
        ends_at: Set(last),
        published_by: Set(Some(by_staff)),
        published_at: Set(now.unix_timestamp()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut numbers = Vec::with_capacity(planned.len());
    for p in planned {
        let number = crate::db::new_number("SL");
        slot::ActiveModel {
            slot_number: Set(number.clone()),
            session_id: Set(session.id),
            doctor_id: Set(d.id),
            consult_type: Set(consult_type.as_str().to_owned()),
            starts_at: Set(p.starts_at),
            ends_at: Set(p.ends_at),
            capacity: Set(i32::from(p.capacity)),
            taken: Set(0),
            status: Set(OPEN.to_owned()),
            cancelled_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        numbers.push(number);
    }
    audit::record(
        &txn,
        cx.audit(AuditAction::SessionPublished)
            .on("doctor", &d.doctor_number),
    )
    .await?;
    txn.commit().await?;
    Ok(numbers)
}

/// A doctor's free slots from now, soonest first, at most `limit`.
pub async fn free_slots(
    db: &impl ConnectionTrait,
    doctor_id: i64,
    from: i64,
    limit: u64,
) -> Result<Vec<FreeSlot>, AppError> {
    let rows = slot::Entity::find()
        .filter(slot::Column::DoctorId.eq(doctor_id))
        .filter(slot::Column::Status.eq(OPEN))
        .filter(slot::Column::StartsAt.gt(from))
        .filter(Expr::col(slot::Column::Taken).lt(Expr::col(slot::Column::Capacity)))
        .order_by_asc(slot::Column::StartsAt)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows.iter().filter_map(free_slot).collect())
}

/// The public list of a doctor's free slots for the coming `days`.
pub async fn doctor_slots(
    state: &State,
    doctor_number: &str,
    days: i64,
    now: OffsetDateTime,
) -> Result<Vec<FreeSlot>, AppError> {
    let d = listed_doctor(&state.db, doctor_number).await?;
    let from = now.unix_timestamp();
    let rows = slot::Entity::find()
        .filter(slot::Column::DoctorId.eq(d.id))
        .filter(slot::Column::Status.eq(OPEN))
        .filter(slot::Column::StartsAt.gt(from))
        .filter(slot::Column::StartsAt.lt(from + days.clamp(1, 60) * 86_400))
        .filter(Expr::col(slot::Column::Taken).lt(Expr::col(slot::Column::Capacity)))
        .order_by_asc(slot::Column::StartsAt)
        .limit(500)
        .all(&state.db)
        .await?;
    Ok(rows.iter().filter_map(free_slot).collect())
}

/// The doctor or an operator cancels a published slot, with a day's notice (R-BOOK-4):
/// every booking on it is cancelled, marked for a full refund, and its patient told in
/// the message centre and by SMS.
pub async fn cancel_slot(
    state: &Arc<State>,
    slot_number: &str,
    cx: &RequestContext,
) -> Result<usize, AppError> {
    let now = cx.now;
    let ts = now.unix_timestamp();
    let s = slot::Entity::find()
        .filter(slot::Column::SlotNumber.eq(slot_number))
        .one(&state.db)
        .await?
        .ok_or(FieldError::general(ErrorCode::NotFound))?;
    if s.status != OPEN {
        return Err(FieldError::general(ErrorCode::SlotCancelled).into());
    }
    if !change_allowed(s.starts_at, ts) {
        return Err(FieldError::general(ErrorCode::ScheduleNoticeTooShort).into());
    }
    let txn = db::begin_write(&state.db).await?;
    let done = slot::Entity::update_many()
        .col_expr(
            slot::Column::Status,
            Expr::value(BookingStatus::Cancelled.as_str()),
        )
        .col_expr(slot::Column::CancelledAt, Expr::value(ts))
        .filter(slot::Column::Id.eq(s.id))
        .filter(slot::Column::Status.eq(OPEN))
        .exec(&txn)
        .await?
        .rows_affected;
    if done == 0 {
        txn.rollback().await?;
        return Err(FieldError::general(ErrorCode::SlotCancelled).into());
    }
    let affected = booking::Entity::find()
        .filter(booking::Column::SlotId.eq(s.id))
        .filter(booking::Column::Status.is_in([
            BookingStatus::Held.as_str(),
            BookingStatus::Confirmed.as_str(),
        ]))
        .all(&txn)
        .await?;
    let mut sms = Vec::new();
    let mut after = crate::orders::AfterCommit::default();
    let mut cancelled = 0;
    for b in &affected {
        let paid = b.status == BookingStatus::Confirmed.as_str();
        let moved = moving(BookingEvent::CancelledByHospital)
            .col_expr(booking::Column::CancelledAt, Expr::value(ts))
            .col_expr(booking::Column::CancelReason, Expr::value("doctor"))
            .col_expr(booking::Column::RefundDue, Expr::value(paid))
            .filter(booking::Column::Id.eq(b.id))
            .exec(&txn)
            .await?
            .rows_affected;
        // Ended meanwhile (its hold ran out, the patient cancelled): nothing to tell.
        if moved != 1 {
            continue;
        }
        cancelled += 1;
        // R-BOOK-4, R-PAY-2: paid, the money goes back in full; unpaid, the order ends.
        crate::orders::subject_ended(
            &txn,
            super::row::subject(b.id),
            Some(app::domain::order::RefundReason::SlotCancelled),
            cx,
            &mut after,
        )
        .await?;
        crate::consult::life::booking_cancelled(&txn, b.id, cx, &mut after).await?;
        sms.push(notices::record(&txn, booking_notice(b, NoticeKind::SlotCancelled), now).await?);
    }
    audit::record(
        &txn,
        cx.audit(AuditAction::SlotCancelled)
            .on("slot", slot_number.to_owned()),
    )
    .await?;
    txn.commit().await?;
    after.run(state);
    for n in sms {
        notices::send_sms_after_commit(state.clone(), n);
    }
    Ok(cancelled)
}

/// A day word and clock for a booking list (the page localizes the word).
pub fn when(at: i64, now: i64) -> (DayWord, String) {
    (day_word(at, now), china_time::clock(at))
}

/// A doctor's free slots for the coming `days`, by China day, in the reader's words.
pub async fn slot_days(
    state: &State,
    doctor_number: &str,
    days: i64,
    locale: app::i18n::Locale,
    now: OffsetDateTime,
) -> Result<Vec<app::booking::SlotDay>, AppError> {
    use app::booking::{SlotChoice, SlotDay};
    let ts = now.unix_timestamp();
    let mut out: Vec<(Date, SlotDay)> = Vec::new();
    for s in doctor_slots(state, doctor_number, days, now).await? {
        let date = app::domain::china_time::day(s.starts_at);
        let choice = SlotChoice {
            slot_number: s.slot_number,
            consult_type: s.consult_type,
            clock: china_time::clock(s.starts_at),
            free: s.free,
        };
        match out.last_mut() {
            Some((d, day)) if *d == date => day.slots.push(choice),
            _ => {
                let word = day_word(s.starts_at, ts);
                let mut label = app::localized::day_text(locale, word);
                if !matches!(word, DayWord::On(_)) {
                    label = format!(
                        "{label} {}",
                        app::localized::day_text(locale, DayWord::On(date))
                    );
                }
                out.push((
                    date,
                    SlotDay {
                        day: label,
                        slots: vec![choice],
                    },
                ));
            }
        }
    }
    Ok(out.into_iter().map(|(_, d)| d).collect())
}

/// A doctor's published, open slots for the coming `days`, with who is booked on each.
pub async fn doctor_schedule(
    db: &impl ConnectionTrait,
    doctor_id: i64,
    days: i64,
    locale: app::i18n::Locale,
    now: OffsetDateTime,
) -> Result<Vec<app::booking::DeskSlot>, AppError> {
    let ts = now.unix_timestamp();
    let slots = slot::Entity::find()
        .filter(slot::Column::DoctorId.eq(doctor_id))
        .filter(slot::Column::Status.eq(OPEN))
        .filter(slot::Column::StartsAt.gt(ts))
        .filter(slot::Column::StartsAt.lt(ts + days * 86_400))
        .order_by_asc(slot::Column::StartsAt)
        .limit(300)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(slots.len());
    for s in slots {
        let Some(consult_type) = ConsultType::parse(&s.consult_type) else {
            continue;
        };
        let mut patients = Vec::new();
        if s.taken > 0 {
            for b in booking::Entity::find()
                .filter(booking::Column::SlotId.eq(s.id))
                .filter(booking::Column::Status.is_in([
                    BookingStatus::Held.as_str(),
                    BookingStatus::Confirmed.as_str(),
                ]))
                .all(db)
                .await?
            {
                patients.push(
                    crate::family::service::person_name(db, b.patient_id, b.family_member_id)
                        .await?,
                );
            }
        }
        out.push(app::booking::DeskSlot {
            slot_number: s.slot_number.clone(),
            when: app::localized::when_text(
                locale,
                day_word(s.starts_at, ts),
                &china_time::clock(s.starts_at),
            ),
            consult_type,
            taken: s.taken,
            capacity: s.capacity,
            patients,
            may_cancel: change_allowed(s.starts_at, ts),
        });
    }
    Ok(out)
}

/// The operators' scheduling card (R-BOOK-1): every listed doctor, and the chosen one's
/// coming two weeks. An unknown or unlisted number chooses nobody.
pub async fn scheduling(
    state: &State,
    chosen: Option<&str>,
    locale: app::i18n::Locale,
    now: OffsetDateTime,
) -> Result<app::staff::Scheduling, AppError> {
    let snapshot = state.directory.snapshot(&state.db).await?;
    let english = locale == app::i18n::Locale::en;
    let mut listed: Vec<&doctor::Model> = snapshot.doctors.iter().collect();
    listed.sort_by(|a, b| (&a.department, &a.name).cmp(&(&b.department, &b.name)));
    let doctors = listed
        .iter()
        .map(|d| {
            let department = Department::parse(&d.department)
                .map(|dep| dep.name(english))
                .unwrap_or_default();
            (
                d.doctor_number.clone(),
                format!("{} · {department}", d.name),
            )
        })
        .collect();
    let chosen = match chosen.and_then(|n| listed.iter().find(|d| d.doctor_number == n)) {
        Some(d) => Some(app::staff::ScheduledDoctor {
            number: d.doctor_number.clone(),
            name: d.name.clone(),
            schedule: doctor_schedule(&state.db, d.id, app::staff::SCHEDULING_DAYS, locale, now)
                .await?,
        }),
        None => None,
    };
    Ok(app::staff::Scheduling { doctors, chosen })
}

/// R-BOOK-1: operators schedule any doctor; a doctor schedules only their own
/// entry (by the doctor's number, or the slot's doctor).
pub(crate) async fn may_schedule(
    state: &AppState,
    member: &StaffMember,
    doctor_number: Option<&str>,
    slot_number: Option<&str>,
) -> Result<(), crate::error::AppError> {
    if member
        .role()
        .may(app::domain::staff::Permission::ManageDirectory)
    {
        return Ok(());
    }
    let own = match crate::booking::queue::doctor_of_staff(&state.db, member.id).await {
        Ok(d) => d.doctor_number,
        Err(_) => return Err(FieldError::general(ErrorCode::Forbidden).into()),
    };
    let target = match (doctor_number, slot_number) {
        (Some(d), _) => Some(d.to_owned()),
        (None, Some(s)) => super::service::doctor_of_slot(&state.db, s).await?,
        (None, None) => None,
    };
    if target.as_deref() == Some(own.as_str()) {
        Ok(())
    } else {
        Err(FieldError::general(ErrorCode::Forbidden).into())
    }
}
