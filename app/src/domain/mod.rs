//! Pure domain rules (R-…): no I/O, the clock is always passed in.
//! Shared by the server (authoritative) and the browser (early feedback).

pub mod age;
pub mod booking;
pub mod call;
pub mod china_time;
pub mod consent;
pub mod consult;
pub mod consult_consent;
pub mod department;
pub mod doctor;
pub mod eligibility;
pub mod emergency;
pub mod error;
pub mod family;
pub mod id_number;
pub mod lockout;
pub mod normalize;
pub mod notice;
pub mod order;
pub mod password;
pub mod payment_method;
pub mod person_name;
pub mod phone;
pub mod proof;
pub mod reconcile;
pub mod record;
pub mod schedule;
pub mod sms;
pub mod staff;
pub mod upload;

pub use error::{ALL_CODES, ALL_FIELDS, ErrorCode, Field, FieldError};
