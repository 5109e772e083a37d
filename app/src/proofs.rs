//! What pages and the API show of diagnosis proofs (R-ELIG-2).
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

/// The consult start page: whom it is for, what they may follow up, and (after asking)
/// the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsultStart {
    pub person_name: String,
    pub diagnoses: Vec<DiagnosisOption>,
    /// Asked and allowed: the proof it is booked against.
    pub eligible_proof: Option<String>,
    /// Not allowed, and why (also when there is nothing approved to follow up).
    pub refusal: Option<String>,
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

/// The consult's risk notice and informed consent page (R-REG-6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsultConsentView {
    pub person_name: String,
    /// `<ICD-10>:<department>`, passed on by the form.
    pub choice: String,
    /// The diagnosis in the reader's language, with its code.
    pub diagnosis: String,
    pub department: Department,
    pub step: ConsultConsentStep,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsultConsentStep {
    /// No clear emergency screen for this person in the last 30 minutes.
    ScreenFirst,
    /// Not eligible (a critical condition under the hospital's rule included), in words.
    Refused(String),
    /// The notice to confirm, and its version.
    Notice {
        text: String,
        version: String,
        /// Under 6: a guardian and a relevant specialist must be present (R-RX-3).
        guardian_and_specialist_present: bool,
    },
}
