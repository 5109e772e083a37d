//! The doctor directory (R-DOC-1): profiles, search by name, specialty or condition (in
//! Chinese or pinyin initials), the department filter for a patient's approved
//! diagnoses (R-ELIG-3), fees from the published price list, and photos.
use crate::db::{self, consult_price, doctor};
use crate::error::AppError;
use crate::state::AppState;
use crate::state::State;
use app::doctors::{DoctorCard, DoctorList, DoctorProfile, Fee};
use app::domain::china_time;
use app::domain::department::Department;
use app::domain::doctor::{LicenceNumber, PAGE_SIZE, practice_years, rating};
use app::domain::person_name::RealName;
use app::domain::schedule::{ConsultType, DoctorTitle, may_consult_online};
use app::domain::{ErrorCode, Field, FieldError};
use rand::Rng;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QuerySelect,
};
use time::{Date, OffsetDateTime};

/// A doctor as an operator (or the demo data) enters them.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct NewDoctor {
    pub name: String,
    /// `chief`, `associate_chief`, `attending` or `resident`.
    pub title: String,
    pub department: String,
    /// 医师执业证书编码: 15 digits.
    pub licence_number: String,
    /// `YYYY-MM-DD`: the start of independent practice.
    pub practicing_since: String,
    /// 、-separated.
    pub specialties: String,
    pub bio: String,
}

/// What search matches: the name and specialties, and their pinyin initials.
pub fn search_text(name: &str, specialties: &str) -> String {
    format!(
        "{} {} {} {}",
        name.to_lowercase(),
        initials(name),
        specialties.to_lowercase(),
        initials(specialties)
    )
}

/// `zxb` for 张晓波; letters and digits kept, punctuation dropped.
pub fn initials(text: &str) -> String {
    use pinyin::ToPinyin;
    text.chars()
        .filter_map(|c| match c.to_pinyin() {
            Some(p) => p.first_letter().chars().next(),
            None if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            None => None,
        })
        .collect()
}

/// Adds a doctor; returns the public number. The licence number is unique.
pub async fn create(
    state: &State,
    input: NewDoctor,
    cx: &crate::context::RequestContext,
) -> Result<String, AppError> {
    let now = cx.now;
    let name = RealName::parse(&input.name)?;
    let title = DoctorTitle::parse(input.title.trim())
        .ok_or(FieldError::new(ErrorCode::InvalidForm, Field::Body))?;
    let department = Department::parse(input.department.trim())
        .ok_or(FieldError::new(ErrorCode::InvalidForm, Field::Body))?;
    let licence = LicenceNumber::parse(&input.licence_number)?;
    let since = Date::parse(
        input.practicing_since.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
    .filter(|d| *d <= china_time::today(now))
    .ok_or(FieldError::new(ErrorCode::InvalidForm, Field::Body))?;
    let specialties = input.specialties.trim().to_owned();
    let bio = input.bio.trim().to_owned();
    if specialties.chars().count() > 200 || bio.chars().count() > 500 {
        return Err(FieldError::new(ErrorCode::InvalidForm, Field::Body).into());
    }
    let number = format!("DR{:012x}", rand::rngs::OsRng.r#gen::<u64>() >> 16);
    let row = doctor::ActiveModel {
        doctor_number: Set(number.clone()),
        staff_id: Set(None),
        name: Set(name.as_str().to_owned()),
        title: Set(title.as_str().to_owned()),
        department: Set(department.as_str().to_owned()),
        licence_number: Set(licence.as_str().to_owned()),
        practicing_since: Set(since.to_string()),
        search_text: Set(search_text(name.as_str(), &specialties)),
        specialties: Set(specialties),
        bio: Set(bio),
        photo_key: Set(None),
        rating_sum: Set(0),
        rating_count: Set(0),
        good_count: Set(0),
        listed: Set(true),
        created_at: Set(now.unix_timestamp()),
        ..Default::default()
    };
    let txn = db::begin_write(&state.db).await?;
    match row.insert(&txn).await {
        Ok(_) => {}
        Err(e) if crate::db::is_unique_violation(&e) => {
            txn.rollback().await?;
            return Err(
                FieldError::new(ErrorCode::LicenceNumberTaken, Field::LicenceNumber).into(),
            );
        }
        Err(e) => return Err(e.into()),
    }
    crate::audit::record(
        &txn,
        cx.audit(crate::audit::AuditAction::DoctorCreated)
            .on("doctor", &number)
            .detail(serde_json::json!({
                "department": department.as_str(),
                "title": title.as_str(),
            })),
    )
    .await?;
    txn.commit().await?;
    state.directory.changed();
    Ok(number)
}

/// Stores a doctor's photo (already a re-encoded JPEG) and points the profile at it.
pub async fn set_photo(state: &State, number: &str, jpeg: Vec<u8>) -> Result<(), AppError> {
    let key = format!("doctors/{number}.jpg");
    state.files.put(&key, jpeg).await?;
    doctor::Entity::update_many()
        .col_expr(
            doctor::Column::PhotoKey,
            sea_orm::sea_query::Expr::value(key),
        )
        .filter(doctor::Column::DoctorNumber.eq(number))
        .exec(&state.db)
        .await?;
    state.directory.changed();
    Ok(())
}

pub async fn photo(state: &State, number: &str) -> Result<Option<bytes::Bytes>, AppError> {
    let key: Option<Option<String>> = doctor::Entity::find()
        .select_only()
        .column(doctor::Column::PhotoKey)
        .filter(doctor::Column::DoctorNumber.eq(number))
        .filter(doctor::Column::Listed.eq(true))
        .into_tuple()
        .one(&state.db)
        .await?;
    match key.flatten() {
        Some(key) => Ok(Some(state.files.get(&key).await?)),
        None => Ok(None),
    }
}

/// Publishes (or changes) the fee for a title and consult type; 0 only when `free`.
/// Every change is audited with the fee it replaced.
pub async fn publish_price(
    state: &State,
    title: DoctorTitle,
    consult_type: ConsultType,
    fee_fen: i64,
    free: bool,
    cx: &crate::context::RequestContext,
) -> Result<(), AppError> {
    let now = cx.now;
    let fee_fen = app::domain::doctor::price_ok(fee_fen, free)?;
    let txn = db::begin_write(&state.db).await?;
    let previous = consult_price::Entity::find()
        .filter(consult_price::Column::Title.eq(title.as_str()))
        .filter(consult_price::Column::ConsultType.eq(consult_type.as_str()))
        .one(&txn)
        .await?
        .map(|p| p.fee_fen);
    let updated = consult_price::Entity::update_many()
        .col_expr(
            consult_price::Column::FeeFen,
            sea_orm::sea_query::Expr::value(fee_fen),
        )
        .col_expr(
            consult_price::Column::PublishedAt,
            sea_orm::sea_query::Expr::value(now.unix_timestamp()),
        )
        .filter(consult_price::Column::Title.eq(title.as_str()))
        .filter(consult_price::Column::ConsultType.eq(consult_type.as_str()))
        .exec(&txn)
        .await?
        .rows_affected;
    if updated == 0 {
        consult_price::ActiveModel {
            title: Set(title.as_str().to_owned()),
            consult_type: Set(consult_type.as_str().to_owned()),
            fee_fen: Set(fee_fen),
            published_at: Set(now.unix_timestamp()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    crate::audit::record(
        &txn,
        cx.audit(crate::audit::AuditAction::PricePublished)
            .detail(serde_json::json!({
                "title": title.as_str(),
                "consult_type": consult_type.as_str(),
                "fee_fen": fee_fen,
                "previous_fen": previous,
            })),
    )
    .await?;
    txn.commit().await?;
    state.directory.changed();
    Ok(())
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub department: Option<Department>,
    pub q: String,
    /// Only these departments (those treating the person's approved diagnoses).
    pub departments: Option<Vec<Department>>,
    pub page: u64,
}

/// A page of listed doctors, in a stable order (from the in-memory directory).
pub async fn list(
    state: &State,
    filter: &Filter,
    now: OffsetDateTime,
) -> Result<DoctorList, AppError> {
    let snapshot = state.directory.snapshot(&state.db).await?;
    let q: String = filter.q.trim().to_lowercase().chars().take(30).collect();
    // A condition's name, initials or code finds the department that treats it.
    let treating: Vec<&str> = if q.is_empty() {
        Vec::new()
    } else {
        state
            .conditions
            .search(&q)
            .iter()
            .map(|c| c.department.as_str())
            .collect()
    };
    let matching: Vec<&doctor::Model> = snapshot
        .doctors
        .iter()
        .filter(|d| {
            filter
                .department
                .is_none_or(|dep| d.department == dep.as_str())
        })
        .filter(|d| {
            filter
                .departments
                .as_ref()
                .is_none_or(|allowed| allowed.iter().any(|a| d.department == a.as_str()))
        })
        .filter(|d| {
            q.is_empty() || d.search_text.contains(&q) || treating.contains(&d.department.as_str())
        })
        .collect();
    let total = matching.len() as u64;
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = filter.page.clamp(1, pages);
    let today = china_time::today(now);
    let doctors = matching
        .into_iter()
        .skip(usize::try_from((page - 1) * PAGE_SIZE).unwrap_or(usize::MAX))
        .take(usize::try_from(PAGE_SIZE).unwrap_or(20))
        .map(|d| card(d, &snapshot.prices, today))
        .collect();
    Ok(DoctorList {
        doctors,
        page,
        pages,
        total,
    })
}

pub async fn profile(
    state: &State,
    number: &str,
    now: OffsetDateTime,
) -> Result<Option<DoctorProfile>, AppError> {
    let snapshot = state.directory.snapshot(&state.db).await?;
    let Some(d) = snapshot.doctors.iter().find(|d| d.doctor_number == number) else {
        return Ok(None);
    };
    Ok(Some(DoctorProfile {
        card: card(d, &snapshot.prices, china_time::today(now)),
        licence_number: d.licence_number.clone(),
        bio: d.bio.clone(),
    }))
}

fn card(d: &doctor::Model, prices: &[consult_price::Model], today: Date) -> DoctorCard {
    let years = Date::parse(
        &d.practicing_since,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map(|since| practice_years(since, today))
    .unwrap_or(0);
    let mut fees: Vec<Fee> = prices
        .iter()
        .filter(|p| p.title == d.title)
        .filter_map(|p| {
            ConsultType::parse(&p.consult_type).map(|t| Fee {
                consult_type: t,
                fen: p.fee_fen,
            })
        })
        .collect();
    fees.sort_by_key(|f| f.consult_type);
    DoctorCard {
        doctor_number: d.doctor_number.clone(),
        name: d.name.clone(),
        title: DoctorTitle::parse(&d.title).unwrap_or(DoctorTitle::Resident),
        department: Department::parse(&d.department).unwrap_or(Department::Cardiology),
        practice_years: years,
        may_consult_online: may_consult_online(years),
        specialties: d.specialties.clone(),
        rating: rating(d.rating_sum, d.rating_count, d.good_count),
        fees,
        has_photo: d.photo_key.is_some(),
    }
}

/// Links a directory entry to a staff account with the doctor role (one each), audited.
pub async fn link_account(
    state: &State,
    number: &str,
    username: &str,
    cx: &crate::context::RequestContext,
) -> Result<(), AppError> {
    let username = app::domain::staff::StaffUsername::parse(username)?;
    let account = crate::db::staff::Entity::find()
        .filter(crate::db::staff::Column::Username.eq(username.as_str()))
        .one(&state.db)
        .await?
        .ok_or(FieldError::general(ErrorCode::NotFound))?;
    if account.role != "doctor" {
        return Err(FieldError::new(ErrorCode::StaffRoleInvalid, Field::Role).into());
    }
    let txn = db::begin_write(&state.db).await?;
    let done = doctor::Entity::update_many()
        .col_expr(
            doctor::Column::StaffId,
            sea_orm::sea_query::Expr::value(account.id),
        )
        .filter(doctor::Column::DoctorNumber.eq(number))
        .exec(&txn)
        .await;
    let refused = match done {
        Ok(r) if r.rows_affected == 1 => None,
        Ok(_) => Some(FieldError::general(ErrorCode::NotFound)),
        Err(e) if crate::db::is_unique_violation(&e) => Some(FieldError::new(
            ErrorCode::StaffUsernameTaken,
            Field::Username,
        )),
        Err(e) => return Err(e.into()),
    };
    if let Some(refused) = refused {
        txn.rollback().await?;
        return Err(refused.into());
    }
    crate::audit::record(
        &txn,
        cx.audit(crate::audit::AuditAction::DoctorAccountLinked)
            .on("doctor", number)
            .detail(serde_json::json!({ "staff_id": account.id })),
    )
    .await?;
    txn.commit().await?;
    state.directory.changed();
    Ok(())
}

/// The departments that treat the person's approved diagnoses.
pub(crate) async fn treating_departments(
    state: &AppState,
    patient_id: i64,
    member: Option<i64>,
) -> Result<Vec<Department>, AppError> {
    let mut departments: Vec<Department> =
        crate::eligibility::service::approved(state, patient_id, member)
            .await?
            .into_iter()
            .map(|(_, d)| d.department)
            .collect();
    departments.sort();
    departments.dedup();
    Ok(departments)
}
