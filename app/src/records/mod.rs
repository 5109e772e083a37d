//! What the record pages and API show (R-EMR-1 … R-EMR-4).
mod pages;

pub use pages::{AccessLogPage, RecordPage, RecordsPage, record_body};

use crate::domain::record::{RecordStatus, RecordText};
use serde::{Deserialize, Serialize};

/// A medical record with its addenda.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordView {
    pub record_number: String,
    pub consult_number: String,
    pub status: RecordStatus,
    /// The draft's revision (every save adds one).
    pub revision: i32,
    pub text: RecordText,
    pub person_name: String,
    /// R-EMR-3: the person's one number on every record.
    pub person_number: String,
    pub doctor_name: String,
    pub archived_at: Option<i64>,
    /// SHA-256 of the archived content, linked to the person's previous record.
    pub content_hash: Option<String>,
    pub prev_hash: Option<String>,
    pub addenda: Vec<AddendumView>,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddendumView {
    pub author_name: String,
    pub body: String,
    pub at: i64,
}

/// A saved revision of a draft.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionView {
    pub revision: i32,
    pub author_name: String,
    pub text: RecordText,
    pub saved_at: i64,
}

/// One staff access to the patient's consult or record (R-EMR-2), as the patient reads it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessView {
    pub staff_name: String,
    /// `doctor`, `operator` …
    pub staff_role: String,
    /// `read`, `print` or `copy`.
    pub action: String,
    pub consult_number: String,
    pub reason: Option<String>,
    pub at: i64,
}

/// The account's archived records.
pub struct RecordsQuery;
impl crate::page_data::PageQuery for RecordsQuery {
    type Answer = Vec<RecordView>;
}

/// One of the account's archived records.
pub struct RecordQuery(pub String);
impl crate::page_data::PageQuery for RecordQuery {
    type Answer = RecordView;
}

/// Who viewed the account's consults and records.
pub struct AccessLogQuery;
impl crate::page_data::PageQuery for AccessLogQuery {
    type Answer = Vec<AccessView>;
}
