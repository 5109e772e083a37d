//! Orders (R-PAY-1, R-PAY-2, R-PAY-4): every paid thing — a consult booking now, a drug
//! order later — is an order in fen, CNY only, moved through one status machine. What a
//! payment provider reports is turned into an [`OrderEvent`]; [`apply`] says what the
//! order becomes and what must happen because of it. Illegal moves are refused here, and
//! events that arrive late, twice or out of order are recognised as such, not applied.
use serde::{Deserialize, Serialize};

/// An amount of money in fen (1/100 yuan): never a float, never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Fen(i64);

/// The most one order may cost: ¥100,000. Far above any consult or prescription, and far
/// below what an i64 sum of many orders could overflow.
pub const MAX_ORDER_FEN: i64 = 10_000_000;

impl Fen {
    pub const ZERO: Fen = Fen(0);

    /// `None` for a negative amount or one above [`MAX_ORDER_FEN`].
    pub const fn new(fen: i64) -> Option<Fen> {
        if fen >= 0 && fen <= MAX_ORDER_FEN {
            Some(Fen(fen))
        } else {
            None
        }
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    /// Yuan as an operator types them ("40", "12.5", "0.05", "¥12.50"): at most two
    /// decimals, within the order bounds; `None` otherwise (never rounded).
    pub fn parse_yuan(text: &str) -> Option<Fen> {
        let t = text.trim().trim_start_matches(['¥', '￥']).trim();
        let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
        if whole.is_empty()
            || whole.len() > 6
            || frac.len() > 2
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || (t.contains('.') && frac.is_empty())
        {
            return None;
        }
        let whole: i64 = whole.parse().ok()?;
        let frac: i64 = format!("{frac:0<2}").parse().ok()?;
        Fen::new(whole * 100 + frac)
    }

    /// "¥40" or "¥40.50", as receipts show it.
    pub fn yuan_text(self) -> String {
        let (y, f) = (self.0 / 100, self.0 % 100);
        if f == 0 {
            format!("¥{y}")
        } else {
            format!("¥{y}.{f:02}")
        }
    }
}

impl TryFrom<i64> for Fen {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, Self::Error> {
        Fen::new(v).ok_or_else(|| format!("{v} fen is not an order amount"))
    }
}

impl From<Fen> for i64 {
    fn from(f: Fen) -> i64 {
        f.0
    }
}

/// Where an order is. Stored by [`OrderStatus::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Created; waiting for the patient to pay.
    Pending,
    /// The provider confirmed the money.
    Paid,
    /// The service was given (the consult took place, the drugs were handed over).
    Served,
    /// Finished: nothing more can happen to it.
    Closed,
    /// A full refund was asked of the provider and has not settled yet.
    Refunding,
    /// All the money went back to where it came from.
    Refunded,
    /// Never paid in time: the hold ended and the slot went back.
    Expired,
}

pub const ALL_ORDER_STATUSES: &[OrderStatus] = &[
    OrderStatus::Pending,
    OrderStatus::Paid,
    OrderStatus::Served,
    OrderStatus::Closed,
    OrderStatus::Refunding,
    OrderStatus::Refunded,
    OrderStatus::Expired,
];

impl OrderStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Paid => "paid",
            OrderStatus::Served => "served",
            OrderStatus::Closed => "closed",
            OrderStatus::Refunding => "refunding",
            OrderStatus::Refunded => "refunded",
            OrderStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ALL_ORDER_STATUSES.iter().copied().find(|x| x.as_str() == s)
    }

    /// Nothing can move it any more. (An expired order still can: money that arrives
    /// late goes back.)
    pub const fn is_final(self) -> bool {
        matches!(self, OrderStatus::Closed | OrderStatus::Refunded)
    }

    /// The provider holds the patient's money for it.
    pub const fn holds_money(self) -> bool {
        matches!(
            self,
            OrderStatus::Paid | OrderStatus::Served | OrderStatus::Refunding
        )
    }
}

/// What an order pays for. The kind and the subject's id are on the order; the subject's
/// feature says what being paid, refunded or ended means for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// A consult booking: a held slot or a place in a live queue.
    Consult,
}

impl SubjectKind {
    pub const ALL: [SubjectKind; 1] = [SubjectKind::Consult];

    pub const fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Consult => "consult",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Why money goes back (R-PAY-2, R-BOOK-4, R-CONS-3). Each refund record carries one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RefundReason {
    /// The doctor or hospital cancelled the slot.
    SlotCancelled,
    /// The money arrived after the hold had ended.
    PaidAfterExpiry,
    /// The consult was closed without the doctor's answer.
    Unanswered,
    /// The patient cancelled before the free cut-off.
    PatientCancelled,
    /// An operator decided, with a written reason.
    OperatorDecision,
    /// A second payment for an order already paid (two payments started at once).
    DuplicatePayment,
    /// The doctor referred the patient to a physical visit before giving any service
    /// (R-ELIG-4, R-PAY-2).
    ReferredOffline,
}

impl RefundReason {
    pub const fn as_str(self) -> &'static str {
        match self {
            RefundReason::SlotCancelled => "slot_cancelled",
            RefundReason::PaidAfterExpiry => "paid_after_expiry",
            RefundReason::Unanswered => "unanswered",
            RefundReason::PatientCancelled => "patient_cancelled",
            RefundReason::OperatorDecision => "operator_decision",
            RefundReason::DuplicatePayment => "duplicate_payment",
            RefundReason::ReferredOffline => "referred_offline",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            RefundReason::SlotCancelled,
            RefundReason::PaidAfterExpiry,
            RefundReason::Unanswered,
            RefundReason::PatientCancelled,
            RefundReason::OperatorDecision,
            RefundReason::DuplicatePayment,
            RefundReason::ReferredOffline,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// Something that happened to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderEvent {
    /// The provider confirmed the payment.
    PaymentSucceeded,
    /// The provider says this attempt failed (the patient may try again).
    PaymentFailed,
    /// The hold ran out with no payment under way at the provider.
    HoldExpired,
    /// The service was given.
    ServiceGiven,
    /// The order is settled for good (after the service, or nothing left to refund).
    Close,
    /// All of what is still held is to go back.
    FullRefundAsked(RefundReason),
    /// The provider settled the full refund.
    RefundSettled,
    /// The full refund failed at the provider: the order goes back to the status it
    /// left for refunding, and its money is refundable again (security review item 8).
    RefundFailed(OrderStatus),
}

/// What must happen because of a transition, besides storing the new status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Nothing,
    /// The booking behind the order is confirmed.
    Confirm,
    /// Ask the provider for a full refund.
    Refund(RefundReason),
}

/// What [`apply`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The order moves to `to`, and `effect` follows.
    Move { to: OrderStatus, effect: Effect },
    /// A repeat, or news the order has already moved past: nothing changes
    /// (R-PAY-4). Stored as received, never applied.
    Stale,
}

/// An event that cannot happen to an order in this status: a bug or a forgery, refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IllegalTransition {
    pub from: OrderStatus,
    pub event: OrderEvent,
}

/// The one status machine. Every (status, event) pair is decided here and tested.
pub fn apply(from: OrderStatus, event: OrderEvent) -> Result<Outcome, IllegalTransition> {
    use Effect as E;
    use OrderEvent as Ev;
    use OrderStatus as S;
    let to = |to, effect| Ok(Outcome::Move { to, effect });
    match (from, event) {
        (S::Pending, Ev::PaymentSucceeded) => to(S::Paid, E::Confirm),
        // Money for an order whose hold has ended goes back by itself (R-PAY-2).
        (S::Expired, Ev::PaymentSucceeded) => {
            to(S::Refunding, E::Refund(RefundReason::PaidAfterExpiry))
        }
        (S::Paid | S::Served | S::Closed | S::Refunding | S::Refunded, Ev::PaymentSucceeded) => {
            Ok(Outcome::Stale)
        }

        // A failed attempt leaves the order waiting; after success it is old news.
        (_, Ev::PaymentFailed) => Ok(Outcome::Stale),

        (S::Pending, Ev::HoldExpired) => to(S::Expired, E::Nothing),
        (S::Expired, Ev::HoldExpired) => Ok(Outcome::Stale),
        // Paid first: the payment won the race with the hold.
        (S::Paid | S::Served | S::Closed | S::Refunding | S::Refunded, Ev::HoldExpired) => {
            Ok(Outcome::Stale)
        }

        (S::Paid, Ev::ServiceGiven) => to(S::Served, E::Nothing),
        (S::Served, Ev::ServiceGiven) => Ok(Outcome::Stale),

        (S::Served, Ev::Close) => to(S::Closed, E::Nothing),
        (S::Closed, Ev::Close) => Ok(Outcome::Stale),

        (S::Paid | S::Served, Ev::FullRefundAsked(reason)) => to(S::Refunding, E::Refund(reason)),
        // Money that came after the hold ended, whose refund failed: sent again.
        (S::Expired, Ev::FullRefundAsked(reason)) => to(S::Refunding, E::Refund(reason)),
        (S::Refunding | S::Refunded, Ev::FullRefundAsked(_)) => Ok(Outcome::Stale),

        (S::Refunding, Ev::RefundSettled) => to(S::Refunded, E::Nothing),
        (S::Refunded, Ev::RefundSettled) => Ok(Outcome::Stale),

        (S::Refunding, Ev::RefundFailed(back @ (S::Paid | S::Served | S::Expired))) => {
            to(back, E::Nothing)
        }
        (S::Paid | S::Served | S::Expired | S::Refunded, Ev::RefundFailed(_)) => Ok(Outcome::Stale),

        (from, event) => Err(IllegalTransition { from, event }),
    }
}

/// How much of an order may still be refunded, given what was refunded already: a
/// partial refund may not take back more than was paid (R-PAY-2).
pub fn refundable(status: OrderStatus, amount: Fen, refunded: Fen) -> Fen {
    if !matches!(status, OrderStatus::Paid | OrderStatus::Served) {
        return Fen::ZERO;
    }
    Fen(amount.0.saturating_sub(refunded.0).max(0))
}

/// Checks an operator's partial refund: more than zero, no more than what is left.
pub fn partial_refund(
    status: OrderStatus,
    amount: Fen,
    refunded: Fen,
    asked: Fen,
) -> Result<Fen, PartialRefundRefused> {
    let left = refundable(status, amount, refunded);
    if left == Fen::ZERO {
        Err(PartialRefundRefused::NothingLeft)
    } else if asked == Fen::ZERO || asked > left {
        Err(PartialRefundRefused::OutOfRange { left })
    } else {
        Ok(asked)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartialRefundRefused {
    NothingLeft,
    OutOfRange { left: Fen },
}

#[cfg(test)]
mod tests;
