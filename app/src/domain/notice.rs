//! The message centre's kinds of notice (R-BOOK-3 begins here): each is stored as a kind
//! with a few parameters and rendered in the reader's language when read, so a later
//! issue adds a kind, not a new mechanism.
use serde::{Deserialize, Serialize};

/// What a notice is about. Stored by [`NoticeKind::as_str`]; the names never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
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
    /// R-CONS-3: no doctor answer in time; closed and refunded.
    ConsultUnanswered,
    /// R-ELIG-4: the doctor referred the patient to a visit in person, with the reason.
    ConsultReferred,
    /// R-EMR-1: the consult ended with a record the patient can read.
    ConsultCompleted,
    /// The doctor wrote and the patient has not read it for a while.
    ConsultReply,
}

pub const ALL_KINDS: &[NoticeKind] = &[
    NoticeKind::FamilyMemberAdded,
    NoticeKind::ProofApproved,
    NoticeKind::ProofRejected,
    NoticeKind::HoldExpired,
    NoticeKind::BookingConfirmed,
    NoticeKind::BookingCancelled,
    NoticeKind::SlotCancelled,
    NoticeKind::BookingReminder,
    NoticeKind::QueueCalled,
    NoticeKind::QueueClosed,
    NoticeKind::RefundStarted,
    NoticeKind::ConsultUnanswered,
    NoticeKind::ConsultReferred,
    NoticeKind::ConsultCompleted,
    NoticeKind::ConsultReply,
];

impl NoticeKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            NoticeKind::FamilyMemberAdded => "family_member_added",
            NoticeKind::ProofApproved => "proof_approved",
            NoticeKind::ProofRejected => "proof_rejected",
            NoticeKind::HoldExpired => "hold_expired",
            NoticeKind::BookingConfirmed => "booking_confirmed",
            NoticeKind::BookingCancelled => "booking_cancelled",
            NoticeKind::SlotCancelled => "slot_cancelled",
            NoticeKind::BookingReminder => "booking_reminder",
            NoticeKind::QueueCalled => "queue_called",
            NoticeKind::QueueClosed => "queue_closed",
            NoticeKind::RefundStarted => "refund_started",
            NoticeKind::ConsultUnanswered => "consult_unanswered",
            NoticeKind::ConsultReferred => "consult_referred",
            NoticeKind::ConsultCompleted => "consult_completed",
            NoticeKind::ConsultReply => "consult_reply",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ALL_KINDS.iter().copied().find(|k| k.as_str() == s)
    }

    /// Whether the notice also goes out by SMS (important changes only).
    pub const fn by_sms(self) -> bool {
        matches!(
            self,
            NoticeKind::ProofApproved
                | NoticeKind::ProofRejected
                | NoticeKind::BookingConfirmed
                | NoticeKind::BookingCancelled
                | NoticeKind::SlotCancelled
                | NoticeKind::BookingReminder
                | NoticeKind::QueueCalled
                | NoticeKind::RefundStarted
                | NoticeKind::ConsultUnanswered
                | NoticeKind::ConsultReferred
                | NoticeKind::ConsultCompleted
                | NoticeKind::ConsultReply
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in ALL_KINDS {
            assert_eq!(NoticeKind::parse(k.as_str()), Some(*k));
        }
        assert_eq!(NoticeKind::parse("nope"), None);
    }
}
