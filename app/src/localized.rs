//! Localized text for error codes and notices, from the translation files.
use crate::domain::ErrorCode;
use crate::domain::eligibility::Refusal;
use crate::i18n::*;

/// The message shown (and sent by the API) for an error code.
pub fn error_message(locale: Locale, code: ErrorCode) -> String {
    use ErrorCode::*;
    let s: &str = match code {
        InvalidJson => td_string!(locale, errors.invalid_json),
        WebhookSignatureInvalid => td_string!(locale, errors.webhook_signature_invalid),
        InvalidForm => td_string!(locale, errors.invalid_form),
        InvalidQuery => td_string!(locale, errors.invalid_query),
        MethodNotAllowed => td_string!(locale, errors.method_not_allowed),
        RequestTimeout => td_string!(locale, errors.request_timeout),
        UnsupportedMediaType => td_string!(locale, errors.unsupported_media_type),
        PayloadTooLarge => td_string!(locale, errors.payload_too_large),
        CsrfMissing => td_string!(locale, errors.csrf_missing),
        PhoneInvalid => td_string!(locale, errors.phone_invalid),
        PhoneTaken => td_string!(locale, errors.phone_taken),
        SmsCodeFormat => td_string!(locale, errors.sms_code_format),
        SmsCodeWrong => td_string!(locale, errors.sms_code_wrong),
        SmsCodeExpired => td_string!(locale, errors.sms_code_expired),
        SmsCodeTooManyAttempts => td_string!(locale, errors.sms_code_too_many_attempts),
        SmsTooSoon => td_string!(locale, errors.sms_too_soon),
        SmsPhoneQuota => td_string!(locale, errors.sms_phone_quota),
        SmsIpQuota => td_string!(locale, errors.sms_ip_quota),
        PurposeInvalid => td_string!(locale, errors.purpose_invalid),
        PasswordTooShort => td_string!(locale, errors.password_too_short),
        PasswordTooLong => td_string!(locale, errors.password_too_long),
        PasswordTooCommon => td_string!(locale, errors.password_too_common),
        PasswordWrong => td_string!(locale, errors.password_wrong),
        RealNameInvalid => td_string!(locale, errors.real_name_invalid),
        IdNumberFormat => td_string!(locale, errors.id_number_format),
        IdNumberRegion => td_string!(locale, errors.id_number_region),
        IdNumberBirthDate => td_string!(locale, errors.id_number_birth_date),
        IdNumberFuture => td_string!(locale, errors.id_number_future),
        IdNumberCheckDigit => td_string!(locale, errors.id_number_check_digit),
        IdNumberTaken => td_string!(locale, errors.id_number_taken),
        IdNumberMismatch => td_string!(locale, errors.id_number_mismatch),
        MinorNeedsGuardian => td_string!(locale, errors.minor_needs_guardian),
        AccountExists => td_string!(locale, errors.account_exists),
        ConsentMissing => td_string!(locale, errors.consent_missing),
        ConsentOutdated => td_string!(locale, errors.consent_outdated),
        ConsentRequired => td_string!(locale, errors.consent_required),
        FamilyRelationshipInvalid => td_string!(locale, errors.family_relationship_invalid),
        FamilyGuardianUnconfirmed => td_string!(locale, errors.family_guardian_unconfirmed),
        FamilyAdultHasCapacity => td_string!(locale, errors.family_adult_has_capacity),
        FamilyMemberOnFile => td_string!(locale, errors.family_member_on_file),
        FamilyLimitReached => td_string!(locale, errors.family_limit_reached),
        FamilyMemberRemoved => td_string!(locale, errors.family_member_removed),
        StaffRoleInvalid => td_string!(locale, errors.staff_role_invalid),
        StaffUsernameInvalid => td_string!(locale, errors.staff_username_invalid),
        StaffUsernameTaken => td_string!(locale, errors.staff_username_taken),
        SecondFactorRequired => td_string!(locale, errors.second_factor_required),
        SecondFactorWrong => td_string!(locale, errors.second_factor_wrong),
        SecondAdminRequired => td_string!(locale, errors.second_admin_required),
        ActivationFailed => td_string!(locale, errors.activation_failed),
        FileTypeRefused => td_string!(locale, errors.file_type_refused),
        FileEmpty => td_string!(locale, errors.file_empty),
        FileDamaged => td_string!(locale, errors.file_damaged),
        FileTooLarge => td_string!(locale, errors.file_too_large),
        UploadQuota => td_string!(locale, errors.upload_quota),
        ProofsWaitingLimit => td_string!(locale, errors.proofs_waiting_limit),
        ImageTooLarge => td_string!(locale, errors.image_too_large),
        FilesMissing => td_string!(locale, errors.files_missing),
        FilesTooMany => td_string!(locale, errors.files_too_many),
        InstitutionInvalid => td_string!(locale, errors.institution_invalid),
        DiagnosisDateInvalid => td_string!(locale, errors.diagnosis_date_invalid),
        ConditionUnknown => td_string!(locale, errors.condition_unknown),
        TextBlocked => td_string!(locale, errors.text_blocked),
        ConsultEnded => td_string!(locale, errors.consult_ended),
        ConsultNotYetOpen => td_string!(locale, errors.consult_not_yet_open),
        ConsultWindowPassed => td_string!(locale, errors.consult_window_passed),
        MessageEmpty => td_string!(locale, errors.message_empty),
        MessageIdInvalid => td_string!(locale, errors.message_id_invalid),
        MessageTooLong => td_string!(locale, errors.message_too_long),
        RecallRefused => td_string!(locale, errors.recall_refused),
        RecordRequired => td_string!(locale, errors.record_required),
        RecordArchived => td_string!(locale, errors.record_archived),
        RecordFieldMissing => td_string!(locale, errors.record_field_missing),
        RecordFieldTooLong => td_string!(locale, errors.record_field_too_long),
        RecordDiagnosisInvalid => td_string!(locale, errors.record_diagnosis_invalid),
        RecordChanged => td_string!(locale, errors.record_changed),
        ReasonMissing => td_string!(locale, errors.reason_missing),
        CallNotVideo => td_string!(locale, errors.call_not_video),
        CallAlreadyLive => td_string!(locale, errors.call_already_live),
        CallNotRunning => td_string!(locale, errors.call_not_running),
        SignalInvalid => td_string!(locale, errors.signal_invalid),
        RecordingIncomplete => td_string!(locale, errors.recording_incomplete),
        ProofNotPending => td_string!(locale, errors.proof_not_pending),
        ScreenUnanswered => td_string!(locale, errors.screen_unanswered),
        ScreenRequired => td_string!(locale, errors.screen_required),
        LicenceNumberInvalid => td_string!(locale, errors.licence_number_invalid),
        LicenceNumberTaken => td_string!(locale, errors.licence_number_taken),
        FeeZeroNotFree => td_string!(locale, errors.fee_zero_not_free),
        FeeOutOfRange => td_string!(locale, errors.fee_out_of_range),
        DoctorPracticeTooShort => td_string!(locale, errors.doctor_practice_too_short),
        ScheduleTimesInvalid => td_string!(locale, errors.schedule_times_invalid),
        ScheduleInPast => td_string!(locale, errors.schedule_in_past),
        ScheduleTooFarAhead => td_string!(locale, errors.schedule_too_far_ahead),
        ScheduleSlotLength => td_string!(locale, errors.schedule_slot_length),
        ScheduleCapacity => td_string!(locale, errors.schedule_capacity),
        SlotTaken => td_string!(locale, errors.slot_taken),
        SlotCancelled => td_string!(locale, errors.slot_cancelled),
        SlotStarted => td_string!(locale, errors.slot_started),
        BookingOverlaps => td_string!(locale, errors.booking_overlaps),
        TooManyHolds => td_string!(locale, errors.too_many_holds),
        ConsultConsentRequired => td_string!(locale, errors.consult_consent_required),
        HoldExpired => td_string!(locale, errors.hold_expired),
        PaymentPending => td_string!(locale, errors.payment_pending),
        PriceNotPublished => td_string!(locale, errors.price_not_published),
        PaymentFailed => td_string!(locale, errors.payment_failed),
        PaymentUnavailable => td_string!(locale, errors.payment_unavailable),
        PaymentMethodUnavailable => td_string!(locale, errors.payment_method_unavailable),
        RefundAmountInvalid => td_string!(locale, errors.refund_amount_invalid),
        NothingToRefund => td_string!(locale, errors.nothing_to_refund),
        RefundReasonMissing => td_string!(locale, errors.refund_reason_missing),
        ResolutionMissing => td_string!(locale, errors.resolution_missing),
        BookingNotActive => td_string!(locale, errors.booking_not_active),
        ScheduleNoticeTooShort => td_string!(locale, errors.schedule_notice_too_short),
        DoctorOffline => td_string!(locale, errors.doctor_offline),
        AlreadyQueued => td_string!(locale, errors.already_queued),
        QueueEntryNotWaiting => td_string!(locale, errors.queue_entry_not_waiting),
        EligibilityFirstVisit => td_string!(locale, errors.eligibility_first_visit),
        EligibilityWrongDepartment => td_string!(locale, errors.eligibility_wrong_department),
        EligibilityProofExpired => td_string!(locale, errors.eligibility_proof_expired),
        EligibilityTooYoung => td_string!(locale, errors.eligibility_too_young),
        EligibilityTooOld => td_string!(locale, errors.eligibility_too_old),
        EligibilityCritical => td_string!(locale, errors.eligibility_critical),
        LoginFailed => td_string!(locale, errors.login_failed),
        AccountLocked => return locked_message(locale, 15),
        Unauthenticated => td_string!(locale, errors.unauthenticated),
        Forbidden => td_string!(locale, errors.forbidden),
        NotFound => td_string!(locale, errors.not_found),
        RateLimited => td_string!(locale, errors.rate_limited),
        Busy => td_string!(locale, errors.busy),
        Internal => td_string!(locale, errors.internal),
    };
    s.to_owned()
}

/// "Locked: try again in N minutes" (R-REG-5), rounded up to whole minutes.
pub fn locked_message(locale: Locale, minutes: i64) -> String {
    let minutes = minutes.max(1);
    fill(
        td_string!(locale, errors.account_locked),
        &[("minutes", &minutes.to_string())],
    )
}

/// Why a consult cannot start, with the department, dates or ages that apply.
pub fn refusal_message(locale: Locale, refusal: Refusal) -> String {
    let english = locale == Locale::en;
    let reason = error_message(locale, refusal.code());
    let detail = match refusal {
        Refusal::WrongDepartment { treated_by } => fill(
            td_string!(locale, eligibility.wrong_department),
            &[("department", treated_by.name(english))],
        ),
        Refusal::ProofExpired {
            diagnosed_on,
            valid_until,
        } => fill(
            td_string!(locale, eligibility.proof_expired),
            &[
                ("diagnosed_on", &diagnosed_on.to_string()),
                ("valid_until", &valid_until.to_string()),
            ],
        ),
        Refusal::TooYoung { min_age_days } => fill(
            td_string!(locale, eligibility.too_young),
            &[("days", &min_age_days.to_string())],
        ),
        Refusal::TooOld { max_age_years } => fill(
            td_string!(locale, eligibility.too_old),
            &[("years", &max_age_years.to_string())],
        ),
        Refusal::ConsentMissing | Refusal::Critical | Refusal::FirstVisit => return reason,
    };
    format!("{reason} {detail}")
}

/// A message-centre notice's title and body in `locale`, from its kind and parameters.
pub fn render_message(
    locale: Locale,
    kind: crate::domain::notice::NoticeKind,
    params: &[(String, String)],
) -> (String, String) {
    use crate::domain::notice::NoticeKind::*;
    let (title, body) = match kind {
        FamilyMemberAdded => (
            td_string!(locale, messages.family_member_added_title),
            td_string!(locale, messages.family_member_added_body),
        ),
        ProofApproved => (
            td_string!(locale, messages.proof_approved_title),
            td_string!(locale, messages.proof_approved_body),
        ),
        ProofRejected => (
            td_string!(locale, messages.proof_rejected_title),
            td_string!(locale, messages.proof_rejected_body),
        ),
        HoldExpired => (
            td_string!(locale, messages.hold_expired_title),
            td_string!(locale, messages.hold_expired_body),
        ),
        BookingConfirmed => (
            td_string!(locale, messages.booking_confirmed_title),
            td_string!(locale, messages.booking_confirmed_body),
        ),
        BookingCancelled => (
            td_string!(locale, messages.booking_cancelled_title),
            td_string!(locale, messages.booking_cancelled_body),
        ),
        SlotCancelled => (
            td_string!(locale, messages.slot_cancelled_title),
            td_string!(locale, messages.slot_cancelled_body),
        ),
        BookingReminder => (
            td_string!(locale, messages.booking_reminder_title),
            td_string!(locale, messages.booking_reminder_body),
        ),
        QueueCalled => (
            td_string!(locale, messages.queue_called_title),
            td_string!(locale, messages.queue_called_body),
        ),
        QueueClosed => (
            td_string!(locale, messages.queue_closed_title),
            td_string!(locale, messages.queue_closed_body),
        ),
        RefundStarted => (
            td_string!(locale, messages.refund_started_title),
            td_string!(locale, messages.refund_started_body),
        ),
        ConsultUnanswered => (
            td_string!(locale, messages.consult_unanswered_title),
            td_string!(locale, messages.consult_unanswered_body),
        ),
        ConsultReferred => (
            td_string!(locale, messages.consult_referred_title),
            td_string!(locale, messages.consult_referred_body),
        ),
        ConsultCompleted => (
            td_string!(locale, messages.consult_completed_title),
            td_string!(locale, messages.consult_completed_body),
        ),
        ConsultReply => (
            td_string!(locale, messages.consult_reply_title),
            td_string!(locale, messages.consult_reply_body),
        ),
    };
    let values: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    (title.to_owned(), fill(body, &values))
}

/// Why a proof was rejected, as the patient reads it.
pub fn reject_reason_text(
    locale: Locale,
    reason: crate::domain::proof::RejectReason,
) -> &'static str {
    use crate::domain::proof::RejectReason::*;
    match reason {
        Unreadable => td_string!(locale, reject.unreadable),
        NotADiagnosis => td_string!(locale, reject.not_a_diagnosis),
        WrongPerson => td_string!(locale, reject.wrong_person),
        NoInstitutionOrDate => td_string!(locale, reject.no_institution_or_date),
        DiagnosisMismatch => td_string!(locale, reject.diagnosis_mismatch),
        Other => td_string!(locale, reject.other),
    }
}

/// Puts values into a translation's `{name}` placeholders.
/// The SMS that tells a doctor a patient's message waits unread (no patient data).
pub fn doctor_unread_sms(locale: Locale, consult_number: &str) -> String {
    fill(
        td_string!(locale, desk.unread_sms),
        &[("consult", consult_number)],
    )
}

pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values
        .iter()
        .fold(template.to_owned(), |text, (name, value)| {
            text.replace(&format!("{{{name}}}"), value)
        })
}

/// The notice for a `?notice=` value after a redirect.
pub fn notice_message(locale: Locale, key: &str) -> Option<&'static str> {
    Some(match key {
        "registered" => td_string!(locale, notice.registered),
        "logged_in" => td_string!(locale, notice.logged_in),
        "logged_out" => td_string!(locale, notice.logged_out),
        "logged_out_all" => td_string!(locale, notice.logged_out_all),
        "password_changed" => td_string!(locale, notice.password_changed),
        "password_reset" => td_string!(locale, notice.password_reset),
        "code_sent" => td_string!(locale, notice.code_sent),
        "consent_recorded" => td_string!(locale, notice.consent_recorded),
        "withdrawn" => td_string!(locale, notice.withdrawn),
        "session_expired" => td_string!(locale, notice.session_expired),
        "family_added" => td_string!(locale, notice.family_added),
        "family_removed" => td_string!(locale, notice.family_removed),
        "acting_for" => td_string!(locale, notice.acting_for),
        "enrolled" => td_string!(locale, notice.enrolled),
        "screen_clear" => td_string!(locale, notice.screen_clear),
        "consult_ready" => td_string!(locale, notice.consult_ready),
        "booking_confirmed" => td_string!(locale, notice.booking_confirmed),
        "booking_cancelled" => td_string!(locale, notice.booking_cancelled),
        "called_next" => td_string!(locale, notice.called_next),
        "session_published" => td_string!(locale, notice.session_published),
        "slot_cancelled" => td_string!(locale, notice.slot_cancelled),
        "queue_empty" => td_string!(locale, notice.queue_empty),
        "presence_changed" => td_string!(locale, notice.presence_changed),
        "proof_submitted" => td_string!(locale, notice.proof_submitted),
        "proof_withdrawn" => td_string!(locale, notice.proof_withdrawn),
        "proof_decided" => td_string!(locale, notice.proof_decided),
        "refund_retried" => td_string!(locale, notice.refund_retried),
        "staff_created" => td_string!(locale, notice.staff_created),
        "staff_enable_requested" => td_string!(locale, notice.staff_enable_requested),
        "staff_approved" => td_string!(locale, notice.staff_approved),
        "activation_sent" => td_string!(locale, notice.activation_sent),
        "staff_disabled" => td_string!(locale, notice.staff_disabled),
        "staff_enabled" => td_string!(locale, notice.staff_enabled),
        _ => return None,
    })
}

/// The locale named by a cookie or header value, for code outside the component tree.
pub fn parse_locale(tag: &str) -> Option<Locale> {
    let tag = tag.trim().to_ascii_lowercase();
    if tag.starts_with("zh") {
        Some(Locale::zh_CN)
    } else if tag.starts_with("en") {
        Some(Locale::en)
    } else {
        None
    }
}

/// A China-time moment in words: "明天 14:30", "11月28日 09:00".
pub fn when_text(locale: Locale, day: crate::domain::schedule::DayWord, clock: &str) -> String {
    format!("{} {clock}", day_text(locale, day))
}

/// A China day in words: 今天, 明天, 后天, or the date.
pub fn day_text(locale: Locale, day: crate::domain::schedule::DayWord) -> String {
    use crate::domain::schedule::DayWord;
    match day {
        DayWord::Today => td_string!(locale, when.today).to_owned(),
        DayWord::Tomorrow => td_string!(locale, when.tomorrow).to_owned(),
        DayWord::DayAfterTomorrow => td_string!(locale, when.day_after).to_owned(),
        DayWord::On(date) => fill(
            td_string!(locale, when.date),
            &[
                ("month", &(date.month() as u8).to_string()),
                ("day", &date.day().to_string()),
            ],
        ),
    }
}

/// A way to pay, in words.
pub fn payment_method_text(
    locale: Locale,
    method: crate::domain::payment_method::PaymentMethod,
) -> &'static str {
    use crate::domain::payment_method::PaymentMethod::*;
    match method {
        WechatPay => td_string!(locale, pay.wechat_pay),
        Alipay => td_string!(locale, pay.alipay),
        Card => td_string!(locale, pay.card),
    }
}

/// Why a way to pay is missing here.
pub fn unavailable_text(
    locale: Locale,
    why: crate::domain::payment_method::Unavailable,
) -> &'static str {
    match why {
        crate::domain::payment_method::Unavailable::BlockedInWeChat => {
            td_string!(locale, pay.blocked_in_wechat)
        }
    }
}

/// An order's status, in words.
pub fn order_status_text(
    locale: Locale,
    status: crate::domain::order::OrderStatus,
) -> &'static str {
    use crate::domain::order::OrderStatus::*;
    match status {
        Pending => td_string!(locale, orders.pending),
        Paid => td_string!(locale, orders.paid),
        Served => td_string!(locale, orders.served),
        Closed => td_string!(locale, orders.closed),
        Refunding => td_string!(locale, orders.refunding),
        Refunded => td_string!(locale, orders.refunded),
        Expired => td_string!(locale, orders.expired),
    }
}

/// Why money went back, in words.
pub fn refund_reason_text(
    locale: Locale,
    reason: crate::domain::order::RefundReason,
) -> &'static str {
    use crate::domain::order::RefundReason::*;
    match reason {
        SlotCancelled => td_string!(locale, orders.reason_slot_cancelled),
        PaidAfterExpiry => td_string!(locale, orders.reason_paid_after_expiry),
        Unanswered => td_string!(locale, orders.reason_unanswered),
        PatientCancelled => td_string!(locale, orders.reason_patient_cancelled),
        OperatorDecision => td_string!(locale, orders.reason_operator_decision),
        DuplicatePayment => td_string!(locale, orders.reason_duplicate_payment),
        ReferredOffline => td_string!(locale, orders.reason_referred_offline),
    }
}

/// A refund record's state, in words.
pub fn refund_state_text(locale: Locale, state: &str) -> &'static str {
    match state {
        "succeeded" => td_string!(locale, orders.refund_succeeded),
        "failed" => td_string!(locale, orders.refund_failed),
        _ => td_string!(locale, orders.refund_requested),
    }
}

/// A stored sex (`male`, `female`) in the reader's language.
pub fn sex_name(locale: Locale, sex: &str) -> String {
    match sex {
        "male" => td_string!(locale, sex.male).to_owned(),
        "female" => td_string!(locale, sex.female).to_owned(),
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::error::ALL_CODES;

    // R-SEC-6: every error has a non-empty message in both languages, with no
    // placeholder left unfilled.
    #[test]
    fn every_code_has_a_message_in_both_languages() {
        for code in ALL_CODES {
            let zh = error_message(Locale::zh_CN, *code);
            let en = error_message(Locale::en, *code);
            assert!(
                !zh.trim().is_empty() && !en.trim().is_empty() && zh != en,
                "{code:?}"
            );
            assert!(!zh.contains('{') && !en.contains('{'), "{code:?}");
        }
        assert!(locked_message(Locale::zh_CN, 7).contains('7'));
    }

    // R-REG-7: the under-18 message sends the minor to a guardian.
    #[test]
    fn minor_message_names_the_guardian_route() {
        assert_eq!(
            error_message(Locale::zh_CN, ErrorCode::MinorNeedsGuardian),
            "未满 18 周岁不能自行注册：请由监护人注册后，在「就诊人」中添加您。"
        );
        assert!(error_message(Locale::en, ErrorCode::MinorNeedsGuardian).contains("guardian"));
    }

    // R-ELIG-1/3/5: a refusal says what applies, in words the patient can act on.
    #[test]
    fn refusals_name_the_department_dates_and_ages() {
        use crate::domain::department::Department;
        use time::macros::date;
        let zh = |r| refusal_message(Locale::zh_CN, r);
        assert!(zh(Refusal::FirstVisit).contains("首次就诊"));
        assert!(
            zh(Refusal::WrongDepartment {
                treated_by: Department::Endocrinology
            })
            .ends_with("请改挂内分泌科。")
        );
        let expired = zh(Refusal::ProofExpired {
            diagnosed_on: date!(2025 - 11 - 23),
            valid_until: date!(2026 - 11 - 23),
        });
        assert!(
            expired.contains("2025-11-23") && expired.contains("2026-11-23"),
            "{expired}"
        );
        assert!(zh(Refusal::TooYoung { min_age_days: 28 }).contains("28 天"));
        assert!(zh(Refusal::TooOld { max_age_years: 80 }).contains("80 周岁"));
        let en = refusal_message(
            Locale::en,
            Refusal::WrongDepartment {
                treated_by: Department::Ent,
            },
        );
        assert!(en.contains("Ear, nose and throat"), "{en}");
        for r in [Refusal::Critical, Refusal::TooOld { max_age_years: 75 }] {
            assert!(!zh(r).contains('{') && !refusal_message(Locale::en, r).contains('{'));
        }
    }
}
