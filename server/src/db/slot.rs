//! A bookable slot: `taken` never exceeds `capacity` (a CHECK, and conditional updates).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "slot")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub slot_number: String,
    pub session_id: i64,
    pub doctor_id: i64,
    pub consult_type: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub capacity: i32,
    pub taken: i32,
    pub status: String,
    pub cancelled_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
