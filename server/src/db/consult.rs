use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consult")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub consult_number: String,
    pub booking_id: Option<i64>,
    pub queue_entry_id: Option<i64>,
    pub patient_id: i64,
    pub family_member_id: Option<i64>,
    pub person_key: String,
    pub doctor_id: i64,
    pub consult_type: String,
    pub icd10: String,
    pub proof_id: i64,
    pub status: String,
    pub opens_at: i64,
    pub answer_promised_by: i64,
    pub closes_unanswered_at: i64,
    pub text_window_secs: i64,
    pub first_answer_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub ended_by: Option<i64>,
    pub end_reason: Option<String>,
    pub last_seq: i64,
    pub patient_read_seq: i64,
    pub doctor_read_seq: i64,
    pub patient_nudged_at: Option<i64>,
    pub doctor_nudged_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
