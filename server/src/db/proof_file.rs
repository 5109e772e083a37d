//! One stored file of a diagnosis proof: re-encoded image or checked PDF.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "proof_file")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub proof_id: i64,
    pub position: i32,
    pub kind: String,
    pub object_key: String,
    pub thumb_key: Option<String>,
    pub bytes: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub sha256: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
