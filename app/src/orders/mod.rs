//! What the order pages and the orders API show (R-PAY-1, R-PAY-2): amounts as receipts
//! print them, times in China time, each refund with its reason and state.
mod pages;
mod pay;

pub use pages::{OrderPage, OrdersPage};
pub use pay::SandboxCheckoutPage;

use crate::domain::order::{OrderStatus, RefundReason};
use crate::domain::payment_method::PaymentMethod;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OrderView {
    pub order_number: String,
    pub description: String,
    pub status: OrderStatus,
    pub amount_fen: i64,
    /// "¥40".
    pub amount: String,
    pub refunded_fen: i64,
    pub currency: String,
    pub method: Option<PaymentMethod>,
    /// `YYYY-MM-DD HH:MM`, China time.
    pub created: String,
    pub paid: Option<String>,
    pub booking_number: Option<String>,
    pub refunds: Vec<RefundView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RefundView {
    pub refund_number: String,
    pub amount_fen: i64,
    pub amount: String,
    pub reason: RefundReason,
    /// `requested`, `succeeded` or `failed`.
    pub status: String,
    pub requested: String,
    pub settled: Option<String>,
}

/// A refund the provider refused, waiting for an operator to send it again (security
/// review item 8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FailedRefund {
    pub refund_number: String,
    pub order_number: String,
    pub amount_fen: i64,
    /// "¥40".
    pub amount: String,
    pub reason: RefundReason,
    /// What the provider said (or why it could not be asked).
    pub error: String,
    /// When it was asked for, `YYYY-MM-DD HH:MM`, China time.
    pub requested: String,
}

/// The account's orders.
pub struct OrdersQuery;
impl crate::page_data::PageQuery for OrdersQuery {
    type Answer = Vec<OrderView>;
}

/// One of the account's orders, by its number.
pub struct OrderQuery(pub String);
impl crate::page_data::PageQuery for OrderQuery {
    type Answer = OrderView;
}

/// The sandbox's checkout page (dev only): an order to pay, no money moving.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxCheckout {
    pub order_number: String,
    /// The patient's page of what is paid for (the booking), to go back to.
    pub back: String,
    pub description: String,
    /// "¥40".
    pub amount: String,
    pub method: crate::domain::payment_method::PaymentMethod,
}

/// The sandbox's checkout for one of the account's orders (dev only): order, method.
pub struct SandboxCheckoutQuery(pub String, pub String);
impl crate::page_data::PageQuery for SandboxCheckoutQuery {
    type Answer = SandboxCheckout;
}
