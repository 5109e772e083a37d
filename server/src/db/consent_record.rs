use sea_orm::entity::prelude::*;

/// Append-only: every accept and withdraw, with version, time and address (R-REG-2).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consent_record")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub patient_id: i64,
    pub document: String,
    pub version: String,
    /// "accept" or "withdraw".
    pub action: String,
    pub at: i64,
    pub ip: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
