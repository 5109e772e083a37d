//! API integration tests: every scenario runs on a fresh SQLite file and, when
//! `FUZHEN_TEST_POSTGRES_URL` is set, again on a fresh PostgreSQL database.
// Tests: an unwrap that fails is a failed assertion.
#![expect(
    clippy::unwrap_used,
    reason = "tests: an unwrap that fails is a failed assertion"
)]
mod booking;
mod call;
mod chat;
mod consult;
mod consult_consent;
mod consult_pages;
mod conversation;
mod demo;
mod doctors;
mod eligibility;
mod fake_stripe;
mod family;
mod hardening;
mod helpers;
mod media_server;
mod notices;
mod object_storage;
mod openapi;
mod pages;
mod payments;
mod proofs;
mod queue;
mod records;
mod refund_recovery;
mod registration;
mod roles;
mod screen;
mod sessions;
mod staff;
mod two_servers;

/// Generates `sqlite::name` and `postgres::name` tests for each scenario.
macro_rules! on_both_databases {
    ($($module:ident :: $name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test] async fn $name() { crate::$module::$name(crate::helpers::Db::Sqlite).await } )*
        }
        mod postgres {
            $( #[tokio::test] async fn $name() {
                match crate::helpers::Db::postgres() {
                    Some(db) => crate::$module::$name(db).await,
                    None => eprintln!("skipped: set FUZHEN_TEST_POSTGRES_URL to run on PostgreSQL"),
                }
            } )*
        }
    };
}

on_both_databases!(
    consult_pages::a_consult_works_with_plain_forms_and_pages,
    conversation::images_and_recalls_are_kept_with_who_and_when,
    conversation::read_receipts_typing_unread_and_the_nudge,
    conversation::an_unread_patient_message_texts_the_doctor,
    consult::an_answered_consults_booking_cannot_be_cancelled,
    consult::a_booking_cancelled_before_the_answer_cancels_its_consult,
    chat::a_thousand_messages_survive_random_drops,
    chat::bad_frames_are_refused_and_change_nothing,
    call::a_call_is_started_answered_relayed_and_ended_in_the_consult_log,
    call::calls_of_someone_elses_consult_are_not_found_and_only_one_runs,
    call::recordings_cannot_be_changed_or_deleted,
    call::a_backup_calls_recording_goes_up_in_pieces_into_the_record,
    call::recordings_left_behind_are_settled_after_the_grace_period,
    call::a_calls_recording_is_limited_in_bytes_even_sent_at_once,
    call::the_media_servers_reports_are_kept_with_the_call,
    records::a_completed_consult_archives_its_record_for_good,
    records::patients_see_who_viewed_their_record,
    consult::a_paid_booking_opens_a_consult_that_the_doctors_answer_serves,
    consult::an_unanswered_consult_closes_and_refunds_itself,
    consult::a_referral_before_any_answer_is_refunded,
    consult::a_referral_after_the_answer_keeps_the_payment,
    pages::pages_are_compressed_for_phones,
    pages::anonymous_pages_are_rendered_once_with_each_visitors_secrets,
    pages::only_pages_that_opt_in_are_kept_for_anonymous_visitors,
    pages::personal_pages_render_fresh_for_each_session,
    queue::patients_wait_in_a_live_queue,
    queue::queue_streams_end_at_logout_and_are_limited_per_account,
    queue::doctors_see_only_their_departments_and_their_patients_proofs,
    booking::slots_are_published_held_paid_and_cancelled,
    booking::two_hundred_holds_for_the_last_place,
    booking::a_hold_past_its_time_blocks_nobody,
    booking::a_hold_needs_a_screen_from_the_last_30_minutes,
    booking::operators_schedule_any_doctor_on_the_staff_page,
    booking::an_account_holds_at_most_three_unpaid_slots,
    booking::holds_written_together_keep_every_rule,
    booking::each_hold_in_a_batch_is_checked_alone,
    booking::bookings_and_departments_are_readable_through_the_api,
    payments::stripe_webhook_deliveries_are_verified_and_stored_once,
    payments::the_webhook_is_off_without_a_secret,
    payments::a_paid_hold_is_confirmed_once,
    payments::an_abandoned_payment_expires_and_frees_the_slot,
    payments::money_after_the_hold_ended_goes_back,
    payments::a_cancelled_slot_refunds_its_paid_bookings,
    payments::operators_refund_part_or_all_with_a_reason,
    payments::reconciliation_reports_every_difference,
    payments::stripe_takes_payments_and_refunds,
    payments::a_thousand_deliveries_replayed_end_where_their_events_say,
    payments::another_patients_order_is_not_found,
    payments::orders_keep_their_history_when_they_pay_for_subjects,
    doctors::the_directory_is_searched_filtered_and_paged,
    doctors::patients_find_doctors_for_their_approved_diagnoses,
    demo::demo_data_covers_every_role_and_state,
    consult_consent::the_consult_notice_is_confirmed_after_a_clear_screen,
    consult_consent::a_screen_counts_only_for_the_person_it_was_for,
    consult_consent::a_critical_condition_is_refused_under_the_hospital_rule,
    consult_consent::the_consult_notice_works_as_plain_forms,
    object_storage::files_without_a_proof_are_swept,
    registration::register_then_profile_shows_masked_id_and_derived_data,
    registration::malformed_phone_is_refused,
    registration::wrong_expired_and_reused_codes_are_refused,
    registration::too_many_codes_are_refused,
    registration::too_many_wrong_tries_burn_the_code,
    registration::weak_password_is_refused,
    registration::bad_id_numbers_are_refused,
    registration::duplicate_id_and_phone_are_refused,
    registration::missing_or_outdated_consent_is_refused,
    registration::malformed_requests_get_the_error_shape,
    registration::missing_csrf_token_is_refused,
    sessions::login_logout_and_lockout,
    sessions::the_context_read_with_the_session_is_the_same,
    sessions::sms_login_and_password_reset,
    sessions::changed_text_requires_fresh_consent,
    sessions::withdrawing_consent_stops_service,
    sessions::logout_everywhere_revokes_other_sessions,
    pages::pages_are_server_rendered_with_security_headers,
    pages::personal_pages_need_login_and_forms_work_without_javascript,
    pages::production_refuses_dev_parts_and_outbox_needs_the_dev_token,
    hardening::anonymous_page_views_write_nothing,
    hardening::logged_in_views_write_once_a_minute_and_sessions_end,
    hardening::concurrent_code_guesses_stop_at_the_limit,
    hardening::limits_count_only_failures,
    hardening::concurrent_password_guesses_stop_at_the_limit,
    hardening::answers_do_not_reveal_accounts,
    hardening::full_hashing_queue_answers_busy,
    hardening::forwarded_for_from_untrusted_peers_is_ignored,
    hardening::personal_responses_are_not_stored,
    hardening::open_redirects_are_refused,
    hardening::consent_gate_holds_for_forms_and_server_functions,
    hardening::audit_log_records_account_events,
    hardening::minors_cannot_register_and_full_width_input_is_accepted,
    hardening::swapped_ciphertexts_do_not_decrypt,
    hardening::csrf_tokens_belong_to_their_cookie,
    hardening::rejections_use_the_error_shape,
    hardening::one_address_is_throttled_on_guessing_endpoints,
    hardening::personal_fields_stay_out_of_other_pages,
    openapi::every_api_route_is_documented,
    doctors::money_changes_are_audited_and_a_free_fee_is_on_purpose,
    family::guardian_adds_a_child_and_acts_for_them,
    family::a_person_is_on_file_once,
    family::who_may_be_added_is_checked,
    family::another_accounts_member_is_not_found,
    family::concurrent_adds_stop_at_the_cap,
    family::racing_guardians_cannot_both_add_a_child,
    family::a_removed_member_is_not_silently_replaced,
    eligibility::conditions_are_searched_by_chinese_initials_and_code,
    staff::staff_log_in_with_a_second_factor,
    staff::roles_are_least_privilege_and_disabling_is_immediate,
    staff::idle_staff_sessions_end,
    staff::each_desk_is_a_page_for_the_roles_that_work_there,
    staff::viewing_the_enrolment_writes_no_new_secret,
    staff::staff_sessions_end_at_their_absolute_lifetime,
    staff::an_admin_cannot_reach_patient_data_through_an_account_they_create,
    notices::notices_arrive_and_are_read,
    screen::any_yes_stops_the_consult_and_is_logged,
    proofs::uploads_are_checked_by_content_and_stored_once,
    proofs::operators_review_proofs_once_and_patients_are_told,
    proofs::proof_files_keep_their_sandbox_policy,
    proofs::uploads_are_limited_per_account_and_address,
    refund_recovery::failed_refunds_come_back_and_a_second_payment_goes_back,
);

#[test]
fn the_binary_refuses_to_start_without_a_mode() {
    pages::the_binary_refuses_to_start_without_a_mode();
}

#[tokio::test]
async fn postgres_the_app_role_cannot_rewrite_the_audit_log() {
    match helpers::Db::postgres() {
        Some(helpers::Db::Postgres(base)) => {
            roles::the_app_role_cannot_rewrite_the_audit_log(base).await
        }
        _ => eprintln!("skipped: set FUZHEN_TEST_POSTGRES_URL to run on PostgreSQL"),
    }
}
