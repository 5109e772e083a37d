//! A patient's consent rows as they are read with their session: which accepts stand.
use crate::db::consent_record;
use app::domain::consent::ConsentDocument;

pub const ACCEPT: &str = "accept";
pub const WITHDRAW: &str = "withdraw";

/// Of a patient's records, newest first: each document's latest, if it is an accept.
pub fn latest_accepts(rows: Vec<consent_record::Model>) -> Vec<consent_record::Model> {
    let mut latest: Vec<consent_record::Model> = Vec::new();
    for row in rows {
        if !latest.iter().any(|r| r.document == row.document) {
            latest.push(row);
        }
    }
    latest.retain(|r| r.action == ACCEPT);
    latest.sort_by_key(|r| ConsentDocument::parse(&r.document).map(|d| d as u8));
    latest
}
