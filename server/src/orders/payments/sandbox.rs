//! The sandbox provider, for the embedded default and tests: no money moves. Paying
//! happens on a page of this app that looks like a checkout, where the tester chooses
//! to succeed, fail or abandon; the choice arrives as a stored event, exactly as a real
//! provider's webhook would, and is processed by the same code. Refunds settle by an
//! event too. Production refuses to start with it (config).
use crate::orders::payments::events;
use crate::orders::payments::events::Delivery;
use crate::orders::payments::provider::*;
use app::domain::payment_method::{ALL_PAYMENT_METHODS, PaymentMethod};
use rand::Rng;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};

pub const NAME: &str = "sandbox";
pub const PAID: &str = "payment.succeeded";
pub const FAILED: &str = "payment.failed";
pub const REFUNDED: &str = "refund.succeeded";

pub struct SandboxProvider {
    db: DatabaseConnection,
}

impl SandboxProvider {
    pub fn new(db: DatabaseConnection) -> Self {
        SandboxProvider { db }
    }
}

/// A sandbox event's body.
#[derive(Serialize, Deserialize)]
struct Body {
    #[serde(default)]
    order_number: String,
    #[serde(default)]
    provider_ref: String,
    #[serde(default)]
    amount_fen: i64,
    #[serde(default)]
    idempotency_key: String,
}

/// The sandbox's id for an order's payment.
pub fn payment_ref(order_number: &str) -> String {
    format!("sbx_{order_number}")
}

/// The sandbox's id for a refund.
pub fn refund_ref(idempotency_key: &str) -> String {
    format!("sbx_re_{}", idempotency_key.replace(':', "_"))
}

/// The tester's choice on the sandbox checkout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Succeed,
    Fail,
}

/// Records the tester's choice as the sandbox's event; the caller processes it.
pub async fn choose(
    db: &DatabaseConnection,
    order_number: &str,
    amount_fen: i64,
    choice: Choice,
    now: i64,
) -> Result<(), DbErr> {
    let kind = match choice {
        Choice::Succeed => PAID,
        Choice::Fail => FAILED,
    };
    let body = Body {
        order_number: order_number.to_owned(),
        provider_ref: payment_ref(order_number),
        amount_fen,
        idempotency_key: String::new(),
    };
    record(db, kind, &body, now).await
}

async fn record(db: &DatabaseConnection, kind: &str, body: &Body, now: i64) -> Result<(), DbErr> {
    let payload = serde_json::to_string(body).map_err(|e| DbErr::Custom(e.to_string()))?;
    let event_id = format!("sbx_evt_{:016x}", rand::rngs::OsRng.r#gen::<u64>());
    events::record(
        db,
        &Delivery {
            provider: NAME,
            event_id: &event_id,
            event_type: kind,
            signed_at: now,
            payload: &payload,
        },
        now,
    )
    .await?;
    Ok(())
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[async_trait::async_trait]
impl PaymentProvider for SandboxProvider {
    fn name(&self) -> &'static str {
        NAME
    }

    fn methods(&self) -> &'static [PaymentMethod] {
        ALL_PAYMENT_METHODS
    }

    async fn start(&self, ask: &PaymentAsk<'_>) -> Result<Started, ProviderError> {
        Ok(Started {
            provider_ref: payment_ref(ask.order_number),
            next: NextStep::Redirect(format!(
                "/pay/sandbox/{}?method={}",
                ask.order_number,
                ask.method.as_str()
            )),
        })
    }

    /// The sandbox takes money only when the tester says so: an open checkout can always
    /// be called off. (A tester who chooses "succeed" afterwards shows what a payment
    /// after the hold ended does: it is refunded.)
    async fn call_off(&self, _provider_ref: &str) -> Result<CallOff, ProviderError> {
        Ok(CallOff::CalledOff)
    }

    async fn refund(&self, ask: &RefundAsk<'_>) -> Result<RefundReply, ProviderError> {
        let body = Body {
            order_number: ask.order_number.to_owned(),
            provider_ref: ask.payment_ref.to_owned(),
            amount_fen: ask.amount.get(),
            idempotency_key: ask.idempotency_key.to_owned(),
        };
        record(&self.db, REFUNDED, &body, now())
            .await
            .map_err(|e| ProviderError::Unavailable(e.to_string()))?;
        Ok(RefundReply {
            provider_ref: refund_ref(ask.idempotency_key),
            state: RefundState::Pending,
        })
    }

    async fn transactions(
        &self,
        from: i64,
        until: i64,
    ) -> Result<Vec<ProviderTransaction>, ProviderError> {
        use crate::db::payment_event as pe;
        let rows = pe::Entity::find()
            .filter(pe::Column::Provider.eq(NAME))
            .filter(pe::Column::EventType.is_in([PAID, REFUNDED]))
            .filter(pe::Column::ReceivedAt.gte(from))
            .filter(pe::Column::ReceivedAt.lt(until))
            .order_by_asc(pe::Column::Id)
            .all(&self.db)
            .await
            .map_err(|e| ProviderError::Unavailable(e.to_string()))?;
        Ok(rows
            .into_iter()
            .filter_map(|e| {
                let body: Body = serde_json::from_str(&e.payload).ok()?;
                let (sign, provider_ref) = if e.event_type == REFUNDED {
                    (-1, refund_ref(&body.idempotency_key))
                } else {
                    (1, body.provider_ref)
                };
                Some(ProviderTransaction {
                    provider_ref,
                    order_number: Some(body.order_number),
                    amount_fen: sign * body.amount_fen,
                    at: e.received_at,
                })
            })
            .collect())
    }

    fn interpret(&self, event_type: &str, payload: &str) -> News {
        let Ok(body) = serde_json::from_str::<Body>(payload) else {
            return News::Unreadable;
        };
        match event_type {
            PAID => News::Paid {
                order_number: body.order_number,
                provider_ref: body.provider_ref,
                amount_fen: body.amount_fen,
            },
            FAILED => News::Failed {
                order_number: body.order_number,
            },
            REFUNDED => News::RefundSettled {
                idempotency_key: body.idempotency_key,
            },
            _ => News::Irrelevant,
        }
    }
}
