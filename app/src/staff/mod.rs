//! What staff pages and the API show of staff accounts, and the staff pages' data.
mod pages;

pub use pages::{StaffEnrolPage, StaffHomePage, StaffLoginPage, StaffSecondFactorPage};

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

/// The staff pages' data for a logged-in staff member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffPage {
    pub me: StaffView,
    /// Admins: every account.
    pub accounts: Vec<StaffView>,
    /// Shown once after enrolment: the recovery codes.
    pub recovery_codes: Vec<String>,
    /// Shown once after an admin created an account: (username, first password).
    pub created: Option<(String, String)>,
    /// Roles that review: proofs waiting, oldest first.
    pub queue: Vec<crate::proofs::ProofView>,
    /// Whether this role may decide (the auditor only reads).
    pub may_decide: bool,
    /// A doctor linked to a directory entry: their live queues.
    pub desk: Option<crate::booking::DoctorDesk>,
    /// Operators and admins: any listed doctor's schedule.
    pub scheduling: Option<Scheduling>,
    /// Operators and admins: orders, with refunds (R-PAY-2).
    pub orders: Option<StaffOrders>,
    /// Operators and admins: a day's reconciliation (R-PAY-3).
    pub reconciliation: Option<Reconciliation>,
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

/// The staff pages' data for a staff member with both factors.
pub struct StaffPageQuery;
impl crate::page_data::PageQuery for StaffPageQuery {
    type Answer = StaffPage;
}
