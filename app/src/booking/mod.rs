//! What the booking pages show (R-BOOK-1 … R-BOOK-3). Times come already in words,
//! in the reader's language and China time ("明天 14:30"): the server knows both.
mod pages;
mod queue;

pub use pages::{BookingListSection, BookingPage, ConsultsPage};
pub use queue::QueuePage;

use crate::domain::department::Department;
use crate::domain::schedule::ConsultType;
use serde::{Deserialize, Serialize};

/// A free slot on a doctor's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotChoice {
    pub slot_number: String,
    pub consult_type: ConsultType,
    /// `14:30`.
    pub clock: String,
    pub free: i32,
}

/// One day of free slots: "明天 11月26日".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotDay {
    pub day: String,
    pub slots: Vec<SlotChoice>,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingState {
    /// Held for payment until `hold_expires_at`.
    Held,
    Confirmed,
    Cancelled,
    Expired,
}

/// A hold or booking, as its owner sees it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingView {
    pub booking_number: String,
    pub state: BookingState,
    pub doctor_name: String,
    pub doctor_number: String,
    pub department: Department,
    pub consult_type: ConsultType,
    /// "明天 14:30".
    pub when: String,
    pub person_name: String,
    /// The diagnosis followed up, in words, with its code.
    pub diagnosis: String,
    /// Held: when the hold ends (Unix seconds) and the clock time it ends at.
    pub hold_expires_at: i64,
    pub hold_ends_clock: String,
    /// Seconds of the hold left when the page was made.
    pub seconds_left: i64,
    /// The fee from the price list, in fen (none when unpublished).
    pub fee_fen: Option<i64>,
    /// A full refund is owed (the slot was cancelled, or a free cancellation).
    pub refund_due: bool,
    /// The start has not passed.
    pub upcoming: bool,
    /// `doctor`, `patient` or `expired` when not active.
    pub cancel_reason: Option<String>,
    /// The order that pays for it.
    pub order_number: Option<String>,
    /// A payment began at the provider and its answer has not come yet.
    pub paying: bool,
    /// The ways to pay here, and why any of them is missing (R-PAY-1).
    pub methods: Vec<MethodChoice>,
}

/// A way to pay, as the pay form offers it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodChoice {
    pub method: crate::domain::payment_method::PaymentMethod,
    pub unavailable: Option<crate::domain::payment_method::Unavailable>,
    /// Only by QR code, on a phone: another device must scan it.
    pub scan_elsewhere: bool,
    /// Chosen unless the patient picks another.
    pub default: bool,
}

/// The 问诊 tab: upcoming bookings first, then the past.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BookingList {
    pub upcoming: Vec<BookingView>,
    pub past: Vec<BookingView>,
}

/// A doctor's open live queue, on their page (R-BOOK-1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueChoice {
    pub consult_type: ConsultType,
    pub waiting: u32,
    pub wait_minutes: u32,
}

/// A patient's place in a live queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuePlace {
    pub entry_number: String,
    pub doctor_name: String,
    pub doctor_number: String,
    pub consult_type: ConsultType,
    /// `waiting`, `called`, `left` or `closed`.
    pub status: String,
    pub ahead: u32,
    pub wait_minutes: u32,
}

/// A doctor's desk on the staff page: which queues are open and who waits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoctorDesk {
    pub doctor_name: String,
    pub queues: Vec<DeskQueue>,
    /// The coming week's published slots, soonest first.
    pub schedule: Vec<DeskSlot>,
}

/// A published slot on the doctor's desk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskSlot {
    pub slot_number: String,
    /// "明天 09:00".
    pub when: String,
    pub consult_type: ConsultType,
    pub taken: i32,
    pub capacity: i32,
    /// Who is booked or holding (names).
    pub patients: Vec<String>,
    /// At least a day ahead: may still be cancelled (R-BOOK-4).
    pub may_cancel: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskQueue {
    pub consult_type: ConsultType,
    pub online: bool,
    /// (person's name, ICD-10), first first.
    pub waiting: Vec<(String, String)>,
}

/// The account's bookings.
pub struct BookingsQuery;
impl crate::page_data::PageQuery for BookingsQuery {
    type Answer = BookingList;
}

/// One of the account's bookings, by its number.
pub struct BookingQuery(pub String);
impl crate::page_data::PageQuery for BookingQuery {
    type Answer = BookingView;
}

/// One of the account's places in a live queue, by its number.
pub struct QueuePlaceQuery(pub String);
impl crate::page_data::PageQuery for QueuePlaceQuery {
    type Answer = QueuePlace;
}
