//! Before each consult (R-REG-6, R-ELIG-4): a clear emergency screen for the person the
//! consult is for, not too long ago, then the risk notice for this consult, confirmed.
use serde::{Deserialize, Serialize};

/// How long a clear screen counts: symptoms change, so an old "no" is asked again.
pub const SCREEN_VALID_SECS: i64 = 30 * 60;

/// What a clear emergency screen leaves in the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScreenPass {
    /// Unix seconds.
    pub at: i64,
    /// The family member it was answered for; `None`: the account holder.
    pub member: Option<i64>,
    /// The answer to "is the person in a critical condition" (R-ELIG-5).
    pub critical: bool,
}

impl ScreenPass {
    /// Counts only for the same person, and for [`SCREEN_VALID_SECS`] (a clock that went
    /// backwards does not stretch it).
    pub fn holds_for(&self, member: Option<i64>, now: i64) -> bool {
        self.member == member && screen_fresh(Some(self.at), now)
    }
}

/// A screen answered at `screened_at` still counts at `now` (R-ELIG-4): at most
/// [`SCREEN_VALID_SECS`] before, never after (a clock that went backwards does not
/// stretch it). A hold or a queue place asks it of its consent's screen; a consent that
/// kept no screen time does not count.
pub fn screen_fresh(screened_at: Option<i64>, now: i64) -> bool {
    screened_at.is_some_and(|at| (0..=SCREEN_VALID_SECS).contains(&(now - at)))
}

/// `<ICD-10>:<department>`, as the consult pages pass the chosen diagnosis along.
pub fn parse_choice(choice: &str) -> Option<(String, super::department::Department)> {
    let (icd10, department) = choice.split_once(':')?;
    let department = super::department::Department::parse(department)?;
    let icd10 = icd10.trim();
    (!icd10.is_empty() && icd10.len() <= 16).then(|| (icd10.to_owned(), department))
}

/// The notice in Chinese (authoritative) or English. Server only, like the other texts.
#[cfg(feature = "ssr")]
pub fn notice_text(english: bool) -> &'static str {
    if english {
        include_str!("../../consents/consult_notice.en.md")
    } else {
        include_str!("../../consents/consult_notice.zh-CN.md")
    }
}

/// What the notice's version hash covers: both languages.
#[cfg(feature = "ssr")]
pub fn notice_versioned_content() -> String {
    format!("{}\n---\n{}", notice_text(false), notice_text(true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::department::Department;

    const AT: i64 = 1_790_000_000;

    // R-ELIG-4 / R-REG-6: a clear screen counts for 30 minutes, to the second.
    #[test]
    fn a_screen_counts_for_thirty_minutes() {
        let pass = ScreenPass {
            at: AT,
            member: None,
            critical: false,
        };
        assert!(pass.holds_for(None, AT));
        assert!(pass.holds_for(None, AT + SCREEN_VALID_SECS - 1));
        assert!(pass.holds_for(None, AT + SCREEN_VALID_SECS));
        assert!(!pass.holds_for(None, AT + SCREEN_VALID_SECS + 1));
        assert!(
            !pass.holds_for(None, AT - 1),
            "from the future: not trusted"
        );
    }

    // R-REG-7: a screen answered for one person says nothing about another.
    #[test]
    fn a_screen_counts_only_for_its_person() {
        let child = ScreenPass {
            at: AT,
            member: Some(7),
            critical: false,
        };
        assert!(child.holds_for(Some(7), AT + 60));
        assert!(!child.holds_for(None, AT + 60));
        assert!(!child.holds_for(Some(8), AT + 60));
    }

    #[test]
    fn choices_name_a_diagnosis_and_a_known_department() {
        assert_eq!(
            parse_choice("I10:cardiology"),
            Some(("I10".into(), Department::Cardiology))
        );
        assert_eq!(parse_choice("I10:nowhere"), None);
        assert_eq!(parse_choice("I10"), None);
        assert_eq!(parse_choice(":cardiology"), None);
        assert_eq!(parse_choice("I10I10I10I10I10I10:cardiology"), None);
    }

    // R-ELIG-4: a consent's screen counts for 30 minutes to the second, at a hold too.
    #[test]
    fn a_consents_screen_counts_for_thirty_minutes() {
        assert!(screen_fresh(Some(AT), AT));
        assert!(screen_fresh(Some(AT), AT + SCREEN_VALID_SECS));
        assert!(!screen_fresh(Some(AT), AT + SCREEN_VALID_SECS + 1));
        assert!(
            !screen_fresh(Some(AT), AT - 1),
            "a screen from the future does not count"
        );
        assert!(
            !screen_fresh(None, AT),
            "a consent that kept no screen time"
        );
    }
}
