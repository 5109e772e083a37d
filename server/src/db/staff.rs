//! A hospital staff member (R-SEC-1, R-SEC-3).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub department: Option<String>,
    pub password_hash: String,
    pub totp_secret_cipher: Option<String>,
    pub totp_pending_cipher: Option<String>,
    pub totp_last_step: Option<i64>,
    pub disabled_at: Option<i64>,
    pub created_at: i64,
    pub created_by: Option<i64>,
    /// The staff member's own mobile, encrypted: where the one-time activation code goes.
    pub phone_cipher: Option<String>,
    /// Set while the account waits for a second admin: the admin who asked.
    pub approval_requested_by: Option<i64>,
    pub approved_by: Option<i64>,
    /// The one-time activation code's keyed hash, until the owner sets a password.
    pub activation_hash: Option<String>,
    pub activation_expires_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
