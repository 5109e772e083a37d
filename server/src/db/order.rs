//! An order: what a patient pays for one subject (a consult booking now, a drug order
//! later), in fen, CNY (R-PAY-1). Its status is one of `app::domain::order::OrderStatus`,
//! its kind one of `app::domain::order::SubjectKind`; one order per subject.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub order_number: String,
    pub patient_id: i64,
    /// The subject's id in its own feature's table (a booking's id for `consult`).
    pub subject_id: i64,
    /// Whom the subject is for: a family member, or the account holder (`None`).
    pub family_member_id: Option<i64>,
    pub kind: String,
    pub status: String,
    pub amount_fen: i64,
    pub refunded_fen: i64,
    pub currency: String,
    pub description: String,
    /// The provider chosen when the order was made (`sandbox`, `stripe`).
    pub provider: String,
    pub method: Option<String>,
    /// The provider's id for the payment (a PaymentIntent's `pi_…`, a sandbox session).
    pub provider_ref: Option<String>,
    /// Set when the patient went to the provider: from then the hold waits for it.
    pub payment_started_at: Option<i64>,
    /// What the provider said it took.
    pub paid_fen: Option<i64>,
    pub created_at: i64,
    pub paid_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub updated_at: i64,
    /// While refunding in full: the status the order left, where a failed refund
    /// returns it.
    pub refunding_from: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
