//! The emergency screen before a consult (R-ELIG-4): a few yes/no questions about red
//! flags. Any yes stops the online flow and sends the patient to call 120 or go to a
//! hospital now; every question must be answered.
use super::{ErrorCode, Field, FieldError};
use serde::{Deserialize, Serialize};

/// A sign that needs emergency care, not an online follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RedFlag {
    ChestPain,
    BreathingDifficulty,
    HeavyBleeding,
    LostConsciousness,
    StrokeSigns,
    Seizure,
    SevereAllergy,
    Poisoning,
    InfantHighFever,
    SelfHarm,
}

/// In the order the questions are asked.
pub const ALL_RED_FLAGS: &[RedFlag] = &[
    RedFlag::ChestPain,
    RedFlag::BreathingDifficulty,
    RedFlag::HeavyBleeding,
    RedFlag::LostConsciousness,
    RedFlag::StrokeSigns,
    RedFlag::Seizure,
    RedFlag::SevereAllergy,
    RedFlag::Poisoning,
    RedFlag::InfantHighFever,
    RedFlag::SelfHarm,
];

impl RedFlag {
    pub const fn as_str(self) -> &'static str {
        match self {
            RedFlag::ChestPain => "chest_pain",
            RedFlag::BreathingDifficulty => "breathing_difficulty",
            RedFlag::HeavyBleeding => "heavy_bleeding",
            RedFlag::LostConsciousness => "lost_consciousness",
            RedFlag::StrokeSigns => "stroke_signs",
            RedFlag::Seizure => "seizure",
            RedFlag::SevereAllergy => "severe_allergy",
            RedFlag::Poisoning => "poisoning",
            RedFlag::InfantHighFever => "infant_high_fever",
            RedFlag::SelfHarm => "self_harm",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ALL_RED_FLAGS.iter().copied().find(|f| f.as_str() == s)
    }
}

/// The screen's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    /// No red flag: the consult may go on.
    Clear,
    /// Stop: these red flags were answered yes.
    Emergency(Vec<RedFlag>),
}

/// Judges the answers; `answer(flag)` is `Some(true)` for yes, `Some(false)` for no and
/// `None` when the question was left unanswered (refused: it is not a no).
pub fn judge(answer: impl Fn(RedFlag) -> Option<bool>) -> Result<Screen, FieldError> {
    let mut yes = Vec::new();
    for flag in ALL_RED_FLAGS {
        match answer(*flag) {
            Some(true) => yes.push(*flag),
            Some(false) => {}
            None => {
                return Err(FieldError::new(ErrorCode::ScreenUnanswered, Field::Screen));
            }
        }
    }
    Ok(if yes.is_empty() {
        Screen::Clear
    } else {
        Screen::Emergency(yes)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // R-ELIG-4: all no is clear; any single yes stops, and says which.
    #[test]
    fn any_yes_is_an_emergency() {
        assert_eq!(judge(|_| Some(false)), Ok(Screen::Clear));
        for flag in ALL_RED_FLAGS {
            assert_eq!(
                judge(|f| Some(f == *flag)),
                Ok(Screen::Emergency(vec![*flag])),
                "{flag:?}"
            );
        }
        assert_eq!(
            judge(|f| Some(matches!(f, RedFlag::ChestPain | RedFlag::SelfHarm))),
            Ok(Screen::Emergency(vec![
                RedFlag::ChestPain,
                RedFlag::SelfHarm
            ]))
        );
    }

    // R-ELIG-4: an unanswered question is not a no.
    #[test]
    fn every_question_must_be_answered() {
        assert!(judge(|f| (f != RedFlag::Seizure).then_some(false)).is_err());
        assert!(judge(|_| None).is_err());
    }

    #[test]
    fn flags_round_trip() {
        for f in ALL_RED_FLAGS {
            assert_eq!(RedFlag::parse(f.as_str()), Some(*f));
        }
    }
}
