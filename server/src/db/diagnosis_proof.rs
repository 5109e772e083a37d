//! A diagnosis proof (R-ELIG-2).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "diagnosis_proof")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub proof_number: String,
    pub patient_id: i64,
    pub family_member_id: Option<i64>,
    pub institution: String,
    pub diagnosed_on: String,
    pub icd10: String,
    pub department: String,
    pub note: String,
    pub status: String,
    pub idempotency_key: String,
    pub decided_by: Option<i64>,
    pub decided_at: Option<i64>,
    pub approved_icd10: Option<String>,
    pub approved_department: Option<String>,
    pub reject_reason: Option<String>,
    pub reject_note: Option<String>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
