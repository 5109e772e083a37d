//! Images and PDFs in a consult (R-CONS-1, R-CONS-4): uploaded over HTTP through the
//! same pipeline as proofs (content check, re-encoding without EXIF, thumbnails, the
//! bounded decoding pool, the upload quotas), stored once per upload key (a retry after a
//! lost answer gets the first file back), then sent as a message that refers to it.
use crate::consult::access::{self, Participant};
use crate::context::RequestContext;
use crate::db::{self, consult_file};
use crate::error::AppError;
use crate::state::State;
use app::chat::protocol::FileRef;
use app::domain::upload::FileKind;
use app::domain::{ErrorCode, Field, FieldError};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use std::sync::Arc;

async fn by_key(
    state: &State,
    consult_id: i64,
    who: Participant,
    key: &str,
) -> Result<Option<consult_file::Model>, AppError> {
    Ok(consult_file::Entity::find()
        .filter(consult_file::Column::ConsultId.eq(consult_id))
        .filter(consult_file::Column::Side.eq(who.side().as_str()))
        .filter(consult_file::Column::UploadKey.eq(key))
        .one(&state.db)
        .await?)
}

/// Stores one file in the consult for `who`; `(file, created)`.
pub async fn upload(
    state: &Arc<State>,
    who: Participant,
    number: &str,
    upload_key: &str,
    bytes: Vec<u8>,
    cx: &RequestContext,
) -> Result<(FileRef, bool), AppError> {
    let key = crate::proofs::service::idempotency_key(upload_key)?;
    let c = access::find(&state.db, who, number).await?;
    if let Some(f) = by_key(state, c.id, who, &key).await? {
        return Ok((super::service::file_ref(&f), false));
    }
    // Only while the sender may write (an ended consult takes no more files).
    super::service::window(&c)?
        .may_write(who.side(), cx.now.unix_timestamp())
        .map_err(super::service::refused)?;
    if bytes.is_empty() {
        return Err(FieldError::new(ErrorCode::FilesMissing, Field::Files).into());
    }
    crate::proofs::quotas::files_within_quotas(
        state,
        &format!("upload-files:{}", who.account_key()),
        1,
        cx,
    )
    .await?;
    let decodes = state.parts.get::<crate::proofs::decodes::Decodes>()?;
    let p = crate::proofs::uploads::process(decodes, bytes, state.max_upload_bytes).await?;
    let file_number = db::new_number("CF");
    let object_key = format!(
        "consults/{}/{file_number}.{}",
        c.consult_number,
        p.kind.extension()
    );
    let thumb_key = p
        .thumbnail
        .as_ref()
        .map(|_| format!("consults/{}/{file_number}.thumb.jpg", c.consult_number));
    let size = i64::try_from(p.data.len()).unwrap_or(i64::MAX);
    state.files.put(&object_key, p.data).await?;
    if let (Some(k), Some(t)) = (&thumb_key, p.thumbnail) {
        state.files.put(k, t).await?;
    }
    let row = consult_file::ActiveModel {
        file_number: Set(file_number),
        consult_id: Set(c.id),
        side: Set(who.side().as_str().to_owned()),
        author_id: Set(who.author_id()),
        upload_key: Set(key.clone()),
        kind: Set(p.kind.as_str().to_owned()),
        object_key: Set(object_key.clone()),
        thumb_key: Set(thumb_key.clone()),
        bytes: Set(size),
        width: Set(p.width.and_then(|w| i32::try_from(w).ok())),
        height: Set(p.height.and_then(|h| i32::try_from(h).ok())),
        sha256: Set(p.sha256),
        created_at: Set(cx.now.unix_timestamp()),
        ..Default::default()
    }
    .insert(&state.db)
    .await;
    match row {
        Ok(f) => Ok((super::service::file_ref(&f), true)),
        Err(e) if db::is_unique_violation(&e) => {
            // The same upload twice at once: the other one is kept.
            let _ = state.files.delete(&object_key).await;
            if let Some(k) = &thumb_key {
                let _ = state.files.delete(k).await;
            }
            let f = by_key(state, c.id, who, &key)
                .await?
                .ok_or_else(|| anyhow::anyhow!("the concurrent upload vanished"))?;
            Ok((super::service::file_ref(&f), false))
        }
        Err(e) => Err(e.into()),
    }
}

/// A file of the consult, or its thumbnail, for a participant.
pub async fn read(
    state: &State,
    who: Participant,
    number: &str,
    file_number: &str,
    thumbnail: bool,
) -> Result<(FileKind, bytes::Bytes), AppError> {
    let c = access::find(&state.db, who, number).await?;
    let not_found = || AppError::from(FieldError::general(ErrorCode::NotFound));
    let f = consult_file::Entity::find()
        .filter(consult_file::Column::ConsultId.eq(c.id))
        .filter(consult_file::Column::FileNumber.eq(file_number))
        .one(&state.db)
        .await?
        .ok_or_else(not_found)?;
    let kind = FileKind::parse(&f.kind).ok_or_else(not_found)?;
    match (thumbnail, &f.thumb_key) {
        (true, Some(k)) => Ok((FileKind::Jpeg, state.files.get(k).await?)),
        (true, None) => Err(not_found()),
        (false, _) => Ok((kind, state.files.get(&f.object_key).await?)),
    }
}
