use super::*;
use OrderEvent as Ev;
use OrderStatus as S;

const EVENTS: &[OrderEvent] = &[
    Ev::PaymentSucceeded,
    Ev::PaymentFailed,
    Ev::HoldExpired,
    Ev::ServiceGiven,
    Ev::Close,
    Ev::FullRefundAsked(RefundReason::SlotCancelled),
    Ev::RefundSettled,
    Ev::RefundFailed(S::Served),
];

/// Every pair, written out: the table the status machine must match.
fn expected(from: OrderStatus, event: OrderEvent) -> &'static str {
    match (from, event) {
        (S::Pending, Ev::PaymentSucceeded) => "paid+confirm",
        (S::Pending, Ev::PaymentFailed) => "stale",
        (S::Pending, Ev::HoldExpired) => "expired",
        (S::Pending, Ev::ServiceGiven) => "illegal",
        (S::Pending, Ev::Close) => "illegal",
        (S::Pending, Ev::FullRefundAsked(_)) => "illegal",
        (S::Pending, Ev::RefundSettled) => "illegal",
        (S::Pending, Ev::RefundFailed(_)) => "illegal",

        (S::Paid, Ev::PaymentSucceeded) => "stale",
        (S::Paid, Ev::PaymentFailed) => "stale",
        (S::Paid, Ev::HoldExpired) => "stale",
        (S::Paid, Ev::ServiceGiven) => "served",
        (S::Paid, Ev::Close) => "illegal",
        (S::Paid, Ev::FullRefundAsked(_)) => "refunding+refund",
        (S::Paid, Ev::RefundSettled) => "illegal",
        (S::Paid, Ev::RefundFailed(_)) => "stale",

        (S::Served, Ev::PaymentSucceeded) => "stale",
        (S::Served, Ev::PaymentFailed) => "stale",
        (S::Served, Ev::HoldExpired) => "stale",
        (S::Served, Ev::ServiceGiven) => "stale",
        (S::Served, Ev::Close) => "closed",
        (S::Served, Ev::FullRefundAsked(_)) => "refunding+refund",
        (S::Served, Ev::RefundSettled) => "illegal",
        (S::Served, Ev::RefundFailed(_)) => "stale",

        (S::Closed, Ev::PaymentSucceeded) => "stale",
        (S::Closed, Ev::PaymentFailed) => "stale",
        (S::Closed, Ev::HoldExpired) => "stale",
        (S::Closed, Ev::ServiceGiven) => "illegal",
        (S::Closed, Ev::Close) => "stale",
        (S::Closed, Ev::FullRefundAsked(_)) => "illegal",
        (S::Closed, Ev::RefundSettled) => "illegal",
        (S::Closed, Ev::RefundFailed(_)) => "illegal",

        (S::Refunding, Ev::PaymentSucceeded) => "stale",
        (S::Refunding, Ev::PaymentFailed) => "stale",
        (S::Refunding, Ev::HoldExpired) => "stale",
        (S::Refunding, Ev::ServiceGiven) => "illegal",
        (S::Refunding, Ev::Close) => "illegal",
        (S::Refunding, Ev::FullRefundAsked(_)) => "stale",
        (S::Refunding, Ev::RefundSettled) => "refunded",
        (S::Refunding, Ev::RefundFailed(_)) => "served",

        (S::Refunded, Ev::PaymentSucceeded) => "stale",
        (S::Refunded, Ev::PaymentFailed) => "stale",
        (S::Refunded, Ev::HoldExpired) => "stale",
        (S::Refunded, Ev::ServiceGiven) => "illegal",
        (S::Refunded, Ev::Close) => "illegal",
        (S::Refunded, Ev::FullRefundAsked(_)) => "stale",
        (S::Refunded, Ev::RefundSettled) => "stale",
        (S::Refunded, Ev::RefundFailed(_)) => "stale",

        (S::Expired, Ev::PaymentSucceeded) => "refunding+refund",
        (S::Expired, Ev::PaymentFailed) => "stale",
        (S::Expired, Ev::HoldExpired) => "stale",
        (S::Expired, Ev::ServiceGiven) => "illegal",
        (S::Expired, Ev::Close) => "illegal",
        (S::Expired, Ev::FullRefundAsked(_)) => "refunding+refund",
        (S::Expired, Ev::RefundSettled) => "illegal",
        (S::Expired, Ev::RefundFailed(_)) => "stale",
    }
}

fn described(outcome: Result<Outcome, IllegalTransition>) -> String {
    match outcome {
        Err(_) => "illegal".into(),
        Ok(Outcome::Stale) => "stale".into(),
        Ok(Outcome::Move { to, effect }) => match effect {
            Effect::Nothing => to.as_str().into(),
            Effect::Confirm => format!("{}+confirm", to.as_str()),
            Effect::Refund(_) => format!("{}+refund", to.as_str()),
        },
    }
}

// R-PAY-2, R-PAY-4: all 56 pairs decided as the table says.
#[test]
fn every_status_and_event_is_decided_as_the_table_says() {
    for &from in ALL_ORDER_STATUSES {
        for &event in EVENTS {
            assert_eq!(
                described(apply(from, event)),
                expected(from, event),
                "{from:?} + {event:?}"
            );
        }
    }
}

// A final status never moves again, whatever arrives.
#[test]
fn final_statuses_never_move() {
    for &from in ALL_ORDER_STATUSES.iter().filter(|s| s.is_final()) {
        for &event in EVENTS {
            if let Ok(Outcome::Move { to, .. }) = apply(from, event) {
                panic!("{from:?} + {event:?} moved to {to:?}");
            }
        }
    }
}

// Security review item 8a: a failed full refund returns the order to where it was,
// and only to a status a refund can start from.
#[test]
fn a_failed_refund_returns_the_order_to_where_it_was() {
    for back in [S::Paid, S::Served, S::Expired] {
        assert_eq!(
            apply(S::Refunding, Ev::RefundFailed(back)),
            Ok(Outcome::Move {
                to: back,
                effect: Effect::Nothing
            })
        );
    }
    for back in [S::Pending, S::Closed, S::Refunding, S::Refunded] {
        assert!(
            apply(S::Refunding, Ev::RefundFailed(back)).is_err(),
            "{back:?}"
        );
    }
}

// R-PAY-2: money paid after the hold ended goes back, with that reason.
#[test]
fn payment_after_expiry_is_refunded_in_full() {
    assert_eq!(
        apply(S::Expired, Ev::PaymentSucceeded),
        Ok(Outcome::Move {
            to: S::Refunding,
            effect: Effect::Refund(RefundReason::PaidAfterExpiry)
        })
    );
}

// R-PAY-4: a second success, in any order with the others, changes nothing.
#[test]
fn repeated_and_late_events_change_nothing() {
    let mut status = S::Pending;
    let mut confirmed = 0;
    for event in [
        Ev::PaymentSucceeded,
        Ev::PaymentSucceeded,
        Ev::HoldExpired,
        Ev::PaymentFailed,
        Ev::PaymentSucceeded,
    ] {
        if let Ok(Outcome::Move { to, effect }) = apply(status, event) {
            status = to;
            confirmed += usize::from(effect == Effect::Confirm);
        }
    }
    assert_eq!((status, confirmed), (S::Paid, 1));
}

#[test]
fn amounts_are_whole_non_negative_fen() {
    assert_eq!(Fen::new(-1), None);
    assert_eq!(Fen::new(0), Some(Fen::ZERO));
    assert_eq!(Fen::new(MAX_ORDER_FEN).map(Fen::get), Some(MAX_ORDER_FEN));
    assert_eq!(Fen::new(MAX_ORDER_FEN + 1), None);
    assert!(serde_json::from_str::<Fen>("-5").is_err());
    assert!(serde_json::from_str::<Fen>("40.5").is_err());
    assert_eq!(serde_json::from_str::<Fen>("4000").ok(), Fen::new(4000));
    assert_eq!(Fen(4000).yuan_text(), "¥40");
    assert_eq!(Fen(4050).yuan_text(), "¥40.50");
    assert_eq!(Fen(5).yuan_text(), "¥0.05");
}

// R-PAY-2: an operator's amount in yuan is read exactly or refused, never rounded.
#[test]
fn yuan_are_read_exactly() {
    assert_eq!(Fen::parse_yuan("40"), Some(Fen(4000)));
    assert_eq!(Fen::parse_yuan(" 12.5 "), Some(Fen(1250)));
    assert_eq!(Fen::parse_yuan("¥0.05"), Some(Fen(5)));
    assert_eq!(Fen::parse_yuan("100000"), Some(Fen(MAX_ORDER_FEN)));
    for bad in [
        "",
        "12.",
        ".5",
        "1.005",
        "-1",
        "1e3",
        "12,5",
        "100000.01",
        "abc",
        "1 000",
    ] {
        assert_eq!(Fen::parse_yuan(bad), None, "{bad:?}");
    }
}

// R-PAY-2: partial refunds by an operator, never more than what is left.
#[test]
fn partial_refunds_stay_within_what_was_paid() {
    let paid = Fen(4000);
    assert_eq!(
        partial_refund(S::Paid, paid, Fen::ZERO, Fen(1000)),
        Ok(Fen(1000))
    );
    assert_eq!(
        partial_refund(S::Served, paid, Fen(3000), Fen(1000)),
        Ok(Fen(1000))
    );
    assert_eq!(
        partial_refund(S::Served, paid, Fen(3000), Fen(1001)),
        Err(PartialRefundRefused::OutOfRange { left: Fen(1000) })
    );
    assert_eq!(
        partial_refund(S::Paid, paid, Fen::ZERO, Fen::ZERO),
        Err(PartialRefundRefused::OutOfRange { left: paid })
    );
    assert_eq!(
        partial_refund(S::Paid, paid, paid, Fen(1)),
        Err(PartialRefundRefused::NothingLeft)
    );
    for s in [S::Pending, S::Refunding, S::Refunded, S::Expired, S::Closed] {
        assert_eq!(
            partial_refund(s, paid, Fen::ZERO, Fen(1)),
            Err(PartialRefundRefused::NothingLeft),
            "{s:?}"
        );
    }
}

#[test]
fn statuses_and_reasons_round_trip() {
    for &s in ALL_ORDER_STATUSES {
        assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
    }
    assert_eq!(OrderStatus::parse("PAID"), None);
    assert_eq!(
        RefundReason::parse("paid_after_expiry"),
        Some(RefundReason::PaidAfterExpiry)
    );
    assert_eq!(RefundReason::parse(""), None);
}
