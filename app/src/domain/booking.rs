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

/// One of the account's bookings, as the hold rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TheirBooking<'a> {
    pub patient_id: i64,
    /// Whom it is for: the account holder or one of their family members.
    pub person_key: &'a str,
    pub status: BookingStatus,
    pub starts_at: i64,
    pub ends_at: i64,
    pub hold_expires_at: i64,
}

/// A new hold for one person of an account at `[starts_at, ends_at)`, asked at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoldAsked<'a> {
    pub patient_id: i64,
    pub person_key: &'a str,
    pub starts_at: i64,
    pub ends_at: i64,
    pub now: i64,
}

/// What the hold rules decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldDecision {
    Refused(crate::domain::ErrorCode),
    /// Hold it; first end these (indexes into `theirs`): the person's holds at that time
    /// that ran out, which would otherwise block it.
    Take {
        ran_out: Vec<usize>,
    },
}

/// R-BOOK-2: the overlap and running-holds rules for one new hold, against `theirs` (the
/// account's bookings; those that do not matter are ignored). A confirmed booking or a
/// running hold of the same person at a time that overlaps refuses it (ending as the
/// other starts does not overlap); the account may run only so many holds at once
/// (`schedule::may_hold_another`); a hold of theirs there that ran out gives its place
/// back first.
pub fn decide_hold(asked: HoldAsked<'_>, theirs: &[TheirBooking<'_>]) -> HoldDecision {
    use super::schedule::{may_hold_another, overlaps};
    use crate::domain::ErrorCode;
    let running =
        |b: &TheirBooking<'_>| b.status == BookingStatus::Held && b.hold_expires_at > asked.now;
    let live = |b: &TheirBooking<'_>| b.patient_id == asked.patient_id && b.status.is_live();
    let at_that_time: Vec<usize> = theirs
        .iter()
        .enumerate()
        .filter(|(_, b)| live(b))
        .filter(|(_, b)| {
            b.person_key == asked.person_key
                && overlaps((b.starts_at, b.ends_at), (asked.starts_at, asked.ends_at))
        })
        .map(|(i, _)| i)
        .collect();
    if at_that_time
        .iter()
        .any(|&i| theirs[i].status == BookingStatus::Confirmed || running(&theirs[i]))
    {
        return HoldDecision::Refused(ErrorCode::BookingOverlaps);
    }
    if !may_hold_another(theirs.iter().filter(|b| live(b) && running(b)).count()) {
        return HoldDecision::Refused(ErrorCode::TooManyHolds);
    }
    HoldDecision::Take {
        ran_out: at_that_time,
    }
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

    fn theirs(status: BookingStatus, person: &str, at: i64, hold_ends: i64) -> TheirBooking<'_> {
        TheirBooking {
            patient_id: 1,
            person_key: person,
            status,
            starts_at: at,
            ends_at: at + 1800,
            hold_expires_at: hold_ends,
        }
    }

    fn asked(at: i64, now: i64) -> HoldAsked<'static> {
        HoldAsked {
            patient_id: 1,
            person_key: "p1",
            starts_at: at,
            ends_at: at + 1800,
            now,
        }
    }

    // R-BOOK-2: one person cannot hold or book two overlapping times; back to back is
    // fine; another person of the account (a child) may.
    #[test]
    fn an_overlap_is_refused_at_its_edges() {
        use crate::domain::ErrorCode::*;
        let mine = [theirs(Confirmed, "p1", 10_000, 0)];
        assert_eq!(
            decide_hold(asked(10_000 + 1799, 0), &mine),
            HoldDecision::Refused(BookingOverlaps)
        );
        assert_eq!(
            decide_hold(asked(10_000 + 1800, 0), &mine),
            HoldDecision::Take { ran_out: vec![] }
        );
        assert_eq!(
            decide_hold(asked(10_000 - 1800, 0), &mine),
            HoldDecision::Take { ran_out: vec![] }
        );
        let childs = [theirs(Confirmed, "child", 10_000, 0)];
        assert_eq!(
            decide_hold(asked(10_000, 0), &childs),
            HoldDecision::Take { ran_out: vec![] }
        );
    }

    // R-BOOK-2: a hold of the same person there that ran out (at its second, not before)
    // gives its place back; one still running refuses.
    #[test]
    fn a_ran_out_hold_at_that_time_ends_first() {
        use crate::domain::ErrorCode::*;
        let hold = [theirs(Held, "p1", 10_000, 500)];
        assert_eq!(
            decide_hold(asked(10_000, 499), &hold),
            HoldDecision::Refused(BookingOverlaps)
        );
        assert_eq!(
            decide_hold(asked(10_000, 500), &hold),
            HoldDecision::Take { ran_out: vec![0] }
        );
        let ended = [
            theirs(Expired, "p1", 10_000, 0),
            theirs(Cancelled, "p1", 10_000, 0),
        ];
        assert_eq!(
            decide_hold(asked(10_000, 0), &ended),
            HoldDecision::Take { ran_out: vec![] }
        );
    }

    // R-BOOK-2: the account runs at most so many holds at once, whoever they are for.
    #[test]
    fn running_holds_are_counted_for_the_whole_account() {
        use super::super::schedule::MAX_LIVE_HOLDS;
        use crate::domain::ErrorCode::*;
        let people = ["a", "b", "c", "d", "e", "f"];
        let running: Vec<_> = (0..MAX_LIVE_HOLDS)
            .map(|i| theirs(Held, people[i], 100_000 * (i as i64 + 1), 1_000))
            .collect();
        assert_eq!(
            decide_hold(asked(10_000, 999), &running),
            HoldDecision::Refused(TooManyHolds)
        );
        // At their end they stop counting.
        assert_eq!(
            decide_hold(asked(10_000, 1_000), &running),
            HoldDecision::Take { ran_out: vec![] }
        );
        let fewer = &running[..MAX_LIVE_HOLDS - 1];
        assert_eq!(
            decide_hold(asked(10_000, 999), fewer),
            HoldDecision::Take { ran_out: vec![] }
        );
    }
}
