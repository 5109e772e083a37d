//! What orders need from a payment provider, and nothing of any one provider: Stripe,
//! the sandbox, and later a direct WeChat Pay or Alipay each implement this.
use app::domain::order::{Fen, RefundReason};
use app::domain::payment_method::PaymentMethod;

/// A payment to begin for an order.
#[derive(Debug, Clone)]
pub struct PaymentAsk<'a> {
    pub order_number: &'a str,
    pub amount: Fen,
    pub description: &'a str,
    pub method: PaymentMethod,
    /// Where the provider sends the patient back (absolute, into this app).
    pub return_url: &'a str,
    /// Derived from the order: asking twice never makes two payments.
    pub idempotency_key: &'a str,
    /// The payment begun before for this order, if any: the provider continues it.
    pub existing_ref: Option<&'a str>,
}

/// Where the patient goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextStep {
    /// To the provider's page (or the sandbox's), which sends them back to `return_url`.
    Redirect(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// The provider's id for this payment.
    pub provider_ref: String,
    pub next: NextStep,
}

/// What asking the provider to call off a payment found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOff {
    /// It can no longer take money: the hold may end.
    CalledOff,
    /// It has taken the money already (the event is on its way).
    AlreadyPaid,
    /// It is still being decided (a bank is answering): the hold waits.
    StillProcessing,
}

/// Money to send back.
#[derive(Debug, Clone)]
pub struct RefundAsk<'a> {
    pub order_number: &'a str,
    /// The payment's id at the provider.
    pub payment_ref: &'a str,
    pub amount: Fen,
    pub reason: RefundReason,
    pub idempotency_key: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundState {
    /// The money is on its way back.
    Settled,
    /// The provider will say later, by an event.
    Pending,
    /// The provider refused it for good (the record says why; an operator decides).
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundReply {
    pub provider_ref: String,
    pub state: RefundState,
}

/// One movement of money at the provider, as reconciliation compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderTransaction {
    pub provider_ref: String,
    pub order_number: Option<String>,
    /// Positive for a payment, negative for a refund.
    pub amount_fen: i64,
    pub at: i64,
}

/// What a stored event says, in the order model's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum News {
    Paid {
        order_number: String,
        provider_ref: String,
        amount_fen: i64,
    },
    Failed {
        order_number: String,
    },
    RefundSettled {
        idempotency_key: String,
    },
    RefundFailed {
        idempotency_key: String,
        why: String,
    },
    /// An event this app does not act on.
    Irrelevant,
    /// It claims to be a kind we act on but cannot be read.
    Unreadable,
}

/// A provider's failure: `Unavailable` is retried with backoff (timeouts, 5xx);
/// `Refused` is not.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("payment provider unavailable: {0}")]
    Unavailable(String),
    #[error("payment provider refused: {0}")]
    Refused(String),
}

#[async_trait::async_trait]
pub trait PaymentProvider: Send + Sync {
    /// Stored with each order and event (`sandbox`, `stripe`).
    fn name(&self) -> &'static str;
    /// The methods it takes.
    fn methods(&self) -> &'static [PaymentMethod];
    /// Those it takes only by a QR code to scan (on a phone, with another device).
    fn qr_only(&self) -> &'static [PaymentMethod] {
        &[]
    }
    async fn start(&self, ask: &PaymentAsk<'_>) -> Result<Started, ProviderError>;
    async fn call_off(&self, provider_ref: &str) -> Result<CallOff, ProviderError>;
    async fn refund(&self, ask: &RefundAsk<'_>) -> Result<RefundReply, ProviderError>;
    /// Its movements of money between two instants (unix seconds), for reconciliation.
    async fn transactions(
        &self,
        from: i64,
        until: i64,
    ) -> Result<Vec<ProviderTransaction>, ProviderError>;
    /// Reads one of its stored events.
    fn interpret(&self, event_type: &str, payload: &str) -> News;
}
