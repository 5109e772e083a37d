//! Daily reconciliation (R-PAY-3): our books against the provider's for one day. Each
//! movement of money is matched by the provider's id for it; what only one side has, or
//! what both have with different amounts, becomes a line an operator must resolve.
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One movement of money: positive for a payment, negative for a refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub provider_ref: String,
    pub order_number: Option<String>,
    pub amount_fen: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// Both sides agree.
    Matched,
    /// In our books, not at the provider.
    OnlyOurs,
    /// At the provider, not in our books.
    OnlyTheirs,
    /// Both have it, with different amounts.
    AmountMismatch,
}

impl LineKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            LineKind::Matched => "matched",
            LineKind::OnlyOurs => "only_ours",
            LineKind::OnlyTheirs => "only_theirs",
            LineKind::AmountMismatch => "amount_mismatch",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            LineKind::Matched,
            LineKind::OnlyOurs,
            LineKind::OnlyTheirs,
            LineKind::AmountMismatch,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub kind: LineKind,
    pub provider_ref: String,
    pub order_number: Option<String>,
    pub ours_fen: Option<i64>,
    pub theirs_fen: Option<i64>,
}

/// Compares the two sides. The same id twice on one side is summed (a provider may
/// split a movement); lines come sorted by id, so a report reads the same every run.
pub fn reconcile(ours: &[Entry], theirs: &[Entry]) -> Vec<Line> {
    fn by_ref(entries: &[Entry]) -> BTreeMap<&str, (i64, Option<&str>)> {
        let mut m: BTreeMap<&str, (i64, Option<&str>)> = BTreeMap::new();
        for e in entries {
            let slot = m.entry(e.provider_ref.as_str()).or_insert((0, None));
            slot.0 = slot.0.saturating_add(e.amount_fen);
            if slot.1.is_none() {
                slot.1 = e.order_number.as_deref();
            }
        }
        m
    }
    let (ours, theirs) = (by_ref(ours), by_ref(theirs));
    let mut refs: Vec<&str> = ours.keys().chain(theirs.keys()).copied().collect();
    refs.sort_unstable();
    refs.dedup();
    refs.into_iter()
        .map(|r| {
            let (o, t) = (ours.get(r), theirs.get(r));
            let kind = match (o, t) {
                (Some(o), Some(t)) if o.0 == t.0 => LineKind::Matched,
                (Some(_), Some(_)) => LineKind::AmountMismatch,
                (Some(_), None) => LineKind::OnlyOurs,
                (None, _) => LineKind::OnlyTheirs,
            };
            Line {
                kind,
                provider_ref: r.to_owned(),
                order_number: o
                    .and_then(|o| o.1)
                    .or(t.and_then(|t| t.1))
                    .map(str::to_owned),
                ours_fen: o.map(|o| o.0),
                theirs_fen: t.map(|t| t.0),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(r: &str, order: &str, fen: i64) -> Entry {
        Entry {
            provider_ref: r.into(),
            order_number: Some(order.into()),
            amount_fen: fen,
        }
    }

    // R-PAY-3: matches, one-sided entries on either side, and amount mismatches.
    #[test]
    fn every_kind_of_difference_is_reported() {
        let ours = [
            e("pi_1", "OD1", 4000),
            e("re_1", "OD1", -4000),
            e("pi_2", "OD2", 5000),
            e("pi_3", "OD3", 4000),
        ];
        let theirs = [
            e("pi_1", "OD1", 4000),
            e("re_1", "OD1", -4000),
            e("pi_3", "OD3", 3900),
            e("pi_4", "OD4", 6000),
        ];
        let lines = reconcile(&ours, &theirs);
        let kinds: Vec<(&str, LineKind, Option<i64>, Option<i64>)> = lines
            .iter()
            .map(|l| (l.provider_ref.as_str(), l.kind, l.ours_fen, l.theirs_fen))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("pi_1", LineKind::Matched, Some(4000), Some(4000)),
                ("pi_2", LineKind::OnlyOurs, Some(5000), None),
                ("pi_3", LineKind::AmountMismatch, Some(4000), Some(3900)),
                ("pi_4", LineKind::OnlyTheirs, None, Some(6000)),
                ("re_1", LineKind::Matched, Some(-4000), Some(-4000)),
            ]
        );
        assert_eq!(lines[3].order_number.as_deref(), Some("OD4"));
    }

    // Nothing on either side: nothing to report; a split movement is summed.
    #[test]
    fn empty_days_and_split_movements() {
        assert!(reconcile(&[], &[]).is_empty());
        let lines = reconcile(
            &[e("pi_1", "OD1", 4000)],
            &[e("pi_1", "OD1", 3000), e("pi_1", "OD1", 1000)],
        );
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].kind, LineKind::Matched);
    }

    #[test]
    fn kinds_round_trip() {
        for k in [
            LineKind::Matched,
            LineKind::OnlyOurs,
            LineKind::OnlyTheirs,
            LineKind::AmountMismatch,
        ] {
            assert_eq!(LineKind::parse(k.as_str()), Some(k));
        }
    }
}
