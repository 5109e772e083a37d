//! Sending and checking SMS codes (R-REG-1): quotas per phone and per address,
//! 60 s between sends, 5 minutes of validity, 5 tries, one use.
use super::AppError;
use crate::db::{patient, sms_code};
use crate::state::AppState;
use app::domain::phone::PhoneNumber;
use app::domain::sms::{CodePurpose, IssuedCode, SendHistory, SmsCode};
use app::domain::{ErrorCode, Field, FieldError};
use rand::Rng;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};
use time::OffsetDateTime;

pub struct CodeSent {
    pub phone: PhoneNumber,
    pub resend_after_secs: i64,
    pub expires_in_secs: i64,
}

fn hash_domain(purpose: CodePurpose, phone: &PhoneNumber) -> String {
    format!("sms:{}:{}", purpose.as_str(), phone.as_str())
}

pub async fn send(
    state: &AppState,
    phone: &str,
    purpose: &str,
    ip: &str,
    now: OffsetDateTime,
) -> Result<CodeSent, AppError> {
    let phone = PhoneNumber::parse(phone)?;
    let purpose = CodePurpose::parse(purpose)?;
    let registered = patient::Entity::find()
        .filter(patient::Column::Phone.eq(phone.as_str()))
        .count(&state.db)
        .await?
        > 0;
    if purpose == CodePurpose::Register && registered {
        return Err(FieldError::new(ErrorCode::PhoneTaken, Field::Phone).into());
    }
    let policy = state.sms_policy;
    let ts = now.unix_timestamp();
    let last = sms_code::Entity::find()
        .filter(sms_code::Column::Phone.eq(phone.as_str()))
        .order_by_desc(sms_code::Column::CreatedAt)
        .one(&state.db)
        .await?;
    let history = SendHistory {
        last_sent_to_phone: last
            .and_then(|c| OffsetDateTime::from_unix_timestamp(c.created_at).ok()),
        sent_to_phone_last_day: count(state, sms_code::Column::Phone, phone.as_str(), ts - 86_400)
            .await?,
        sent_from_ip_last_hour: count(state, sms_code::Column::Ip, ip, ts - 3_600).await?,
    };
    policy.may_send(&history, now).map_err(|refusal| {
        AppError::retry(
            FieldError::new(refusal.code, Field::Phone),
            refusal.retry_after_secs,
        )
    })?;
    let sent = CodeSent {
        phone: phone.clone(),
        resend_after_secs: policy.resend_after.whole_seconds(),
        expires_in_secs: policy.code_ttl.whole_seconds(),
    };
    // Login and reset codes go only to registered phones, but the answer is the same
    // either way so the endpoint does not reveal who has an account.
    if purpose != CodePurpose::Register && !registered {
        return Ok(sent);
    }
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
    .insert(&state.db)
    .await?;
    let body = format!(
        "【复诊】您的验证码是 {}，5 分钟内有效。请勿告诉他人。",
        code.expose()
    );
    state
        .sms
        .send_code(phone.as_str(), code.expose(), &body)
        .await?;
    Ok(sent)
}

async fn count(
    state: &AppState,
    column: sms_code::Column,
    value: &str,
    since: i64,
) -> Result<u32, AppError> {
    let n = sms_code::Entity::find()
        .filter(column.eq(value))
        .filter(sms_code::Column::CreatedAt.gt(since))
        .count(&state.db)
        .await?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Checks a code and, if right, uses it up. Every attempt counts against the limit.
pub async fn consume(
    state: &AppState,
    phone: &PhoneNumber,
    purpose: CodePurpose,
    code: &SmsCode,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    let newest = sms_code::Entity::find()
        .filter(sms_code::Column::Phone.eq(phone.as_str()))
        .filter(sms_code::Column::Purpose.eq(purpose.as_str()))
        .order_by_desc(sms_code::Column::CreatedAt)
        .order_by_desc(sms_code::Column::Id)
        .one(&state.db)
        .await?;
    let issued = newest.as_ref().and_then(|row| {
        Some(IssuedCode {
            issued_at: OffsetDateTime::from_unix_timestamp(row.created_at).ok()?,
            attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
            consumed: row.consumed_at.is_some(),
        })
    });
    let matches = newest.as_ref().is_some_and(|row| {
        state
            .crypto
            .keyed_hash_matches(&hash_domain(purpose, phone), code.expose(), &row.code_hmac)
    });
    let verdict = state.sms_policy.check(issued.as_ref(), matches, now);
    let Some(row) = newest else {
        return verdict.map_err(Into::into);
    };
    if matches!(
        verdict,
        Err(FieldError {
            code: ErrorCode::SmsCodeWrong,
            ..
        }) | Ok(())
    ) {
        sms_code::Entity::update_many()
            .col_expr(
                sms_code::Column::Attempts,
                Expr::col(sms_code::Column::Attempts).add(1),
            )
            .filter(sms_code::Column::Id.eq(row.id))
            .exec(&state.db)
            .await?;
    }
    verdict?;
    // Conditional update: of two concurrent uses of one code, only one wins.
    let used = sms_code::Entity::update_many()
        .col_expr(
            sms_code::Column::ConsumedAt,
            Expr::value(now.unix_timestamp()),
        )
        .filter(sms_code::Column::Id.eq(row.id))
        .filter(sms_code::Column::ConsumedAt.is_null())
        .exec(&state.db)
        .await?;
    if used.rows_affected != 1 {
        return Err(FieldError::new(ErrorCode::SmsCodeExpired, Field::Code).into());
    }
    Ok(())
}
