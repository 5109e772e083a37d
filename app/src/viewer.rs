//! What a page needs to know about who is looking: the CSRF token, whether a patient is
//! logged in, and what registration has done so far. The server computes it once per
//! request, before rendering. It holds nothing personal: the profile is loaded only by
//! the page that shows it.
use crate::accounts::ConsentDocumentView;
use crate::domain::consent::ConsentDocument;
#[cfg(feature = "ssr")]
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Viewer {
    pub csrf_token: String,
    /// Set when a patient is logged in.
    pub signed_in: Option<SignedIn>,
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
    /// A staff member logged in with both factors.
    pub staff: Option<StaffSignedIn>,
    /// Passed the staff password step; `true` if an authenticator is enrolled.
    pub staff_pending: Option<bool>,
    /// Unread notices in the message centre, for the 消息 tab.
    pub unread_notices: u32,
    /// Doctors' messages not yet read in open consults, for the 问诊 tab.
    pub unread_consult: u32,
}

/// The logged-in staff member, as every staff page needs to know.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffSignedIn {
    pub display_name: String,
    pub role: crate::domain::staff::Role,
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

/// The logged-in patient, as far as every page needs to know.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SignedIn {
    /// No consent in force at all: the patient withdrew it (service stopped).
    pub consents_withdrawn: bool,
}

/// The viewer the server computed for this request. Pages render on the server only
/// (islands mode), so they read it directly; the browser never needs it.
pub fn current_viewer() -> Viewer {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .and_then(|p| p.extensions.get::<Viewer>().cloned())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        Viewer::default()
    }
}
