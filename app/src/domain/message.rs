//! The message centre's kinds of notice (R-BOOK-3 begins here): each is stored as a kind
//! with a few parameters and rendered in the reader's language when read, so a later
//! issue adds a kind, not a new mechanism.
use serde::{Deserialize, Serialize};

/// What a message is about. Stored by [`MessageKind::as_str`]; the names never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// A family member was added to the account (R-REG-7).
    FamilyMemberAdded,
    /// A diagnosis proof was approved (R-ELIG-2).
    ProofApproved,
    /// A diagnosis proof was rejected, with the reason (R-ELIG-2).
    ProofRejected,
    HoldExpired,
    BookingConfirmed,
    BookingCancelled,
    SlotCancelled,
    /// R-BOOK-3: the appointment is soon.
    BookingReminder,
    QueueCalled,
    QueueClosed,
    /// R-PAY-2: money is going back, with the amount and why.
    RefundStarted,
}

pub const ALL_KINDS: &[MessageKind] = &[
    MessageKind::FamilyMemberAdded,
    MessageKind::ProofApproved,
    MessageKind::ProofRejected,
    MessageKind::HoldExpired,
    MessageKind::BookingConfirmed,
    MessageKind::BookingCancelled,
    MessageKind::SlotCancelled,
    MessageKind::BookingReminder,
    MessageKind::QueueCalled,
    MessageKind::QueueClosed,
    MessageKind::RefundStarted,
];

impl MessageKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            MessageKind::FamilyMemberAdded => "family_member_added",
            MessageKind::ProofApproved => "proof_approved",
            MessageKind::ProofRejected => "proof_rejected",
            MessageKind::HoldExpired => "hold_expired",
            MessageKind::BookingConfirmed => "booking_confirmed",
            MessageKind::BookingCancelled => "booking_cancelled",
            MessageKind::SlotCancelled => "slot_cancelled",
            MessageKind::BookingReminder => "booking_reminder",
            MessageKind::QueueCalled => "queue_called",
            MessageKind::QueueClosed => "queue_closed",
            MessageKind::RefundStarted => "refund_started",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ALL_KINDS.iter().copied().find(|k| k.as_str() == s)
    }

    /// Whether the notice also goes out by SMS (important changes only).
    pub const fn by_sms(self) -> bool {
        matches!(
            self,
            MessageKind::ProofApproved
                | MessageKind::ProofRejected
                | MessageKind::BookingConfirmed
                | MessageKind::BookingCancelled
                | MessageKind::SlotCancelled
                | MessageKind::BookingReminder
                | MessageKind::QueueCalled
                | MessageKind::RefundStarted
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in ALL_KINDS {
            assert_eq!(MessageKind::parse(k.as_str()), Some(*k));
        }
        assert_eq!(MessageKind::parse("nope"), None);
    }
}
