//! Staff accounts (R-SEC-1, R-SEC-3): created by an admin (the first by the CLI), a
//! password and then always a second factor: an authenticator code (TOTP, RFC 6238),
//! each accepted once, or a one-time recovery code. Disabled accounts stop at once.
use super::totp::{fold_recovery, new_recovery_code, totp_context, totp_for, totp_from_b32, unix};
use crate::audit::{self, Actor, AuditAction, AuditEvent};
use crate::context::RequestContext;
use crate::db::{self, staff, staff_recovery_code};
use crate::error::AppError;
use crate::state::State;
use app::domain::department::Department;
use app::domain::password::NewPassword;
use app::domain::staff::{RECOVERY_CODES, Role, SECOND_FACTOR_TRIES, SecondFactor, StaffUsername};
use app::domain::{ErrorCode, Field, FieldError};
use rand::Rng;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};
use time::OffsetDateTime;

const RECOVERY_DOMAIN: &str = "staff_recovery";

pub use app::staff::{Enrolment, StaffView};

pub(super) fn view(s: &staff::Model) -> Result<StaffView, AppError> {
    Ok(StaffView {
        id: s.id,
        username: s.username.clone(),
        display_name: s.display_name.clone(),
        role: Role::parse(&s.role).map_err(|_| anyhow::anyhow!("stored role unknown"))?,
        department: s.department.as_deref().and_then(Department::parse),
        enrolled: s.totp_secret_cipher.is_some(),
        disabled: s.disabled_at.is_some(),
        approval_requested_by: s.approval_requested_by,
        awaiting_activation: s.activation_hash.is_some(),
        phone: None,
    })
}

/// An account that may log in: not disabled, approved, and its password set by its owner.
fn may_log_in(s: &staff::Model) -> bool {
    s.disabled_at.is_none() && s.approval_requested_by.is_none() && s.activation_hash.is_none()
}

/// What an admin (or the CLI) asks for.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct NewStaff {
    pub username: String,
    /// (A page's form sends it as `real_name`, with that field's error.)
    #[serde(alias = "real_name")]
    pub display_name: String,
    /// `operator`, `doctor`, `pharmacist`, `auditor` or `admin`.
    pub role: String,
    /// For doctors: the department code.
    pub department: Option<String>,
    /// The staff member's own mobile: the activation code goes there, never to the
    /// admin. Required when an admin asks for the account.
    pub phone: Option<String>,
}

/// The first admin, made on the server's host (the CLI), and its first password,
/// printed once to whoever runs the command there.
#[derive(Debug)]
pub struct Created {
    pub staff: StaffView,
    pub initial_password: String,
}

pub(super) struct Checked {
    pub(super) username: StaffUsername,
    pub(super) display_name: String,
    pub(super) role: Role,
    pub(super) department: Option<Department>,
}

pub(super) fn check(input: &NewStaff) -> Result<Checked, AppError> {
    let username = StaffUsername::parse(&input.username)?;
    let display_name = app::domain::person_name::RealName::parse(&input.display_name)
        .map_err(|_| FieldError::new(ErrorCode::RealNameInvalid, Field::RealName))?;
    let role = Role::parse(&input.role)?;
    let department = match input.department.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(code) => Some(
            Department::parse(code).ok_or(FieldError::new(ErrorCode::InvalidForm, Field::Body))?,
        ),
    };
    Ok(Checked {
        username,
        display_name: display_name.as_str().to_owned(),
        role,
        department,
    })
}

/// Inserts the row; a taken username is the form's error.
pub(super) async fn insert(
    txn: &sea_orm::DatabaseTransaction,
    row: staff::ActiveModel,
) -> Result<staff::Model, AppError> {
    match row.insert(txn).await {
        Ok(r) => Ok(r),
        Err(e) if crate::db::is_unique_violation(&e) => {
            Err(FieldError::new(ErrorCode::StaffUsernameTaken, Field::Username).into())
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) fn new_row(
    c: &Checked,
    password_hash: String,
    now: OffsetDateTime,
) -> staff::ActiveModel {
    staff::ActiveModel {
        username: Set(c.username.as_str().to_owned()),
        display_name: Set(c.display_name.clone()),
        role: Set(c.role.as_str().to_owned()),
        department: Set(c.department.map(|d| d.as_str().to_owned())),
        password_hash: Set(password_hash),
        totp_secret_cipher: Set(None),
        totp_pending_cipher: Set(None),
        totp_last_step: Set(None),
        disabled_at: Set(None),
        created_at: Set(now.unix_timestamp()),
        created_by: Set(None),
        phone_cipher: Set(None),
        approval_requested_by: Set(None),
        approved_by: Set(None),
        activation_hash: Set(None),
        activation_expires_at: Set(None),
        ..Default::default()
    }
}

/// Creates an account on the server's host (the CLI's first admin, the dev demo): it
/// can log in at once with the password returned, which the host prints once.
pub async fn create_on_host(
    state: &State,
    input: NewStaff,
    cx: &RequestContext,
) -> Result<Created, AppError> {
    let checked = check(&input)?;
    let initial_password = new_initial_password();
    let password = NewPassword::parse(&initial_password, Field::Password, None)?;
    let hash = state
        .crypto
        .hash_password(password.expose().to_owned())
        .await?;
    let txn = db::begin_write(&state.db).await?;
    let row = insert(&txn, new_row(&checked, hash, cx.now)).await?;
    audit::record(
        &txn,
        staff_event(cx, Actor::System, AuditAction::StaffCreated, row.id)
            .detail(serde_json::json!({ "role": checked.role.as_str(), "by": "host" })),
    )
    .await?;
    txn.commit().await?;
    Ok(Created {
        staff: view(&row)?,
        initial_password,
    })
}

/// The audit row about a staff account, done by `actor`.
pub(super) fn staff_event(
    cx: &RequestContext,
    actor: Actor,
    action: AuditAction,
    staff_id: i64,
) -> AuditEvent {
    cx.as_actor(actor).audit(action).on("staff", staff_id)
}

/// Four groups of four letters and digits without look-alikes: easy to type once.
fn new_initial_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    (0..4)
        .map(|_| {
            (0..4)
                .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The password step. Unknown username, wrong password, disabled account and a locked
/// one answer alike, after the same work. Returns the staff id and whether a second
/// factor is already enrolled.
pub async fn check_password(
    state: &State,
    username: &str,
    password: &str,
    cx: &RequestContext,
) -> Result<(i64, bool), AppError> {
    let ip = cx.ip.as_str();
    let now = cx.now;
    let Ok(username) = StaffUsername::parse(username) else {
        return Err(FieldError::general(ErrorCode::LoginFailed).into());
    };
    let ts = now.unix_timestamp();
    let window = state.lockout.lock_for.whole_seconds();
    let key = format!(
        "staff-login:{}",
        state.crypto.keyed_hash("staff_login", username.as_str())
    );
    let (tries, _) = db::count_hit(&state.db, &key, window, ts).await?;
    let address = format!("staff-login-ip:{ip}");
    let (by_ip, _) = db::count_hit(&state.db, &address, window, ts).await?;
    let allowed =
        tries <= i64::from(state.lockout.max_failures) && by_ip <= i64::from(state.login_per_ip);
    let found = staff::Entity::find()
        .filter(staff::Column::Username.eq(username.as_str()))
        .one(&state.db)
        .await?;
    let usable = found.as_ref().filter(|s| may_log_in(s) && allowed);
    let hash = usable.map_or_else(|| state.dummy_hash.clone(), |s| s.password_hash.clone());
    let right = state
        .crypto
        .verify_password(password.to_owned(), hash)
        .await?;
    let txn = db::begin_write(&state.db).await?;
    let outcome = match usable {
        Some(s) if right => {
            // Only failures count, per account and per address.
            db::clear_count(&txn, &key).await?;
            db::uncount_hit(&txn, &address).await?;
            Ok((s.id, s.totp_secret_cipher.is_some()))
        }
        _ => {
            audit::record(
                &txn,
                AuditEvent {
                    entity: found.as_ref().map(|s| ("staff", s.id.to_string())),
                    ..cx.as_actor(Actor::Anonymous)
                        .audit(AuditAction::StaffLoginFailed)
                        .detail(serde_json::json!({ "step": "password", "judged": allowed }))
                },
            )
            .await?;
            Err(FieldError::general(ErrorCode::LoginFailed).into())
        }
    };
    txn.commit().await?;
    outcome
}

/// Starts (or restarts) enrolment for a staff member who has passed the password step
/// and has no confirmed second factor yet.
pub async fn begin_enrolment(state: &State, staff_id: i64) -> Result<Enrolment, AppError> {
    let mut member = active(state, staff_id).await?;
    if member.totp_secret_cipher.is_some() {
        return Err(FieldError::general(ErrorCode::Forbidden).into());
    }
    if member.totp_pending_cipher.is_none() {
        // The first view makes the secret; every later view shows the same one, so a page
        // view writes nothing. Two first views at once keep whichever was written first.
        let mut secret = [0u8; 20];
        rand::rngs::OsRng.fill(&mut secret);
        let secret_b32 = totp_for(&secret, &member.username)?.secret().to_base32();
        let cipher = state
            .crypto
            .encrypt(&secret_b32, &totp_context(staff_id, "totp_pending"))?;
        staff::Entity::update_many()
            .col_expr(
                staff::Column::TotpPendingCipher,
                sea_orm::sea_query::Expr::value(cipher),
            )
            .filter(staff::Column::Id.eq(staff_id))
            .filter(staff::Column::TotpSecretCipher.is_null())
            .filter(staff::Column::TotpPendingCipher.is_null())
            .exec(&state.db)
            .await?;
        member = active(state, staff_id).await?;
    }
    let pending = member
        .totp_pending_cipher
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("staff {staff_id}: no pending second factor"))?;
    let secret_b32 = state
        .crypto
        .decrypt(pending, &totp_context(staff_id, "totp_pending"))?;
    let totp = totp_from_b32(&secret_b32, &member.username)?;
    let otpauth_url = totp
        .to_url()
        .map_err(|e| anyhow::anyhow!("otpauth url: {e:?}"))?;
    let qr_svg = qrcode::QrCode::new(otpauth_url.as_bytes())
        .map_err(|e| anyhow::anyhow!("qr code: {e}"))?
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build();
    Ok(Enrolment {
        secret: secret_b32,
        otpauth_url,
        qr_svg,
    })
}

/// Confirms enrolment with a code from the new secret; returns the recovery codes,
/// which are shown this once.
pub async fn confirm_enrolment(
    state: &State,
    staff_id: i64,
    code: &str,
    cx: &RequestContext,
) -> Result<Vec<String>, AppError> {
    let now = cx.now;
    let factor = SecondFactor::parse(code)?;
    let SecondFactor::Totp(code) = factor else {
        return Err(wrong_factor());
    };
    count_factor_try(state, staff_id, now).await?;
    let member = active(state, staff_id).await?;
    let Some(pending) = member.totp_pending_cipher.as_deref() else {
        return Err(wrong_factor());
    };
    let secret_b32 = state
        .crypto
        .decrypt(pending, &totp_context(staff_id, "totp_pending"))?;
    let totp = totp_from_b32(&secret_b32, &member.username)?;
    let Some(step) = totp.check(&code, unix(now)) else {
        return Err(wrong_factor());
    };
    let cipher = state
        .crypto
        .encrypt(&secret_b32, &totp_context(staff_id, "totp_secret"))?;
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    let txn = db::begin_write(&state.db).await?;
    // The code was right: only failures lock the second step.
    db::clear_count(&txn, &factor_key(staff_id)).await?;
    let done = staff::Entity::update_many()
        .col_expr(
            staff::Column::TotpSecretCipher,
            sea_orm::sea_query::Expr::value(cipher),
        )
        .col_expr(
            staff::Column::TotpPendingCipher,
            sea_orm::sea_query::Expr::value(Option::<String>::None),
        )
        .col_expr(
            staff::Column::TotpLastStep,
            sea_orm::sea_query::Expr::value(step as i64),
        )
        .filter(staff::Column::Id.eq(staff_id))
        .filter(staff::Column::TotpSecretCipher.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if done == 0 {
        txn.rollback().await?;
        return Err(wrong_factor());
    }
    for code in &codes {
        staff_recovery_code::ActiveModel {
            staff_id: Set(staff_id),
            code_hash: Set(state
                .crypto
                .keyed_hash(RECOVERY_DOMAIN, &fold_recovery(code))),
            used_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    audit::record(
        &txn,
        staff_event(
            cx,
            Actor::Staff(staff_id),
            AuditAction::StaffEnrolled,
            staff_id,
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(codes)
}

/// The second step of a login: an authenticator code not used before (a later time
/// step than the last accepted, set atomically), or an unused recovery code.
pub async fn verify_second_factor(
    state: &State,
    staff_id: i64,
    input: &str,
    cx: &RequestContext,
) -> Result<(), AppError> {
    let now = cx.now;
    let factor = SecondFactor::parse(input)?;
    count_factor_try(state, staff_id, now).await?;
    let member = active(state, staff_id).await?;
    let Some(secret) = member.totp_secret_cipher.as_deref() else {
        return Err(FieldError::general(ErrorCode::SecondFactorRequired).into());
    };
    let txn = db::begin_write(&state.db).await?;
    let accepted = match &factor {
        SecondFactor::Totp(code) => {
            let secret_b32 = state
                .crypto
                .decrypt(secret, &totp_context(staff_id, "totp_secret"))?;
            let totp = totp_from_b32(&secret_b32, &member.username)?;
            match totp.check(code, unix(now)) {
                Some(step) => {
                    txn.execute_raw(db::sql(
                        txn.get_database_backend(),
                        "UPDATE staff SET totp_last_step = $1 WHERE id = $2 \
                         AND (totp_last_step IS NULL OR totp_last_step < $1)",
                        vec![(step as i64).into(), staff_id.into()],
                    ))
                    .await?
                    .rows_affected()
                        == 1
                }
                None => false,
            }
        }
        SecondFactor::Recovery(code) => {
            let hash = state.crypto.keyed_hash(RECOVERY_DOMAIN, code);
            staff_recovery_code::Entity::update_many()
                .col_expr(
                    staff_recovery_code::Column::UsedAt,
                    sea_orm::sea_query::Expr::value(now.unix_timestamp()),
                )
                .filter(staff_recovery_code::Column::StaffId.eq(staff_id))
                .filter(staff_recovery_code::Column::CodeHash.eq(hash))
                .filter(staff_recovery_code::Column::UsedAt.is_null())
                .exec(&txn)
                .await?
                .rows_affected
                == 1
        }
    };
    let how = match factor {
        SecondFactor::Totp(_) => "totp",
        SecondFactor::Recovery(_) => "recovery_code",
    };
    if accepted {
        // Only failures lock the second step: a good code clears them.
        db::clear_count(&txn, &factor_key(staff_id)).await?;
    }
    let (action, result) = if accepted {
        (AuditAction::StaffLoginSucceeded, Ok(()))
    } else {
        (AuditAction::StaffLoginFailed, Err(wrong_factor()))
    };
    audit::record(
        &txn,
        staff_event(cx, Actor::Staff(staff_id), action, staff_id)
            .detail(serde_json::json!({ "step": how })),
    )
    .await?;
    txn.commit().await?;
    result
}

fn factor_key(staff_id: i64) -> String {
    format!("staff-factor:{staff_id}")
}

/// A second-factor guess is counted before it is judged.
async fn count_factor_try(
    state: &State,
    staff_id: i64,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    let window = state.lockout.lock_for.whole_seconds();
    let (tries, start) = db::count_hit(
        &state.db,
        &factor_key(staff_id),
        window,
        now.unix_timestamp(),
    )
    .await?;
    if tries > SECOND_FACTOR_TRIES {
        let wait = start + window - now.unix_timestamp();
        return Err(AppError::retry(
            FieldError::general(ErrorCode::AccountLocked),
            wait.max(1),
        ));
    }
    Ok(())
}

/// The staff member, if the account exists and is not disabled.
pub async fn find_active(
    db: &impl ConnectionTrait,
    staff_id: i64,
) -> Result<Option<(staff::Model, StaffView)>, AppError> {
    let Some(s) = staff::Entity::find_by_id(staff_id).one(db).await? else {
        return Ok(None);
    };
    if !may_log_in(&s) {
        return Ok(None);
    }
    let v = view(&s)?;
    Ok(Some((s, v)))
}

async fn active(state: &State, staff_id: i64) -> Result<staff::Model, AppError> {
    find_active(&state.db, staff_id)
        .await?
        .map(|(m, _)| m)
        .ok_or_else(|| FieldError::general(ErrorCode::Unauthenticated).into())
}

/// Every account, with the owner's phone masked (`138****8000`): the second admin checks
/// it is the staff member's own before approving, since the activation code goes there.
pub async fn list(state: &State) -> Result<Vec<StaffView>, AppError> {
    staff::Entity::find()
        .order_by_asc(staff::Column::Id)
        .all(&state.db)
        .await?
        .iter()
        .map(|s| {
            let mut v = view(s)?;
            if let Some(cipher) = s.phone_cipher.as_deref() {
                let phone = state.crypto.decrypt(cipher, &totp_context(s.id, "phone"))?;
                v.phone = app::domain::phone::PhoneNumber::parse(&phone)
                    .ok()
                    .map(|p| p.masked());
            }
            Ok(v)
        })
        .collect()
}

fn wrong_factor() -> AppError {
    FieldError::new(ErrorCode::SecondFactorWrong, Field::Code).into()
}

/// Dev demo data only (the caller refuses production mode): a known password and an
/// authenticator already enrolled with a known secret, so a developer can log in.
pub async fn set_demo_credentials(
    state: &State,
    staff_id: i64,
    password: &str,
    secret_b32: &str,
) -> Result<(), AppError> {
    let hash = state.crypto.hash_password(password.to_owned()).await?;
    let cipher = state
        .crypto
        .encrypt(secret_b32, &totp_context(staff_id, "totp_secret"))?;
    staff::Entity::update_many()
        .col_expr(
            staff::Column::PasswordHash,
            sea_orm::sea_query::Expr::value(hash),
        )
        .col_expr(
            staff::Column::TotpSecretCipher,
            sea_orm::sea_query::Expr::value(cipher),
        )
        .col_expr(
            staff::Column::TotpPendingCipher,
            sea_orm::sea_query::Expr::value(Option::<String>::None),
        )
        .filter(staff::Column::Id.eq(staff_id))
        .exec(&state.db)
        .await?;
    Ok(())
}
