use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "call_recording")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub recording_number: String,
    pub call_id: i64,
    pub part: i32,
    pub consult_id: i64,
    pub made_by: String,
    pub object_key: String,
    pub content_type: String,
    pub sha256: String,
    pub bytes: i64,
    pub duration_ms: i64,
    pub keep_until: i64,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
