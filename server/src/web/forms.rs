//! HTML form posts (progressive enhancement: they work without JavaScript).
//! Each answers 303: onward on success, back to its page with `?error=` otherwise.
//! CSRF is checked by the group's layer before any of these run.
use super::auth::{self, CODE_PHONE, CODE_SENT_AT, ConsentedPatient, Patient};
use super::client::{ClientIp, LOCALE_COOKIE};
use super::error::ApiError;
use super::extract::{Form, Query};
use crate::services::{AppError, accounts, consents, family, sms_codes};
use crate::state::AppState;
use app::domain::consent::ALL_DOCUMENTS;
use app::domain::consult_consent::parse_choice;
use app::domain::{ErrorCode, FieldError};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{
    Router,
    routing::{get, post},
};
use serde::Deserialize;
use std::collections::HashMap;
use time::OffsetDateTime;
use tower_sessions::Session;

pub fn routes(state: AppState) -> Router<AppState> {
    // What sends an SMS, judges a secret or creates an account: limited per address.
    let guessing = Router::new()
        .route("/forms/sms-code", post(send_code))
        .route("/forms/register", post(register))
        .route("/forms/login", post(login))
        .route("/forms/login-sms", post(login_sms))
        .route("/forms/password-reset", post(reset_password))
        .route("/forms/password", post(change_password))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            super::throttle::limit,
        ));
    Router::new()
        .merge(guessing)
        .route("/forms/logout", post(logout))
        .route("/forms/logout-all", post(logout_all))
        .route("/forms/consents", post(accept_consents))
        .route("/forms/consents/withdraw", post(withdraw_consents))
        .route("/forms/family", post(add_family_member))
        .route("/forms/family/remove", post(remove_family_member))
        .route("/forms/acting-for", post(choose_acting_for))
        .route("/forms/consult/screen", post(emergency_screen))
        .route("/forms/consult/consent", post(consult_consent))
        .route("/forms/proofs/withdraw", post(withdraw_proof))
        .route("/forms/holds", post(hold_slot))
        .route("/forms/queue", post(join_queue))
        .route("/forms/queue/{number}/leave", post(leave_queue))
        .route("/forms/bookings/{number}/payment", post(pay_booking))
        .route("/forms/bookings/{number}/cancel", post(cancel_booking))
        .route("/forms/pay/sandbox/{order}", post(sandbox_choice))
}

/// Not state-changing and needs no session: the language switch.
pub fn language_routes() -> Router<AppState> {
    Router::new().route("/lang/{tag}", get(switch_language))
}

pub(super) type Fields = HashMap<String, String>;

pub(super) fn field<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.get(name).map(String::as_str).unwrap_or_default()
}

/// Back to `page` with the error in the query; the page shows it by its field.
fn back_with(page: &str, err: AppError) -> Response {
    let e = ApiError::from(err);
    let sep = if page.contains('?') { '&' } else { '?' };
    let mut url = format!("{page}{sep}error={}", e.error.code.as_str());
    if let Some(f) = e.error.field {
        url.push_str(&format!("&field={}", f.as_str()));
    }
    if let Some(secs) = e.retry_after_secs {
        url.push_str(&format!("&retry={}", (secs + 59) / 60));
    }
    Redirect::to(&url).into_response()
}

pub(super) fn outcome(page: &str, result: Result<impl AsRef<str>, AppError>) -> Response {
    match result {
        Ok(to) => Redirect::to(to.as_ref()).into_response(),
        Err(e) => back_with(page, e),
    }
}

/// Only our own pages may be returned to.
fn safe_back(back: &str) -> &'static str {
    ["/register", "/login/sms", "/password/reset"]
        .into_iter()
        .find(|p| *p == back)
        .unwrap_or("/")
}

async fn send_code(
    State(state): State<AppState>,
    session: Session,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let page = safe_back(field(&f, "back"));
    let now = OffsetDateTime::now_utc();
    let result = sms_codes::send(
        &state,
        field(&f, "phone"),
        field(&f, "purpose"),
        &ip.to_string(),
        now,
    )
    .await;
    // A multi-step flow has begun: this is when an anonymous visitor gets a session.
    match result {
        Ok(sent) => {
            let _ = session.insert(CODE_PHONE, sent.phone.as_str()).await;
            let _ = session.insert(CODE_SENT_AT, now.unix_timestamp()).await;
            Redirect::to(&format!("{page}?notice=code_sent")).into_response()
        }
        Err(e) => {
            // Keep what was typed so the patient need not type it again.
            if let Ok(phone) = app::domain::phone::PhoneNumber::parse(field(&f, "phone")) {
                let _ = session.insert(CODE_PHONE, phone.as_str()).await;
            }
            back_with(page, e)
        }
    }
}

async fn register(
    State(state): State<AppState>,
    session: Session,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let result = async {
        let input = accounts::RegisterInput {
            phone: field(&f, "phone").into(),
            code: field(&f, "code").into(),
            password: field(&f, "password").into(),
            real_name: field(&f, "real_name").into(),
            id_number: field(&f, "id_number").into(),
            consents: ALL_DOCUMENTS
                .iter()
                .filter_map(|d| {
                    f.get(&format!("consent_{}", d.as_str()))
                        .map(|v| (d.as_str().to_owned(), v.clone()))
                })
                .collect(),
        };
        let id =
            accounts::register(&state, input, &ip.to_string(), OffsetDateTime::now_utc()).await?;
        auth::log_in(&session, id).await?;
        Ok("/me?notice=registered")
    }
    .await;
    outcome("/register", result)
}

async fn login(
    State(state): State<AppState>,
    session: Session,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let result = async {
        let id = accounts::login_with_password(
            &state,
            field(&f, "phone"),
            field(&f, "password"),
            &ip.to_string(),
            OffsetDateTime::now_utc(),
        )
        .await?;
        auth::log_in(&session, id).await?;
        Ok("/me?notice=logged_in")
    }
    .await;
    outcome("/login", result)
}

async fn login_sms(
    State(state): State<AppState>,
    session: Session,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let result = async {
        let id = accounts::login_with_code(
            &state,
            field(&f, "phone"),
            field(&f, "code"),
            &ip.to_string(),
            OffsetDateTime::now_utc(),
        )
        .await?;
        auth::log_in(&session, id).await?;
        Ok("/me?notice=logged_in")
    }
    .await;
    outcome("/login/sms", result)
}

async fn reset_password(
    State(state): State<AppState>,
    session: Session,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let result = async {
        accounts::reset_password(
            &state,
            field(&f, "phone"),
            field(&f, "code"),
            field(&f, "new_password"),
            &ip.to_string(),
            OffsetDateTime::now_utc(),
        )
        .await?;
        auth::log_out(&session).await?;
        Ok("/login?notice=password_reset")
    }
    .await;
    outcome("/password/reset", result)
}

async fn change_password(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    session: Session,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let result = accounts::change_password(
        &state,
        patient.id,
        field(&f, "password"),
        field(&f, "new_password"),
        session.id(),
        &ip.to_string(),
        OffsetDateTime::now_utc(),
    )
    .await
    .map(|()| "/me?notice=password_changed");
    outcome("/me/password", result)
}

async fn logout(session: Session) -> Response {
    let result = auth::log_out(&session)
        .await
        .map(|()| "/login?notice=logged_out");
    outcome("/me", result)
}

async fn logout_all(
    State(state): State<AppState>,
    patient: Patient,
    session: Session,
    ClientIp(ip): ClientIp,
) -> Response {
    let result = async {
        accounts::log_out_everywhere(
            &state,
            patient.id,
            &ip.to_string(),
            OffsetDateTime::now_utc(),
        )
        .await?;
        auth::log_out(&session).await?;
        Ok("/login?notice=logged_out_all")
    }
    .await;
    outcome("/me", result)
}

async fn accept_consents(
    State(state): State<AppState>,
    patient: Patient,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let given: Vec<(String, String)> = ALL_DOCUMENTS
        .iter()
        .filter_map(|d| {
            f.get(&format!("consent_{}", d.as_str()))
                .map(|v| (d.as_str().to_owned(), v.clone()))
        })
        .collect();
    let result = consents::accept_outstanding(
        &state,
        patient.id,
        &given,
        &ip.to_string(),
        OffsetDateTime::now_utc(),
    )
    .await
    .map(|()| "/me?notice=consent_recorded");
    outcome("/consent", result)
}

async fn withdraw_consents(
    State(state): State<AppState>,
    patient: Patient,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let result = async {
        if field(&f, "confirm") != "yes" {
            return Err(
                FieldError::new(ErrorCode::ConsentMissing, app::domain::Field::Consent).into(),
            );
        }
        consents::withdraw_all(
            &state,
            patient.id,
            &ip.to_string(),
            OffsetDateTime::now_utc(),
        )
        .await?;
        Ok("/consent?notice=withdrawn")
    }
    .await;
    outcome("/me", result)
}

fn checked(f: &Fields, name: &str) -> bool {
    matches!(field(f, name), "yes" | "on" | "true")
}

async fn add_family_member(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let input = family::AddInput {
        real_name: field(&f, "real_name").into(),
        id_number: field(&f, "id_number").into(),
        relationship: field(&f, "relationship").into(),
        guardian_confirmed: checked(&f, "guardian_confirmed"),
        adult_lacks_capacity: checked(&f, "adult_lacks_capacity"),
    };
    let result = family::add(
        &state,
        patient.id,
        input,
        &ip.to_string(),
        OffsetDateTime::now_utc(),
    )
    .await
    .map(|_| "/family?notice=family_added");
    outcome("/family/new", result)
}

async fn remove_family_member(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    session: Session,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let number = field(&f, "member_number");
    let result = async {
        family::remove(
            &state,
            patient.id,
            number,
            &ip.to_string(),
            OffsetDateTime::now_utc(),
        )
        .await?;
        super::acting_for::forget(&session, number).await?;
        Ok("/family?notice=family_removed")
    }
    .await;
    outcome("/family", result)
}

async fn choose_acting_for(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    session: Session,
    Form(f): Form<Fields>,
) -> Response {
    let chosen = Some(field(&f, "member_number").to_owned());
    let result = super::acting_for::choose(&state, patient.id, &session, chosen)
        .await
        .map(|()| "/family?notice=acting_for");
    outcome("/family", result)
}

/// The no-JS upload of a proof (R-ELIG-2): a multipart form, with its own body limit.
pub fn upload_routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/forms/proofs", post(upload_proof))
        .layer(axum::extract::DefaultBodyLimit::max(
            state.max_upload_bytes * app::domain::upload::MAX_FILES + 64 * 1024,
        ))
}

async fn upload_proof(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    session: Session,
    ClientIp(ip): ClientIp,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let result = async {
        let multipart = multipart.map_err(|_| {
            AppError::from(FieldError::new(
                ErrorCode::InvalidForm,
                app::domain::Field::Body,
            ))
        })?;
        let (input, files) =
            super::api::proofs::read_upload(multipart, state.max_upload_bytes).await?;
        let member = super::acting_for::member_id(&state, patient.id, &session).await?;
        crate::services::proofs::submit(
            &state,
            patient.id,
            member,
            input,
            files,
            &ip.to_string(),
            OffsetDateTime::now_utc(),
        )
        .await?;
        Ok("/proofs?notice=proof_submitted")
    }
    .await;
    outcome("/proofs/new", result)
}

async fn withdraw_proof(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let result = crate::services::proofs::withdraw(
        &state,
        patient.id,
        field(&f, "proof_number"),
        &ip.to_string(),
        OffsetDateTime::now_utc(),
    )
    .await
    .map(|()| "/proofs?notice=proof_withdrawn");
    outcome("/proofs", result)
}

/// R-ELIG-4: each question is a yes/no radio named by its red flag, and `critical`
/// (R-ELIG-5). A clear screen leads to the consult's notice for the chosen diagnosis.
async fn emergency_screen(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    session: Session,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    use app::domain::emergency::{ALL_RED_FLAGS, Screen};
    let yes_no = |name: &str| match field(&f, name) {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    let answers: HashMap<String, bool> = ALL_RED_FLAGS
        .iter()
        .filter_map(|flag| yes_no(flag.as_str()).map(|a| (flag.as_str().to_owned(), a)))
        .collect();
    // Rebuilt from its parts: nothing the client sent goes into a URL unchecked.
    let choice = parse_choice(field(&f, "choice"))
        .map(|(icd10, department)| format!("choice={icd10}:{}", department.as_str()));
    let screen = super::api::screen::answer_screen(
        &state,
        patient.id,
        &session,
        &answers,
        yes_no("critical"),
        &ip.to_string(),
    )
    .await;
    match screen {
        Ok(Screen::Clear) => match &choice {
            Some(c) => Redirect::to(&format!("/consult/consent?{c}")).into_response(),
            None => Redirect::to("/consult/start?notice=screen_clear").into_response(),
        },
        Ok(Screen::Emergency(flags)) => {
            let codes: Vec<&str> = flags.iter().map(|f| f.as_str()).collect();
            Redirect::to(&format!("/emergency?flags={}", codes.join(","))).into_response()
        }
        Err(e) => back_with(&with_query("/consult/screen", choice.as_deref()), e),
    }
}

/// R-REG-6: the consult's risk notice, confirmed.
async fn consult_consent(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    session: Session,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let Some((icd10, department)) = parse_choice(field(&f, "choice")) else {
        return Redirect::to("/consult/start").into_response();
    };
    let page = format!("/consult/consent?choice={icd10}:{}", department.as_str());
    let result = super::api::screen::give(
        &state,
        patient.id,
        &session,
        &icd10,
        department,
        field(&f, "accept") == "yes",
        field(&f, "version"),
        &ip.to_string(),
    )
    .await
    .map(|_| {
        format!(
            "/doctors?mine=1&department={}&notice=consult_ready",
            department.as_str()
        )
    });
    outcome(&page, result)
}

/// R-BOOK-2: a tap on a free slot holds it, then the booking page counts down.
async fn hold_slot(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    session: Session,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    use crate::services::bookings::{self, HoldRequest};
    let slot_number = field(&f, "slot_number").trim().to_owned();
    let result = async {
        let member = super::acting_for::member_id(&state, patient.id, &session).await?;
        let consent = super::api::screen::consult_consent_of(&session).await?;
        bookings::hold(
            &state,
            &HoldRequest {
                patient_id: patient.id,
                member,
                slot_number: slot_number.clone(),
                consult_consent: consent,
                known_birth_date: patient.own_birth_date(member).map(str::to_owned),
            },
            state.hold_secs,
            &ip.to_string(),
            OffsetDateTime::now_utc(),
        )
        .await
    }
    .await;
    match result {
        Ok(held) => Redirect::to(&format!("/bookings/{}", held.booking_number)).into_response(),
        // The screen and the consult's consent come first (R-ELIG-4, R-REG-6).
        Err(e) if e.code() == ErrorCode::ConsultConsentRequired => back_with("/consult/start", e),
        Err(e) => {
            let back = crate::services::bookings::doctor_of_slot(&state.db, &slot_number)
                .await
                .ok()
                .flatten()
                .map_or_else(|| "/doctors".to_owned(), |d| format!("/doctors/{d}"));
            back_with(&back, e)
        }
    }
}

/// R-BOOK-1: join a doctor's live queue, then watch the place.
async fn join_queue(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    session: Session,
    Form(f): Form<Fields>,
) -> Response {
    let doctor = field(&f, "doctor_number").trim().to_owned();
    let result = async {
        let consult_type = app::domain::schedule::ConsultType::parse(field(&f, "consult_type"))
            .ok_or(FieldError::general(ErrorCode::InvalidForm))?;
        let member = super::acting_for::member_id(&state, patient.id, &session).await?;
        let consent = super::api::screen::consult_consent_of(&session).await?;
        crate::services::queue::join(
            &state,
            patient.id,
            member,
            &doctor,
            consult_type,
            &consent,
            OffsetDateTime::now_utc(),
        )
        .await
    }
    .await;
    match result {
        Ok(number) => Redirect::to(&format!("/queue/{number}")).into_response(),
        Err(e) if e.code() == ErrorCode::ConsultConsentRequired => back_with("/consult/start", e),
        Err(e) => {
            let doctor = record_number(&doctor);
            back_with(&format!("/doctors/{doctor}"), e)
        }
    }
}

async fn leave_queue(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    Path(number): Path<String>,
) -> Response {
    let number = record_number(&number);
    let result =
        crate::services::queue::leave(&state, patient.id, &number, OffsetDateTime::now_utc())
            .await
            .map(|()| format!("/queue/{number}"));
    outcome(&format!("/queue/{number}"), result)
}

async fn pay_booking(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
    Path(number): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    use crate::services::orders::PayNext;
    let number = record_number(&number);
    let page = format!("/bookings/{number}");
    let result = async {
        let next = super::api::bookings::start_paying(
            &state,
            patient.id,
            &number,
            &headers,
            Some(field(&f, "payment_method")),
            &ip.to_string(),
        )
        .await?;
        Ok::<_, crate::services::AppError>(match next {
            PayNext::Redirect(url) => url,
            PayNext::Confirmed => format!("{page}?notice=booking_confirmed"),
        })
    }
    .await;
    outcome(&page, result)
}

/// The sandbox checkout's buttons (dev only): succeed and fail arrive as the sandbox's
/// events; abandoning goes back with nothing sent, as closing a provider's page would.
async fn sandbox_choice(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    Path(order): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    use crate::payments::sandbox::Choice;
    let order = record_number(&order);
    let page = format!("/pay/sandbox/{order}");
    let choice = match field(&f, "choice") {
        "succeed" => Some(Choice::Succeed),
        "fail" => Some(Choice::Fail),
        _ => None,
    };
    let now = OffsetDateTime::now_utc();
    let result = crate::services::orders::sandbox_choose(&state, patient.id, &order, choice, now)
        .await
        .map(|booking| match choice {
            Some(Choice::Succeed) => format!("/bookings/{booking}?paying=1"),
            Some(Choice::Fail) => format!("/bookings/{booking}?error=payment_failed"),
            None => format!("/bookings/{booking}"),
        });
    outcome(&page, result)
}

async fn cancel_booking(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    ClientIp(ip): ClientIp,
    Path(number): Path<String>,
) -> Response {
    let number = record_number(&number);
    let result = crate::services::bookings::cancel(
        &state,
        patient.id,
        &number,
        state.free_cancel_secs,
        &ip.to_string(),
        OffsetDateTime::now_utc(),
    )
    .await
    .map(|()| "/consults?notice=booking_cancelled");
    outcome(&format!("/bookings/{number}"), result)
}

/// A booking, queue or doctor number from a form, reduced to what numbers are made of,
/// so it can go back into a redirect.
fn record_number(raw: &str) -> String {
    raw.chars()
        .filter(char::is_ascii_alphanumeric)
        .take(32)
        .collect()
}

fn with_query(path: &str, query: Option<&str>) -> String {
    match query {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    }
}

#[derive(Deserialize)]
struct Back {
    back: Option<String>,
}

/// Sends a browser form back to the page it came from, with the reason in `?error=`.
pub fn is_browser_form(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// Back to the page a form was posted from (only a path of ours), with `?error=code`.
pub fn back_with_error(headers: &axum::http::HeaderMap, code: ErrorCode) -> Response {
    let back = headers
        .get(axum::http::header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(local_path)
        .unwrap_or_else(|| "/".to_owned());
    let sep = if back.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{back}{sep}error={}", code.as_str())).into_response()
}

/// A path of this app to return to, or `None`. Refuses anything a browser could read as
/// another origin: `//evil`, `/\evil`, and the same hidden behind percent-escapes or
/// control characters (`/%5Cevil.com`, `/%09/evil.com`).
pub fn local_path(target: &str) -> Option<String> {
    // A full URL of ours (a Referer): keep its path and query.
    let target = match target.split_once("://") {
        Some((_, rest)) => &rest[rest.find('/')?..],
        None => target,
    };
    let decoded: String = percent_decode(target)?;
    let bytes = decoded.as_bytes();
    let ok = bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/' | b'\\'))
        && !decoded.chars().any(|c| c.is_control() || c == '\\');
    ok.then(|| target.to_owned())
}

fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Sets the language cookie leptos_i18n reads, then returns to the page.
async fn switch_language(Path(tag): Path<String>, Query(q): Query<Back>) -> Response {
    let locale = match tag.as_str() {
        "en" => "en",
        _ => "zh-CN",
    };
    let back = q
        .back
        .and_then(|b| local_path(&b))
        .unwrap_or_else(|| "/".into());
    let mut res = Redirect::to(&back).into_response();
    let cookie = format!("{LOCALE_COOKIE}={locale}; Path=/; Max-Age=31536000; SameSite=Lax");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::local_path;

    // R-SEC: redirect targets are the app's own paths only.
    #[test]
    fn only_local_paths_are_returned_to() {
        for ok in ["/", "/me", "/register?x=1", "/consent/sensitive_info"] {
            assert_eq!(local_path(ok).as_deref(), Some(ok), "{ok}");
        }
        for bad in [
            "//evil.com",
            "/\\evil.com",
            "/%5Cevil.com",
            "/%5cevil.com",
            "/%09/evil.com",
            "/%2F/evil.com",
            "/\t/evil.com",
            "https:evil.com",
            "evil.com",
            "",
            "/%zz",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
        assert_eq!(
            local_path("http://127.0.0.1:3000/me?x=1").as_deref(),
            Some("/me?x=1")
        );
    }
}
