//! What a page needs to know about who is looking: the CSRF token, the patient if
//! logged in, and what registration has done so far. The server computes it once per
//! request; pages read it through one server function so hydration gets the same value.
use crate::domain::consent::ConsentDocument;
use crate::domain::id_number::Sex;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Viewer {
    pub csrf_token: String,
    pub patient: Option<PatientProfile>,
    /// The phone a registration or login code was last sent to, to refill the form.
    pub code_phone: Option<String>,
    /// Seconds until another code may be sent to `code_phone`.
    pub resend_in_secs: i64,
    /// Current documents this patient has not (or no longer) agreed to.
    pub consents_outstanding: Vec<ConsentDocumentView>,
    /// The documents and versions in force, for the registration checkboxes.
    pub current_consents: Vec<ConsentDocumentView>,
    /// Today in China (`YYYY-MM-DD`), so the browser checks ID birth dates like the server.
    pub today: String,
}

impl Viewer {
    pub fn current_version(&self, document: ConsentDocument) -> String {
        self.current_consents
            .iter()
            .find(|c| c.document == document)
            .map(|c| c.version.clone())
            .unwrap_or_default()
    }
}

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

#[server(prefix = "/sfn", endpoint = "viewer", input = leptos::server_fn::codec::GetUrl)]
pub async fn get_viewer() -> Result<Viewer, ServerFnError> {
    let parts = use_context::<http::request::Parts>();
    Ok(parts
        .and_then(|p| p.extensions.get::<Viewer>().cloned())
        .unwrap_or_default())
}
