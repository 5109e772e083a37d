//! `server audit verify` (R-SEC-2, security review item 4): the whole sealed chain
//! recomputed with the key, the marker checked, and the first bad row named.
use super::anchor::{Authority, anchored, check_anchors};
use super::chain::{self, AuditKey, GENESIS_HASH};
use super::{entity, read_head, read_marker};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::{HashMap, HashSet};
use std::fmt;

/// The result of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Rows read.
    pub rows: u64,
    /// The first seq that does not check out, and why; `None` if the chain is intact.
    pub first_broken: Option<(i64, String)>,
    /// Anchors checked (time-stamped heads).
    pub anchors: usize,
}

impl ChainReport {
    pub fn is_intact(&self) -> bool {
        self.first_broken.is_none()
    }
}

impl fmt::Display for ChainReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.first_broken {
            None => write!(
                f,
                "audit log intact: {} rows verified, {} time-stamped heads checked",
                self.rows, self.anchors
            ),
            Some((seq, why)) => write!(
                f,
                "audit log BROKEN at seq {seq}: {why} ({} rows read)",
                self.rows
            ),
        }
    }
}

/// Rows read per query.
const PAGE: u64 = 1000;

/// Recomputes the whole sealed chain, a page at a time in seq order: seq continuity
/// from 1, each row's link to its predecessor, each row's hash, and the end against
/// `audit_head`. Safe to run while the server appends and seals: rows sealed during
/// the run are checked if seen and otherwise left for the next run. Rows not sealed
/// yet are not part of the chain; run [`seal`] first to include them.
pub async fn verify(db: &impl ConnectionTrait, key: &AuditKey) -> Result<ChainReport, DbErr> {
    Ok(chain_checked(db, key, &HashSet::new()).await?.0)
}

/// [`verify`], and then every anchor against the chain as recomputed: a head that was
/// time-stamped must still be there, with the same hash (security review item 4).
pub async fn verify_anchored(
    db: &impl ConnectionTrait,
    key: &AuditKey,
    authority: &Authority,
) -> Result<ChainReport, DbErr> {
    let anchors = anchored(db).await?;
    let wanted: HashSet<i64> = anchors.iter().map(|(seq, _, _)| *seq).collect();
    let (mut report, hashes) = chain_checked(db, key, &wanted).await?;
    if report.first_broken.is_none() {
        report.first_broken = check_anchors(&anchors, &hashes, authority);
    }
    report.anchors = anchors.len();
    Ok(report)
}

/// The chain checked, with the hashes at the `wanted` seqs.
async fn chain_checked(
    db: &impl ConnectionTrait,
    key: &AuditKey,
    wanted: &HashSet<i64>,
) -> Result<(ChainReport, HashMap<i64, String>), DbErr> {
    let mut kept = HashMap::new();
    let start = read_head(db).await?;
    // Without a marker nothing is keyed: any sealed row then breaks the chain at seq 1
    // (a keyed sealer marks before it seals). A marker the key did not make is forged.
    let marker = read_marker(db).await?;
    let keyed_from = match &marker {
        Some((from, tag)) if *tag == key.marker_tag(*from) => *from,
        Some((from, _)) => {
            let report = ChainReport {
                rows: 0,
                first_broken: Some((
                    *from,
                    "the key marker was not made with this FUZHEN_AUDIT_KEY (moved, forged, or another key)"
                        .to_owned(),
                )),
                anchors: 0,
            };
            return Ok((report, kept));
        }
        None => i64::MAX,
    };
    let mut rows = 0u64;
    let mut broken: Option<(i64, String)> = None;
    let mut last_seq = 0i64;
    let mut last_hash = GENESIS_HASH.to_owned();
    // The stored hash of the row the head pointed at when we started.
    let mut hash_at_start: Option<String> = None;
    loop {
        let page = entity::Entity::find()
            .filter(entity::Column::Seq.gt(last_seq))
            .order_by_asc(entity::Column::Seq)
            .limit(PAGE)
            .all(db)
            .await?;
        if page.is_empty() {
            break;
        }
        for row in page {
            rows += 1;
            if broken.is_none() && marker.is_none() {
                broken = Some((1, "the chain has no key marker: it is not keyed".to_owned()));
            }
            if broken.is_none() {
                broken = check_row(&row, last_seq, &last_hash, key, keyed_from);
            }
            // Only sealed rows are read (`seq > …` is never true of NULL), and a sealed
            // row has all three seal columns (a CHECK constraint).
            let seq = row.seq.unwrap_or(last_seq + 1);
            let hash = row.hash.unwrap_or_default();
            if wanted.contains(&seq) {
                kept.insert(seq, hash.clone());
            }
            if start.as_ref().is_some_and(|(s, _)| *s == seq) {
                hash_at_start = Some(hash.clone());
            }
            last_seq = seq;
            last_hash = hash;
        }
    }
    if broken.is_none() {
        let end = read_head(db).await?;
        broken = check_head(start, end, hash_at_start, last_seq, &last_hash);
    }
    let report = ChainReport {
        rows,
        first_broken: broken,
        anchors: 0,
    };
    Ok((report, kept))
}

/// Checks one row against the row before it (`prev_seq` 0 and the genesis hash for the
/// first).
fn check_row(
    row: &entity::Model,
    prev_seq: i64,
    prev_hash: &str,
    key: &AuditKey,
    keyed_from: i64,
) -> Option<(i64, String)> {
    let expected = prev_seq + 1;
    let (Some(seq), Some(hash)) = (row.seq, row.hash.as_deref()) else {
        return Some((expected, "a row read as sealed has no seal".to_owned()));
    };
    if seq != expected {
        return Some((
            expected,
            format!("seq {expected} is missing: the log goes from seq {prev_seq} to seq {seq}"),
        ));
    }
    if row.prev_hash.as_deref() != Some(prev_hash) {
        let what = if prev_seq == 0 {
            "the genesis hash".to_owned()
        } else {
            format!("the hash of seq {prev_seq}")
        };
        return Some((seq, format!("prev_hash does not match {what}")));
    }
    if chain::hash_for(row, key, keyed_from) != hash {
        return Some((
            seq,
            "hash does not match the row's contents (the row was altered, or rehashed without the key)".to_owned(),
        ));
    }
    None
}

/// Checks the chain's end against the head read before (`start`) and after (`end`)
/// the rows; `last_seq` is 0 when there are no rows.
fn check_head(
    start: Option<(i64, String)>,
    end: Option<(i64, String)>,
    hash_at_start: Option<String>,
    last_seq: i64,
    last_hash: &str,
) -> Option<(i64, String)> {
    let (Some((start_seq, start_hash)), Some((end_seq, end_hash))) = (start, end) else {
        return Some((0, "audit_head (id = 1) is missing".to_owned()));
    };
    if last_seq < start_seq {
        return Some((
            last_seq + 1,
            format!(
                "seq {} is missing: audit_head is at seq {start_seq} but the log ends at seq {last_seq} (rows removed from the end)",
                last_seq + 1
            ),
        ));
    }
    let expected_at_start = if start_seq == 0 {
        Some(GENESIS_HASH.to_owned())
    } else {
        hash_at_start
    };
    if expected_at_start.as_deref() != Some(start_hash.as_str()) {
        return Some((
            start_seq,
            format!("hash differs from audit_head's last_hash at seq {start_seq}"),
        ));
    }
    if end_seq < start_seq {
        return Some((end_seq, "audit_head moved backwards".to_owned()));
    }
    // A row and its head update commit together, so the head is never behind a
    // committed row.
    if last_seq > end_seq {
        return Some((
            end_seq + 1,
            format!(
                "seq {} is past audit_head (seq {end_seq}): not appended through it",
                end_seq + 1
            ),
        ));
    }
    if last_seq == end_seq && last_hash != end_hash {
        return Some((
            end_seq,
            format!("hash differs from audit_head's last_hash at seq {end_seq}"),
        ));
    }
    None
}
