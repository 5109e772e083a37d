//! A free slot as lists and the "just taken" answer show it: the shape errors carry too.
use crate::db::slot;
use app::domain::china_time;
use app::domain::schedule::ConsultType;

/// A free slot, as lists and the "just taken" answer show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FreeSlot {
    pub slot_number: String,
    pub consult_type: ConsultType,
    /// Unix seconds (UTC).
    pub starts_at: i64,
    pub ends_at: i64,
    /// `YYYY-MM-DD HH:MM`, China time.
    pub local: String,
    pub free: i32,
}

pub(crate) fn free_slot(s: &slot::Model) -> Option<FreeSlot> {
    Some(FreeSlot {
        slot_number: s.slot_number.clone(),
        consult_type: ConsultType::parse(&s.consult_type)?,
        starts_at: s.starts_at,
        ends_at: s.ends_at,
        local: china_time::local(s.starts_at),
        free: s.capacity - s.taken,
    })
}
