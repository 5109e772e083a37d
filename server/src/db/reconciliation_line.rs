//! One movement of money in a reconciliation: matched, or a difference to resolve.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reconciliation_line")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub run_id: i64,
    pub provider_ref: String,
    pub order_number: Option<String>,
    /// `app::domain::reconcile::LineKind`.
    pub kind: String,
    pub ours_fen: Option<i64>,
    pub theirs_fen: Option<i64>,
    pub resolved_by_staff: Option<i64>,
    pub resolved_at: Option<i64>,
    pub resolution: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
