//! The service layer: what the REST API, the HTML forms and the pages all call.
pub mod accounts;
pub mod bookings;
pub mod consents;
pub mod consult_consents;
pub mod directory;
pub mod doctors;
pub mod eligibility;
pub mod error;
pub mod family;
pub mod hold_basis;
pub mod hold_writer;
pub mod notices;
pub mod orders;
pub mod orphans;
pub mod patient_context;
pub mod proofs;
pub mod queue;
pub mod reconciliation;
pub mod screen;
pub mod sms_codes;
pub mod staff;
pub mod uploads;

pub use error::AppError;

use time::{OffsetDateTime, UtcOffset};

/// China Standard Time: "today" for birth dates and what patients read.
pub const CHINA: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

pub fn today_in_china(now: OffsetDateTime) -> time::Date {
    now.to_offset(CHINA).date()
}
