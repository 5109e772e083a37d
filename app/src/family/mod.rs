//! What pages and the API show of a family member (就诊人): masked, never the full ID.
mod pages;

pub use pages::{AddFamilyMemberPage, FamilyListPage};

use crate::domain::family::{Dependency, Relationship};
use crate::domain::id_number::Sex;
use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FamilyMemberView {
    /// Public id, used in URLs and the API.
    pub member_number: String,
    pub real_name: String,
    /// Only the last four characters.
    pub id_number_masked: String,
    pub birth_date: String,
    pub sex: Sex,
    /// 周岁 today.
    pub age: u32,
    pub relationship: Relationship,
    pub dependency: Dependency,
}

/// The family page's data: the members and whom the patient acts for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FamilyPage {
    pub members: Vec<FamilyMemberView>,
    /// The member acted for this session; `None`: the patient themselves.
    pub acting_for: Option<String>,
}

/// The family page's data.
pub struct FamilyPageQuery;
impl crate::page_data::PageQuery for FamilyPageQuery {
    type Answer = FamilyPage;
}
