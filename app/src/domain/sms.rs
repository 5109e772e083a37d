//! SMS verification codes (R-REG-1, R-REG-5): format, expiry, tries, resend and quotas.
use super::normalize::normalize_identifier;
use super::{ErrorCode, Field, FieldError};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// What a code is for; a code sent for one purpose never proves another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodePurpose {
    Register,
    Login,
    ResetPassword,
}

impl CodePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            CodePurpose::Register => "register",
            CodePurpose::Login => "login",
            CodePurpose::ResetPassword => "reset_password",
        }
    }
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        match s {
            "register" => Ok(Self::Register),
            "login" => Ok(Self::Login),
            "reset_password" => Ok(Self::ResetPassword),
            _ => Err(FieldError::new(ErrorCode::PurposeInvalid, Field::Purpose)),
        }
    }
}

/// Exactly six ASCII digits (after normalisation: `１２３ ４５６` is `123456`).
#[derive(Clone, PartialEq, Eq)]
pub struct SmsCode(String);

impl std::fmt::Debug for SmsCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SmsCode(******)")
    }
}

impl SmsCode {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let s = normalize_identifier(input);
        if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s))
        } else {
            Err(FieldError::new(ErrorCode::SmsCodeFormat, Field::Code))
        }
    }
    /// From six random digits made by the server.
    pub fn from_digits(n: u32) -> Self {
        Self(format!("{:06}", n % 1_000_000))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsPolicy {
    pub code_ttl: Duration,
    pub max_attempts: u32,
    pub resend_after: Duration,
    /// Codes one phone may receive in 24 hours.
    pub per_phone_per_day: u32,
    /// Codes one client address may request in an hour.
    pub per_ip_per_hour: u32,
}

impl Default for SmsPolicy {
    fn default() -> Self {
        Self {
            code_ttl: Duration::minutes(5),
            max_attempts: 5,
            resend_after: Duration::seconds(60),
            per_phone_per_day: 10,
            per_ip_per_hour: 20,
        }
    }
}

/// Recent sending history the server counted for this request.
#[derive(Debug, Clone, Copy)]
pub struct SendHistory {
    pub last_sent_to_phone: Option<OffsetDateTime>,
    pub sent_to_phone_last_day: u32,
    pub sent_from_ip_last_hour: u32,
}

/// The state of the newest code for a phone and purpose.
#[derive(Debug, Clone, Copy)]
pub struct IssuedCode {
    pub issued_at: OffsetDateTime,
    pub attempts: u32,
    pub consumed: bool,
}

/// Refused sends carry how long to wait, so the UI can count down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendRefusal {
    pub code: ErrorCode,
    pub retry_after_secs: i64,
}

impl SmsPolicy {
    pub fn may_send(&self, h: &SendHistory, now: OffsetDateTime) -> Result<(), SendRefusal> {
        if let Some(last) = h.last_sent_to_phone {
            let wait = (last + self.resend_after - now).whole_seconds();
            if wait > 0 {
                return Err(SendRefusal {
                    code: ErrorCode::SmsTooSoon,
                    retry_after_secs: wait,
                });
            }
        }
        if h.sent_to_phone_last_day >= self.per_phone_per_day {
            return Err(SendRefusal {
                code: ErrorCode::SmsPhoneQuota,
                retry_after_secs: 24 * 3600,
            });
        }
        if h.sent_from_ip_last_hour >= self.per_ip_per_hour {
            return Err(SendRefusal {
                code: ErrorCode::SmsIpQuota,
                retry_after_secs: 3600,
            });
        }
        Ok(())
    }

    /// Judges one attempt. `matches` is the server's constant-time comparison.
    /// Every attempt, right or wrong, counts against `max_attempts`.
    pub fn check(
        &self,
        code: Option<&IssuedCode>,
        matches: bool,
        now: OffsetDateTime,
    ) -> Result<(), FieldError> {
        let err = |c| FieldError::new(c, Field::Code);
        let Some(code) = code else {
            return Err(err(ErrorCode::SmsCodeWrong));
        };
        if code.consumed || now >= code.issued_at + self.code_ttl {
            return Err(err(ErrorCode::SmsCodeExpired));
        }
        if code.attempts >= self.max_attempts {
            return Err(err(ErrorCode::SmsCodeTooManyAttempts));
        }
        if !matches {
            return Err(err(ErrorCode::SmsCodeWrong));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-22 10:00 UTC);

    fn issued(ago_secs: i64, attempts: u32) -> IssuedCode {
        IssuedCode {
            issued_at: NOW - Duration::seconds(ago_secs),
            attempts,
            consumed: false,
        }
    }

    // R-REG-1: six digits, however the keyboard typed them.
    #[test]
    fn code_is_six_digits() {
        for ok in [
            " 012345 ",
            "０１２３４５",
            "０１２ ３４５",
            "012-345",
            "012\u{3000}345",
        ] {
            assert_eq!(SmsCode::parse(ok).map(|c| c.0), Ok("012345".into()), "{ok}");
        }
        assert_eq!(SmsCode::parse("１２３ ４５６").unwrap().expose(), "123456");
        for bad in [
            "",
            "12345",
            "1234567",
            "12345a",
            "１２３４５",
            "１２３ ４５６ ７",
            "12345６x",
        ] {
            assert_eq!(
                SmsCode::parse(bad).unwrap_err().code,
                ErrorCode::SmsCodeFormat
            );
        }
        assert_eq!(SmsCode::from_digits(42).expose(), "000042");
        assert!(!format!("{:?}", SmsCode::from_digits(123456)).contains("123456"));
    }

    // R-REG-1: a code expires 5 minutes after it was sent (4:59 still works).
    #[test]
    fn code_expires_after_five_minutes() {
        let p = SmsPolicy::default();
        assert_eq!(p.check(Some(&issued(299, 0)), true, NOW), Ok(()));
        assert_eq!(
            p.check(Some(&issued(300, 0)), true, NOW).unwrap_err().code,
            ErrorCode::SmsCodeExpired
        );
    }

    // R-REG-1: at most 5 tries per code, and a used code never works again.
    #[test]
    fn code_allows_five_tries_and_one_use() {
        let p = SmsPolicy::default();
        assert_eq!(p.check(Some(&issued(10, 4)), true, NOW), Ok(()));
        assert_eq!(
            p.check(Some(&issued(10, 5)), true, NOW).unwrap_err().code,
            ErrorCode::SmsCodeTooManyAttempts
        );
        assert_eq!(
            p.check(Some(&issued(10, 0)), false, NOW).unwrap_err().code,
            ErrorCode::SmsCodeWrong
        );
        let used = IssuedCode {
            consumed: true,
            ..issued(10, 1)
        };
        assert_eq!(
            p.check(Some(&used), true, NOW).unwrap_err().code,
            ErrorCode::SmsCodeExpired
        );
        assert_eq!(
            p.check(None, false, NOW).unwrap_err().code,
            ErrorCode::SmsCodeWrong
        );
    }

    // R-REG-1: resend after 60 s; per-phone and per-IP quotas.
    #[test]
    fn resend_waits_sixty_seconds_and_quotas_hold() {
        let p = SmsPolicy::default();
        let h = |ago: i64, phone: u32, ip: u32| SendHistory {
            last_sent_to_phone: Some(NOW - Duration::seconds(ago)),
            sent_to_phone_last_day: phone,
            sent_from_ip_last_hour: ip,
        };
        assert_eq!(
            p.may_send(&h(59, 1, 1), NOW),
            Err(SendRefusal {
                code: ErrorCode::SmsTooSoon,
                retry_after_secs: 1
            })
        );
        assert_eq!(p.may_send(&h(60, 1, 1), NOW), Ok(()));
        assert_eq!(
            p.may_send(&h(600, 10, 1), NOW).unwrap_err().code,
            ErrorCode::SmsPhoneQuota
        );
        assert_eq!(p.may_send(&h(600, 9, 19), NOW), Ok(()));
        assert_eq!(
            p.may_send(&h(600, 9, 20), NOW).unwrap_err().code,
            ErrorCode::SmsIpQuota
        );
        let fresh = SendHistory {
            last_sent_to_phone: None,
            sent_to_phone_last_day: 0,
            sent_from_ip_last_hour: 0,
        };
        assert_eq!(p.may_send(&fresh, NOW), Ok(()));
    }

    #[test]
    fn purposes_parse() {
        assert_eq!(CodePurpose::parse("register"), Ok(CodePurpose::Register));
        assert_eq!(
            CodePurpose::parse("nope").unwrap_err().code,
            ErrorCode::PurposeInvalid
        );
    }
}
