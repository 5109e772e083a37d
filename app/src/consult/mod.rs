//! What the consult pages and API show (R-CONS-1 … R-CONS-3): a consult as each side sees
//! it, and the doctor's desk.
mod desk;
mod pages;

pub use desk::{ConsultDeskPage, DoctorConsultPage};
pub(crate) use pages::when;
pub use pages::{ConsultCallPage, ConsultListSection, ConsultPage};
#[cfg(feature = "hydrate")]
pub(crate) use pages::{status_class, status_text};

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
pub struct ConsultDesk {
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

/// The patient's consult page: the consult, its conversation so far, and the ids the
/// page's forms send (a repeated submit stores once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsultPageData {
    pub consult: ConsultView,
    pub entries: Vec<crate::chat::protocol::Entry>,
    /// A fresh UUID for the text form's message, and a key for the photo form's upload.
    pub client_id: String,
    pub upload_key: String,
    /// The photo form's message id.
    pub file_client_id: String,
    /// Whether the patient may write now; otherwise why not.
    pub write_refused: Option<crate::domain::ErrorCode>,
    /// A video consult's STUN/TURN for the check before a call (none: not a video
    /// consult).
    pub call_check: Option<Vec<crate::chat::protocol::IceServer>>,
    /// The consult's calls and their recordings (R-CONS-7).
    pub calls: Vec<crate::call::CallRecord>,
}

/// The doctor's consult page (R-CONS-2): the patient's brief, the conversation, the
/// record and the quick replies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoctorConsultData {
    pub consult: DoctorConsult,
    pub entries: Vec<crate::chat::protocol::Entry>,
    pub client_id: String,
    pub upload_key: String,
    /// The photo form's message id.
    pub file_client_id: String,
    pub record: Option<crate::records::RecordView>,
    pub quick_replies: Vec<String>,
    /// A video consult's STUN/TURN for the check before a call.
    pub call_check: Option<Vec<crate::chat::protocol::IceServer>>,
    /// The consult's calls and their recordings (R-CONS-7).
    pub calls: Vec<crate::call::CallRecord>,
}

/// The account's consults.
pub struct ConsultsQuery;
impl crate::page_data::PageQuery for ConsultsQuery {
    type Answer = Vec<ConsultView>;
}

/// One of the account's consults, by number.
#[derive(Clone)]
pub struct ConsultQuery(pub String);
impl crate::page_data::PageQuery for ConsultQuery {
    type Answer = ConsultPageData;
}

/// The doctor's consult desk.
#[derive(Clone)]
pub struct ConsultDeskQuery;
impl crate::page_data::PageQuery for ConsultDeskQuery {
    type Answer = ConsultDesk;
}

/// One of the doctor's consults, by number (each opening is logged, R-EMR-2).
#[derive(Clone)]
pub struct DoctorConsultQuery(pub String);
impl crate::page_data::PageQuery for DoctorConsultQuery {
    type Answer = DoctorConsultData;
}
