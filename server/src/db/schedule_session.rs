//! A published session of a doctor's fixed schedule (R-BOOK-1).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "schedule_session")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub doctor_id: i64,
    pub consult_type: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub published_by: Option<i64>,
    pub published_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
