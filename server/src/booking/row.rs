//! A booking row as the rest of the feature moves and names it: the one conditional
//! update per move of its state machine, the notice about it, the order subject it is,
//! and the person it is for.
use crate::db::booking;
use crate::notices::notice::Notice;
use crate::orders::subject::SubjectRef;
use app::domain::booking::BookingEvent;
use app::domain::china_time;
use app::domain::notice::NoticeKind;
use app::domain::order::SubjectKind;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// The conditional update that makes `event`'s move (`app::domain::booking`): to its
/// status, only from the statuses it moves from.
pub(crate) fn moving(event: BookingEvent) -> sea_orm::UpdateMany<booking::Entity> {
    booking::Entity::update_many()
        .col_expr(booking::Column::Status, Expr::value(event.to().as_str()))
        .filter(booking::Column::Status.is_in(event.from().iter().map(|s| s.as_str())))
}

pub(crate) const OPEN: &str = "open";

/// A notice about a booking, to its account, about its person, with its time.
pub(crate) fn booking_notice(b: &booking::Model, kind: NoticeKind) -> Notice {
    Notice {
        patient_id: b.patient_id,
        family_member_id: b.family_member_id,
        kind,
        params: vec![("when".into(), china_time::local(b.starts_at))],
    }
}

/// A booking, as an order's subject.
pub fn subject(booking_id: i64) -> SubjectRef {
    SubjectRef {
        kind: SubjectKind::Consult,
        id: booking_id,
    }
}

/// Whose the appointment is, as the lock row and the unique index name it.
pub fn person_key(patient_id: i64, member: Option<i64>) -> String {
    match member {
        Some(m) => format!("m:{m}"),
        None => format!("p:{patient_id}"),
    }
}
