//! A guardian's dependant (就诊人), R-REG-7. Never deleted: removal sets `removed_at`,
//! so records made for them keep their subject.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "family_member")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub member_number: String,
    pub guardian_id: i64,
    pub real_name: String,
    pub id_number_cipher: String,
    pub id_number_hmac: String,
    pub id_number_masked: String,
    pub birth_date: String,
    pub sex: String,
    pub relationship: String,
    pub dependency: String,
    pub declaration_version: String,
    pub declared_at: i64,
    pub declared_ip: String,
    pub created_at: i64,
    pub removed_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
