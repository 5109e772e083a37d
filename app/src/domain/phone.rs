//! Mainland mobile numbers (R-REG-1).
use super::normalize::normalize_identifier;
use super::{ErrorCode, Field, FieldError};
use serde::{Deserialize, Serialize};

/// An 11-digit mainland mobile number, `1[3-9]xxxxxxxxx`. Once parsed, always valid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Accepts what people type: spaces, dashes, full-width digits (see
    /// [`normalize_identifier`]), a `+86`/`＋86`/`0086`/`86` prefix.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let digits = normalize_identifier(input);
        // An international prefix must be China's: "+1 415…" is not 1415….
        let digits = match digits.strip_prefix('+') {
            Some(rest) if rest.starts_with("86") => rest,
            Some(_) => return Err(FieldError::new(ErrorCode::PhoneInvalid, Field::Phone)),
            None => digits.as_str(),
        };
        let digits = if digits.len() == 15 && digits.starts_with("0086") {
            &digits[4..]
        } else if digits.len() == 13 && digits.starts_with("86") {
            &digits[2..]
        } else {
            digits
        };
        let bytes = digits.as_bytes();
        let ok = bytes.len() == 11
            && bytes.iter().all(u8::is_ascii_digit)
            && bytes[0] == b'1'
            && (b'3'..=b'9').contains(&bytes[1]);
        if ok {
            Ok(Self(digits.to_owned()))
        } else {
            Err(FieldError::new(ErrorCode::PhoneInvalid, Field::Phone))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `138****0000`: what pages and logs may show.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = &'static str;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value).map_err(|_| "invalid mainland mobile number")
    }
}

impl From<PhoneNumber> for String {
    fn from(value: PhoneNumber) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // R-REG-1: the phone must be a real mainland mobile number; spaces, hyphens and
    // full-width digits from a Chinese input method are accepted.
    #[test]
    fn accepts_mainland_mobiles_with_common_decorations() {
        for input in [
            "13800138000",
            "138 0013 8000",
            "+86 138-0013-8000",
            "8613800138000",
            "008613800138000",
            "１３８００１３８０００",
            "１３８ ００１３ ８０００",
            "＋８６ １３８－００１３－８０００",
            "138\u{3000}0013\u{3000}8000",
            "138\t0013\t8000",
            "138–0013–8000",
        ] {
            assert_eq!(
                PhoneNumber::parse(input).map(|p| p.0),
                Ok("13800138000".into()),
                "{input}"
            );
        }
        assert!(PhoneNumber::parse("19912345678").is_ok());
    }

    #[test]
    fn refuses_what_is_not_a_mobile_number() {
        for input in [
            "",
            "1380013800",
            "138001380001",
            "12800138000",
            "23800138000",
            "1380013800a",
            "+1 415 555 0100",
            "＋１ ４１５ ５５５ ０１００",
            "１３８００１３８００Ｘ",
        ] {
            let err = PhoneNumber::parse(input).unwrap_err();
            assert_eq!(
                err,
                FieldError::new(ErrorCode::PhoneInvalid, Field::Phone),
                "{input}"
            );
        }
    }

    #[test]
    fn masks_the_middle_four_digits() {
        assert_eq!(
            PhoneNumber::parse("13800138000").unwrap().masked(),
            "138****8000"
        );
    }
}
