//! Bookings as their owner sees them, times in words and China time.
use super::service::own_booking;
use crate::db::{booking, doctor, slot};
use crate::error::AppError;
use crate::state::State;
use app::domain::booking::BookingStatus;
use app::domain::china_time;
use app::domain::department::Department;
use app::domain::payment_method::{Browser, default_method, offered};
use app::domain::schedule::{ConsultType, day_word};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use time::OffsetDateTime;

/// A booking as its owner sees it.
async fn view(
    state: &State,
    b: &booking::Model,
    locale: app::i18n::Locale,
    browser: Browser,
    now: OffsetDateTime,
) -> Result<Option<app::booking::BookingView>, AppError> {
    use app::booking::{BookingState, BookingView, MethodChoice};
    let ts = now.unix_timestamp();
    let Some(s) = slot::Entity::find_by_id(b.slot_id).one(&state.db).await? else {
        return Ok(None);
    };
    let Some(d) = doctor::Entity::find_by_id(s.doctor_id)
        .one(&state.db)
        .await?
    else {
        return Ok(None);
    };
    let (Some(consult_type), Some(department)) = (
        ConsultType::parse(&s.consult_type),
        Department::parse(&d.department),
    ) else {
        return Ok(None);
    };
    let order = crate::orders::of_subject(&state.db, super::row::subject(b.id)).await?;
    let fee_fen = order.as_ref().map(|o| o.amount_fen);
    let paying = order.as_ref().is_some_and(|o| {
        o.payment_started_at.is_some()
            && o.status == app::domain::order::OrderStatus::Pending.as_str()
    });
    let english = locale == app::i18n::Locale::en;
    let diagnosis = state
        .conditions
        .by_code(&b.icd10)
        .map(|c| if english { &c.name_en } else { &c.name_zh })
        .map_or_else(|| b.icd10.clone(), |n| format!("{n} ({})", b.icd10));
    let state_now = match BookingStatus::parse(&b.status) {
        Some(BookingStatus::Held) if b.hold_expires_at > ts => BookingState::Held,
        Some(BookingStatus::Held | BookingStatus::Expired) => BookingState::Expired,
        Some(BookingStatus::Confirmed) => BookingState::Confirmed,
        _ => BookingState::Cancelled,
    };
    Ok(Some(BookingView {
        booking_number: b.booking_number.clone(),
        state: state_now,
        doctor_name: d.name.clone(),
        doctor_number: d.doctor_number.clone(),
        department,
        consult_type,
        when: app::localized::when_text(
            locale,
            day_word(b.starts_at, ts),
            &china_time::clock(b.starts_at),
        ),
        person_name: crate::family::service::person_name(
            &state.db,
            b.patient_id,
            b.family_member_id,
        )
        .await?,
        diagnosis,
        hold_expires_at: b.hold_expires_at,
        hold_ends_clock: china_time::clock(b.hold_expires_at),
        seconds_left: Ord::max(b.hold_expires_at - ts, 0),
        fee_fen,
        refund_due: b.refund_due,
        upcoming: b.starts_at > ts,
        cancel_reason: b.cancel_reason.clone(),
        order_number: order.map(|o| o.order_number),
        paying,
        methods: {
            let offers = offered(browser, state.payments.methods(), state.payments.qr_only());
            let chosen = default_method(&offers);
            offers
                .into_iter()
                .map(|o| MethodChoice {
                    method: o.method,
                    unavailable: o.unavailable,
                    scan_elsewhere: o.scan_elsewhere,
                    default: Some(o.method) == chosen,
                })
                .collect()
        },
    }))
}

/// The account's bookings: upcoming (soonest first), then past (newest first).
pub async fn list_for_patient(
    state: &State,
    patient_id: i64,
    locale: app::i18n::Locale,
    now: OffsetDateTime,
) -> Result<app::booking::BookingList, AppError> {
    let rows = booking::Entity::find()
        .filter(booking::Column::PatientId.eq(patient_id))
        .order_by_asc(booking::Column::StartsAt)
        .limit(200)
        .all(&state.db)
        .await?;
    let mut list = app::booking::BookingList::default();
    let ts = now.unix_timestamp();
    for b in &rows {
        let Some(v) = view(state, b, locale, Browser::Desktop, now).await? else {
            continue;
        };
        let active = matches!(
            v.state,
            app::booking::BookingState::Held | app::booking::BookingState::Confirmed
        );
        if active && b.starts_at > ts {
            list.upcoming.push(v);
        } else {
            list.past.push(v);
        }
    }
    list.past.reverse();
    Ok(list)
}

/// One of the account's bookings; `None` for anyone else's.
pub async fn find_for_patient(
    state: &State,
    patient_id: i64,
    number: &str,
    locale: app::i18n::Locale,
    browser: Browser,
    now: OffsetDateTime,
) -> Result<Option<app::booking::BookingView>, AppError> {
    match own_booking(&state.db, patient_id, number).await {
        Ok(b) => view(state, &b, locale, browser, now).await,
        Err(AppError::Rejected { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}
