//! What a page needs to know about who is looking: the CSRF token, whether a patient is
//! logged in, and what registration has done so far. The server computes it once per
//! request, before rendering. It holds nothing personal: the profile is loaded only by
//! the page that shows it.
use crate::domain::consent::ConsentDocument;
use crate::domain::id_number::Sex;
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
    pub unread_messages: u32,
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

/// A boxed future, as the server's loaders return them.
#[cfg(feature = "ssr")]
pub type Loading<T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, String>> + Send>>;

/// What pages load from the database, for a request: the server provides it as context
/// (the app crate knows no database). Each answers `None` unless a patient who has agreed
/// to the texts in force is logged in (R-REG-2).
#[cfg(feature = "ssr")]
pub trait PageData: Send + Sync {
    fn profile(&self, parts: http::request::Parts) -> Loading<Option<PatientProfile>>;
    fn family(&self, parts: http::request::Parts) -> Loading<Option<FamilyPage>>;
    /// A new authenticator secret for a staff member between password and enrolment.
    fn enrolment(&self, parts: http::request::Parts) -> Loading<Option<crate::staff::Enrolment>>;
    /// The staff pages' data for a staff member with both factors.
    fn staff(&self, parts: http::request::Parts) -> Loading<Option<crate::staff::StaffPage>>;
    /// The consult start page, with the answer for `(icd10, department)` if asked.
    fn consult_start(
        &self,
        parts: http::request::Parts,
        asked: Option<(String, String)>,
    ) -> Loading<Option<crate::proofs::ConsultStart>>;
    /// The consult's notice page for `<ICD-10>:<department>` (R-REG-6).
    fn consult_consent(
        &self,
        parts: http::request::Parts,
        choice: String,
    ) -> Loading<Option<crate::proofs::ConsultConsentView>>;
    /// A page of the doctor directory; `mine` counts only for a consented patient.
    fn directory(
        &self,
        parts: http::request::Parts,
        query: crate::doctors::DirectoryQuery,
    ) -> Loading<Option<crate::doctors::DirectoryPage>>;
    /// A doctor's public profile and free slots.
    fn doctor(
        &self,
        parts: http::request::Parts,
        number: String,
    ) -> Loading<Option<crate::doctors::DoctorPageData>>;
    /// One of the account's places in a live queue.
    fn queue_place(
        &self,
        parts: http::request::Parts,
        number: String,
    ) -> Loading<Option<crate::booking::QueuePlace>>;
    /// The account's bookings.
    fn bookings(&self, parts: http::request::Parts)
    -> Loading<Option<crate::booking::BookingList>>;
    /// One of the account's bookings.
    fn booking(
        &self,
        parts: http::request::Parts,
        number: String,
    ) -> Loading<Option<crate::booking::BookingView>>;
    /// The sandbox's checkout for one of the account's orders (dev only).
    fn sandbox_checkout(
        &self,
        parts: http::request::Parts,
        order_number: String,
        method: String,
    ) -> Loading<Option<crate::booking::SandboxCheckout>>;
    /// The account's orders.
    fn orders(&self, parts: http::request::Parts)
    -> Loading<Option<Vec<crate::orders::OrderView>>>;
    /// One of the account's orders.
    fn order(
        &self,
        parts: http::request::Parts,
        number: String,
    ) -> Loading<Option<crate::orders::OrderView>>;
    /// The account's diagnosis proofs.
    fn proofs(&self, parts: http::request::Parts)
    -> Loading<Option<Vec<crate::proofs::ProofView>>>;
    /// The upload form's data.
    fn proof_form(&self, parts: http::request::Parts) -> Loading<Option<crate::proofs::ProofForm>>;
    /// The message centre's list.
    fn messages(
        &self,
        parts: http::request::Parts,
    ) -> Loading<Option<crate::messages_view::MessageList>>;
    /// One notice, marked read; `None` for anyone else's.
    fn message(
        &self,
        parts: http::request::Parts,
        id: i64,
    ) -> Loading<Option<crate::messages_view::MessageView>>;
}

/// The server's [`PageData`], as context.
#[cfg(feature = "ssr")]
#[derive(Clone)]
pub struct PageDataContext(pub std::sync::Arc<dyn PageData>);

/// The family page's data: the members and whom the patient acts for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FamilyPage {
    pub members: Vec<crate::family::FamilyMemberView>,
    /// The member acted for this session; `None`: the patient themselves.
    pub acting_for: Option<String>,
}

/// The family page's data for this request (pages render on the server only); `None`
/// unless a consented patient is logged in, and always in the browser's build.
pub async fn load_family() -> Option<FamilyPage> {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<http::request::Parts>()?;
        let data = use_context::<PageDataContext>()?;
        data.0.family(parts).await.ok().flatten()
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// The enrolment page's data; `None` unless between the staff password and enrolment.
pub async fn load_enrolment() -> Option<crate::staff::Enrolment> {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<http::request::Parts>()?;
        let data = use_context::<PageDataContext>()?;
        data.0.enrolment(parts).await.ok().flatten()
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// The staff pages' data; `None` unless a staff member with both factors is logged in.
pub async fn load_staff() -> Option<crate::staff::StaffPage> {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<http::request::Parts>()?;
        let data = use_context::<PageDataContext>()?;
        data.0.staff(parts).await.ok().flatten()
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// The consult start page's data for this request.
pub async fn load_consult_start(
    #[cfg_attr(not(feature = "ssr"), allow(unused_variables))] asked: Option<(String, String)>,
) -> Option<crate::proofs::ConsultStart> {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<http::request::Parts>()?;
        let data = use_context::<PageDataContext>()?;
        data.0.consult_start(parts, asked).await.ok().flatten()
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// The consult notice page's data for this request; `None` without a valid choice.
pub async fn load_consult_consent(
    #[cfg_attr(not(feature = "ssr"), allow(unused_variables))] choice: Option<String>,
) -> Option<crate::proofs::ConsultConsentView> {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<http::request::Parts>()?;
        let data = use_context::<PageDataContext>()?;
        data.0.consult_consent(parts, choice?).await.ok().flatten()
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// The directory page's data for this request (public).
pub async fn load_directory(
    #[cfg_attr(not(feature = "ssr"), allow(unused_variables))]
    query: crate::doctors::DirectoryQuery,
) -> Option<crate::doctors::DirectoryPage> {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<http::request::Parts>()?;
        let data = use_context::<PageDataContext>()?;
        data.0.directory(parts, query).await.ok().flatten()
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// A place in a live queue for this request; `None` for anyone else's.
pub async fn load_queue_place(
    #[cfg_attr(not(feature = "ssr"), allow(unused_variables))] number: String,
) -> Option<crate::booking::QueuePlace> {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<http::request::Parts>()?;
        let data = use_context::<PageDataContext>()?;
        data.0.queue_place(parts, number).await.ok().flatten()
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// The account's bookings for this request.
pub async fn load_bookings() -> Option<crate::booking::BookingList> {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<http::request::Parts>()?;
        let data = use_context::<PageDataContext>()?;
        data.0.bookings(parts).await.ok().flatten()
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// One booking for this request; `None` for anyone else's.
pub async fn load_booking(
    #[cfg_attr(not(feature = "ssr"), allow(unused_variables))] number: String,
) -> Option<crate::booking::BookingView> {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<http::request::Parts>()?;
        let data = use_context::<PageDataContext>()?;
        data.0.booking(parts, number).await.ok().flatten()
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// This account's orders.
pub async fn load_orders() -> Option<Vec<crate::orders::OrderView>> {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<http::request::Parts>()?;
        let data = use_context::<PageDataContext>()?;
        data.0.orders(parts).await.ok().flatten()
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// One of this account's orders.
pub async fn load_order(
    #[cfg_attr(not(feature = "ssr"), allow(unused_variables))] number: String,
) -> Option<crate::orders::OrderView> {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<http::request::Parts>()?;
        let data = use_context::<PageDataContext>()?;
        data.0.order(parts, number).await.ok().flatten()
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// The sandbox checkout of one of this account's orders.
pub async fn load_sandbox_checkout(
    #[cfg_attr(not(feature = "ssr"), allow(unused_variables))] (order_number, method): (
        String,
        String,
    ),
) -> Option<crate::booking::SandboxCheckout> {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<http::request::Parts>()?;
        let data = use_context::<PageDataContext>()?;
        data.0
            .sandbox_checkout(parts, order_number, method)
            .await
            .ok()
            .flatten()
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// A doctor's profile and free slots for this request (public).
pub async fn load_doctor(
    #[cfg_attr(not(feature = "ssr"), allow(unused_variables))] number: String,
) -> Option<crate::doctors::DoctorPageData> {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<http::request::Parts>()?;
        let data = use_context::<PageDataContext>()?;
        data.0.doctor(parts, number).await.ok().flatten()
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// The account's proofs for this request.
pub async fn load_proofs() -> Option<Vec<crate::proofs::ProofView>> {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<http::request::Parts>()?;
        let data = use_context::<PageDataContext>()?;
        data.0.proofs(parts).await.ok().flatten()
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// The upload form's data for this request.
pub async fn load_proof_form() -> Option<crate::proofs::ProofForm> {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<http::request::Parts>()?;
        let data = use_context::<PageDataContext>()?;
        data.0.proof_form(parts).await.ok().flatten()
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// The message centre's list for this request.
pub async fn load_messages() -> Option<crate::messages_view::MessageList> {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<http::request::Parts>()?;
        let data = use_context::<PageDataContext>()?;
        data.0.messages(parts).await.ok().flatten()
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// One notice for this request, marked read.
pub async fn load_message(
    #[cfg_attr(not(feature = "ssr"), allow(unused_variables))] id: i64,
) -> Option<crate::messages_view::MessageView> {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<http::request::Parts>()?;
        let data = use_context::<PageDataContext>()?;
        data.0.message(parts, id).await.ok().flatten()
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// The profile page's data (R-REG-2 holds for this call as for the page).
#[server(prefix = "/sfn", endpoint = "profile", input = leptos::server_fn::codec::GetUrl)]
pub async fn get_profile() -> Result<Option<PatientProfile>, ServerFnError> {
    let (Some(parts), Some(data)) = (
        use_context::<http::request::Parts>(),
        use_context::<PageDataContext>(),
    ) else {
        return Ok(None);
    };
    data.0.profile(parts).await.map_err(ServerFnError::new)
}
