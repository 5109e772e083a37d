use serde::{Deserialize, Serialize};

/// Which input a failure is about; serialised into the API error shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Phone,
    Code,
    Password,
    NewPassword,
    RealName,
    IdNumber,
    Consent,
    Purpose,
    Body,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Phone => "phone",
            Field::Code => "code",
            Field::Password => "password",
            Field::NewPassword => "new_password",
            Field::RealName => "real_name",
            Field::IdNumber => "id_number",
            Field::Consent => "consent",
            Field::Purpose => "purpose",
            Field::Body => "body",
        }
    }
}

/// Every failure a user can meet, as a stable machine code. The localized
/// message comes from the translation files (`errors.<code>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidJson,
    UnsupportedMediaType,
    PayloadTooLarge,
    CsrfMissing,
    PhoneInvalid,
    PhoneTaken,
    SmsCodeFormat,
    SmsCodeWrong,
    SmsCodeExpired,
    SmsCodeTooManyAttempts,
    SmsTooSoon,
    SmsPhoneQuota,
    SmsIpQuota,
    PurposeInvalid,
    PasswordTooShort,
    PasswordTooLong,
    PasswordTooCommon,
    PasswordWrong,
    RealNameInvalid,
    IdNumberFormat,
    IdNumberRegion,
    IdNumberBirthDate,
    IdNumberFuture,
    IdNumberCheckDigit,
    IdNumberTaken,
    IdNumberMismatch,
    ConsentMissing,
    ConsentOutdated,
    ConsentRequired,
    LoginFailed,
    AccountLocked,
    Unauthenticated,
    NotFound,
    RateLimited,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        // serde's snake_case spelling, kept in one place for URLs and logs.
        match self {
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::CsrfMissing => "csrf_missing",
            ErrorCode::PhoneInvalid => "phone_invalid",
            ErrorCode::PhoneTaken => "phone_taken",
            ErrorCode::SmsCodeFormat => "sms_code_format",
            ErrorCode::SmsCodeWrong => "sms_code_wrong",
            ErrorCode::SmsCodeExpired => "sms_code_expired",
            ErrorCode::SmsCodeTooManyAttempts => "sms_code_too_many_attempts",
            ErrorCode::SmsTooSoon => "sms_too_soon",
            ErrorCode::SmsPhoneQuota => "sms_phone_quota",
            ErrorCode::SmsIpQuota => "sms_ip_quota",
            ErrorCode::PurposeInvalid => "purpose_invalid",
            ErrorCode::PasswordTooShort => "password_too_short",
            ErrorCode::PasswordTooLong => "password_too_long",
            ErrorCode::PasswordTooCommon => "password_too_common",
            ErrorCode::PasswordWrong => "password_wrong",
            ErrorCode::RealNameInvalid => "real_name_invalid",
            ErrorCode::IdNumberFormat => "id_number_format",
            ErrorCode::IdNumberRegion => "id_number_region",
            ErrorCode::IdNumberBirthDate => "id_number_birth_date",
            ErrorCode::IdNumberFuture => "id_number_future",
            ErrorCode::IdNumberCheckDigit => "id_number_check_digit",
            ErrorCode::IdNumberTaken => "id_number_taken",
            ErrorCode::IdNumberMismatch => "id_number_mismatch",
            ErrorCode::ConsentMissing => "consent_missing",
            ErrorCode::ConsentOutdated => "consent_outdated",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::LoginFailed => "login_failed",
            ErrorCode::AccountLocked => "account_locked",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::NotFound => "not_found",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Internal => "internal",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ALL_CODES.iter().copied().find(|c| c.as_str() == s)
    }

    /// The HTTP status the JSON API answers with.
    pub fn http_status(self) -> u16 {
        use ErrorCode::*;
        match self {
            InvalidJson => 400,
            UnsupportedMediaType => 415,
            PayloadTooLarge => 413,
            CsrfMissing | ConsentRequired => 403,
            Unauthenticated | LoginFailed | PasswordWrong => 401,
            NotFound => 404,
            PhoneTaken | IdNumberTaken | ConsentOutdated => 409,
            SmsTooSoon
            | SmsPhoneQuota
            | SmsIpQuota
            | SmsCodeTooManyAttempts
            | AccountLocked
            | RateLimited => 429,
            Internal => 500,
            _ => 422,
        }
    }
}

pub const ALL_CODES: &[ErrorCode] = {
    use ErrorCode::*;
    &[
        InvalidJson,
        UnsupportedMediaType,
        PayloadTooLarge,
        CsrfMissing,
        PhoneInvalid,
        PhoneTaken,
        SmsCodeFormat,
        SmsCodeWrong,
        SmsCodeExpired,
        SmsCodeTooManyAttempts,
        SmsTooSoon,
        SmsPhoneQuota,
        SmsIpQuota,
        PurposeInvalid,
        PasswordTooShort,
        PasswordTooLong,
        PasswordTooCommon,
        PasswordWrong,
        RealNameInvalid,
        IdNumberFormat,
        IdNumberRegion,
        IdNumberBirthDate,
        IdNumberFuture,
        IdNumberCheckDigit,
        IdNumberTaken,
        IdNumberMismatch,
        ConsentMissing,
        ConsentOutdated,
        ConsentRequired,
        LoginFailed,
        AccountLocked,
        Unauthenticated,
        NotFound,
        RateLimited,
        Internal,
    ]
};

/// A failure tied (optionally) to the input that caused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub code: ErrorCode,
    pub field: Option<Field>,
}

impl FieldError {
    pub fn new(code: ErrorCode, field: Field) -> Self {
        Self {
            code,
            field: Some(field),
        }
    }
    pub fn general(code: ErrorCode) -> Self {
        Self { code, field: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_name() {
        for code in ALL_CODES {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(*code));
            let json = serde_json_like(*code);
            assert_eq!(json, code.as_str());
        }
    }

    fn serde_json_like(code: ErrorCode) -> String {
        // serde's snake_case must agree with as_str; checked through Debug-free path.
        let s = format!("{code:?}");
        let mut out = String::new();
        for (i, ch) in s.chars().enumerate() {
            if ch.is_uppercase() {
                if i > 0 {
                    out.push('_');
                }
                out.extend(ch.to_lowercase());
            } else {
                out.push(ch);
            }
        }
        out
    }
}
