use serde::{Deserialize, Serialize};

/// Declares `Field` once: each variant with its wire name. Generates the enum (serde
/// uses the same name), `Field::as_str`, `Field::parse` and `ALL_FIELDS`.
macro_rules! fields {
    ($( $(#[$meta:meta])* $variant:ident => $name:literal ),+ $(,)?) => {
        /// Which input a failure is about; serialised into the API error shape.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub enum Field {
            $( $(#[$meta])* #[serde(rename = $name)] $variant, )+
        }

        impl Field {
            /// The form field's `name`, and the `field` of the API error shape.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Field::$variant => $name, )+
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $( $name => Some(Field::$variant), )+
                    _ => None,
                }
            }
        }

        pub const ALL_FIELDS: &[Field] = &[ $( Field::$variant ),+ ];
    };
}

fields! {
    Phone => "phone",
    Code => "code",
    Password => "password",
    NewPassword => "new_password",
    RealName => "real_name",
    IdNumber => "id_number",
    Consent => "consent",
    Relationship => "relationship",
    GuardianConfirmed => "guardian_confirmed",
    AdultLacksCapacity => "adult_lacks_capacity",
    MemberNumber => "member_number",
    Role => "role",
    Username => "username",
    Screen => "screen",
    Files => "files",
    Institution => "institution",
    DiagnosedOn => "diagnosed_on",
    Icd10 => "icd10",
    Note => "note",
    Purpose => "purpose",
    Body => "body",
    /// A consult message's text.
    Text => "text",
    /// The id a client gives its message.
    ClientId => "client_id",
    ChiefComplaint => "chief_complaint",
    PresentIllness => "present_illness",
    Advice => "advice",
    FollowUp => "follow_up",
    /// Why: a referral's, an addendum's, a view's.
    Reason => "reason",
    LicenceNumber => "licence_number",
    /// A page number of a list.
    Page => "page",
    /// The query string of the URL.
    Query => "query",
    /// The HTTP method of the request.
    Method => "method",
    PaymentMethod => "payment_method",
    /// An amount of money, in fen.
    AmountFen => "amount_fen",
    FeeFen => "fee_fen",
}

/// Declares `ErrorCode` once: each code with its stable snake_case name and the HTTP
/// status the JSON API answers with. Generates the enum (serde renames each variant
/// to the same name), `ErrorCode::as_str`, `ErrorCode::parse`,
/// `ErrorCode::http_status` and `ALL_CODES`.
macro_rules! error_codes {
    ($( $(#[$meta:meta])* $variant:ident => $name:literal, $status:literal; )+) => {
        /// Every failure a user can meet, as a stable machine code. The localized
        /// message comes from the translation files (`errors.<code>`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum ErrorCode {
            $( $(#[$meta])* #[serde(rename = $name)] $variant, )+
        }

        impl ErrorCode {
            /// The stable name, as in URLs (`?error=`), logs and the API.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( ErrorCode::$variant => $name, )+
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $( $name => Some(ErrorCode::$variant), )+
                    _ => None,
                }
            }

            /// The HTTP status the JSON API answers with.
            pub const fn http_status(self) -> u16 {
                match self {
                    $( ErrorCode::$variant => $status, )+
                }
            }
        }

        pub const ALL_CODES: &[ErrorCode] = &[ $( ErrorCode::$variant ),+ ];
    };
}

error_codes! {
    // The request itself.
    InvalidJson => "invalid_json", 400;
    WebhookSignatureInvalid => "webhook_signature_invalid", 400;
    /// A form body that cannot be read (wrong encoding, missing or malformed fields).
    InvalidForm => "invalid_form", 400;
    /// A query string that cannot be read.
    InvalidQuery => "invalid_query", 400;
    UnsupportedMediaType => "unsupported_media_type", 415;
    PayloadTooLarge => "payload_too_large", 413;
    MethodNotAllowed => "method_not_allowed", 405;
    RequestTimeout => "request_timeout", 408;
    CsrfMissing => "csrf_missing", 403;
    // Phone and SMS codes (R-REG-1).
    PhoneInvalid => "phone_invalid", 422;
    PhoneTaken => "phone_taken", 409;
    SmsCodeFormat => "sms_code_format", 422;
    SmsCodeWrong => "sms_code_wrong", 422;
    SmsCodeExpired => "sms_code_expired", 422;
    SmsCodeTooManyAttempts => "sms_code_too_many_attempts", 429;
    SmsTooSoon => "sms_too_soon", 429;
    SmsPhoneQuota => "sms_phone_quota", 429;
    SmsIpQuota => "sms_ip_quota", 429;
    PurposeInvalid => "purpose_invalid", 422;
    // Passwords (R-REG-5).
    PasswordTooShort => "password_too_short", 422;
    PasswordTooLong => "password_too_long", 422;
    PasswordTooCommon => "password_too_common", 422;
    PasswordWrong => "password_wrong", 401;
    // Real name and ID number (R-REG-1, R-REG-7).
    RealNameInvalid => "real_name_invalid", 422;
    IdNumberFormat => "id_number_format", 422;
    IdNumberRegion => "id_number_region", 422;
    IdNumberBirthDate => "id_number_birth_date", 422;
    IdNumberFuture => "id_number_future", 422;
    IdNumberCheckDigit => "id_number_check_digit", 422;
    IdNumberTaken => "id_number_taken", 409;
    IdNumberMismatch => "id_number_mismatch", 422;
    /// R-REG-7: under 18 周岁, a guardian registers and adds the minor as a dependant.
    MinorNeedsGuardian => "minor_needs_guardian", 422;
    /// The phone or ID number already has an account. Only ever shown to someone who
    /// has just proved the phone by SMS, so it tells nothing to a stranger.
    AccountExists => "account_exists", 409;
    // Consent (R-REG-2, R-REG-3).
    ConsentMissing => "consent_missing", 422;
    ConsentOutdated => "consent_outdated", 409;
    ConsentRequired => "consent_required", 403;
    // Family members (R-REG-7).
    FamilyRelationshipInvalid => "family_relationship_invalid", 422;
    FamilyGuardianUnconfirmed => "family_guardian_unconfirmed", 422;
    /// An adult with full capacity registers an account of their own.
    FamilyAdultHasCapacity => "family_adult_has_capacity", 422;
    /// The ID number is already on file (an account holder or someone's dependant).
    FamilyMemberOnFile => "family_member_on_file", 409;
    FamilyLimitReached => "family_limit_reached", 409;
    FamilyMemberRemoved => "family_member_removed", 409;
    // Staff (R-SEC-1, R-SEC-3).
    StaffRoleInvalid => "staff_role_invalid", 422;
    StaffUsernameInvalid => "staff_username_invalid", 422;
    StaffUsernameTaken => "staff_username_taken", 409;
    /// Password accepted; the second factor (or its enrolment) is still owed.
    SecondFactorRequired => "second_factor_required", 401;
    SecondFactorWrong => "second_factor_wrong", 401;
    /// Four eyes (R-SEC-1): an account an admin asked for is approved by another admin.
    SecondAdminRequired => "second_admin_required", 403;
    /// The username and one-time activation code do not match, or the code has expired
    /// or was used (one answer for all, so it tells a guesser nothing).
    ActivationFailed => "activation_failed", 401;
    /// R-ELIG-4: every emergency question needs a yes or a no.
    ScreenUnanswered => "screen_unanswered", 422;
    /// R-REG-6: the emergency screen for this person, in the last 30 minutes, comes first.
    ScreenRequired => "screen_required", 409;
    // Diagnosis proofs (R-ELIG-2) and uploads (OWASP file-upload rules).
    FileTypeRefused => "file_type_refused", 422;
    FileEmpty => "file_empty", 422;
    FileDamaged => "file_damaged", 422;
    FileTooLarge => "file_too_large", 413;
    ImageTooLarge => "image_too_large", 422;
    FilesMissing => "files_missing", 422;
    FilesTooMany => "files_too_many", 422;
    /// Today's uploads for this account, or this hour's from this address, are used up.
    UploadQuota => "upload_quota", 429;
    /// This account has as many proofs waiting for review as it may.
    ProofsWaitingLimit => "proofs_waiting_limit", 409;
    InstitutionInvalid => "institution_invalid", 422;
    DiagnosisDateInvalid => "diagnosis_date_invalid", 422;
    ConditionUnknown => "condition_unknown", 422;
    /// R-CONS-5: the text holds words on the blocked list (the answer names them).
    TextBlocked => "text_blocked", 422;
    ProofNotPending => "proof_not_pending", 409;
    // Follow-up eligibility (R-ELIG-1, R-ELIG-3, R-ELIG-5): the consult cannot start.
    EligibilityFirstVisit => "eligibility_first_visit", 422;
    EligibilityWrongDepartment => "eligibility_wrong_department", 422;
    EligibilityProofExpired => "eligibility_proof_expired", 422;
    EligibilityTooYoung => "eligibility_too_young", 422;
    EligibilityTooOld => "eligibility_too_old", 422;
    EligibilityCritical => "eligibility_critical", 422;
    // Doctors and schedules (R-DOC-1, R-BOOK-1, R-BOOK-4).
    LicenceNumberInvalid => "licence_number_invalid", 422;
    LicenceNumberTaken => "licence_number_taken", 409;
    /// R-DOC-1: fewer than three years of independent practice.
    DoctorPracticeTooShort => "doctor_practice_too_short", 422;
    /// A fee of 0 must be marked free, and a free one must be 0.
    FeeZeroNotFree => "fee_zero_not_free", 422;
    FeeOutOfRange => "fee_out_of_range", 422;
    ScheduleTimesInvalid => "schedule_times_invalid", 422;
    ScheduleInPast => "schedule_in_past", 422;
    ScheduleTooFarAhead => "schedule_too_far_ahead", 422;
    ScheduleSlotLength => "schedule_slot_length", 422;
    ScheduleCapacity => "schedule_capacity", 422;
    // Holds and bookings (R-BOOK-2, R-BOOK-4).
    SlotTaken => "slot_taken", 409;
    SlotCancelled => "slot_cancelled", 409;
    SlotStarted => "slot_started", 409;
    BookingOverlaps => "booking_overlaps", 409;
    TooManyHolds => "too_many_holds", 409;
    ConsultConsentRequired => "consult_consent_required", 409;
    HoldExpired => "hold_expired", 409;
    PaymentPending => "payment_pending", 409;
    // Orders and payments (R-PAY-1, R-PAY-2).
    PriceNotPublished => "price_not_published", 409;
    PaymentFailed => "payment_failed", 402;
    PaymentUnavailable => "payment_unavailable", 503;
    PaymentMethodUnavailable => "payment_method_unavailable", 422;
    RefundAmountInvalid => "refund_amount_invalid", 422;
    NothingToRefund => "nothing_to_refund", 409;
    RefundReasonMissing => "refund_reason_missing", 422;
    /// R-PAY-3: a reconciliation difference is resolved with a note saying how.
    ResolutionMissing => "resolution_missing", 422;
    BookingNotActive => "booking_not_active", 409;
    ScheduleNoticeTooShort => "schedule_notice_too_short", 409;
    // The live queue (R-BOOK-1).
    DoctorOffline => "doctor_offline", 409;
    AlreadyQueued => "already_queued", 409;
    QueueEntryNotWaiting => "queue_entry_not_waiting", 409;
    // Consults (R-CONS-1, R-CONS-3, R-ELIG-4) and records (R-EMR-1).
    ConsultEnded => "consult_ended", 409;
    /// The appointment has not begun: the patient may write 15 minutes before it.
    ConsultNotYetOpen => "consult_not_yet_open", 409;
    /// The text consult's window after the doctor's first answer has passed.
    ConsultWindowPassed => "consult_window_passed", 409;
    MessageEmpty => "message_empty", 422;
    /// The message's client id is not a UUID.
    MessageIdInvalid => "message_id_invalid", 422;
    MessageTooLong => "message_too_long", 422;
    /// Only one's own message, within 2 minutes, may be recalled.
    RecallRefused => "recall_refused", 409;
    /// A consult is completed only with a confirmed record.
    RecordRequired => "record_required", 409;
    /// An archived record never changes; a correction is an addendum.
    RecordArchived => "record_archived", 409;
    /// A field the record needs before it is confirmed.
    RecordFieldMissing => "record_field_missing", 422;
    RecordFieldTooLong => "record_field_too_long", 422;
    /// The record's diagnosis is not one of the person's approved diagnoses.
    RecordDiagnosisInvalid => "record_diagnosis_invalid", 422;
    /// The record changed since it was read (another save came first).
    RecordChanged => "record_changed", 409;
    ReasonMissing => "reason_missing", 422;
    // Calls (R-CONS-1, R-CONS-6).
    /// Only a video consult has calls.
    CallNotVideo => "call_not_video", 409;
    /// A call of this consult is already running.
    CallAlreadyLive => "call_already_live", 409;
    /// No call of this consult is running.
    CallNotRunning => "call_not_running", 409;
    /// An offer or answer that is not one, or too large.
    SignalInvalid => "signal_invalid", 422;
    /// A recording's part is missing pieces, so it cannot be completed yet.
    RecordingIncomplete => "recording_incomplete", 409;
    // Sessions and access (R-REG-5, R-SEC-1).
    LoginFailed => "login_failed", 401;
    AccountLocked => "account_locked", 429;
    Unauthenticated => "unauthenticated", 401;
    Forbidden => "forbidden", 403;
    NotFound => "not_found", 404;
    RateLimited => "rate_limited", 429;
    // The server.
    Busy => "busy", 503;
    Internal => "internal", 500;
}

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
    use serde::de::{IntoDeserializer, value::Error as DeError};

    // R-SEC-6: every code has one stable name: snake_case of the variant, the same for
    // `as_str`, `parse` and serde.
    #[test]
    fn every_code_round_trips_through_its_name() {
        for code in ALL_CODES {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(*code));
            assert_eq!(snake_case(&format!("{code:?}")), code.as_str());
            let de: Result<ErrorCode, DeError> =
                ErrorCode::deserialize(code.as_str().into_deserializer());
            assert_eq!(de, Ok(*code));
        }
        assert_eq!(ErrorCode::parse("no_such_code"), None);
        assert_eq!(ErrorCode::parse("InvalidJson"), None);
    }

    #[test]
    fn every_field_round_trips_through_its_name() {
        for field in ALL_FIELDS {
            assert_eq!(Field::parse(field.as_str()), Some(*field));
            assert_eq!(snake_case(&format!("{field:?}")), field.as_str());
            let de: Result<Field, DeError> = Field::deserialize(field.as_str().into_deserializer());
            assert_eq!(de, Ok(*field));
        }
    }

    // R-SEC-6: the statuses the API answers with.
    #[test]
    fn codes_map_to_http_statuses() {
        use ErrorCode::*;
        for (code, status) in [
            (InvalidJson, 400),
            (InvalidForm, 400),
            (InvalidQuery, 400),
            (CsrfMissing, 403),
            (Forbidden, 403),
            (ConsentRequired, 403),
            (NotFound, 404),
            (MethodNotAllowed, 405),
            (RequestTimeout, 408),
            (PhoneTaken, 409),
            (IdNumberTaken, 409),
            (AccountExists, 409),
            (ConsentOutdated, 409),
            (PayloadTooLarge, 413),
            (UnsupportedMediaType, 415),
            (MinorNeedsGuardian, 422),
            (IdNumberRegion, 422),
            (PhoneInvalid, 422),
            (Unauthenticated, 401),
            (LoginFailed, 401),
            (PasswordWrong, 401),
            (AccountLocked, 429),
            (RateLimited, 429),
            (SmsTooSoon, 429),
            (Internal, 500),
            (Busy, 503),
        ] {
            assert_eq!(code.http_status(), status, "{code:?}");
        }
        for code in ALL_CODES {
            assert!((400..600).contains(&code.http_status()), "{code:?}");
        }
    }

    fn snake_case(s: &str) -> String {
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
