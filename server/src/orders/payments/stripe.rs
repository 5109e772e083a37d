//! Stripe (R-PAY-1): PaymentIntents for WeChat Pay and Alipay, confirmed at once and
//! finished on Stripe's page (Alipay's redirect; WeChat Pay's hosted QR-code page); cards
//! on Stripe Checkout's hosted page (card details never reach us). Then back to the
//! booking, where the webhook's answer shows up. Every call that moves money
//! carries an idempotency key derived from the order, and is retried with backoff on
//! timeouts and Stripe's 5xx answers with the same key, so a retry never charges or
//! refunds twice; an outage leaves the order pending, to be paid later.
use crate::orders::payments::provider::*;
use app::domain::payment_method::PaymentMethod;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;
use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionAllowedPaymentMethodTypes,
    CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsPriceData,
    CreateCheckoutSessionPaymentIntentData, ExpireCheckoutSession, ProductData,
    RetrieveCheckoutSession,
};
use stripe_checkout::{CheckoutSession, CheckoutSessionMode, CheckoutSessionStatus};
use stripe_core::payment_intent::{
    CancelPaymentIntent, CancelPaymentIntentCancellationReason, CreatePaymentIntent,
    CreatePaymentIntentPaymentMethodData, CreatePaymentIntentPaymentMethodDataType,
    CreatePaymentIntentPaymentMethodOptions, CreatePaymentIntentPaymentMethodOptionsWechatPay,
    CreatePaymentIntentPaymentMethodOptionsWechatPayClient, ListPaymentIntent,
    RetrievePaymentIntent,
};
use stripe_core::refund::{CreateRefund, CreateRefundReason, ListRefund};
use stripe_core::{PaymentIntent, PaymentIntentAllowedPaymentMethodTypes, PaymentIntentStatus};
use stripe_types::{Currency, RangeBoundsTs, RangeQueryTs};

pub const NAME: &str = "stripe";
/// The metadata keys that tie Stripe's objects to ours.
pub const ORDER_KEY: &str = "order_number";
pub const REFUND_KEY: &str = "refund_key";

const METHODS: &[PaymentMethod] = &[
    PaymentMethod::WechatPay,
    PaymentMethod::Alipay,
    PaymentMethod::Card,
];
/// A Checkout Session's id starts so; a PaymentIntent's with `pi_`.
const SESSION: &str = "cs_";
/// The shortest life Stripe allows a Checkout Session; called off sooner when the hold ends.
const SESSION_SECS: i64 = 30 * 60;

pub struct StripeProvider {
    client: Client,
    attempts: u32,
    backoff: Duration,
}

impl StripeProvider {
    /// `api_base` points the client elsewhere than `https://api.stripe.com` (tests).
    pub fn new(
        secret_key: &str,
        api_base: Option<&str>,
        backoff: Duration,
    ) -> anyhow::Result<Self> {
        let mut builder = ClientBuilder::new(secret_key)
            .timeout(Duration::from_secs(15))
            .request_strategy(RequestStrategy::Once);
        if let Some(base) = api_base {
            builder = builder.url(base);
        }
        Ok(StripeProvider {
            client: builder
                .build()
                .map_err(|e| anyhow::anyhow!("stripe client: {e}"))?,
            attempts: 3,
            backoff,
        })
    }

    /// Sends `req`, again after a growing pause when Stripe could not answer, always
    /// with the same idempotency key.
    async fn send<R>(&self, req: &R, key: Option<&str>) -> Result<R::Output, ProviderError>
    where
        R: StripeRequest + Clone,
        R::Output: miniserde::Deserialize,
    {
        let strategy = match key {
            Some(k) => RequestStrategy::Idempotent(
                IdempotencyKey::new(k).map_err(|e| ProviderError::Refused(e.to_string()))?,
            ),
            None => RequestStrategy::Once,
        };
        let mut last = None;
        for attempt in 0..self.attempts {
            if attempt > 0 {
                tokio::time::sleep(self.backoff * 2u32.pow(attempt - 1)).await;
            }
            match req
                .clone()
                .customize()
                .request_strategy(strategy.clone())
                .send(&self.client)
                .await
            {
                Ok(out) => return Ok(out),
                Err(e) if retryable(&e) => last = Some(e),
                Err(e) => return Err(ProviderError::Refused(describe(&e))),
            }
        }
        Err(ProviderError::Unavailable(
            last.map_or_else(|| "no attempt".to_owned(), |e| describe(&e)),
        ))
    }

    async fn retrieve(&self, id: &str) -> Result<PaymentIntent, ProviderError> {
        self.send(&RetrievePaymentIntent::new(id), None).await
    }

    async fn create(
        &self,
        ask: &PaymentAsk<'_>,
        key: &str,
    ) -> Result<PaymentIntent, ProviderError> {
        let (allowed, data_type) = match ask.method {
            PaymentMethod::WechatPay => (
                PaymentIntentAllowedPaymentMethodTypes::WechatPay,
                CreatePaymentIntentPaymentMethodDataType::WechatPay,
            ),
            PaymentMethod::Alipay => (
                PaymentIntentAllowedPaymentMethodTypes::Alipay,
                CreatePaymentIntentPaymentMethodDataType::Alipay,
            ),
            PaymentMethod::Card => {
                return Err(ProviderError::Refused("cards go through Checkout".into()));
            }
        };
        let mut options = CreatePaymentIntentPaymentMethodOptions::new();
        let mut wechat = CreatePaymentIntentPaymentMethodOptionsWechatPay::new();
        wechat.client = Some(CreatePaymentIntentPaymentMethodOptionsWechatPayClient::Web);
        options.wechat_pay = Some(wechat);
        let create = CreatePaymentIntent::new(ask.amount.get(), Currency::CNY)
            .allowed_payment_method_types(vec![allowed])
            .metadata(HashMap::from([(
                ORDER_KEY.to_owned(),
                ask.order_number.to_owned(),
            )]))
            .description(ask.description)
            .payment_method_options(options)
            .confirm(true)
            .payment_method_data(CreatePaymentIntentPaymentMethodData::new(data_type))
            .return_url(ask.return_url);
        self.send(&create, Some(key)).await
    }
}

impl StripeProvider {
    /// A Checkout Session for a card payment: Stripe's page takes the card.
    async fn checkout(&self, ask: &PaymentAsk<'_>, key: &str) -> Result<Started, ProviderError> {
        let metadata = HashMap::from([(ORDER_KEY.to_owned(), ask.order_number.to_owned())]);
        let mut price = CreateCheckoutSessionLineItemsPriceData::new(Currency::CNY);
        price.unit_amount = Some(ask.amount.get());
        price.product_data = Some(ProductData::new(ask.description));
        let mut line = CreateCheckoutSessionLineItems::new();
        line.price_data = Some(price);
        line.quantity = Some(1);
        let mut intent = CreateCheckoutSessionPaymentIntentData::new();
        intent.metadata = Some(metadata.clone());
        intent.description = Some(ask.description.to_owned());
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let create = CreateCheckoutSession::new()
            .mode(CheckoutSessionMode::Payment)
            .allowed_payment_method_types(vec![
                CreateCheckoutSessionAllowedPaymentMethodTypes::Card,
            ])
            .line_items(vec![line])
            .payment_intent_data(intent)
            .client_reference_id(ask.order_number)
            .metadata(metadata)
            .expires_at(now + SESSION_SECS)
            .success_url(back_to_app(ask.return_url))
            .cancel_url(ask.return_url);
        let session = self.send(&create, Some(key)).await?;
        let url = session
            .url
            .clone()
            .ok_or_else(|| ProviderError::Refused("a Checkout Session without a page".into()))?;
        Ok(Started {
            provider_ref: session.id.to_string(),
            next: NextStep::Redirect(url),
        })
    }

    async fn session(&self, id: &str) -> Result<CheckoutSession, ProviderError> {
        self.send(&RetrieveCheckoutSession::new(id), None).await
    }

    /// A Checkout Session ends like a payment: expired if still open.
    async fn call_off_session(&self, id: &str) -> Result<CallOff, ProviderError> {
        let decide = |s: &CheckoutSession| match s.status {
            Some(CheckoutSessionStatus::Complete) => Some(CallOff::AlreadyPaid),
            Some(CheckoutSessionStatus::Expired) => Some(CallOff::CalledOff),
            _ => None,
        };
        if let Some(known) = decide(&self.session(id).await?) {
            return Ok(known);
        }
        match self.send(&ExpireCheckoutSession::new(id), None).await {
            Ok(s) => Ok(decide(&s).unwrap_or(CallOff::StillProcessing)),
            // Refused: it completed meanwhile; ask what it is now.
            Err(ProviderError::Refused(_)) => {
                Ok(decide(&self.session(id).await?).unwrap_or(CallOff::StillProcessing))
            }
            Err(e) => Err(e),
        }
    }
}

fn retryable(e: &StripeError) -> bool {
    match e {
        StripeError::Stripe(_, status) => *status >= 500 || *status == 429 || *status == 409,
        StripeError::Timeout | StripeError::ClientError(_) => true,
        // A 5xx without Stripe's error body loses its status: treat it as an outage.
        StripeError::JSONDeserialize(_) => true,
        StripeError::ConfigError(_) => false,
    }
}

/// What is logged of an error: Stripe's code and message, never the request.
fn describe(e: &StripeError) -> String {
    match e {
        StripeError::Stripe(err, status) => format!(
            "{status} {} {}",
            err.code.as_ref().map(|c| c.as_str()).unwrap_or("-"),
            err.message.as_deref().unwrap_or("")
        ),
        other => other.to_string(),
    }
}

/// Where the patient goes for a PaymentIntent waiting for them, if anywhere.
fn next_url(pi: &PaymentIntent) -> Option<String> {
    let next = pi.next_action.as_ref()?;
    next.alipay_handle_redirect
        .as_ref()
        .and_then(|a| a.url.clone())
        .or_else(|| {
            next.wechat_pay_display_qr_code
                .as_ref()
                .map(|q| q.hosted_instructions_url.clone())
        })
        .or_else(|| next.redirect_to_url.as_ref().and_then(|r| r.url.clone()))
}

fn back_to_app(return_url: &str) -> String {
    format!("{return_url}?paying=1")
}

#[async_trait::async_trait]
impl PaymentProvider for StripeProvider {
    fn name(&self) -> &'static str {
        NAME
    }

    fn methods(&self) -> &'static [PaymentMethod] {
        METHODS
    }

    /// WeChat Pay through Stripe on the web is a QR code on Stripe's page; the phone that
    /// shows it cannot scan it (nor pay a screenshot of it).
    fn qr_only(&self) -> &'static [PaymentMethod] {
        &[PaymentMethod::WechatPay]
    }

    async fn start(&self, ask: &PaymentAsk<'_>) -> Result<Started, ProviderError> {
        // A payment begun before: continue it while it can be, or begin the next one
        // under a key of its own (the key names the attempt it follows).
        let mut after = "0".to_owned();
        if let Some(existing) = ask.existing_ref.filter(|r| r.starts_with(SESSION)) {
            // A card payment begun on Checkout: continue it, or call it off first.
            let session = self.session(existing).await?;
            if ask.method == PaymentMethod::Card
                && session.status == Some(CheckoutSessionStatus::Open)
                && let Some(url) = session.url
            {
                return Ok(Started {
                    provider_ref: existing.to_owned(),
                    next: NextStep::Redirect(url),
                });
            }
            if self.call_off_session(existing).await? != CallOff::CalledOff {
                return Ok(Started {
                    provider_ref: existing.to_owned(),
                    next: NextStep::Redirect(back_to_app(ask.return_url)),
                });
            }
            after = existing.to_owned();
        } else if let Some(existing) = ask.existing_ref {
            let pi = self.retrieve(existing).await?;
            match pi.status {
                PaymentIntentStatus::Succeeded | PaymentIntentStatus::Processing => {
                    return Ok(Started {
                        provider_ref: pi.id.to_string(),
                        next: NextStep::Redirect(back_to_app(ask.return_url)),
                    });
                }
                PaymentIntentStatus::RequiresAction
                    if pi
                        .payment_method_types
                        .iter()
                        .any(|t| t == ask.method.as_str()) =>
                {
                    if let Some(url) = next_url(&pi) {
                        return Ok(Started {
                            provider_ref: pi.id.to_string(),
                            next: NextStep::Redirect(url),
                        });
                    }
                }
                _ => {}
            }
            // Only one payment may be able to take money for an order: the open one is
            // called off first, and if it took the money meanwhile, that is the payment.
            if pi.status != PaymentIntentStatus::Canceled
                && self.call_off(existing).await? != CallOff::CalledOff
            {
                return Ok(Started {
                    provider_ref: existing.to_owned(),
                    next: NextStep::Redirect(back_to_app(ask.return_url)),
                });
            }
            after = existing.to_owned();
        }
        let key = format!("{}:{after}", ask.idempotency_key);
        if ask.method == PaymentMethod::Card {
            return self.checkout(ask, &key).await;
        }
        let pi = self.create(ask, &key).await?;
        let next = match (&pi.status, next_url(&pi)) {
            (_, Some(url)) => url,
            _ => back_to_app(ask.return_url),
        };
        Ok(Started {
            provider_ref: pi.id.to_string(),
            next: NextStep::Redirect(next),
        })
    }

    async fn call_off(&self, provider_ref: &str) -> Result<CallOff, ProviderError> {
        if provider_ref.starts_with(SESSION) {
            return self.call_off_session(provider_ref).await;
        }
        let pi = self.retrieve(provider_ref).await?;
        match pi.status {
            PaymentIntentStatus::Succeeded => return Ok(CallOff::AlreadyPaid),
            PaymentIntentStatus::Processing => return Ok(CallOff::StillProcessing),
            PaymentIntentStatus::Canceled => return Ok(CallOff::CalledOff),
            _ => {}
        }
        let cancel = CancelPaymentIntent::new(provider_ref)
            .cancellation_reason(CancelPaymentIntentCancellationReason::Abandoned);
        match self.send(&cancel, None).await {
            Ok(pi) if pi.status == PaymentIntentStatus::Canceled => Ok(CallOff::CalledOff),
            // Refused: it moved on meanwhile (paid or processing); ask what it is now.
            Ok(_) | Err(ProviderError::Refused(_)) => {
                match self.retrieve(provider_ref).await?.status {
                    PaymentIntentStatus::Canceled => Ok(CallOff::CalledOff),
                    PaymentIntentStatus::Succeeded => Ok(CallOff::AlreadyPaid),
                    _ => Ok(CallOff::StillProcessing),
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn refund(&self, ask: &RefundAsk<'_>) -> Result<RefundReply, ProviderError> {
        // Stripe's reasons are about fraud and duplicates; ours goes in the metadata.
        let create = CreateRefund::new()
            .payment_intent(ask.payment_ref)
            .amount(ask.amount.get())
            .reason(CreateRefundReason::RequestedByCustomer)
            .metadata(HashMap::from([
                (ORDER_KEY.to_owned(), ask.order_number.to_owned()),
                (REFUND_KEY.to_owned(), ask.idempotency_key.to_owned()),
                ("reason".to_owned(), ask.reason.as_str().to_owned()),
            ]));
        let r = self.send(&create, Some(ask.idempotency_key)).await?;
        let state = match r.status.as_deref() {
            Some("succeeded") => RefundState::Settled,
            Some("failed" | "canceled") => {
                RefundState::Failed(r.failure_reason.clone().unwrap_or_else(|| "refused".into()))
            }
            _ => RefundState::Pending,
        };
        Ok(RefundReply {
            provider_ref: r.id.to_string(),
            state,
        })
    }

    async fn transactions(
        &self,
        from: i64,
        until: i64,
    ) -> Result<Vec<ProviderTransaction>, ProviderError> {
        let range = || {
            RangeQueryTs::Bounds(RangeBoundsTs {
                gte: Some(from),
                lt: Some(until),
                ..Default::default()
            })
        };
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut list = ListPaymentIntent::new().created(range()).limit(100);
            if let Some(a) = &after {
                list = list.starting_after(a.clone());
            }
            let page = self.send(&list, None).await?;
            for pi in &page.data {
                if pi.status == PaymentIntentStatus::Succeeded {
                    out.push(ProviderTransaction {
                        provider_ref: pi.id.to_string(),
                        order_number: pi.metadata.get(ORDER_KEY).cloned(),
                        amount_fen: pi.amount_received,
                        at: pi.created,
                    });
                }
            }
            after = page.data.last().map(|pi| pi.id.to_string());
            if !page.has_more || after.is_none() {
                break;
            }
        }
        let mut after: Option<String> = None;
        loop {
            let mut list = ListRefund::new().created(range()).limit(100);
            if let Some(a) = &after {
                list = list.starting_after(a.clone());
            }
            let page = self.send(&list, None).await?;
            for r in &page.data {
                if r.status.as_deref() == Some("succeeded") {
                    out.push(ProviderTransaction {
                        provider_ref: r.id.to_string(),
                        order_number: r.metadata.as_ref().and_then(|m| m.get(ORDER_KEY).cloned()),
                        amount_fen: -r.amount,
                        at: r.created,
                    });
                }
            }
            after = page.data.last().map(|r| r.id.to_string());
            if !page.has_more || after.is_none() {
                break;
            }
        }
        Ok(out)
    }

    /// Read from the raw JSON (only the fields we act on), so an event of a newer API
    /// version still reads.
    fn interpret(&self, event_type: &str, payload: &str) -> News {
        let Ok(event) = serde_json::from_str::<Value>(payload) else {
            return News::Unreadable;
        };
        let object = &event["data"]["object"];
        let text = |v: &Value| v.as_str().map(str::to_owned);
        let order = text(&object["metadata"][ORDER_KEY]);
        match event_type {
            "payment_intent.succeeded" => {
                match (
                    order,
                    text(&object["id"]),
                    object["amount_received"].as_i64(),
                ) {
                    (Some(order_number), Some(provider_ref), Some(amount_fen))
                        if object["currency"].as_str() == Some("cny") =>
                    {
                        News::Paid {
                            order_number,
                            provider_ref,
                            amount_fen,
                        }
                    }
                    _ => News::Unreadable,
                }
            }
            "payment_intent.payment_failed" => match order {
                Some(order_number) => News::Failed { order_number },
                None => News::Unreadable,
            },
            "refund.created" | "refund.updated" | "refund.failed" => {
                let Some(idempotency_key) = text(&object["metadata"][REFUND_KEY]) else {
                    return News::Irrelevant;
                };
                match object["status"].as_str() {
                    Some("succeeded") => News::RefundSettled { idempotency_key },
                    Some("failed" | "canceled") => News::RefundFailed {
                        idempotency_key,
                        why: text(&object["failure_reason"]).unwrap_or_else(|| "failed".into()),
                    },
                    _ => News::Irrelevant,
                }
            }
            _ => News::Irrelevant,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider() -> StripeProvider {
        StripeProvider::new("sk_test_x", Some("http://127.0.0.1:9"), Duration::ZERO)
            .expect("client")
    }

    // R-PAY-4: what each event means for an order, read from Stripe's JSON.
    #[test]
    fn events_are_read_into_news() {
        let p = provider();
        let paid = r#"{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","amount_received":4000,"currency":"cny","metadata":{"order_number":"OD1"}}}}"#;
        assert_eq!(
            p.interpret("payment_intent.succeeded", paid),
            News::Paid {
                order_number: "OD1".into(),
                provider_ref: "pi_1".into(),
                amount_fen: 4000
            }
        );
        // Another currency is not a payment of a CNY order.
        let usd = paid.replace("\"cny\"", "\"usd\"");
        assert_eq!(
            p.interpret("payment_intent.succeeded", &usd),
            News::Unreadable
        );
        let refunded = r#"{"data":{"object":{"id":"re_1","status":"succeeded","metadata":{"refund_key":"OD1:full"}}}}"#;
        assert_eq!(
            p.interpret("refund.updated", refunded),
            News::RefundSettled {
                idempotency_key: "OD1:full".into()
            }
        );
        assert_eq!(p.interpret("customer.created", "{}"), News::Irrelevant);
        assert_eq!(
            p.interpret("payment_intent.succeeded", "not json"),
            News::Unreadable
        );
    }
}
