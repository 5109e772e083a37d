//! The notification service (R-BOOK-3): a notice goes into the account's message
//! centre in the same transaction as the change it reports, and, for the kinds that
//! matter most, by SMS once that transaction has committed. Later features add kinds
//! (`app::domain::notice::NoticeKind`), not mechanisms.
pub use super::notice::Notice;
use crate::db::{notice, patient};
use crate::error::AppError;
use crate::state::State;
use app::domain::notice::NoticeKind;
use app::i18n::Locale;
use app::localized::render_message;
use app::notices::{NoticeList, NoticeView};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use std::sync::Arc;
use time::OffsetDateTime;

/// Local time to the minute, as patients read it.
const SENT_AT: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");

/// The newest this many are listed.
pub const LIST_LIMIT: u64 = 100;

/// Puts the notice in the message centre, inside the caller's transaction. Returns what
/// to hand to [`send_sms_after_commit`] once the transaction has committed.
pub async fn record(
    db: &impl ConnectionTrait,
    notice: Notice,
    now: OffsetDateTime,
) -> Result<Notice, AppError> {
    let params: serde_json::Map<String, serde_json::Value> = notice
        .params
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    notice::ActiveModel {
        patient_id: Set(notice.patient_id),
        family_member_id: Set(notice.family_member_id),
        kind: Set(notice.kind.as_str().to_owned()),
        params: Set(serde_json::Value::Object(params).to_string()),
        created_at: Set(now.unix_timestamp()),
        read_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(notice)
}

/// Sends the SMS for a recorded notice, in the background (the answer does not wait for
/// the SMS gateway), in Chinese: the language of the hospital's SMS templates.
pub fn send_sms_after_commit(state: Arc<State>, notice: Notice) {
    if !notice.kind.by_sms() {
        return;
    }
    tokio::spawn(async move {
        let phone = match patient::Entity::find_by_id(notice.patient_id)
            .one(&state.db)
            .await
        {
            Ok(Some(p)) => p.phone,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "notice SMS: patient lookup failed");
                return;
            }
        };
        let (title, body) = render_message(Locale::zh_CN, notice.kind, &notice.params);
        let text = format!("【复诊】{title}：{body}");
        if let Err(e) = state.sms.send(&phone, &text, None).await {
            tracing::warn!(error = %e, kind = notice.kind.as_str(), "notice SMS failed");
        }
    });
}

fn view(m: &notice::Model, locale: Locale) -> Option<NoticeView> {
    let kind = NoticeKind::parse(&m.kind)?;
    let params: Vec<(String, String)> =
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&m.params)
            .ok()?
            .into_iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
            .collect();
    let (title, body) = render_message(locale, kind, &params);
    Some(NoticeView {
        id: m.id,
        kind,
        title,
        body,
        sent_at: OffsetDateTime::from_unix_timestamp(m.created_at)
            .ok()?
            .to_offset(app::domain::china_time::CHINA)
            .format(SENT_AT)
            .ok()?,
        read: m.read_at.is_some(),
    })
}

/// The account's notices, newest first, and how many are unread.
pub async fn list(
    db: &impl ConnectionTrait,
    patient_id: i64,
    locale: Locale,
) -> Result<NoticeList, AppError> {
    let rows = notice::Entity::find()
        .filter(notice::Column::PatientId.eq(patient_id))
        .order_by_desc(notice::Column::Id)
        .limit(LIST_LIMIT)
        .all(db)
        .await?;
    Ok(NoticeList {
        messages: rows.iter().filter_map(|m| view(m, locale)).collect(),
        unread: unread(db, patient_id).await?,
    })
}

pub async fn unread(db: &impl ConnectionTrait, patient_id: i64) -> Result<u32, AppError> {
    let n = notice::Entity::find()
        .filter(notice::Column::PatientId.eq(patient_id))
        .filter(notice::Column::ReadAt.is_null())
        .count(db)
        .await?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// One of the account's notices, marked read; `None` for anyone else's.
pub async fn open(
    db: &impl ConnectionTrait,
    patient_id: i64,
    id: i64,
    locale: Locale,
    now: OffsetDateTime,
) -> Result<Option<NoticeView>, AppError> {
    notice::Entity::update_many()
        .col_expr(
            notice::Column::ReadAt,
            sea_orm::sea_query::Expr::value(now.unix_timestamp()),
        )
        .filter(notice::Column::Id.eq(id))
        .filter(notice::Column::PatientId.eq(patient_id))
        .filter(notice::Column::ReadAt.is_null())
        .exec(db)
        .await?;
    let found = notice::Entity::find_by_id(id)
        .filter(notice::Column::PatientId.eq(patient_id))
        .one(db)
        .await?;
    Ok(found.as_ref().and_then(|m| view(m, locale)))
}
