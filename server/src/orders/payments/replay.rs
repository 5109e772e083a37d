//! A deterministic replay of Stripe webhook deliveries (R-PAY-4), shared by the replay
//! test and `make bench`: every order's events (a third fail then succeed, a third
//! succeed, a third only fail), each delivered once fresh, 400 repeats and 200 signed too
//! long ago, shuffled the same way every run. Not used by the server itself.
use serde_json::json;

pub const ORDERS: usize = 300;
pub const DELIVERIES: usize = 1000;
/// What a patient pays per replayed order.
pub const AMOUNT_FEN: i64 = 4000;

pub fn order_number(i: usize) -> String {
    format!("ODREPLAY{i:06}")
}

/// The PaymentIntent of order `i`.
pub fn intent(i: usize) -> String {
    format!("pi_r{i}")
}

/// Every tenth order's hold ended before its money came: that money goes back.
pub const fn expired(i: usize) -> bool {
    i % 10 == 9
}

/// Order `i` gets a success event.
pub const fn succeeds(i: usize) -> bool {
    i % 3 != 2
}

/// Order `i` gets a failure event.
pub const fn fails(i: usize) -> bool {
    i % 3 != 1
}

/// A small linear congruential generator: the same sequence every run.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from((self.0 >> 33) % (n as u64).max(1)).unwrap_or(0)
    }
}

pub struct Plan {
    /// The distinct events, as Stripe sends them (JSON).
    pub events: Vec<String>,
    /// (index into `events`, seconds since it was signed), in delivery order.
    pub deliveries: Vec<(usize, i64)>,
}

pub fn plan() -> Plan {
    let mut events = Vec::new();
    for i in 0..ORDERS {
        let object = |status: &str, received: i64| {
            json!({ "id": intent(i), "object": "payment_intent", "amount": AMOUNT_FEN,
                    "amount_received": received, "currency": "cny", "status": status,
                    "metadata": { "order_number": order_number(i) } })
        };
        if fails(i) {
            events.push(
                json!({ "id": format!("evt_fail_{i}"), "type": "payment_intent.payment_failed",
                        "data": { "object": object("requires_payment_method", 0) } })
                .to_string(),
            );
        }
        if succeeds(i) {
            events.push(
                json!({ "id": format!("evt_paid_{i}"), "type": "payment_intent.succeeded",
                        "data": { "object": object("succeeded", AMOUNT_FEN) } })
                .to_string(),
            );
        }
    }
    let mut rng = Lcg(20_261_125);
    let mut deliveries: Vec<(usize, i64)> = (0..events.len()).map(|e| (e, 0)).collect();
    let repeats = (DELIVERIES - events.len()) * 2 / 3;
    for _ in 0..repeats {
        deliveries.push((rng.below(events.len()), rng.below(120) as i64));
    }
    while deliveries.len() < DELIVERIES {
        // Older than Stripe's five-minute tolerance: refused.
        deliveries.push((rng.below(events.len()), 301 + rng.below(3600) as i64));
    }
    for i in (1..deliveries.len()).rev() {
        deliveries.swap(i, rng.below(i + 1));
    }
    Plan { events, deliveries }
}

/// How many deliveries are signed too long ago.
pub fn stale(plan: &Plan) -> usize {
    plan.deliveries.iter().filter(|(_, age)| *age > 300).count()
}

/// The SQL that makes order `i` and the consult booking it pays for, for `patient_id`, at
/// `now`: the hold runs (or, for an expired order, has ended), on the first slot, for the
/// patient's first approved diagnosis (the demo data has both).
pub fn insert_order(i: usize, patient_id: i64, now: i64) -> [String; 2] {
    let (booking_status, order_status, hold_ends) = if expired(i) {
        ("expired", "expired", now - 1)
    } else {
        ("held", "pending", now + 900)
    };
    let booking = format!("BKREPLAY{i:06}");
    [
        format!(
            "INSERT INTO booking (booking_number, slot_id, patient_id, person_key, proof_id, \
             icd10, status, starts_at, ends_at, held_at, hold_expires_at, refund_due) \
             SELECT '{booking}', s.id, {patient_id}, 'replay-{i}', p.id, p.icd10, \
             '{booking_status}', s.starts_at, s.ends_at, {now}, {hold_ends}, FALSE \
             FROM slot s, diagnosis_proof p \
             WHERE s.id = (SELECT MIN(id) FROM slot) AND p.id = (SELECT MIN(id) FROM \
             diagnosis_proof WHERE patient_id = {patient_id} AND status = 'approved')"
        ),
        format!(
            "INSERT INTO orders (order_number, patient_id, subject_id, kind, status, amount_fen, \
             refunded_fen, currency, description, provider, provider_ref, payment_started_at, \
             created_at, updated_at) SELECT '{}', {patient_id}, b.id, 'consult', \
             '{order_status}', {AMOUNT_FEN}, 0, 'CNY', 'replay', 'stripe', '{}', {now}, {now}, \
             {now} FROM booking b WHERE b.booking_number = '{booking}'",
            order_number(i),
            intent(i)
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_is_the_same_every_run_and_covers_every_event() {
        let (a, b) = (plan(), plan());
        assert_eq!(a.deliveries, b.deliveries);
        assert_eq!(a.events.len(), 400);
        assert_eq!(a.deliveries.len(), DELIVERIES);
        for e in 0..a.events.len() {
            assert!(a.deliveries.iter().any(|&(d, age)| d == e && age <= 300));
        }
        assert_eq!(stale(&a), 200);
    }
}
