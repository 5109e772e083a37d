//! A place in a doctor's live queue (R-BOOK-1).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "queue_entry")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub entry_number: String,
    pub doctor_id: i64,
    pub consult_type: String,
    pub patient_id: i64,
    pub family_member_id: Option<i64>,
    pub person_key: String,
    pub proof_id: i64,
    pub consult_consent_id: i64,
    pub icd10: String,
    pub status: String,
    pub joined_at: i64,
    pub called_at: Option<i64>,
    pub ended_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
