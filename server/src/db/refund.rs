//! A refund (R-PAY-2): money going back to the original channel, with its reason, asked
//! of the provider under an idempotency key derived from the order, so it goes once.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refund")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub refund_number: String,
    pub order_id: i64,
    pub amount_fen: i64,
    /// All that was left of the order: settling it makes the order refunded.
    pub full_refund: bool,
    pub reason: String,
    pub note: Option<String>,
    pub requested_by_staff: Option<i64>,
    #[sea_orm(unique)]
    pub idempotency_key: String,
    /// `requested`, `succeeded` or `failed`.
    pub status: String,
    pub provider_ref: Option<String>,
    pub attempts: i32,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub requested_at: i64,
    pub settled_at: Option<i64>,
    /// The provider payment this returns, when it is not the order's (a second payment).
    pub payment_ref: Option<String>,
    /// A failed refund an operator has sent again (as a new refund).
    pub retried_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
