//! A diagnosis proof (R-ELIG-2): what the patient states about it, its states, and why
//! an operator may reject it.
use super::age::parse_ymd;
use super::{ErrorCode, Field, FieldError};
use serde::{Deserialize, Serialize};
use time::Date;

/// Where a proof is in its review. Only `Submitted` may change, and only once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProofStatus {
    Submitted,
    Approved,
    Rejected,
    Withdrawn,
}

impl ProofStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            ProofStatus::Submitted => "submitted",
            ProofStatus::Approved => "approved",
            ProofStatus::Rejected => "rejected",
            ProofStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ProofStatus::Submitted,
            ProofStatus::Approved,
            ProofStatus::Rejected,
            ProofStatus::Withdrawn,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }
}

/// Why a proof was rejected (the operator adds free text too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    Unreadable,
    NotADiagnosis,
    WrongPerson,
    NoInstitutionOrDate,
    DiagnosisMismatch,
    Other,
}

pub const ALL_REJECT_REASONS: &[RejectReason] = &[
    RejectReason::Unreadable,
    RejectReason::NotADiagnosis,
    RejectReason::WrongPerson,
    RejectReason::NoInstitutionOrDate,
    RejectReason::DiagnosisMismatch,
    RejectReason::Other,
];

impl RejectReason {
    pub const fn as_str(self) -> &'static str {
        match self {
            RejectReason::Unreadable => "unreadable",
            RejectReason::NotADiagnosis => "not_a_diagnosis",
            RejectReason::WrongPerson => "wrong_person",
            RejectReason::NoInstitutionOrDate => "no_institution_or_date",
            RejectReason::DiagnosisMismatch => "diagnosis_mismatch",
            RejectReason::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ALL_REJECT_REASONS.iter().copied().find(|r| r.as_str() == s)
    }
}

/// The institution that diagnosed it: 2–60 characters after trimming.
pub fn institution(input: &str) -> Result<String, FieldError> {
    let name: String = input.split_whitespace().collect::<Vec<_>>().join(" ");
    let n = name.chars().count();
    if (2..=60).contains(&n) && !name.chars().any(char::is_control) {
        Ok(name)
    } else {
        Err(FieldError::new(
            ErrorCode::InstitutionInvalid,
            Field::Institution,
        ))
    }
}

/// The date of diagnosis: `YYYY-MM-DD`, from 1900 to today.
pub fn diagnosed_on(input: &str, today: Date) -> Result<Date, FieldError> {
    match parse_ymd(input.trim()) {
        Some(d) if d <= today && d.year() >= 1900 => Ok(d),
        _ => Err(FieldError::new(
            ErrorCode::DiagnosisDateInvalid,
            Field::DiagnosedOn,
        )),
    }
}

/// An optional note: at most 200 characters.
pub fn note(input: &str) -> Result<String, FieldError> {
    let text = input.trim().to_owned();
    if text.chars().count() <= 200 {
        Ok(text)
    } else {
        Err(FieldError::new(ErrorCode::InvalidForm, Field::Note))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 24);

    #[test]
    fn the_date_of_diagnosis_is_not_in_the_future() {
        assert_eq!(diagnosed_on("2026-11-24", TODAY), Ok(TODAY));
        assert!(diagnosed_on("2026-11-25", TODAY).is_err(), "tomorrow");
        assert!(diagnosed_on("1899-12-31", TODAY).is_err());
        assert!(diagnosed_on("2026-02-30", TODAY).is_err());
        assert!(diagnosed_on("", TODAY).is_err());
    }

    #[test]
    fn institutions_are_trimmed_and_bounded() {
        assert_eq!(institution("  北京协和医院 ").unwrap(), "北京协和医院");
        assert!(institution("院").is_err());
        assert!(institution(&"院".repeat(61)).is_err());
    }

    #[test]
    fn states_and_reasons_round_trip() {
        for r in ALL_REJECT_REASONS {
            assert_eq!(RejectReason::parse(r.as_str()), Some(*r));
        }
        assert_eq!(ProofStatus::parse("approved"), Some(ProofStatus::Approved));
        assert_eq!(ProofStatus::parse("x"), None);
    }
}
