//! The consult's medical record (R-EMR-1): what it holds, what it needs before the doctor
//! confirms it, and the archive rule (confirmed once, then never changed; corrections are
//! addenda).
use super::{ErrorCode, Field, FieldError};
use serde::{Deserialize, Serialize};

/// Limits in characters, per field.
pub const MAX_CHIEF_COMPLAINT: usize = 500;
pub const MAX_PRESENT_ILLNESS: usize = 4_000;
pub const MAX_ADVICE: usize = 4_000;
pub const MAX_FOLLOW_UP: usize = 1_000;
pub const MAX_ADDENDUM: usize = 2_000;

/// A record's text, as saved in a revision: any field may still be empty in a draft.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RecordText {
    /// 主诉.
    pub chief_complaint: String,
    /// 现病史.
    pub present_illness: String,
    /// The diagnosis: one of the person's approved diagnoses (ICD-10); empty in a draft.
    pub icd10: String,
    /// 处理意见 / 医嘱.
    pub advice: String,
    /// 复诊建议.
    pub follow_up: String,
}

impl RecordText {
    /// Trims every field and checks its length: a draft may be incomplete, never too long.
    pub fn parse(self) -> Result<Self, FieldError> {
        let t = Self {
            chief_complaint: self.chief_complaint.trim().to_owned(),
            present_illness: self.present_illness.trim().to_owned(),
            icd10: self.icd10.trim().to_ascii_uppercase(),
            advice: self.advice.trim().to_owned(),
            follow_up: self.follow_up.trim().to_owned(),
        };
        for (text, max, field) in [
            (
                &t.chief_complaint,
                MAX_CHIEF_COMPLAINT,
                Field::ChiefComplaint,
            ),
            (
                &t.present_illness,
                MAX_PRESENT_ILLNESS,
                Field::PresentIllness,
            ),
            (&t.icd10, 16, Field::Icd10),
            (&t.advice, MAX_ADVICE, Field::Advice),
            (&t.follow_up, MAX_FOLLOW_UP, Field::FollowUp),
        ] {
            if text.chars().count() > max {
                return Err(FieldError::new(ErrorCode::RecordFieldTooLong, field));
            }
        }
        Ok(t)
    }

    /// What confirming needs (R-EMR-1): every field written, and a diagnosis among the
    /// person's approved ones (`approved`, ICD-10 codes).
    pub fn ready_to_confirm(&self, approved: &[String]) -> Result<(), FieldError> {
        for (text, field) in [
            (&self.chief_complaint, Field::ChiefComplaint),
            (&self.present_illness, Field::PresentIllness),
            (&self.icd10, Field::Icd10),
            (&self.advice, Field::Advice),
            (&self.follow_up, Field::FollowUp),
        ] {
            if text.is_empty() {
                return Err(FieldError::new(ErrorCode::RecordFieldMissing, field));
            }
        }
        if !approved.iter().any(|a| a.eq_ignore_ascii_case(&self.icd10)) {
            return Err(FieldError::new(
                ErrorCode::RecordDiagnosisInvalid,
                Field::Icd10,
            ));
        }
        Ok(())
    }
}

/// Where a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    /// Being written: every save is a revision.
    Draft,
    /// Confirmed by the doctor: archived for good.
    Archived,
}

impl RecordStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            RecordStatus::Draft => "draft",
            RecordStatus::Archived => "archived",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [RecordStatus::Draft, RecordStatus::Archived]
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    /// The archive rule: only a draft changes (R-EMR-1).
    pub fn may_change(self) -> Result<(), FieldError> {
        match self {
            RecordStatus::Draft => Ok(()),
            RecordStatus::Archived => Err(FieldError::general(ErrorCode::RecordArchived)),
        }
    }
}

/// An addendum's text: 1 to [`MAX_ADDENDUM`] characters.
pub fn parse_addendum(text: &str) -> Result<String, FieldError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(FieldError::new(ErrorCode::RecordFieldMissing, Field::Body));
    }
    if t.chars().count() > MAX_ADDENDUM {
        return Err(FieldError::new(ErrorCode::RecordFieldTooLong, Field::Body));
    }
    Ok(t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> RecordText {
        RecordText {
            chief_complaint: " 血压控制不佳两周 ".into(),
            present_illness: "规律服药，晨起血压 150/95。".into(),
            icd10: "i10".into(),
            advice: "氨氯地平加量。".into(),
            follow_up: "两周后复诊。".into(),
        }
    }

    /// R-EMR-1: a draft trims and may be incomplete; confirming needs every field and an
    /// approved diagnosis.
    #[test]
    fn a_record_needs_every_field_and_an_approved_diagnosis_to_be_confirmed() {
        let t = full().parse().expect("valid");
        assert_eq!(t.chief_complaint, "血压控制不佳两周");
        assert_eq!(t.icd10, "I10");
        assert_eq!(t.ready_to_confirm(&["I10".into()]), Ok(()));
        assert_eq!(
            t.ready_to_confirm(&["E11.9".into()]),
            Err(FieldError::new(
                ErrorCode::RecordDiagnosisInvalid,
                Field::Icd10
            ))
        );
        let draft = RecordText {
            advice: "  ".into(),
            ..full()
        }
        .parse()
        .expect("a draft");
        assert_eq!(
            draft.ready_to_confirm(&["I10".into()]),
            Err(FieldError::new(
                ErrorCode::RecordFieldMissing,
                Field::Advice
            ))
        );
    }

    /// Lengths at their edge: 500 characters of complaint pass, 501 do not.
    #[test]
    fn record_fields_are_bounded() {
        let ok = RecordText {
            chief_complaint: "痛".repeat(500),
            ..full()
        };
        assert!(ok.parse().is_ok());
        let long = RecordText {
            chief_complaint: "痛".repeat(501),
            ..full()
        };
        assert_eq!(
            long.parse(),
            Err(FieldError::new(
                ErrorCode::RecordFieldTooLong,
                Field::ChiefComplaint
            ))
        );
        assert!(parse_addendum(&"补".repeat(2_000)).is_ok());
        assert!(parse_addendum(&"补".repeat(2_001)).is_err());
        assert!(parse_addendum("  ").is_err());
    }

    /// R-EMR-1: an archived record never changes.
    #[test]
    fn an_archived_record_never_changes() {
        assert_eq!(RecordStatus::Draft.may_change(), Ok(()));
        assert_eq!(
            RecordStatus::Archived.may_change(),
            Err(FieldError::general(ErrorCode::RecordArchived))
        );
    }
}
