//! The `audit_log` table (R-SEC-2). Rows are inserted by [`super::record`] and sealed
//! once by [`super::seal`]; the database refuses every other UPDATE, and DELETE.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    /// The order rows were inserted in (the sealer's order).
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The row's place in the chain: 1, 2, 3… without gaps, given by the sealer from
    /// `audit_head`; none until then.
    pub seq: Option<i64>,
    /// Unix seconds.
    pub at: i64,
    /// "anonymous", "patient", "staff" or "system".
    pub actor_kind: String,
    /// The patient's or staff member's id; none for anonymous and system actors.
    pub actor_id: Option<i64>,
    /// The family member (`family_member.id`) a guardian acted for (R-REG-7).
    pub on_behalf_of: Option<i64>,
    /// [`super::AuditAction::as_str`].
    pub action: String,
    /// The table of the record the event concerns, if any.
    pub entity_type: Option<String>,
    /// That record's id, as text.
    pub entity_id: Option<String>,
    pub ip: String,
    /// JSON text, exactly as hashed; never personal data.
    pub detail: Option<String>,
    /// The previous row's `hash` (the genesis hash for seq 1); none until sealed.
    pub prev_hash: Option<String>,
    /// Hex SHA-256 over `prev_hash`, `seq` and the event's columns
    /// ([`super::chain::row_hash`]); none until sealed.
    pub hash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
