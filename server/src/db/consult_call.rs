use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consult_call")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub call_number: String,
    pub consult_id: i64,
    pub system: String,
    pub media: String,
    pub room: Option<String>,
    pub started_by: i64,
    pub started_at: i64,
    pub patient_in: bool,
    pub doctor_in: bool,
    pub patient_joined_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub end_cause: Option<String>,
    pub recording: String,
    pub recording_note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
