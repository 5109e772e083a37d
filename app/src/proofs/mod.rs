//! What pages and the API show of diagnosis proofs (R-ELIG-2).
mod pages;
mod upload;

pub use pages::{NewProofPage, ProofsPage};

use crate::domain::department::Department;
use crate::domain::proof::{ProofStatus, RejectReason};
use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofFileView {
    /// 1-based, in upload order.
    pub position: i32,
    /// `jpeg`, `png` or `pdf`.
    pub kind: String,
    pub has_thumbnail: bool,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofView {
    pub proof_number: String,
    /// The family member it is for; none: the account holder.
    pub member_number: Option<String>,
    /// Whose diagnosis: the account holder's or the family member's name.
    pub person_name: String,
    pub institution: String,
    pub diagnosed_on: String,
    pub icd10: String,
    /// The condition's name in the reader's language.
    pub diagnosis: String,
    pub department: Department,
    pub note: String,
    pub status: ProofStatus,
    pub reject_reason: Option<RejectReason>,
    pub reject_note: Option<String>,
    /// As approved (the approver may correct them).
    pub approved_icd10: Option<String>,
    pub approved_department: Option<Department>,
    pub files: Vec<ProofFileView>,
    /// Local time, `YYYY-MM-DD HH:MM`.
    pub submitted_at: String,
    /// Seconds since submission (the review queue's waiting time).
    pub waiting_secs: i64,
}

/// An approved diagnosis a consult can follow up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagnosisOption {
    pub icd10: String,
    pub name: String,
    pub department: Department,
}

/// The upload page's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofForm {
    pub person_name: String,
    /// Every condition on the list, by department, in the reader's language.
    pub conditions: Vec<DiagnosisOption>,
    /// A fresh key for this form: a re-sent form finds the first upload.
    pub idempotency_key: String,
}

/// The account's diagnosis proofs.
pub struct ProofsQuery;
impl crate::page_data::PageQuery for ProofsQuery {
    type Answer = Vec<ProofView>;
}

/// The upload form's data.
pub struct ProofFormQuery;
impl crate::page_data::PageQuery for ProofFormQuery {
    type Answer = ProofForm;
}
