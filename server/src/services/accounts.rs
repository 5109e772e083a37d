//! Registration, login, passwords and the profile (R-REG-1 … R-REG-5).
use super::{AppError, consents, sms_codes, today_in_china};
use crate::db::{consent_record, patient};
use crate::state::AppState;
use app::domain::consent::ALL_DOCUMENTS;
use app::domain::id_number::{IdNumber, Sex, age_on};
use app::domain::password::NewPassword;
use app::domain::person_name::RealName;
use app::domain::phone::PhoneNumber;
use app::domain::sms::{CodePurpose, SmsCode};
use app::domain::{ErrorCode, Field, FieldError};
use app::viewer::PatientProfile;
use rand::Rng;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    TransactionTrait,
};
use time::OffsetDateTime;

const ID_HASH_DOMAIN: &str = "id_number";

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
    state: &AppState,
    input: RegisterInput,
    ip: &str,
    now: OffsetDateTime,
) -> Result<i64, AppError> {
    // Validate everything before touching the database: bad input changes nothing.
    let phone = PhoneNumber::parse(&input.phone)?;
    let code = SmsCode::parse(&input.code)?;
    let password = NewPassword::parse(&input.password, Field::Password, Some(phone.as_str()))?;
    let name = RealName::parse(&input.real_name)?;
    let id_number = IdNumber::parse(&input.id_number, today_in_china(now))?;
    let accepted = consents::check_given(state, &input.consents, &ALL_DOCUMENTS)?;
    state.verifier.verify(&name, &id_number).await?;

    let id_hmac = state.crypto.keyed_hash(ID_HASH_DOMAIN, id_number.as_str());
    if exists(state, patient::Column::Phone, phone.as_str()).await? {
        return Err(FieldError::new(ErrorCode::PhoneTaken, Field::Phone).into());
    }
    if exists(state, patient::Column::IdNumberHmac, &id_hmac).await? {
        return Err(FieldError::new(ErrorCode::IdNumberTaken, Field::IdNumber).into());
    }
    sms_codes::consume(state, &phone, CodePurpose::Register, &code, now).await?;
    let password_hash = state
        .crypto
        .hash_password(password.expose().to_owned())
        .await?;
    let row = patient::ActiveModel {
        patient_number: Set(new_patient_number()),
        phone: Set(phone.as_str().to_owned()),
        password_hash: Set(password_hash),
        real_name: Set(name.as_str().to_owned()),
        id_number_cipher: Set(state.crypto.encrypt(id_number.as_str())?),
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
    let txn = state.db.begin().await?;
    let inserted = match row.insert(&txn).await {
        Ok(p) => p,
        // Lost a race with a concurrent registration of the same phone or ID.
        Err(e) if is_unique_violation(&e) => {
            let field_error = if exists(state, patient::Column::Phone, phone.as_str()).await? {
                FieldError::new(ErrorCode::PhoneTaken, Field::Phone)
            } else {
                FieldError::new(ErrorCode::IdNumberTaken, Field::IdNumber)
            };
            return Err(field_error.into());
        }
        Err(e) => return Err(e.into()),
    };
    consent_record::Entity::insert_many(consents::new_rows(
        inserted.id,
        &accepted,
        consents::ACCEPT,
        ip,
        now,
    ))
    .exec(&txn)
    .await?;
    txn.commit().await?;
    tracing::info!(patient.id = inserted.id, "patient registered");
    Ok(inserted.id)
}

fn is_unique_violation(e: &sea_orm::DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

async fn exists(state: &AppState, column: patient::Column, value: &str) -> Result<bool, AppError> {
    Ok(patient::Entity::find()
        .filter(column.eq(value))
        .count(&state.db)
        .await?
        > 0)
}

/// R-EMR-3: one unique patient number, not derived from anything personal.
fn new_patient_number() -> String {
    format!(
        "FZ{:010}",
        rand::rngs::OsRng.gen_range(0..10_000_000_000u64)
    )
}

async fn find_by_phone(
    state: &AppState,
    phone: &PhoneNumber,
) -> Result<Option<patient::Model>, AppError> {
    Ok(patient::Entity::find()
        .filter(patient::Column::Phone.eq(phone.as_str()))
        .one(&state.db)
        .await?)
}

fn locked_error(until: OffsetDateTime, now: OffsetDateTime) -> AppError {
    AppError::retry(
        FieldError::general(ErrorCode::AccountLocked),
        (until - now).whole_seconds().max(1),
    )
}

/// Phone + password. Unknown phones and wrong passwords look the same (R-REG-5).
pub async fn login_with_password(
    state: &AppState,
    phone: &str,
    password: &str,
    now: OffsetDateTime,
) -> Result<i64, AppError> {
    let phone = PhoneNumber::parse(phone)?;
    let failed = || AppError::from(FieldError::general(ErrorCode::LoginFailed));
    let Some(patient) = find_by_phone(state, &phone).await? else {
        // Spend the same time as a real check so timing does not reveal accounts.
        let _ = state
            .crypto
            .verify_password(password.to_owned(), state.dummy_hash.clone())
            .await;
        return Err(failed());
    };
    let locked_until = patient
        .locked_until
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok());
    if let Some(until) = state.lockout.locked_until(locked_until, now) {
        return Err(locked_error(until, now));
    }
    if state
        .crypto
        .verify_password(password.to_owned(), patient.password_hash.clone())
        .await?
    {
        reset_failures(state, &patient).await?;
        return Ok(patient.id);
    }
    let after = state
        .lockout
        .record_failure(u32::try_from(patient.failed_logins).unwrap_or(0), now);
    let mut row: patient::ActiveModel = patient.into();
    row.failed_logins = Set(i32::try_from(after.failures).unwrap_or(i32::MAX));
    row.locked_until = Set(after.locked_until.map(|t| t.unix_timestamp()));
    row.update(&state.db).await?;
    match after.locked_until {
        Some(until) => Err(locked_error(until, now)),
        None => Err(failed()),
    }
}

async fn reset_failures(state: &AppState, patient: &patient::Model) -> Result<(), AppError> {
    if patient.failed_logins != 0 || patient.locked_until.is_some() {
        let mut row: patient::ActiveModel = patient.clone().into();
        row.failed_logins = Set(0);
        row.locked_until = Set(None);
        row.update(&state.db).await?;
    }
    Ok(())
}

/// Phone + SMS code. Proving the phone also lifts a password lockout.
pub async fn login_with_code(
    state: &AppState,
    phone: &str,
    code: &str,
    now: OffsetDateTime,
) -> Result<i64, AppError> {
    let phone = PhoneNumber::parse(phone)?;
    let code = SmsCode::parse(code)?;
    sms_codes::consume(state, &phone, CodePurpose::Login, &code, now).await?;
    let patient = find_by_phone(state, &phone)
        .await?
        .ok_or_else(|| FieldError::new(ErrorCode::SmsCodeWrong, Field::Code))?;
    reset_failures(state, &patient).await?;
    Ok(patient.id)
}

pub async fn change_password(
    state: &AppState,
    patient_id: i64,
    current: &str,
    new: &str,
) -> Result<(), AppError> {
    let patient = patient::Entity::find_by_id(patient_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| FieldError::general(ErrorCode::Unauthenticated))?;
    let new = NewPassword::parse(new, Field::NewPassword, Some(&patient.phone))?;
    if !state
        .crypto
        .verify_password(current.to_owned(), patient.password_hash.clone())
        .await?
    {
        return Err(FieldError::new(ErrorCode::PasswordWrong, Field::Password).into());
    }
    let hash = state.crypto.hash_password(new.expose().to_owned()).await?;
    let mut row: patient::ActiveModel = patient.into();
    row.password_hash = Set(hash);
    row.update(&state.db).await?;
    Ok(())
}

/// R-REG-5: recover by SMS. Returns the patient, whose sessions the caller revokes.
pub async fn reset_password(
    state: &AppState,
    phone: &str,
    code: &str,
    new: &str,
    now: OffsetDateTime,
) -> Result<i64, AppError> {
    let phone = PhoneNumber::parse(phone)?;
    let code = SmsCode::parse(code)?;
    let new = NewPassword::parse(new, Field::NewPassword, Some(phone.as_str()))?;
    sms_codes::consume(state, &phone, CodePurpose::ResetPassword, &code, now).await?;
    let patient = find_by_phone(state, &phone)
        .await?
        .ok_or_else(|| FieldError::new(ErrorCode::SmsCodeWrong, Field::Code))?;
    let hash = state.crypto.hash_password(new.expose().to_owned()).await?;
    let id = patient.id;
    let mut row: patient::ActiveModel = patient.into();
    row.password_hash = Set(hash);
    row.failed_logins = Set(0);
    row.locked_until = Set(None);
    row.update(&state.db).await?;
    Ok(id)
}

/// The profile pages and `/api/v1/me` show: masked ID, derived birth date, sex, age.
pub async fn profile(
    state: &AppState,
    patient_id: i64,
    now: OffsetDateTime,
) -> Result<Option<(PatientProfile, Vec<app::viewer::ConsentDocumentView>)>, AppError> {
    let Some(p) = patient::Entity::find_by_id(patient_id)
        .one(&state.db)
        .await?
    else {
        return Ok(None);
    };
    let rows = consents::effective(&state.db, patient_id).await?;
    let birth = time::Date::parse(
        &p.birth_date,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|e| anyhow::anyhow!("stored birth date unreadable: {e}"))?;
    let profile = PatientProfile {
        patient_number: p.patient_number,
        real_name: p.real_name,
        phone_masked: PhoneNumber::parse(&p.phone)
            .map(|ph| ph.masked())
            .unwrap_or_default(),
        id_number_masked: p.id_number_masked,
        birth_date: p.birth_date,
        sex: if p.sex == "male" {
            Sex::Male
        } else {
            Sex::Female
        },
        age: age_on(birth, today_in_china(now)),
        consents: consents::record_views(&rows),
    };
    Ok(Some((profile, consents::outstanding_views(state, &rows))))
}
