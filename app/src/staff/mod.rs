//! What staff pages and the API show of staff accounts, and the staff pages' data.
mod desks;
mod pages;

pub use desks::{
    DoctorDeskPage, StaffAccountsPage, StaffOrdersPage, StaffProofsPage, StaffReconciliationPage,
    StaffSchedulePage,
};
pub use pages::{
    StaffActivatePage, StaffEnrolPage, StaffHomePage, StaffLoginPage, StaffSecondFactorPage,
    role_name,
};

use crate::domain::department::Department;
use crate::domain::staff::Role;
use serde::{Deserialize, Serialize};

/// A staff member as pages and the API show them.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub department: Option<Department>,
    /// The second factor is set up.
    pub enrolled: bool,
    pub disabled: bool,
    /// Waiting for a second admin (four eyes): the admin who asked for it.
    pub approval_requested_by: Option<i64>,
    /// Approved, but its owner has not set a password with the SMS code yet.
    pub awaiting_activation: bool,
    /// The owner's phone, masked (`138****8000`), where the activation code goes; in the
    /// accounts list only.
    pub phone: Option<String>,
}

/// The enrolment page: a new authenticator secret as a QR code and as text.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolment {
    /// Base32, for typing into an app by hand.
    pub secret: String,
    pub otpauth_url: String,
    /// The same URL as a QR code (SVG).
    pub qr_svg: String,
}

/// The staff home: who is logged in, the recovery codes once after enrolment, and the
/// desks this role works at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffHome {
    pub me: StaffView,
    /// Shown once after enrolment: the recovery codes.
    pub recovery_codes: Vec<String>,
    pub desks: Vec<Desk>,
}

/// A staff desk: a page of its own, gated by its permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Desk {
    /// Diagnosis proofs waiting for review (R-ELIG-2).
    Proofs,
    /// A doctor's live queues and own schedule (R-BOOK-1).
    Doctor,
    /// Any listed doctor's schedule (R-BOOK-1, R-BOOK-4).
    Schedule,
    /// Orders and refunds (R-PAY-2).
    Orders,
    /// The daily reconciliation (R-PAY-3).
    Reconciliation,
    /// Staff accounts (R-SEC-1).
    Accounts,
    /// A doctor's consults: waiting, in progress, today's video (R-CONS-2).
    Consults,
}

impl Desk {
    pub const fn path(self) -> &'static str {
        match self {
            Desk::Proofs => "/staff/proofs",
            Desk::Doctor => "/staff/desk",
            Desk::Schedule => "/staff/schedule",
            Desk::Orders => "/staff/orders",
            Desk::Reconciliation => "/staff/reconciliation",
            Desk::Accounts => "/staff/accounts",
            Desk::Consults => "/staff/consults",
        }
    }
}

/// The proof review desk: proofs waiting, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofDesk {
    pub queue: Vec<crate::proofs::ProofView>,
    /// Whether this role may decide (the auditor only reads).
    pub may_decide: bool,
}

/// The accounts desk (admins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffAccounts {
    pub me: StaffView,
    pub accounts: Vec<StaffView>,
}

/// A day's reconciliation (R-PAY-3), as the staff page shows it (`?reconcile_day=`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconciliation {
    /// The China day shown, `YYYY-MM-DD` (yesterday unless chosen).
    pub day: String,
    /// `None`: not run for that day yet.
    pub report: Option<ReconciliationReport>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconciliationReport {
    pub matched: i32,
    pub differences: i32,
    /// China time, `YYYY-MM-DD HH:MM`.
    pub ran: String,
    pub lines: Vec<ReconciliationLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconciliationLine {
    pub id: i64,
    pub kind: crate::domain::reconcile::LineKind,
    pub provider_ref: String,
    pub order_number: Option<String>,
    /// "¥40", or "—" when that side has nothing.
    pub ours: String,
    pub theirs: String,
    pub resolution: Option<String>,
}

/// The newest orders, optionally in one status (`?order_status=`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffOrders {
    pub status: Option<crate::domain::order::OrderStatus>,
    pub orders: Vec<crate::orders::OrderView>,
    /// Refunds the provider refused, waiting to be sent again.
    pub failed_refunds: Vec<crate::orders::FailedRefund>,
}

/// Publishing sessions for any doctor (R-BOOK-1): the listed doctors, and the one chosen
/// with `?doctor=`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scheduling {
    /// (doctor number, "name · department"), by department, then name.
    pub doctors: Vec<(String, String)>,
    pub chosen: Option<ScheduledDoctor>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledDoctor {
    pub number: String,
    pub name: String,
    /// The coming [`SCHEDULING_DAYS`] days' published slots, soonest first.
    pub schedule: Vec<crate::booking::DeskSlot>,
}

/// How far ahead the operators' schedule view looks: the two weeks patients book in.
pub const SCHEDULING_DAYS: i64 = 14;

/// A new authenticator secret for a staff member between password and enrolment.
pub struct EnrolmentQuery;
impl crate::page_data::PageQuery for EnrolmentQuery {
    type Answer = Enrolment;
}

/// The staff home for a staff member with both factors.
#[derive(Clone)]
pub struct StaffHomeQuery;
impl crate::page_data::PageQuery for StaffHomeQuery {
    type Answer = StaffHome;
}

/// The proof review desk, for roles that review.
#[derive(Clone)]
pub struct ProofDeskQuery;
impl crate::page_data::PageQuery for ProofDeskQuery {
    type Answer = ProofDesk;
}

/// The doctor's desk, for a staff member linked to a doctor.
#[derive(Clone)]
pub struct DoctorDeskQuery;
impl crate::page_data::PageQuery for DoctorDeskQuery {
    type Answer = crate::booking::DoctorDesk;
}

/// The scheduling desk, with the chosen doctor's number if one was chosen.
#[derive(Clone)]
pub struct ScheduleDeskQuery(pub Option<String>);
impl crate::page_data::PageQuery for ScheduleDeskQuery {
    type Answer = Scheduling;
}

/// The orders desk, in one status if one was chosen.
#[derive(Clone)]
pub struct OrdersDeskQuery(pub Option<crate::domain::order::OrderStatus>);
impl crate::page_data::PageQuery for OrdersDeskQuery {
    type Answer = StaffOrders;
}

/// The reconciliation desk, for a day (`YYYY-MM-DD`) if one was chosen.
#[derive(Clone)]
pub struct ReconciliationDeskQuery(pub Option<String>);
impl crate::page_data::PageQuery for ReconciliationDeskQuery {
    type Answer = Reconciliation;
}

/// The accounts desk, for admins.
#[derive(Clone)]
pub struct StaffAccountsQuery;
impl crate::page_data::PageQuery for StaffAccountsQuery {
    type Answer = StaffAccounts;
}
