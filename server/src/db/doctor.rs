//! A doctor in the directory (R-DOC-1).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "doctor")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub doctor_number: String,
    pub staff_id: Option<i64>,
    pub name: String,
    pub title: String,
    pub department: String,
    pub licence_number: String,
    pub practicing_since: String,
    pub specialties: String,
    pub bio: String,
    pub photo_key: Option<String>,
    pub search_text: String,
    pub rating_sum: i64,
    pub rating_count: i64,
    pub good_count: i64,
    pub listed: bool,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
