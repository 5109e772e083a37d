//! Family members (就诊人) a guardian adds and acts for (R-REG-7).
//!
//! The rules, and where they are enforced:
//! - who may be added (a minor, or an adult without full capacity, with the guardian's
//!   declaration): `app::domain::family::dependency_for`;
//! - one ID number, one person in the app (an account holder or one guardian's
//!   dependant, never both, never twice): the `identity_claim` primary key, claimed in
//!   the same transaction as the row;
//! - at most `MAX_DEPENDANTS` per account: a conditional update of the guardian's counter;
//! - how many people one account may try to add in a day (each answer can tell that an
//!   ID number is on file): a counter before anything is looked up.
use crate::accounts::service::ID_HASH_DOMAIN;
use crate::accounts::service::claim_id_number;
use crate::accounts::service::mask_all_but_last4;
use crate::audit::{self, AuditAction};
use crate::context::RequestContext;
use crate::crypto::FieldContext;
use crate::db::{self, family_member, identity_claim};
use crate::error::AppError;
use crate::state::State;
use app::domain::china_time;
use app::domain::family::{
    Declarations, Dependency, GUARDIAN_DECLARATION_VERSION, MAX_DEPENDANTS, Relationship,
    dependency_for,
};
use app::domain::id_number::{IdNumber, Sex, age_on};
use app::domain::person_name::RealName;
use app::domain::{ErrorCode, FieldError};
use app::family::FamilyMemberView;
use rand::Rng;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};
use time::OffsetDateTime;

/// Attempts to add a family member one account may make in a day.
pub const ADDS_PER_DAY: i64 = 20;

/// Raw input, exactly as received.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct AddInput {
    pub real_name: String,
    pub id_number: String,
    /// `child`, `grandchild`, `sibling`, `spouse`, `parent`, `other_relative` or `ward`.
    pub relationship: String,
    /// "I am this person's legal guardian."
    #[serde(deserialize_with = "crate::web::reply::checkbox")]
    pub guardian_confirmed: bool,
    /// "This adult lacks full civil capacity" (needed for an adult only).
    #[serde(deserialize_with = "crate::web::reply::checkbox")]
    pub adult_lacks_capacity: bool,
}

/// Adds a dependant to `guardian_id`'s account.
pub async fn add(
    state: &State,
    guardian_id: i64,
    input: AddInput,
    cx: &RequestContext,
) -> Result<FamilyMemberView, AppError> {
    let ip = cx.ip.as_str();
    let now = cx.now;
    // Everything about the input is checked before anything is looked up or written.
    let today = china_time::today(now);
    let name = RealName::parse(&input.real_name)?;
    let id_number = IdNumber::parse(&input.id_number, today)?;
    let relationship = Relationship::parse(&input.relationship)?;
    let dependency = dependency_for(
        id_number.birth_date(),
        relationship,
        Declarations {
            is_legal_guardian: input.guardian_confirmed,
            adult_lacks_capacity: input.adult_lacks_capacity,
        },
        today,
    )?;
    state.verifier.verify(&name, &id_number).await?;

    let (attempts, window_start) = db::count_hit(
        &state.db,
        &format!("family_add:{guardian_id}"),
        86_400,
        now.unix_timestamp(),
    )
    .await?;
    if attempts > ADDS_PER_DAY {
        let wait = window_start + 86_400 - now.unix_timestamp();
        return Err(AppError::retry(
            FieldError::general(ErrorCode::RateLimited),
            wait.max(1),
        ));
    }

    let id_hmac = state.crypto.keyed_hash(ID_HASH_DOMAIN, id_number.as_str());
    let member_number = new_member_number();
    let txn = db::begin_write(&state.db).await?;
    let raised = txn
        .execute_raw(db::sql(
            txn.get_database_backend(),
            "UPDATE patient SET dependant_count = dependant_count + 1 \
             WHERE id = $1 AND dependant_count < $2",
            vec![guardian_id.into(), MAX_DEPENDANTS.into()],
        ))
        .await?
        .rows_affected();
    if raised == 0 {
        txn.rollback().await?;
        return Err(FieldError::general(ErrorCode::FamilyLimitReached).into());
    }
    let on_file = identity_claim::Entity::find_by_id(id_hmac.clone())
        .one(&txn)
        .await?
        .is_some();
    if on_file {
        txn.rollback().await?;
        return Err(on_file_error());
    }
    match claim_id_number(&txn, &id_hmac, identity_claim::DEPENDANT, now).await {
        Ok(()) => {}
        Err(e) if crate::db::is_unique_violation(&e) => {
            txn.rollback().await?;
            return Err(on_file_error());
        }
        Err(e) => return Err(e.into()),
    }
    let at = now.unix_timestamp();
    let row = family_member::ActiveModel {
        member_number: Set(member_number.clone()),
        guardian_id: Set(guardian_id),
        real_name: Set(name.as_str().to_owned()),
        id_number_cipher: Set(state.crypto.encrypt(
            id_number.as_str(),
            &FieldContext::family_member_id_number(&member_number),
        )?),
        id_number_hmac: Set(id_hmac),
        id_number_masked: Set(id_number.masked()),
        birth_date: Set(id_number.birth_date().to_string()),
        sex: Set(sex_str(id_number.sex()).to_owned()),
        relationship: Set(relationship.as_str().to_owned()),
        dependency: Set(dependency.as_str().to_owned()),
        declaration_version: Set(GUARDIAN_DECLARATION_VERSION.to_owned()),
        declared_at: Set(at),
        declared_ip: Set(ip.to_owned()),
        created_at: Set(at),
        removed_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        cx.audit(AuditAction::FamilyMemberAdded)
            .on("family_member", &row.member_number)
            .about_member(Some(row.id))
            .detail(serde_json::json!({
                "relationship": relationship.as_str(),
                "dependency": dependency.as_str(),
                "declaration_version": GUARDIAN_DECLARATION_VERSION,
            })),
    )
    .await?;
    crate::notices::service::record(
        &txn,
        crate::notices::service::Notice {
            patient_id: guardian_id,
            family_member_id: Some(row.id),
            kind: app::domain::notice::NoticeKind::FamilyMemberAdded,
            params: vec![("name".into(), row.real_name.clone())],
        },
        now,
    )
    .await?;
    txn.commit().await?;
    view(row, today)
}

/// The guardian's active family members, oldest first.
pub async fn list(
    db: &impl ConnectionTrait,
    guardian_id: i64,
    now: OffsetDateTime,
) -> Result<Vec<FamilyMemberView>, AppError> {
    let today = china_time::today(now);
    family_member::Entity::find()
        .filter(family_member::Column::GuardianId.eq(guardian_id))
        .filter(family_member::Column::RemovedAt.is_null())
        .order_by_asc(family_member::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|m| view(m, today))
        .collect()
}

/// One of the guardian's active family members; `None` for anyone else's (the same
/// answer as for a number that does not exist).
pub async fn find(
    db: &impl ConnectionTrait,
    guardian_id: i64,
    member_number: &str,
) -> Result<Option<family_member::Model>, AppError> {
    Ok(family_member::Entity::find()
        .filter(family_member::Column::MemberNumber.eq(member_number))
        .filter(family_member::Column::GuardianId.eq(guardian_id))
        .filter(family_member::Column::RemovedAt.is_null())
        .one(db)
        .await?)
}

/// Removes a family member from the account: the row stays (records made for them keep
/// their subject) and the ID number is free to be registered or added again.
pub async fn remove(
    state: &State,
    guardian_id: i64,
    member_number: &str,
    cx: &RequestContext,
) -> Result<(), AppError> {
    let now = cx.now;
    let txn = db::begin_write(&state.db).await?;
    let Some(member) = find(&txn, guardian_id, member_number).await? else {
        txn.rollback().await?;
        return Err(FieldError::general(ErrorCode::NotFound).into());
    };
    let ended = family_member::Entity::update_many()
        .col_expr(
            family_member::Column::RemovedAt,
            sea_orm::sea_query::Expr::value(now.unix_timestamp()),
        )
        .filter(family_member::Column::Id.eq(member.id))
        .filter(family_member::Column::RemovedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if ended == 0 {
        // A concurrent removal won.
        txn.rollback().await?;
        return Err(FieldError::general(ErrorCode::NotFound).into());
    }
    identity_claim::Entity::delete_by_id(member.id_number_hmac.clone())
        .exec(&txn)
        .await?;
    txn.execute_raw(db::sql(
        txn.get_database_backend(),
        "UPDATE patient SET dependant_count = dependant_count - 1 \
         WHERE id = $1 AND dependant_count > 0",
        vec![guardian_id.into()],
    ))
    .await?;
    audit::record(
        &txn,
        cx.audit(AuditAction::FamilyMemberRemoved)
            .on("family_member", &member.member_number)
            .about_member(Some(member.id)),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

fn on_file_error() -> AppError {
    FieldError::new(ErrorCode::FamilyMemberOnFile, app::domain::Field::IdNumber).into()
}

fn view(m: family_member::Model, today: time::Date) -> Result<FamilyMemberView, AppError> {
    let birth = app::domain::age::parse_ymd(&m.birth_date)
        .ok_or_else(|| anyhow::anyhow!("stored birth date unreadable"))?;
    Ok(FamilyMemberView {
        member_number: m.member_number,
        real_name: m.real_name,
        id_number_masked: mask_all_but_last4(&m.id_number_masked),
        birth_date: m.birth_date,
        sex: if m.sex == "male" {
            Sex::Male
        } else {
            Sex::Female
        },
        age: age_on(birth, today),
        relationship: Relationship::parse(&m.relationship)
            .map_err(|_| anyhow::anyhow!("stored relationship unknown"))?,
        dependency: Dependency::parse(&m.dependency)
            .ok_or_else(|| anyhow::anyhow!("stored dependency unknown"))?,
    })
}

fn sex_str(sex: Sex) -> &'static str {
    match sex {
        Sex::Male => "male",
        Sex::Female => "female",
    }
}

/// Public and unguessable: a member number in a URL says nothing and cannot be walked.
fn new_member_number() -> String {
    let mut rng = rand::rngs::OsRng;
    format!("FM{:016x}", rng.r#gen::<u64>())
}

/// The name of whom the patient acts for: a family member, or themselves.
pub async fn person_name(
    db: &impl ConnectionTrait,
    patient_id: i64,
    member: Option<i64>,
) -> Result<String, AppError> {
    Ok(match member {
        Some(id) => family_member::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|m| m.real_name),
        None => crate::db::patient::Entity::find_by_id(patient_id)
            .one(db)
            .await?
            .map(|p| p.real_name),
    }
    .unwrap_or_default())
}
