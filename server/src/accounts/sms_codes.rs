//! Sending and checking SMS codes (R-REG-1): quotas per phone and per address,
//! 60 s between sends, 5 minutes of validity, 5 tries, one use.
//!
//! Whether a phone has an account must not show (R-REG-1, PIPL): every request is
//! counted, stored and answered the same way, and the SMS goes out in the background
//! so a slow gateway does not give it away by timing.
use crate::db::{self, patient, sms_code};
use crate::error::AppError;
use crate::state::State;
use app::domain::phone::PhoneNumber;
use app::domain::sms::{CodePurpose, IssuedCode, SmsCode};
use app::domain::{ErrorCode, Field, FieldError};
use rand::Rng;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};
use std::sync::Arc;
use time::OffsetDateTime;

pub struct CodeSent {
    pub phone: PhoneNumber,
    pub resend_after_secs: i64,
    pub expires_in_secs: i64,
}

fn hash_domain(purpose: CodePurpose, phone: &PhoneNumber) -> String {
    format!("sms:{}:{}", purpose.as_str(), phone.as_str())
}

/// A counter key that does not hold the phone number itself.
pub fn phone_key(state: &State, what: &str, phone: &PhoneNumber) -> String {
    let h = state.crypto.keyed_hash("limit-phone", phone.as_str());
    format!("{what}:{}", &h[..32])
}

fn refuse(code: ErrorCode, window_start: i64, window: i64, now: i64) -> AppError {
    AppError::retry(
        FieldError::new(code, Field::Phone),
        (window_start + window - now).max(1),
    )
}

pub async fn send(
    state: &Arc<State>,
    phone: &str,
    purpose: &str,
    ip: &str,
    now: OffsetDateTime,
) -> Result<CodeSent, AppError> {
    let phone = PhoneNumber::parse(phone)?;
    let purpose = CodePurpose::parse(purpose)?;
    let policy = state.sms_policy;
    let ts = now.unix_timestamp();
    let conn = &state.db;
    // Each limit is one atomic count, taken before anything is judged.
    let (n, start) = db::count_hit(conn, &format!("sms-ip:{ip}"), 3600, ts).await?;
    if n > i64::from(policy.per_ip_per_hour) {
        return Err(refuse(ErrorCode::SmsIpQuota, start, 3600, ts));
    }
    let gap = policy.resend_after.whole_seconds();
    let (n, start) = db::count_hit(conn, &phone_key(state, "sms-gap", &phone), gap, ts).await?;
    if n > 1 {
        return Err(refuse(ErrorCode::SmsTooSoon, start, gap, ts));
    }
    let (n, start) = db::count_hit(conn, &phone_key(state, "sms-day", &phone), 86_400, ts).await?;
    if n > i64::from(policy.per_phone_per_day) {
        return Err(refuse(ErrorCode::SmsPhoneQuota, start, 86_400, ts));
    }
    let registered = patient::Entity::find()
        .filter(patient::Column::Phone.eq(phone.as_str()))
        .count(conn)
        .await?
        > 0;
    // A row for every send, so checking a code later costs the same either way.
    let code = SmsCode::from_digits(rand::rngs::OsRng.gen_range(0..1_000_000));
    sms_code::ActiveModel {
        phone: Set(phone.as_str().to_owned()),
        purpose: Set(purpose.as_str().to_owned()),
        code_hmac: Set(state
            .crypto
            .keyed_hash(&hash_domain(purpose, &phone), code.expose())),
        ip: Set(ip.to_owned()),
        created_at: Set(ts),
        attempts: Set(0),
        consumed_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let message = match (purpose, registered) {
        (CodePurpose::Register, false) | (CodePurpose::Login | CodePurpose::ResetPassword, true) => {
            Some((
                format!(
                    "【复诊】您的验证码是 {}，5 分钟内有效。请勿告诉他人。",
                    code.expose()
                ),
                Some(code.expose().to_owned()),
            ))
        }
        // Only the phone's owner learns that it already has an account.
        (CodePurpose::Register, true) => Some((
            "【复诊】此手机号已注册复诊账号。如是您本人，请直接登录，或用「忘记密码」通过短信验证码重设密码。如非本人操作，请忽略本短信。".to_owned(),
            None,
        )),
        (CodePurpose::Login | CodePurpose::ResetPassword, false) => None,
    };
    if let Some((body, code)) = message {
        let sms = state.sms.clone();
        let to = phone.as_str().to_owned();
        tokio::spawn(async move {
            if let Err(e) = sms.send(&to, &body, code.as_deref()).await {
                tracing::warn!(error = %e, "sending an SMS failed");
            }
        });
    }
    Ok(CodeSent {
        phone,
        resend_after_secs: gap,
        expires_in_secs: policy.code_ttl.whole_seconds(),
    })
}

/// Judges one guess at the newest code. The guess is counted (one conditional update)
/// before it is judged, so parallel guesses cannot exceed the limit. Returns the code's
/// row, which the caller [`consume`]s in the transaction that acts on it.
pub async fn check(
    state: &State,
    db: &impl ConnectionTrait,
    phone: &PhoneNumber,
    purpose: CodePurpose,
    code: &SmsCode,
    now: OffsetDateTime,
) -> Result<i64, AppError> {
    let policy = state.sms_policy;
    let ts = now.unix_timestamp();
    let counted = db
        .query_one_raw(db::sql(
            db.get_database_backend(),
            "UPDATE sms_code SET attempts = attempts + 1
             WHERE id = (SELECT id FROM sms_code WHERE phone = $1 AND purpose = $2
                         ORDER BY created_at DESC, id DESC LIMIT 1)
               AND consumed_at IS NULL AND attempts < $3 AND created_at > $4
             RETURNING id, code_hmac, attempts, created_at",
            vec![
                phone.as_str().into(),
                purpose.as_str().into(),
                i64::from(policy.max_attempts).into(),
                (ts - policy.code_ttl.whole_seconds()).into(),
            ],
        ))
        .await?;
    let judged = match counted {
        Some(row) => {
            let id: i64 = row.try_get("", "id")?;
            let hmac: String = row.try_get("", "code_hmac")?;
            let attempts: i32 = row.try_get("", "attempts")?;
            let created_at: i64 = row.try_get("", "created_at")?;
            let matches =
                state
                    .crypto
                    .keyed_hash_matches(&hash_domain(purpose, phone), code.expose(), &hmac);
            let issued = IssuedCode {
                issued_at: OffsetDateTime::from_unix_timestamp(created_at)
                    .map_err(anyhow::Error::from)?,
                attempts: u32::try_from(attempts.saturating_sub(1)).unwrap_or(0),
                consumed: false,
            };
            policy.check(Some(&issued), matches, now).map(|()| id)
        }
        // Not counted: say why (expired, used up, none sent) without judging the guess.
        None => {
            let newest = sms_code::Entity::find()
                .filter(sms_code::Column::Phone.eq(phone.as_str()))
                .filter(sms_code::Column::Purpose.eq(purpose.as_str()))
                .order_by_desc(sms_code::Column::CreatedAt)
                .order_by_desc(sms_code::Column::Id)
                .one(db)
                .await?;
            let issued = newest.and_then(|row| {
                Some(IssuedCode {
                    issued_at: OffsetDateTime::from_unix_timestamp(row.created_at).ok()?,
                    attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
                    consumed: row.consumed_at.is_some(),
                })
            });
            policy.check(issued.as_ref(), false, now).map(|()| 0)
        }
    };
    Ok(judged?)
}

/// Uses a checked code up, inside the caller's transaction: of two concurrent uses of
/// one code, only one wins.
pub async fn consume(
    db: &impl ConnectionTrait,
    code_id: i64,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    let used = sms_code::Entity::update_many()
        .col_expr(
            sms_code::Column::ConsumedAt,
            sea_orm::sea_query::Expr::value(now.unix_timestamp()),
        )
        .filter(sms_code::Column::Id.eq(code_id))
        .filter(sms_code::Column::ConsumedAt.is_null())
        .exec(db)
        .await?;
    if used.rows_affected != 1 {
        return Err(FieldError::new(ErrorCode::SmsCodeExpired, Field::Code).into());
    }
    Ok(())
}
