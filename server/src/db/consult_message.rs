use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "consult_message")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub consult_id: i64,
    pub seq: i64,
    pub side: String,
    pub author_id: Option<i64>,
    pub client_id: Option<String>,
    pub kind: String,
    pub body: String,
    pub file_id: Option<i64>,
    pub recalls_seq: Option<i64>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
