//! The consult's entry: the start page, the emergency screen and the consult notice.
mod consult_consent;
mod consult_start;
mod screen;

pub use consult_consent::ConsultConsentPage;
pub use consult_start::ConsultStartPage;
pub use screen::{EmergencyPage, ScreenPage};

use crate::domain::department::Department;
use crate::proofs::DiagnosisOption;
use serde::{Deserialize, Serialize};

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

/// The consult start page, with the answer for `(icd10, department)` if asked.
pub struct ConsultStartQuery(pub Option<(String, String)>);
impl crate::page_data::PageQuery for ConsultStartQuery {
    type Answer = ConsultStart;
}

/// The consult's notice page for `<ICD-10>:<department>` (R-REG-6).
pub struct ConsultConsentQuery(pub String);
impl crate::page_data::PageQuery for ConsultConsentQuery {
    type Answer = ConsultConsentView;
}
