//! A doctor online for a consult type (R-BOOK-1, 自主在线).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "doctor_presence")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub doctor_id: i64,
    pub consult_type: String,
    pub online_since: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
