use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "medical_record")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub record_number: String,
    pub consult_id: i64,
    pub patient_id: i64,
    pub family_member_id: Option<i64>,
    pub person_key: String,
    pub doctor_id: i64,
    pub status: String,
    pub revision: i32,
    pub chief_complaint: String,
    pub present_illness: String,
    pub icd10: String,
    pub advice: String,
    pub follow_up: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub archived_at: Option<i64>,
    pub archived_by: Option<i64>,
    pub prev_hash: Option<String>,
    pub content_hash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
