//! What pages and the API show of a family member (就诊人): masked, never the full ID.
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
