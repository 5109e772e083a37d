//! What the consult pages and API show (R-CONS-1 … R-CONS-3): a consult as each side sees
//! it, and the doctor's desk.
use crate::domain::consult::ConsultStatus;
use crate::domain::schedule::ConsultType;
use serde::{Deserialize, Serialize};

/// A consult, as the patient or its doctor sees it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsultView {
    pub consult_number: String,
    pub status: ConsultStatus,
    pub consult_type: ConsultType,
    pub doctor_name: String,
    pub doctor_number: String,
    /// Who the consult is for (the account holder or the family member).
    pub person_name: String,
    /// The diagnosis followed up: ICD-10 code.
    pub icd10: String,
    /// Unix seconds: when the answer clock starts, the promised answer time (2 h, shown to
    /// both), and when an unanswered consult closes and is refunded (R-CONS-3).
    pub opens_at: i64,
    pub answer_promised_by: i64,
    pub closes_unanswered_at: i64,
    pub first_answer_at: Option<i64>,
    /// A text consult: until when the patient may write (48 h after the first answer).
    pub patient_writes_until: Option<i64>,
    /// The doctor's reason for a referral (R-ELIG-4).
    pub end_reason: Option<String>,
    pub last_seq: i64,
    /// Entries from the other side not yet read by this viewer.
    pub unread: i64,
    /// The other side has read up to this seq (read receipts).
    pub other_read_seq: i64,
    /// The archived record's number, once the consult is completed.
    pub record_number: Option<String>,
}

/// One consult on the doctor's desk.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskItem {
    pub consult: ConsultView,
    /// Age in full years and sex of the person.
    pub age: u32,
    pub sex: String,
    /// Seconds left to the promised answer (negative: late).
    pub answer_left_secs: i64,
}

/// The doctor's desk (R-CONS-2): waiting consults by time left to the answer deadline,
/// those in progress, and today's video appointments.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Desk {
    pub waiting: Vec<DeskItem>,
    pub in_progress: Vec<DeskItem>,
    pub video_today: Vec<DeskItem>,
}

/// What the doctor sees before answering (R-CONS-2).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientBrief {
    pub person_name: String,
    /// The person's number, the same on every record (R-EMR-3).
    pub person_number: String,
    pub age: u32,
    pub sex: String,
    /// For a family member: the guardian who acts for them.
    pub guardian_name: Option<String>,
    pub relationship: Option<String>,
    pub diagnoses: Vec<DiagnosisBrief>,
    /// Past consults of this person with this hospital, newest first.
    pub past: Vec<PastConsult>,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagnosisBrief {
    pub icd10: String,
    pub proof_number: String,
    /// `YYYY-MM-DD`.
    pub diagnosed_on: String,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastConsult {
    pub consult_number: String,
    pub status: ConsultStatus,
    pub icd10: String,
    pub doctor_name: String,
    pub at: i64,
    pub record_number: Option<String>,
}

/// A consult as its doctor opens it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoctorConsult {
    pub consult: ConsultView,
    pub patient: PatientBrief,
}
