use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "patient")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub patient_number: String,
    pub phone: String,
    pub password_hash: String,
    pub real_name: String,
    pub id_number_cipher: String,
    pub id_number_hmac: String,
    pub id_number_masked: String,
    pub birth_date: String,
    pub sex: String,
    pub failed_logins: i32,
    pub locked_until: Option<i64>,
    /// Active dependants; raised only by a conditional update below the cap.
    pub dependant_count: i32,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
