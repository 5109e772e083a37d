//! Payments (R-PAY-1 … R-PAY-4): what the order model needs from a payment provider,
//! kept apart from any one provider.
pub mod events;
pub mod provider;
pub mod replay;
pub mod sandbox;
pub mod stripe;
pub mod webhook_signature;

pub use provider::PaymentProvider;
