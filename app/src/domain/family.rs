//! Family members (就诊人) a guardian adds to their account (R-REG-7).
//!
//! Who may be added: a child under 18, always served through a guardian; or an adult
//! who lacks full civil capacity (无民事行为能力或限制民事行为能力人), for whom the
//! account holder declares they are the legal guardian. An adult with full capacity
//! registers an account of their own instead. One ID number belongs to one person in
//! the app: an account holder or one guardian's dependant, never both and never twice
//! (the database enforces it with one table of claimed ID numbers).
use super::age::is_adult_on;
use super::{ErrorCode, Field, FieldError};
use serde::{Deserialize, Serialize};
use time::Date;

/// At most this many dependants on one account.
pub const MAX_DEPENDANTS: i32 = 10;

/// The version of the guardian's declaration text; stored with each dependant.
pub const GUARDIAN_DECLARATION_VERSION: &str = "2026-11-24";

/// How the dependant is related to the account holder: "this person is my …".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Relationship {
    Child,
    Grandchild,
    Sibling,
    Spouse,
    Parent,
    OtherRelative,
    /// Someone the holder was appointed guardian of (by a court or a committee).
    Ward,
}

pub const ALL_RELATIONSHIPS: &[Relationship] = &[
    Relationship::Child,
    Relationship::Grandchild,
    Relationship::Sibling,
    Relationship::Spouse,
    Relationship::Parent,
    Relationship::OtherRelative,
    Relationship::Ward,
];

impl Relationship {
    pub const fn as_str(self) -> &'static str {
        match self {
            Relationship::Child => "child",
            Relationship::Grandchild => "grandchild",
            Relationship::Sibling => "sibling",
            Relationship::Spouse => "spouse",
            Relationship::Parent => "parent",
            Relationship::OtherRelative => "other_relative",
            Relationship::Ward => "ward",
        }
    }

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        ALL_RELATIONSHIPS
            .iter()
            .copied()
            .find(|r| r.as_str() == s.trim())
            .ok_or(FieldError::new(
                ErrorCode::FamilyRelationshipInvalid,
                Field::Relationship,
            ))
    }

    /// A spouse or a parent of an adult account holder cannot be under 18.
    const fn can_be_minor(self) -> bool {
        !matches!(self, Relationship::Spouse | Relationship::Parent)
    }
}

/// Why the account holder may act for this person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Dependency {
    /// Under 18 on the day they were added.
    Minor,
    /// An adult without full civil capacity, as the guardian declared.
    AdultWithoutCapacity,
}

impl Dependency {
    pub const fn as_str(self) -> &'static str {
        match self {
            Dependency::Minor => "minor",
            Dependency::AdultWithoutCapacity => "adult_without_capacity",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "minor" => Some(Dependency::Minor),
            "adult_without_capacity" => Some(Dependency::AdultWithoutCapacity),
            _ => None,
        }
    }
}

/// The declarations the guardian ticks on the form.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Declarations {
    /// "I am this person's legal guardian" (required for everyone).
    pub is_legal_guardian: bool,
    /// "This adult lacks full civil capacity" (required for an adult).
    pub adult_lacks_capacity: bool,
}

/// Decides whether this person may be added as a dependant, and as what. Call after the
/// ID number parsed, with the same `today`.
pub fn dependency_for(
    birth_date: Date,
    relationship: Relationship,
    declared: Declarations,
    today: Date,
) -> Result<Dependency, FieldError> {
    if !declared.is_legal_guardian {
        return Err(FieldError::new(
            ErrorCode::FamilyGuardianUnconfirmed,
            Field::GuardianConfirmed,
        ));
    }
    if is_adult_on(birth_date, today) {
        if !declared.adult_lacks_capacity {
            return Err(FieldError::new(
                ErrorCode::FamilyAdultHasCapacity,
                Field::IdNumber,
            ));
        }
        return Ok(Dependency::AdultWithoutCapacity);
    }
    if !relationship.can_be_minor() {
        return Err(FieldError::new(
            ErrorCode::FamilyRelationshipInvalid,
            Field::Relationship,
        ));
    }
    Ok(Dependency::Minor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 24);
    const GUARDIAN: Declarations = Declarations {
        is_legal_guardian: true,
        adult_lacks_capacity: false,
    };

    // R-REG-7: a child is added as a minor; the 18th birthday still counts as 17.
    #[test]
    fn a_child_under_eighteen_is_a_minor() {
        for birth in [TODAY, date!(2020 - 11 - 24), date!(2008 - 11 - 24)] {
            assert_eq!(
                dependency_for(birth, Relationship::Child, GUARDIAN, TODAY),
                Ok(Dependency::Minor),
                "{birth}"
            );
        }
    }

    // R-REG-7: an adult with full capacity registers their own account; "adding an
    // adult as a child" is refused, from the day after the 18th birthday.
    #[test]
    fn an_adult_is_refused_unless_declared_without_capacity() {
        let adult = date!(2008 - 11 - 23);
        assert_eq!(
            dependency_for(adult, Relationship::Child, GUARDIAN, TODAY),
            Err(FieldError::new(
                ErrorCode::FamilyAdultHasCapacity,
                Field::IdNumber
            ))
        );
        let declared = Declarations {
            adult_lacks_capacity: true,
            ..GUARDIAN
        };
        assert_eq!(
            dependency_for(adult, Relationship::Parent, declared, TODAY),
            Ok(Dependency::AdultWithoutCapacity)
        );
    }

    // R-REG-7: the guardian's own declaration is always required.
    #[test]
    fn the_guardian_must_confirm() {
        assert_eq!(
            dependency_for(
                date!(2019 - 01 - 01),
                Relationship::Child,
                Declarations::default(),
                TODAY
            ),
            Err(FieldError::new(
                ErrorCode::FamilyGuardianUnconfirmed,
                Field::GuardianConfirmed
            ))
        );
    }

    #[test]
    fn a_minor_cannot_be_a_spouse_or_parent() {
        for r in [Relationship::Spouse, Relationship::Parent] {
            assert_eq!(
                dependency_for(date!(2015 - 03 - 03), r, GUARDIAN, TODAY),
                Err(FieldError::new(
                    ErrorCode::FamilyRelationshipInvalid,
                    Field::Relationship
                ))
            );
        }
    }

    #[test]
    fn relationships_round_trip() {
        for r in ALL_RELATIONSHIPS {
            assert_eq!(Relationship::parse(r.as_str()), Ok(*r));
        }
        assert!(Relationship::parse("boss").is_err());
        for d in [Dependency::Minor, Dependency::AdultWithoutCapacity] {
            assert_eq!(Dependency::parse(d.as_str()), Some(d));
        }
    }
}
