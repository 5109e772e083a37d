//! Accounts and sessions: registration, login, password, consent, the profile.
mod account;
pub mod consent;
mod login;
mod me;
pub mod register;

pub use account::{ChangePasswordPage, ResetPasswordPage};
pub use consent::{ConsentDocumentPage, ConsentPage};
pub use login::{LoginPage, SmsLoginPage};
pub use me::MePage;
pub use register::RegisterPage;

use crate::domain::consent::ConsentDocument;
use crate::domain::id_number::Sex;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatientProfile {
    pub patient_number: String,
    pub real_name: String,
    pub phone_masked: String,
    pub id_number_masked: String,
    pub birth_date: String,
    pub sex: Sex,
    pub age: u32,
    pub consents: Vec<ConsentRecordView>,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentDocumentView {
    pub document: ConsentDocument,
    pub version: String,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentRecordView {
    pub document: ConsentDocument,
    pub version: String,
    /// Local time, `YYYY-MM-DD HH:MM`.
    pub accepted_at: String,
}

/// The logged-in, consented patient's profile.
pub struct ProfileQuery;
impl crate::page_data::PageQuery for ProfileQuery {
    type Answer = PatientProfile;
}

/// The profile page's data (R-REG-2 holds for this call as for the page).
#[server(prefix = "/sfn", endpoint = "profile", input = leptos::server_fn::codec::GetUrl)]
pub async fn get_profile() -> Result<Option<PatientProfile>, ServerFnError> {
    Ok(crate::page_data::load(ProfileQuery).await)
}
