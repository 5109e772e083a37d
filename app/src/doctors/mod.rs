//! What the directory pages and the API show of doctors (R-DOC-1).
mod pages;

pub use pages::{DoctorPage, DoctorsPage};

use crate::domain::department::Department;
use crate::domain::doctor::Rating;
use crate::domain::schedule::{ConsultType, DoctorTitle};
use serde::{Deserialize, Serialize};

/// A fee from the published price list.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fee {
    pub consult_type: ConsultType,
    /// Integer fen (1 yuan = 100 fen).
    pub fen: i64,
}

/// One doctor in a list.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoctorCard {
    pub doctor_number: String,
    pub name: String,
    pub title: DoctorTitle,
    pub department: Department,
    /// Full years of independent practice.
    pub practice_years: u32,
    /// At least three years: may consult online (R-DOC-1).
    pub may_consult_online: bool,
    pub specialties: String,
    /// None: not yet rated.
    pub rating: Option<Rating>,
    /// The consult types with a published fee.
    pub fees: Vec<Fee>,
    /// `/api/v1/doctors/{number}/photo` has a picture.
    pub has_photo: bool,
}

/// A page of the directory.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoctorList {
    pub doctors: Vec<DoctorCard>,
    /// 1-based.
    pub page: u64,
    pub pages: u64,
    pub total: u64,
}

/// A doctor's public profile.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoctorProfile {
    #[serde(flatten)]
    pub card: DoctorCard,
    pub licence_number: String,
    pub bio: String,
}

/// A doctor's page: the profile and the free slots of the coming two weeks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoctorPageData {
    pub profile: DoctorProfile,
    pub days: Vec<crate::booking::SlotDay>,
    /// Live queues open now.
    pub queues: Vec<crate::booking::QueueChoice>,
}

/// What the directory page was asked for (from its query string).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DirectoryQuery {
    pub department: Option<Department>,
    /// Name, specialty or condition, in Chinese or pinyin initials.
    pub q: String,
    /// Only doctors whose department treats an approved diagnosis of the person the
    /// patient acts for.
    pub mine: bool,
    pub page: u64,
}

/// The directory page's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryPage {
    pub list: DoctorList,
    /// For the "my diagnoses" filter: whose they are (none when not logged in).
    pub person_name: Option<String>,
}

/// A page of the directory; `mine` counts only for a consented patient.
impl crate::page_data::PageQuery for DirectoryQuery {
    type Answer = DirectoryPage;
}

/// A doctor's public profile and free slots, by the doctor's number.
pub struct DoctorQuery(pub String);
impl crate::page_data::PageQuery for DoctorQuery {
    type Answer = DoctorPageData;
}
