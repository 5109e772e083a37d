//! Password policy (R-REG-5), after NIST SP 800-63B: length over composition rules,
//! and a refusal list of the passwords attackers try first.
use super::{ErrorCode, Field, FieldError};

pub const MIN_CHARS: usize = 8;
/// Long passphrases are welcome; the cap only bounds hashing work.
pub const MAX_CHARS: usize = 128;

static COMMON: &str = include_str!("common_passwords.txt");

/// A password that meets the policy. Deliberately has no `Debug` that shows it.
pub struct NewPassword(String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(…)")
    }
}

impl NewPassword {
    /// `phone` lets us refuse a password that is just the account's own number.
    pub fn parse(input: &str, field: Field, phone: Option<&str>) -> Result<Self, FieldError> {
        let count = input.chars().count();
        if count < MIN_CHARS {
            return Err(FieldError::new(ErrorCode::PasswordTooShort, field));
        }
        if count > MAX_CHARS {
            return Err(FieldError::new(ErrorCode::PasswordTooLong, field));
        }
        if is_common(input) || phone.is_some_and(|p| input.contains(p)) {
            return Err(FieldError::new(ErrorCode::PasswordTooCommon, field));
        }
        Ok(Self(input.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn is_common(input: &str) -> bool {
    let lower = input.to_lowercase();
    let first = lower.chars().next();
    // One repeated character, or a straight run like 12345678 / abcdefgh.
    let repeated = lower.chars().all(|c| Some(c) == first);
    let bytes = lower.as_bytes();
    let run = bytes.len() >= 2
        && lower.is_ascii()
        && (bytes.windows(2).all(|w| w[1] == w[0].wrapping_add(1))
            || bytes.windows(2).all(|w| w[1] == w[0].wrapping_sub(1)));
    repeated || run || COMMON.lines().any(|line| line.trim() == lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(pw: &str) -> ErrorCode {
        NewPassword::parse(pw, Field::Password, Some("13800138000"))
            .unwrap_err()
            .code
    }

    // R-REG-5: at least 8 characters.
    #[test]
    fn length_limits() {
        assert_eq!(code("Ab3$xyz"), ErrorCode::PasswordTooShort);
        assert!(NewPassword::parse("Ab3$xyzq", Field::Password, None).is_ok());
        assert!(NewPassword::parse(&"复诊安全口令".repeat(11), Field::Password, None).is_ok()); // 66 chars
        assert!(
            NewPassword::parse(&"k".repeat(63).replace("kk", "kq"), Field::Password, None).is_ok()
        );
        assert_eq!(code(&"ab".repeat(65)), ErrorCode::PasswordTooLong);
    }

    // R-REG-5: the most common passwords are refused.
    #[test]
    fn refuses_common_and_trivial_passwords() {
        for pw in [
            "password",
            "Password",
            "12345678",
            "87654321",
            "abcdefgh",
            "11111111",
            "qwertyuiop",
            "woaini1314",
            "a1234567",
            "iloveyou",
            "13800138000",
            "x13800138000",
        ] {
            assert_eq!(code(pw), ErrorCode::PasswordTooCommon, "{pw}");
        }
    }

    #[test]
    fn debug_never_shows_the_password() {
        let pw = NewPassword::parse("correct horse battery", Field::Password, None).unwrap();
        assert!(!format!("{pw:?}").contains("horse"));
    }
}
