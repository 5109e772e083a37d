//! A booking's life (R-BOOK-2, R-BOOK-4, R-PAY-2): one machine, like the order's. A hold
//! waits for payment; paid it is confirmed; its time running out expires it; the patient
//! or the hospital cancels it. Every move is applied by one conditional update from the
//! statuses it may come from, so two servers never make it twice.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    /// The place is held for payment until the hold ends.
    Held,
    Confirmed,
    Cancelled,
    Expired,
}

impl BookingStatus {
    pub const ALL: [BookingStatus; 4] = [
        BookingStatus::Held,
        BookingStatus::Confirmed,
        BookingStatus::Cancelled,
        BookingStatus::Expired,
    ];

    /// As stored; the names never change.
    pub const fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Held => "held",
            BookingStatus::Confirmed => "confirmed",
            BookingStatus::Cancelled => "cancelled",
            BookingStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.as_str() == s)
    }

    /// Still takes its place in the slot.
    pub const fn is_live(self) -> bool {
        matches!(self, BookingStatus::Held | BookingStatus::Confirmed)
    }
}

/// What happens to a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingEvent {
    /// Its order was paid.
    Paid,
    /// The hold's time ran out with no payment under way (or the payment was called off).
    HoldRanOut,
    /// The patient cancelled (R-BOOK-2; free until the configured time before the start).
    CancelledByPatient,
    /// The hospital cancelled the slot (R-BOOK-4: money back in full).
    CancelledByHospital,
}

impl BookingEvent {
    /// The statuses the event moves a booking from.
    pub const fn from(self) -> &'static [BookingStatus] {
        match self {
            BookingEvent::Paid | BookingEvent::HoldRanOut => &[BookingStatus::Held],
            BookingEvent::CancelledByPatient | BookingEvent::CancelledByHospital => {
                &[BookingStatus::Held, BookingStatus::Confirmed]
            }
        }
    }

    /// The status the event moves it to.
    pub const fn to(self) -> BookingStatus {
        match self {
            BookingEvent::Paid => BookingStatus::Confirmed,
            BookingEvent::HoldRanOut => BookingStatus::Expired,
            BookingEvent::CancelledByPatient | BookingEvent::CancelledByHospital => {
                BookingStatus::Cancelled
            }
        }
    }
}

/// The move `event` makes from `from`; `None` when it cannot happen (a paid booking does
/// not run out, an ended one is not cancelled again).
pub fn apply(from: BookingStatus, event: BookingEvent) -> Option<BookingStatus> {
    event.from().contains(&from).then(|| event.to())
}

#[cfg(test)]
mod tests {
    use super::BookingEvent::*;
    use super::BookingStatus::*;
    use super::*;

    #[test]
    fn the_names_are_stored_and_read_back() {
        for s in BookingStatus::ALL {
            assert_eq!(BookingStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(BookingStatus::parse("paid"), None);
    }

    // R-BOOK-2: a hold is paid (confirmed) or runs out (expired), once.
    #[test]
    fn a_hold_is_confirmed_or_runs_out_and_nothing_else_ends_twice() {
        assert_eq!(apply(Held, Paid), Some(Confirmed));
        assert_eq!(apply(Held, HoldRanOut), Some(Expired));
        assert_eq!(apply(Confirmed, Paid), None);
        assert_eq!(
            apply(Confirmed, HoldRanOut),
            None,
            "a paid booking does not run out"
        );
        assert_eq!(
            apply(Expired, Paid),
            None,
            "money after the end goes back instead"
        );
        for ended in [Cancelled, Expired] {
            for event in [Paid, HoldRanOut, CancelledByPatient, CancelledByHospital] {
                assert_eq!(apply(ended, event), None, "{ended:?} {event:?}");
            }
        }
    }

    // R-BOOK-2, R-BOOK-4: the patient or the hospital cancels a live booking.
    #[test]
    fn live_bookings_are_cancelled_by_the_patient_or_the_hospital() {
        for live in [Held, Confirmed] {
            assert!(live.is_live());
            assert_eq!(apply(live, CancelledByPatient), Some(Cancelled));
            assert_eq!(apply(live, CancelledByHospital), Some(Cancelled));
        }
        assert!(!Cancelled.is_live() && !Expired.is_live());
    }
}
