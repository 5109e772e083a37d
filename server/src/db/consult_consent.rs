//! A consult's risk notice, confirmed (R-REG-6). Never updated (the database refuses).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consult_consent")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub consent_number: String,
    pub patient_id: i64,
    pub family_member_id: Option<i64>,
    pub proof_id: i64,
    pub icd10: String,
    pub department: String,
    pub notice_version: String,
    pub critical: bool,
    pub accepted_at: i64,
    /// When the clear emergency screen behind it was answered (R-ELIG-4); none on
    /// consents confirmed before it was kept.
    pub screened_at: Option<i64>,
    pub ip: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
