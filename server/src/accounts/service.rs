//! Registration, login, passwords and the profile (R-REG-1 … R-REG-5, R-REG-7).
//!
//! No answer here says whether some other person has an account (R-REG-1, PIPL): only
//! someone who proved the phone by SMS learns it, and login failures, unknown phones and
//! locked accounts look and take the same.
use crate::accounts::consents;
use crate::accounts::session_store;
use crate::accounts::sms_codes;
use crate::audit::{self, Actor, AuditAction, AuditEvent};
use crate::context::RequestContext;
use crate::db::{self, consent_record, identity_claim, patient};
use crate::error::AppError;
use crate::state::State;
use app::accounts::PatientProfile;
use app::domain::china_time;
use app::domain::consent::ALL_DOCUMENTS;
use app::domain::id_number::{IdNumber, Sex, age_on};
use app::domain::password::NewPassword;
use app::domain::person_name::RealName;
use app::domain::phone::PhoneNumber;
use app::domain::sms::{CodePurpose, SmsCode};
use app::domain::{ErrorCode, Field, FieldError};
use rand::Rng;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter,
};
use time::OffsetDateTime;
use tower_sessions::session::Id as SessionId;

pub(crate) const ID_HASH_DOMAIN: &str = "id_number";

/// Raw registration input, exactly as received.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct RegisterInput {
    pub phone: String,
    pub code: String,
    pub password: String,
    pub real_name: String,
    pub id_number: String,
    /// (document, version) pairs the patient ticked.
    #[serde(skip)]
    pub consents: Vec<(String, String)>,
}

pub async fn register(
    state: &State,
    input: RegisterInput,
    cx: &RequestContext,
) -> Result<i64, AppError> {
    let ip = cx.ip.as_str();
    let now = cx.now;
    // Validate everything before touching the database: bad input changes nothing.
    let phone = PhoneNumber::parse(&input.phone)?;
    let code = SmsCode::parse(&input.code)?;
    let password = NewPassword::parse(&input.password, Field::Password, Some(phone.as_str()))?;
    let name = RealName::parse(&input.real_name)?;
    let today = china_time::today(now);
    let id_number = IdNumber::parse(&input.id_number, today)?;
    app::domain::age::registrant_age_ok(&id_number, today)?;
    let accepted = consents::check_given(state, &input.consents, &ALL_DOCUMENTS)?;
    state.verifier.verify(&name, &id_number).await?;

    // The phone is proved before anything that depends on other accounts is looked at.
    let code_id =
        sms_codes::check(state, &state.db, &phone, CodePurpose::Register, &code, now).await?;
    let password_hash = state
        .crypto
        .hash_password(password.expose().to_owned())
        .await?;
    let id_hmac = state.crypto.keyed_hash(ID_HASH_DOMAIN, id_number.as_str());
    let patient_number = new_patient_number();

    let txn = db::begin_write(&state.db).await?;
    sms_codes::consume(&txn, code_id, now).await?;
    let taken = patient::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(patient::Column::Phone.eq(phone.as_str()))
                .add(patient::Column::IdNumberHmac.eq(&id_hmac)),
        )
        .count(&txn)
        .await?
        > 0;
    // A dependant's ID number is on file too (R-REG-7): the same answer as an account.
    let taken = taken
        || identity_claim::Entity::find_by_id(id_hmac.clone())
            .one(&txn)
            .await?
            .is_some();
    if taken {
        // The code is used up either way; the one who proved the phone may know.
        txn.commit().await?;
        return Err(FieldError::general(ErrorCode::AccountExists).into());
    }
    match claim_id_number(&txn, &id_hmac, identity_claim::ACCOUNT, now).await {
        Ok(()) => {}
        // Lost a race with a concurrent registration or dependant of the same ID.
        Err(e) if crate::db::is_unique_violation(&e) => {
            txn.rollback().await?;
            return Err(FieldError::general(ErrorCode::AccountExists).into());
        }
        Err(e) => return Err(e.into()),
    }
    let row = patient::ActiveModel {
        patient_number: Set(patient_number.clone()),
        phone: Set(phone.as_str().to_owned()),
        password_hash: Set(password_hash),
        real_name: Set(name.as_str().to_owned()),
        id_number_cipher: Set(state.crypto.encrypt(
            id_number.as_str(),
            &crate::crypto::FieldContext::patient_id_number(&patient_number),
        )?),
        id_number_hmac: Set(id_hmac),
        id_number_masked: Set(id_number.masked()),
        birth_date: Set(id_number.birth_date().to_string()),
        sex: Set(match id_number.sex() {
            Sex::Male => "male",
            Sex::Female => "female",
        }
        .to_owned()),
        failed_logins: Set(0),
        locked_until: Set(None),
        created_at: Set(now.unix_timestamp()),
        ..Default::default()
    };
    let inserted = match row.insert(&txn).await {
        Ok(p) => p,
        // Lost a race with a concurrent registration of the same phone or ID.
        Err(e) if crate::db::is_unique_violation(&e) => {
            txn.rollback().await?;
            return Err(FieldError::general(ErrorCode::AccountExists).into());
        }
        Err(e) => return Err(e.into()),
    };
    consent_record::Entity::insert_many(consents::new_rows(
        inserted.id,
        &accepted,
        crate::accounts::consent_rows::ACCEPT,
        ip,
        now,
    ))
    .exec(&txn)
    .await?;
    let me = cx.as_actor(Actor::Patient(inserted.id));
    audit::record_many(
        &txn,
        [AuditAction::Registered, AuditAction::ConsentGiven]
            .map(|action| me.audit(action).on("patient", inserted.id)),
    )
    .await?;
    txn.commit().await?;
    tracing::info!(patient.id = inserted.id, "patient registered");
    Ok(inserted.id)
}

/// Claims an ID number for an account holder or a dependant (R-REG-7); fails with a
/// unique violation if anyone holds it, whichever transaction commits first.
pub(crate) async fn claim_id_number(
    db: &impl ConnectionTrait,
    id_hmac: &str,
    holder_kind: &str,
    now: OffsetDateTime,
) -> Result<(), sea_orm::DbErr> {
    identity_claim::ActiveModel {
        id_number_hmac: Set(id_hmac.to_owned()),
        holder_kind: Set(holder_kind.to_owned()),
        created_at: Set(now.unix_timestamp()),
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// R-EMR-3: one unique patient number, not derived from anything personal.
pub(crate) fn new_patient_number() -> String {
    format!(
        "FZ{:010}",
        rand::rngs::OsRng.gen_range(0..10_000_000_000u64)
    )
}

async fn find_by_phone(
    db: &impl ConnectionTrait,
    phone: &PhoneNumber,
) -> Result<Option<patient::Model>, AppError> {
    Ok(patient::Entity::find()
        .filter(patient::Column::Phone.eq(phone.as_str()))
        .one(db)
        .await?)
}

/// Counts one password guess for this phone and this address, before it is judged.
/// Returns whether the guess may be judged at all, and whether this one hit the limit.
async fn count_guess(
    state: &State,
    phone: &PhoneNumber,
    ip: &str,
    now: OffsetDateTime,
) -> Result<(bool, bool), AppError> {
    let ts = now.unix_timestamp();
    let window = state.lockout.lock_for.whole_seconds();
    let per_phone = i64::from(state.lockout.max_failures);
    let (by_phone, _) = db::count_hit(&state.db, &login_key(state, phone), window, ts).await?;
    let (by_ip, _) = db::count_hit(&state.db, &address_key(ip), window, ts).await?;
    let allowed = by_phone <= per_phone && by_ip <= i64::from(state.login_per_ip);
    Ok((allowed, by_phone == per_phone))
}

/// Patients' password guesses from one address (staff count apart).
fn address_key(ip: &str) -> String {
    format!("login-ip:{ip}")
}

fn login_key(state: &State, phone: &PhoneNumber) -> String {
    sms_codes::phone_key(state, "login", phone)
}

fn login_failed() -> AppError {
    FieldError::general(ErrorCode::LoginFailed).into()
}

/// Phone + password (R-REG-5). A wrong password, an unknown phone and a locked phone
/// give the same answer after the same work (one argon2id verification).
pub async fn login_with_password(
    state: &State,
    phone: &str,
    password: &str,
    cx: &RequestContext,
) -> Result<i64, AppError> {
    let ip = cx.ip.as_str();
    let now = cx.now;
    let phone = PhoneNumber::parse(phone)?;
    let (allowed, reached_limit) = count_guess(state, &phone, ip, now).await?;
    let patient = find_by_phone(&state.db, &phone).await?;
    let (hash, patient_id) = match (&patient, allowed) {
        (Some(p), true) => (p.password_hash.clone(), Some(p.id)),
        (p, _) => (state.dummy_hash.clone(), p.as_ref().map(|p| p.id)),
    };
    let right = state
        .crypto
        .verify_password(password.to_owned(), hash)
        .await?;
    let txn = db::begin_write(&state.db).await?;
    let outcome = match (patient_id, right && allowed && patient.is_some()) {
        (Some(id), true) => {
            // Only failures count: a good login clears the phone's and gives back the
            // address's try (R-REG-5; many patients share an address behind NAT).
            db::clear_count(&txn, &login_key(state, &phone)).await?;
            db::uncount_hit(&txn, &address_key(&cx.ip)).await?;
            let e = cx
                .as_actor(Actor::Patient(id))
                .audit(AuditAction::LoginSucceeded);
            audit::record(&txn, e.on("patient", id)).await?;
            Ok(id)
        }
        (id, _) => {
            let failed = cx
                .as_actor(Actor::Anonymous)
                .audit(AuditAction::LoginFailed);
            let failed = failed.detail(serde_json::json!({ "judged": allowed }));
            audit::record(&txn, on_patient(failed, id)).await?;
            if reached_limit {
                let locked = cx.as_actor(Actor::System).audit(AuditAction::LockedOut);
                audit::record(&txn, on_patient(locked, id)).await?;
            }
            Err(login_failed())
        }
    };
    txn.commit().await?;
    outcome
}

/// Phone + SMS code. Proving the phone also lifts a password lockout.
pub async fn login_with_code(
    state: &State,
    phone: &str,
    code: &str,
    cx: &RequestContext,
) -> Result<i64, AppError> {
    let now = cx.now;
    let phone = PhoneNumber::parse(phone)?;
    let code = SmsCode::parse(code)?;
    let code_id =
        sms_codes::check(state, &state.db, &phone, CodePurpose::Login, &code, now).await?;
    let txn = db::begin_write(&state.db).await?;
    sms_codes::consume(&txn, code_id, now).await?;
    let Some(patient) = find_by_phone(&txn, &phone).await? else {
        txn.commit().await?;
        return Err(login_failed());
    };
    db::clear_count(&txn, &login_key(state, &phone)).await?;
    let e = cx
        .as_actor(Actor::Patient(patient.id))
        .audit(AuditAction::LoginSucceeded);
    let e = e.on("patient", patient.id);
    audit::record(&txn, e.detail(serde_json::json!({ "by": "sms" }))).await?;
    txn.commit().await?;
    Ok(patient.id)
}

/// Changes the password and ends the patient's other sessions, as one change. Guesses of
/// the current password count against the same limit as logins.
pub async fn change_password(
    state: &State,
    patient_id: i64,
    current: &str,
    new: &str,
    keep_session: Option<SessionId>,
    cx: &RequestContext,
) -> Result<(), AppError> {
    let ip = cx.ip.as_str();
    let now = cx.now;
    let patient = patient::Entity::find_by_id(patient_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| FieldError::general(ErrorCode::Unauthenticated))?;
    let phone = PhoneNumber::parse(&patient.phone)?;
    let new = NewPassword::parse(new, Field::NewPassword, Some(&patient.phone))?;
    let (allowed, _) = count_guess(state, &phone, ip, now).await?;
    let hash = if allowed {
        patient.password_hash.clone()
    } else {
        state.dummy_hash.clone()
    };
    let right = state
        .crypto
        .verify_password(current.to_owned(), hash)
        .await?;
    if !(allowed && right) {
        return Err(FieldError::new(ErrorCode::PasswordWrong, Field::Password).into());
    }
    let hash = state.crypto.hash_password(new.expose().to_owned()).await?;
    let txn = db::begin_write(&state.db).await?;
    let change = PasswordChange {
        patient_id,
        phone: &phone,
        hash,
        keep_session,
        action: AuditAction::PasswordChanged,
    };
    replace_password(state, &txn, change, cx).await?;
    txn.commit().await?;
    Ok(())
}

struct PasswordChange<'a> {
    patient_id: i64,
    phone: &'a PhoneNumber,
    hash: String,
    keep_session: Option<SessionId>,
    action: AuditAction,
}

/// The new hash, the login-failure count cleared, every other session ended, and the
/// audit row: one change, in the caller's transaction.
async fn replace_password(
    state: &State,
    txn: &sea_orm::DatabaseTransaction,
    change: PasswordChange<'_>,
    cx: &RequestContext,
) -> Result<(), AppError> {
    let id = change.patient_id;
    patient::Entity::update_many()
        .col_expr(
            patient::Column::PasswordHash,
            sea_orm::sea_query::Expr::value(change.hash),
        )
        .filter(patient::Column::Id.eq(id))
        .exec(txn)
        .await?;
    db::clear_count(txn, &login_key(state, change.phone)).await?;
    if change.action == AuditAction::PasswordChanged {
        // The current password was right: its guess does not count against the address.
        db::uncount_hit(txn, &address_key(&cx.ip)).await?;
    }
    session_store::revoke_patient(txn, id, change.keep_session).await?;
    let record = cx.as_actor(Actor::Patient(id)).audit(change.action);
    audit::record(txn, record.on("patient", id)).await?;
    Ok(())
}

/// R-REG-5: recover by SMS. Every session of the patient ends in the same change.
pub async fn reset_password(
    state: &State,
    phone: &str,
    code: &str,
    new: &str,
    cx: &RequestContext,
) -> Result<i64, AppError> {
    let now = cx.now;
    let phone = PhoneNumber::parse(phone)?;
    let code = SmsCode::parse(code)?;
    let new = NewPassword::parse(new, Field::NewPassword, Some(phone.as_str()))?;
    let code_id = sms_codes::check(
        state,
        &state.db,
        &phone,
        CodePurpose::ResetPassword,
        &code,
        now,
    )
    .await?;
    let hash = state.crypto.hash_password(new.expose().to_owned()).await?;
    let txn = db::begin_write(&state.db).await?;
    sms_codes::consume(&txn, code_id, now).await?;
    let Some(patient) = find_by_phone(&txn, &phone).await? else {
        txn.commit().await?;
        return Err(FieldError::new(ErrorCode::SmsCodeWrong, Field::Code).into());
    };
    let change = PasswordChange {
        patient_id: patient.id,
        phone: &phone,
        hash,
        keep_session: None,
        action: AuditAction::PasswordReset,
    };
    replace_password(state, &txn, change, cx).await?;
    txn.commit().await?;
    Ok(patient.id)
}

/// "Log out everywhere": every session of the patient ends.
pub async fn log_out_everywhere(
    state: &State,
    patient_id: i64,
    cx: &RequestContext,
) -> Result<(), AppError> {
    let txn = db::begin_write(&state.db).await?;
    session_store::revoke_patient(&txn, patient_id, None).await?;
    let e = cx
        .as_actor(Actor::Patient(patient_id))
        .audit(AuditAction::LoggedOutEverywhere);
    audit::record(&txn, e.on("patient", patient_id)).await?;
    txn.commit().await?;
    Ok(())
}

/// Rows masked by an older rule showed more; only the last four are ever shown now.
pub(crate) fn mask_all_but_last4(masked: &str) -> String {
    let chars: Vec<char> = masked.chars().collect();
    let keep = chars.len().saturating_sub(4);
    "*".repeat(keep) + &chars[keep..].iter().collect::<String>()
}

/// The profile pages and `/api/v1/me` show: masked ID, derived birth date, sex, age.
pub async fn profile(
    state: &State,
    db: &impl ConnectionTrait,
    patient_id: i64,
    now: OffsetDateTime,
) -> Result<Option<(PatientProfile, Vec<app::accounts::ConsentDocumentView>)>, AppError> {
    let Some(found) = crate::accounts::patient_context::load(db, patient_id).await? else {
        return Ok(None);
    };
    profile_of(state, &found, now).map(Some)
}

/// [`profile`], of the patient this request already read.
pub fn profile_of(
    state: &State,
    found: &crate::accounts::patient_context::PatientContext,
    now: OffsetDateTime,
) -> Result<(PatientProfile, Vec<app::accounts::ConsentDocumentView>), AppError> {
    let p = &found.patient;
    let birth = time::Date::parse(
        &p.birth_date,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|e| anyhow::anyhow!("stored birth date unreadable: {e}"))?;
    let profile = PatientProfile {
        patient_number: p.patient_number.clone(),
        real_name: p.real_name.clone(),
        phone_masked: PhoneNumber::parse(&p.phone)
            .map(|ph| ph.masked())
            .unwrap_or_default(),
        id_number_masked: mask_all_but_last4(&p.id_number_masked),
        birth_date: p.birth_date.clone(),
        sex: if p.sex == "male" {
            Sex::Male
        } else {
            Sex::Female
        },
        age: age_on(birth, china_time::today(now)),
        consents: consents::record_views(&found.consents),
    };
    Ok((profile, consents::outstanding_views(state, &found.consents)))
}

/// A login's audit row names the account when the phone has one.
fn on_patient(e: AuditEvent, id: Option<i64>) -> AuditEvent {
    match id {
        Some(id) => e.on("patient", id),
        None => e,
    }
}
