//! Legal names as printed on the ID card (R-REG-1).
use super::{ErrorCode, Field, FieldError};

/// 2–30 characters of Chinese script, Latin letters, spaces or the middle dot
/// used in transliterated names (e.g. 阿依古丽·买买提).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealName(String);

impl RealName {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let name: String = input.split_whitespace().collect::<Vec<_>>().join(" ");
        let count = name.chars().count();
        let allowed = |c: char| {
            matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{20000}'..='\u{2EBEF}')
                || c.is_ascii_alphabetic()
                || matches!(c, '·' | '•' | '.' | ' ')
        };
        let has_letter = name.chars().any(|c| !matches!(c, '·' | '•' | '.' | ' '));
        if (2..=30).contains(&count) && has_letter && name.chars().all(allowed) {
            // One middle dot form, the one on ID cards.
            Ok(Self(name.replace('•', "·")))
        } else {
            Err(FieldError::new(ErrorCode::RealNameInvalid, Field::RealName))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // R-REG-1: a legal name is required.
    #[test]
    fn accepts_chinese_minority_and_latin_names() {
        for ok in [
            "张三",
            "欧阳娜娜",
            "阿依古丽·买买提",
            "  李  四 ",
            "John Smith",
        ] {
            assert!(RealName::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(RealName::parse("  李  四 ").unwrap().as_str(), "李 四");
        assert_eq!(
            RealName::parse("阿依古丽•买买提").unwrap().as_str(),
            "阿依古丽·买买提"
        );
    }

    #[test]
    fn refuses_empty_short_long_or_odd_names() {
        for bad in ["", "张", "··", "张三1", "<script>", &"张".repeat(31)] {
            assert_eq!(
                RealName::parse(bad).unwrap_err().code,
                ErrorCode::RealNameInvalid,
                "{bad}"
            );
        }
    }
}
