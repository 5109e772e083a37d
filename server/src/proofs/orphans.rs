//! Stored files whose database row never came to be (R-ELIG-2: nothing half-stored is
//! left behind). An upload writes its files first and its rows last, and deletes the
//! files when the rows fail; only a process that dies in between leaves files behind.
//! This sweep finds them. It is safe to run on several servers at once (deleting twice
//! is fine) and leaves recent files alone, as their upload may still be committing.
use crate::db::diagnosis_proof;
use crate::state::State;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::BTreeSet;

/// Files younger than this may belong to an upload still in progress.
pub const GRACE_SECS: i64 = 3600;

/// Deletes proof files without a proof; returns how many were deleted.
pub async fn sweep(state: &State, now_unix: i64) -> anyhow::Result<usize> {
    let keys = state
        .files
        .written_before("proofs", now_unix - GRACE_SECS)
        .await?;
    // `proofs/<proof number>/<file>`
    let numbers: BTreeSet<&str> = keys.iter().filter_map(|k| proof_number(k)).collect();
    if numbers.is_empty() {
        return Ok(0);
    }
    let mut known = BTreeSet::new();
    // Bounded IN lists: a large backlog is asked for in pieces.
    let numbers: Vec<&str> = numbers.into_iter().collect();
    for chunk in numbers.chunks(500) {
        let found: Vec<String> = diagnosis_proof::Entity::find()
            .select_only()
            .column(diagnosis_proof::Column::ProofNumber)
            .filter(diagnosis_proof::Column::ProofNumber.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(&state.db)
            .await?;
        known.extend(found);
    }
    let mut deleted = 0;
    for key in &keys {
        if proof_number(key).is_some_and(|n| !known.contains(n)) {
            state.files.delete(key).await?;
            deleted += 1;
        }
    }
    if deleted > 0 {
        tracing::info!(deleted, "deleted stored files that had no proof");
    }
    Ok(deleted)
}

fn proof_number(key: &str) -> Option<&str> {
    let mut parts = key.split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("proofs"), Some(number), Some(_)) if !number.is_empty() => Some(number),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::proof_number;

    #[test]
    fn keys_name_their_proof() {
        assert_eq!(proof_number("proofs/P7K2/1.jpg"), Some("P7K2"));
        assert_eq!(proof_number("proofs/P7K2/1.thumb.jpg"), Some("P7K2"));
        assert_eq!(proof_number("proofs/P7K2"), None);
        assert_eq!(proof_number("other/P7K2/1.jpg"), None);
        assert_eq!(proof_number("proofs//1.jpg"), None);
    }
}
