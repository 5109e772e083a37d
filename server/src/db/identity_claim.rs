//! One row per ID number in use: an account holder's or a dependant's (R-REG-7). Its
//! primary key is what makes "never both, never twice" hold under concurrent requests.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "identity_claim")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id_number_hmac: String,
    /// [`ACCOUNT`] or [`DEPENDANT`].
    pub holder_kind: String,
    pub created_at: i64,
}

pub const ACCOUNT: &str = "account";
pub const DEPENDANT: &str = "dependant";

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
