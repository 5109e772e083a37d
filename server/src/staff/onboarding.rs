//! Separation of duties for staff accounts (R-SEC-1). An admin asks for an account; a
//! second admin approves it (four eyes); its owner then gets a one-time code by SMS on
//! their own phone and sets their own password. The admins never learn a password, a
//! code or a second-factor secret, so creating an account does not open a way into
//! patients' data. Disabling is one admin's; re-enabling waits for a second, too.
use super::service::{NewStaff, check, insert, new_row, staff_event, view};
use super::totp::totp_context;
use crate::audit::{self, Actor, AuditAction};
use crate::context::RequestContext;
use crate::db::{self, staff};
use crate::error::AppError;
use crate::state::State;
use app::domain::password::NewPassword;
use app::domain::staff::{
    ACTIVATION_HOURS, ACTIVATION_TRIES, ActivationCode, StaffUsername, activation_fresh,
};
use app::domain::{ErrorCode, Field, FieldError};
use app::staff::StaffView;
use rand::Rng;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

const ACTIVATION_DOMAIN: &str = "staff_activation";

/// An admin asks for an account (R-SEC-1, four eyes). It cannot be used until another
/// admin approves it; then its owner gets a one-time code by SMS on their own phone and
/// sets their own password. The admin who asked learns no password and no code.
pub async fn request_account(
    state: &State,
    admin_id: i64,
    input: NewStaff,
    cx: &RequestContext,
) -> Result<StaffView, AppError> {
    let checked = check(&input)?;
    let phone = app::domain::phone::PhoneNumber::parse(input.phone.as_deref().unwrap_or(""))?;
    let txn = db::begin_write(&state.db).await?;
    // No password until the owner sets one (an empty hash: never set, never checked).
    let mut row = new_row(&checked, String::new(), cx.now);
    row.created_by = Set(Some(admin_id));
    row.approval_requested_by = Set(Some(admin_id));
    let row = insert(&txn, row).await?;
    let phone_cipher = state
        .crypto
        .encrypt(phone.as_str(), &totp_context(row.id, "phone"))?;
    let row = staff::ActiveModel {
        id: Set(row.id),
        phone_cipher: Set(Some(phone_cipher)),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    audit::record(
        &txn,
        staff_event(
            cx,
            Actor::Staff(admin_id),
            AuditAction::StaffCreated,
            row.id,
        )
        .detail(serde_json::json!({ "role": checked.role.as_str() })),
    )
    .await?;
    audit::record(
        &txn,
        staff_event(
            cx,
            Actor::Staff(admin_id),
            AuditAction::StaffApprovalRequested,
            row.id,
        )
        .detail(serde_json::json!({ "for": "new_account" })),
    )
    .await?;
    txn.commit().await?;
    view(&row)
}

/// A second admin approves an account another admin asked for (made or re-enabled).
/// One conditional update: the asking admin can never approve their own request, and
/// two approvals at once approve it once. A new account's owner is then sent the code.
pub async fn approve(
    state: &State,
    admin_id: i64,
    staff_id: i64,
    cx: &RequestContext,
) -> Result<(), AppError> {
    let txn = db::begin_write(&state.db).await?;
    let approved = staff::Entity::update_many()
        .col_expr(
            staff::Column::ApprovalRequestedBy,
            sea_orm::sea_query::Expr::value(Option::<i64>::None),
        )
        .col_expr(
            staff::Column::ApprovedBy,
            sea_orm::sea_query::Expr::value(admin_id),
        )
        .col_expr(
            staff::Column::DisabledAt,
            sea_orm::sea_query::Expr::value(Option::<i64>::None),
        )
        .filter(staff::Column::Id.eq(staff_id))
        .filter(staff::Column::ApprovalRequestedBy.is_not_null())
        .filter(staff::Column::ApprovalRequestedBy.ne(admin_id))
        .exec(&txn)
        .await?
        .rows_affected;
    if approved == 0 {
        let row = staff::Entity::find_by_id(staff_id).one(&txn).await?;
        txn.rollback().await?;
        return Err(match row {
            Some(r) if r.approval_requested_by == Some(admin_id) => {
                FieldError::general(ErrorCode::SecondAdminRequired).into()
            }
            _ => FieldError::general(ErrorCode::NotFound).into(),
        });
    }
    audit::record(
        &txn,
        staff_event(
            cx,
            Actor::Staff(admin_id),
            AuditAction::StaffApproved,
            staff_id,
        ),
    )
    .await?;
    let row = staff::Entity::find_by_id(staff_id)
        .one(&txn)
        .await?
        .ok_or_else(|| anyhow::anyhow!("staff {staff_id} approved but gone"))?;
    // An account whose owner has never set a password gets its code now.
    let first = row.password_hash.is_empty();
    let sms = if first {
        Some(new_activation(state, &txn, admin_id, &row, cx).await?)
    } else {
        None
    };
    txn.commit().await?;
    if let Some((phone, body, code)) = sms {
        send_after_commit(state, phone, body, code);
    }
    Ok(())
}

/// Sends a new activation code to an approved account whose owner has not activated
/// it yet (the first was lost or expired). It goes to the owner's phone on file.
pub async fn resend_activation(
    state: &State,
    admin_id: i64,
    staff_id: i64,
    cx: &RequestContext,
) -> Result<(), AppError> {
    let txn = db::begin_write(&state.db).await?;
    let row = staff::Entity::find_by_id(staff_id)
        .one(&txn)
        .await?
        .filter(|r| {
            r.activation_hash.is_some()
                && r.approval_requested_by.is_none()
                && r.disabled_at.is_none()
        })
        .ok_or(FieldError::general(ErrorCode::NotFound))?;
    let (phone, body, code) = new_activation(state, &txn, admin_id, &row, cx).await?;
    txn.commit().await?;
    send_after_commit(state, phone, body, code);
    Ok(())
}

/// Writes a new one-time code (its keyed hash) for `row` and audits it; the caller
/// sends the SMS once the transaction has committed.
async fn new_activation(
    state: &State,
    txn: &sea_orm::DatabaseTransaction,
    admin_id: i64,
    row: &staff::Model,
    cx: &RequestContext,
) -> Result<(String, String, String), AppError> {
    let Some(phone_cipher) = row.phone_cipher.as_deref() else {
        return Err(anyhow::anyhow!("staff {}: no phone for the activation code", row.id).into());
    };
    let phone = state
        .crypto
        .decrypt(phone_cipher, &totp_context(row.id, "phone"))?;
    let code = new_activation_code();
    let expires = cx.now.unix_timestamp() + ACTIVATION_HOURS * 3600;
    staff::Entity::update_many()
        .col_expr(
            staff::Column::ActivationHash,
            sea_orm::sea_query::Expr::value(activation_hash(state, row.id, &code)),
        )
        .col_expr(
            staff::Column::ActivationExpiresAt,
            sea_orm::sea_query::Expr::value(expires),
        )
        .filter(staff::Column::Id.eq(row.id))
        .exec(txn)
        .await?;
    // A new code starts a new count of wrong tries.
    db::clear_count(txn, &activation_key(row.id)).await?;
    audit::record(
        txn,
        staff_event(
            cx,
            Actor::Staff(admin_id),
            AuditAction::StaffActivationSent,
            row.id,
        ),
    )
    .await?;
    let body = format!(
        "【复诊】您的医院工作人员账号 {} 已开通。激活码 {}，{} 小时内有效，只能使用一次；请在工作人员登录页选择「激活账号」并设置您自己的密码。请勿告诉任何人，包括管理员。",
        row.username,
        code.display(),
        ACTIVATION_HOURS
    );
    Ok((phone, body, code.display()))
}

fn send_after_commit(state: &State, phone: String, body: String, code: String) {
    let sms = state.sms.clone();
    tokio::spawn(async move {
        if let Err(e) = sms.send(&phone, &body, Some(&code)).await {
            tracing::warn!(error = %e, "sending a staff activation SMS failed");
        }
    });
}

fn new_activation_code() -> ActivationCode {
    let mut rng = rand::rngs::OsRng;
    let raw: String = (0..10)
        .map(|_| ActivationCode::ALPHABET[rng.gen_range(0..ActivationCode::ALPHABET.len())] as char)
        .collect();
    // Made from the code's own alphabet, so it always parses.
    ActivationCode::parse(&raw).unwrap_or_else(|_| unreachable!("made from the alphabet"))
}

fn activation_hash(state: &State, staff_id: i64, code: &ActivationCode) -> String {
    state
        .crypto
        .keyed_hash(ACTIVATION_DOMAIN, &format!("{staff_id}:{}", code.as_str()))
}

fn activation_key(staff_id: i64) -> String {
    format!("staff-activation:{staff_id}")
}

/// The owner sets their first password with the one-time code from the SMS. Unknown
/// username, wrong, used or expired code answer alike; wrong tries are counted per
/// account before they are judged, and the code is void after [`ACTIVATION_TRIES`].
/// Returns the staff id: the login continues at enrolment.
pub async fn activate(
    state: &State,
    username: &str,
    code: &str,
    password: &str,
    cx: &RequestContext,
) -> Result<i64, AppError> {
    let failed = || AppError::from(FieldError::new(ErrorCode::ActivationFailed, Field::Code));
    let username = StaffUsername::parse(username).map_err(|_| failed())?;
    let code = ActivationCode::parse(code).map_err(|_| failed())?;
    let password = NewPassword::parse(password, Field::Password, None)?;
    let now = cx.now.unix_timestamp();
    let Some(row) = staff::Entity::find()
        .filter(staff::Column::Username.eq(username.as_str()))
        .one(&state.db)
        .await?
    else {
        return Err(failed());
    };
    let (tries, _) = db::count_hit(
        &state.db,
        &activation_key(row.id),
        ACTIVATION_HOURS * 3600,
        now,
    )
    .await?;
    let right = tries <= ACTIVATION_TRIES
        && row.disabled_at.is_none()
        && row.approval_requested_by.is_none()
        && row
            .activation_expires_at
            .is_some_and(|e| activation_fresh(e, now))
        && row.activation_hash.as_deref().is_some_and(|stored| {
            state.crypto.keyed_hash_matches(
                ACTIVATION_DOMAIN,
                &format!("{}:{}", row.id, code.as_str()),
                stored,
            )
        });
    if !right {
        return Err(failed());
    }
    let hash = state
        .crypto
        .hash_password(password.expose().to_owned())
        .await?;
    let txn = db::begin_write(&state.db).await?;
    // Once only: the code's hash is the condition, and it is cleared with the write.
    let done = staff::Entity::update_many()
        .col_expr(
            staff::Column::PasswordHash,
            sea_orm::sea_query::Expr::value(hash),
        )
        .col_expr(
            staff::Column::ActivationHash,
            sea_orm::sea_query::Expr::value(Option::<String>::None),
        )
        .col_expr(
            staff::Column::ActivationExpiresAt,
            sea_orm::sea_query::Expr::value(Option::<i64>::None),
        )
        .filter(staff::Column::Id.eq(row.id))
        .filter(staff::Column::ActivationHash.eq(row.activation_hash.clone()))
        .exec(&txn)
        .await?
        .rows_affected;
    if done == 0 {
        txn.rollback().await?;
        return Err(failed());
    }
    db::clear_count(&txn, &activation_key(row.id)).await?;
    audit::record(
        &txn,
        staff_event(
            cx,
            Actor::Staff(row.id),
            AuditAction::StaffActivated,
            row.id,
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(row.id)
}

/// What an admin's change to an account came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Disabled,
    /// Re-enabling waits for a second admin (four eyes, R-SEC-1).
    EnableRequested,
}

/// Disables an account, or asks for it to be re-enabled. A disabled account's sessions
/// stop working at once: every staff request checks the account. Re-enabling gives
/// back access to patients' data or money, so another admin approves it
/// ([`super::onboarding::approve`]); until then the account stays disabled.
pub async fn set_disabled(
    state: &State,
    admin_id: i64,
    staff_id: i64,
    disabled: bool,
    cx: &RequestContext,
) -> Result<Change, AppError> {
    let now = cx.now;
    if staff_id == admin_id {
        // An admin cannot lock the last door behind themselves by accident, nor ask
        // for their own account.
        return Err(FieldError::general(ErrorCode::Forbidden).into());
    }
    let txn = db::begin_write(&state.db).await?;
    let update = staff::Entity::update_many().filter(staff::Column::Id.eq(staff_id));
    let (update, action, change) = if disabled {
        // Disabling also withdraws any approval still waiting.
        (
            update
                .col_expr(
                    staff::Column::DisabledAt,
                    sea_orm::sea_query::Expr::value(now.unix_timestamp()),
                )
                .col_expr(
                    staff::Column::ApprovalRequestedBy,
                    sea_orm::sea_query::Expr::value(Option::<i64>::None),
                ),
            AuditAction::StaffDisabled,
            Change::Disabled,
        )
    } else {
        (
            update
                .col_expr(
                    staff::Column::ApprovalRequestedBy,
                    sea_orm::sea_query::Expr::value(admin_id),
                )
                .filter(staff::Column::DisabledAt.is_not_null()),
            AuditAction::StaffApprovalRequested,
            Change::EnableRequested,
        )
    };
    let changed = update.exec(&txn).await?.rows_affected;
    if changed == 0 {
        txn.rollback().await?;
        return Err(FieldError::general(ErrorCode::NotFound).into());
    }
    let event = staff_event(cx, Actor::Staff(admin_id), action, staff_id);
    let event = match change {
        Change::EnableRequested => event.detail(serde_json::json!({ "for": "enable" })),
        Change::Disabled => event,
    };
    audit::record(&txn, event).await?;
    txn.commit().await?;
    Ok(change)
}
