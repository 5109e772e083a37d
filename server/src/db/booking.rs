//! A hold or booking of a slot for one person (R-BOOK-2).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "booking")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub booking_number: String,
    pub slot_id: i64,
    pub patient_id: i64,
    pub family_member_id: Option<i64>,
    pub person_key: String,
    pub proof_id: i64,
    pub consult_consent_id: Option<i64>,
    pub icd10: String,
    pub status: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub held_at: i64,
    pub hold_expires_at: i64,
    pub confirmed_at: Option<i64>,
    pub cancelled_at: Option<i64>,
    pub cancel_reason: Option<String>,
    pub refund_due: bool,
    pub reminder_sent_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
