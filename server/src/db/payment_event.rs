//! A payment event as the provider delivered it (R-PAY-4): stored once, kept in full.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub provider: String,
    pub event_id: String,
    pub event_type: String,
    pub signed_at: i64,
    pub received_at: i64,
    /// The raw body, as signed.
    pub payload: String,
    pub processed_at: Option<i64>,
    /// What processing made of it (`applied`, `stale`, `ignored`, …), set with `processed_at`.
    pub outcome: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
