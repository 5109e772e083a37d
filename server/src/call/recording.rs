//! Recordings of calls, part of the medical record (R-CONS-7, R-EMR-2). On the backup
//! system the doctor's page records both sides and uploads the recording in pieces as it
//! goes; a piece sent again is stored once, so an upload resumes where it stopped. When
//! the page says a part is complete, the pieces become one object in the store (local
//! or S3), hashed, and a row that the database never lets change or go. A page that
//! cannot record says why, and the call's record says so.
use super::service::system_of;
use crate::consult::access::{self, Access, Participant};
use crate::context::RequestContext;
use crate::db::{self, call_recording, call_recording_chunk, consult, consult_call};
use crate::error::AppError;
use crate::state::State;
pub use app::call::{CallRecord, MediaEventView, RecordingView};
use app::domain::call::MediaSystem;
use app::domain::{ErrorCode, Field, FieldError};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::sync::Arc;

/// The largest piece a page uploads.
pub const MAX_CHUNK_BYTES: usize = 4 * 1024 * 1024;
/// Pieces per part (about five seconds each: well over the longest call).
pub const MAX_CHUNKS: i32 = 4_000;
/// Parts per call (one more each time the doctor's page reloads mid-call).
pub const MAX_PARTS: i32 = 50;
/// How long after its call has ended a part may still be uploaded and completed.
pub const UPLOAD_GRACE_SECS: i64 = 3600;
/// The longest reason a page gives for not recording.
pub const MAX_REASON_CHARS: usize = 200;

fn view(r: &call_recording::Model, call: &str) -> RecordingView {
    RecordingView {
        recording_number: r.recording_number.clone(),
        call: call.to_owned(),
        part: r.part,
        made_by: r.made_by.clone(),
        content_type: r.content_type.clone(),
        bytes: r.bytes,
        duration_ms: r.duration_ms,
        sha256: r.sha256.clone(),
        created_at: r.created_at,
    }
}

fn not_found() -> AppError {
    FieldError::general(ErrorCode::NotFound).into()
}

/// The call with this number and its consult, if `who` is its doctor (anyone else, and
/// the patient, are told it does not exist: only the doctor's page records).
async fn doctors_call(
    state: &State,
    who: Participant,
    number: &str,
) -> Result<(consult_call::Model, consult::Model), AppError> {
    let Participant::Doctor { .. } = who else {
        return Err(not_found());
    };
    let call = consult_call::Entity::find()
        .filter(consult_call::Column::CallNumber.eq(number))
        .one(&state.db)
        .await?
        .ok_or_else(not_found)?;
    let c = consult::Entity::find_by_id(call.consult_id)
        .one(&state.db)
        .await?
        .ok_or_else(not_found)?;
    if !who.may_see(&c) {
        return Err(not_found());
    }
    Ok((call, c))
}

/// Whether the doctor's page may still upload to `call` at `now`: a backup call, running
/// or ended within the grace period.
fn may_upload(call: &consult_call::Model, now: i64) -> Result<(), AppError> {
    if system_of(call) != MediaSystem::Direct {
        return Err(FieldError::general(ErrorCode::Forbidden).into());
    }
    match call.ended_at {
        Some(ended) if now - ended > UPLOAD_GRACE_SECS => {
            Err(FieldError::general(ErrorCode::CallNotRunning).into())
        }
        _ => Ok(()),
    }
}

fn chunk_key(c: &consult::Model, call: &consult_call::Model, part: i32, idx: i32) -> String {
    format!(
        "recordings/{}/{}/parts/{part}/{idx:05}",
        c.consult_number, call.call_number
    )
}

fn check_part(part: i32) -> Result<(), AppError> {
    if (0..MAX_PARTS).contains(&part) {
        Ok(())
    } else {
        Err(FieldError::new(ErrorCode::InvalidQuery, Field::Body).into())
    }
}

/// Stores piece `idx` of part `part` of the call's recording; the same piece again is
/// stored once.
pub async fn put_chunk(
    state: &Arc<State>,
    who: Participant,
    number: &str,
    part: i32,
    idx: i32,
    bytes: bytes::Bytes,
    cx: &RequestContext,
) -> Result<(), AppError> {
    check_part(part)?;
    if !(0..MAX_CHUNKS).contains(&idx) || bytes.is_empty() || bytes.len() > MAX_CHUNK_BYTES {
        return Err(FieldError::new(ErrorCode::InvalidQuery, Field::Body).into());
    }
    let (call, c) = doctors_call(state, who, number).await?;
    let now = cx.now.unix_timestamp();
    may_upload(&call, now)?;
    let done = call_recording::Entity::find()
        .filter(call_recording::Column::CallId.eq(call.id))
        .filter(call_recording::Column::Part.eq(part))
        .one(&state.db)
        .await?;
    if done.is_some() {
        // A part once complete never changes (R-CONS-7).
        return Err(FieldError::general(ErrorCode::RecordArchived).into());
    }
    let sha = hex::encode(sha2::Sha256::digest(&bytes));
    let len = bytes.len() as i64;
    let limit = state.parts.get::<super::CallParts>()?.recording_max_bytes;
    // The piece is counted under the call's row lock (PostgreSQL; SQLite's write
    // transaction holds the database), so pieces sent at once cannot pass the call's quota
    // together. A piece sent again replaces its own count.
    let txn = db::begin_write(&state.db).await?;
    consult_call::Entity::find_by_id(call.id)
        .lock_exclusive()
        .one(&txn)
        .await?;
    let used = txn
        .query_one_raw(db::sql(
            txn.get_database_backend(),
            "SELECT CAST(COALESCE(SUM(bytes), 0) AS BIGINT) AS n FROM call_recording_chunk \
             WHERE call_id = $1 AND NOT (part = $2 AND idx = $3)",
            vec![call.id.into(), part.into(), idx.into()],
        ))
        .await?
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    if used + len > limit {
        txn.rollback().await?;
        return Err(FieldError::new(ErrorCode::PayloadTooLarge, Field::Body).into());
    }
    call_recording_chunk::Entity::insert(call_recording_chunk::ActiveModel {
        call_id: Set(call.id),
        part: Set(part),
        idx: Set(idx),
        bytes: Set(len),
        sha256: Set(sha),
        received_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            call_recording_chunk::Column::CallId,
            call_recording_chunk::Column::Part,
            call_recording_chunk::Column::Idx,
        ])
        .update_columns([
            call_recording_chunk::Column::Bytes,
            call_recording_chunk::Column::Sha256,
            call_recording_chunk::Column::ReceivedAt,
        ])
        .to_owned(),
    )
    .exec(&txn)
    .await?;
    txn.commit().await?;
    // The piece itself after its count: a failed write leaves a count that a retry of the
    // same piece replaces.
    state
        .files
        .put(&chunk_key(&c, &call, part, idx), bytes.to_vec())
        .await?;
    Ok(())
}

/// What the server holds of a call's recording: for each part not yet complete, the
/// pieces it has (a page resumes from there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Progress {
    pub parts: Vec<PartProgress>,
    pub recordings: Vec<RecordingView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PartProgress {
    pub part: i32,
    pub pieces: Vec<i32>,
}

pub async fn progress(state: &State, who: Participant, number: &str) -> Result<Progress, AppError> {
    let (call, _) = doctors_call(state, who, number).await?;
    let recordings: Vec<call_recording::Model> = call_recording::Entity::find()
        .filter(call_recording::Column::CallId.eq(call.id))
        .order_by_asc(call_recording::Column::Part)
        .all(&state.db)
        .await?;
    let chunks = call_recording_chunk::Entity::find()
        .filter(call_recording_chunk::Column::CallId.eq(call.id))
        .order_by_asc(call_recording_chunk::Column::Part)
        .order_by_asc(call_recording_chunk::Column::Idx)
        .all(&state.db)
        .await?;
    let mut parts: Vec<PartProgress> = Vec::new();
    for ch in chunks {
        if recordings.iter().any(|r| r.part == ch.part) {
            continue;
        }
        match parts.last_mut() {
            Some(p) if p.part == ch.part => p.pieces.push(ch.idx),
            _ => parts.push(PartProgress {
                part: ch.part,
                pieces: vec![ch.idx],
            }),
        }
    }
    Ok(Progress {
        parts,
        recordings: recordings
            .iter()
            .map(|r| view(r, &call.call_number))
            .collect(),
    })
}

/// Puts part `part` together from its `pieces` pieces (0 … pieces − 1, all there), as
/// the doctor's page recorded it over `duration_ms`.
pub async fn finish(
    state: &Arc<State>,
    who: Participant,
    number: &str,
    part: i32,
    pieces: i32,
    duration_ms: i64,
    cx: &RequestContext,
) -> Result<RecordingView, AppError> {
    check_part(part)?;
    let (call, c) = doctors_call(state, who, number).await?;
    let now = cx.now.unix_timestamp();
    may_upload(&call, now)?;
    let have: Vec<i32> = call_recording_chunk::Entity::find()
        .filter(call_recording_chunk::Column::CallId.eq(call.id))
        .filter(call_recording_chunk::Column::Part.eq(part))
        .order_by_asc(call_recording_chunk::Column::Idx)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|ch| ch.idx)
        .collect();
    if pieces <= 0 || have != (0..pieces).collect::<Vec<_>>() {
        return Err(FieldError::general(ErrorCode::RecordingIncomplete).into());
    }
    store_part(state, &call, &c, part, pieces, duration_ms, cx).await
}

/// Puts the pieces 0 … pieces − 1 of a part together as one recording of the record.
async fn store_part(
    state: &Arc<State>,
    call: &consult_call::Model,
    c: &consult::Model,
    part: i32,
    pieces: i32,
    duration_ms: i64,
    cx: &RequestContext,
) -> Result<RecordingView, AppError> {
    let now = cx.now.unix_timestamp();
    // The page's clock, kept within the call's own length.
    let call_ms = (call.ended_at.unwrap_or(now) - call.started_at + 60).max(0) * 1000;
    let duration_ms = duration_ms.clamp(0, call_ms);
    let sources: Vec<String> = (0..pieces).map(|i| chunk_key(c, call, part, i)).collect();
    let key = format!(
        "recordings/{}/{}-{part}.webm",
        c.consult_number, call.call_number
    );
    let (bytes, sha256) = state.files.assemble(&key, &sources).await?;
    let retention_days = state.parts.get::<super::CallParts>()?.retention_days;
    let stored = call_recording::ActiveModel {
        recording_number: Set(db::new_number("RC")),
        call_id: Set(call.id),
        part: Set(part),
        consult_id: Set(c.id),
        made_by: Set("client".to_owned()),
        object_key: Set(key),
        content_type: Set("video/webm".to_owned()),
        sha256: Set(sha256),
        bytes: Set(i64::try_from(bytes).unwrap_or(i64::MAX)),
        duration_ms: Set(duration_ms),
        keep_until: Set(now + retention_days * 86_400),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&state.db)
    .await;
    let stored = match stored {
        Ok(r) => r,
        Err(e) if db::is_unique_violation(&e) => {
            return Err(FieldError::general(ErrorCode::RecordArchived).into());
        }
        Err(e) => return Err(e.into()),
    };
    consult_call::Entity::update_many()
        .col_expr(consult_call::Column::Recording, Expr::value("recorded"))
        .col_expr(
            consult_call::Column::RecordingNote,
            Expr::value(Option::<String>::None),
        )
        .filter(consult_call::Column::Id.eq(call.id))
        .exec(&state.db)
        .await?;
    for s in &sources {
        if let Err(e) = state.files.delete(s).await {
            tracing::warn!(error = %e, "a recording piece was not removed after assembly");
        }
    }
    crate::audit::record(
        &state.db,
        cx.audit(crate::audit::AuditAction::RecordingStored)
            .on("call_recording", &stored.recording_number)
            .about_member(c.family_member_id)
            .detail(serde_json::json!({ "call": call.call_number, "sha256": stored.sha256 })),
    )
    .await?;
    Ok(view(&stored, &call.call_number))
}

/// What a doctor's page left behind: for each backup call ended more than the grace
/// period ago with its recording still pending, the parts it uploaded are put together
/// (as far as their pieces run without a gap; a page that closed mid-upload), and a call
/// with nothing uploaded is marked not recorded, with why. Returns the calls settled.
pub async fn settle_abandoned(
    state: &Arc<State>,
    now: time::OffsetDateTime,
) -> Result<usize, AppError> {
    let cx = RequestContext::system(now);
    let at = now.unix_timestamp();
    let calls = consult_call::Entity::find()
        .filter(consult_call::Column::System.eq(MediaSystem::Direct.as_str()))
        .filter(consult_call::Column::Recording.eq("pending"))
        .filter(consult_call::Column::EndedAt.lt(at - UPLOAD_GRACE_SECS))
        .all(&state.db)
        .await?;
    let mut settled = 0;
    for call in calls {
        let Some(c) = consult::Entity::find_by_id(call.consult_id)
            .one(&state.db)
            .await?
        else {
            continue;
        };
        let chunks = call_recording_chunk::Entity::find()
            .filter(call_recording_chunk::Column::CallId.eq(call.id))
            .order_by_asc(call_recording_chunk::Column::Part)
            .order_by_asc(call_recording_chunk::Column::Idx)
            .all(&state.db)
            .await?;
        let done: Vec<i32> = call_recording::Entity::find()
            .filter(call_recording::Column::CallId.eq(call.id))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|r| r.part)
            .collect();
        let mut parts: Vec<(i32, i32)> = Vec::new();
        for ch in chunks.iter().filter(|ch| !done.contains(&ch.part)) {
            match parts.last_mut() {
                Some((part, run)) if *part == ch.part => {
                    if ch.idx == *run {
                        *run += 1;
                    }
                }
                _ => parts.push((ch.part, i32::from(ch.idx == 0))),
            }
        }
        let mut stored = !done.is_empty();
        for (part, run) in parts.into_iter().filter(|(_, run)| *run > 0) {
            // About five seconds a piece: the page did not live to say how long.
            let ms = i64::from(run) * 5_000;
            match store_part(state, &call, &c, part, run, ms, &cx).await {
                Ok(_) => stored = true,
                Err(e) => {
                    tracing::warn!(error = ?e, call = call.call_number, "an abandoned recording part was not stored")
                }
            }
        }
        if !stored {
            consult_call::Entity::update_many()
                .col_expr(consult_call::Column::Recording, Expr::value("none"))
                .col_expr(
                    consult_call::Column::RecordingNote,
                    Expr::value("医生端未上传录像（页面在通话中关闭或断网）"),
                )
                .filter(consult_call::Column::Id.eq(call.id))
                .filter(consult_call::Column::Recording.eq("pending"))
                .exec(&state.db)
                .await?;
        }
        settled += 1;
    }
    Ok(settled)
}

/// The doctor's page could not record the call: the call's record says why.
pub async fn unavailable(
    state: &State,
    who: Participant,
    number: &str,
    reason: &str,
    cx: &RequestContext,
) -> Result<(), AppError> {
    let (call, _) = doctors_call(state, who, number).await?;
    may_upload(&call, cx.now.unix_timestamp())?;
    let reason: String = reason.trim().chars().take(MAX_REASON_CHARS).collect();
    if reason.is_empty() {
        return Err(FieldError::new(ErrorCode::ReasonMissing, Field::Reason).into());
    }
    // Only a call with nothing recorded says it was not recorded.
    consult_call::Entity::update_many()
        .col_expr(consult_call::Column::Recording, Expr::value("none"))
        .col_expr(consult_call::Column::RecordingNote, Expr::value(reason))
        .filter(consult_call::Column::Id.eq(call.id))
        .filter(consult_call::Column::Recording.ne("recorded"))
        .exec(&state.db)
        .await?;
    Ok(())
}

pub async fn of_consult(
    db: &impl sea_orm::ConnectionTrait,
    consult_id: i64,
) -> Result<Vec<CallRecord>, AppError> {
    let calls = consult_call::Entity::find()
        .filter(consult_call::Column::ConsultId.eq(consult_id))
        .order_by_asc(consult_call::Column::Id)
        .all(db)
        .await?;
    let recordings = call_recording::Entity::find()
        .filter(call_recording::Column::ConsultId.eq(consult_id))
        .order_by_asc(call_recording::Column::Part)
        .all(db)
        .await?;
    let ids: Vec<i64> = calls.iter().map(|c| c.id).collect();
    let events = crate::db::call_media_event::Entity::find()
        .filter(crate::db::call_media_event::Column::CallId.is_in(ids))
        .order_by_asc(crate::db::call_media_event::Column::Id)
        .all(db)
        .await?;
    Ok(calls
        .into_iter()
        .map(|call| CallRecord {
            media_events: events
                .iter()
                .filter(|e| e.call_id == call.id)
                .map(|e| MediaEventView {
                    side: e.side.as_deref().and_then(|s| match s {
                        "doctor" => Some(app::domain::consult::Side::Doctor),
                        "patient" => Some(app::domain::consult::Side::Patient),
                        _ => None,
                    }),
                    what: e.what.clone(),
                    detail: e.detail.clone(),
                    at_ms: e.at_ms,
                })
                .collect(),
            recordings: recordings
                .iter()
                .filter(|r| r.call_id == call.id)
                .map(|r| view(r, &call.call_number))
                .collect(),
            call: call.call_number,
            system: call.system,
            media: call.media,
            started_at: call.started_at,
            ended_at: call.ended_at,
            recording: call.recording,
            note: call.recording_note,
        })
        .collect())
}

/// A recording of one of `who`'s consults: its bytes and type. A staff member's read is
/// logged like any read of the record (R-EMR-2) and shows in the patient's "who viewed
/// my record".
pub async fn read(
    state: &State,
    who: Participant,
    consult_number: &str,
    recording_number: &str,
    cx: &RequestContext,
) -> Result<(bytes::Bytes, String), AppError> {
    let c = access::find(&state.db, who, consult_number).await?;
    let r = call_recording::Entity::find()
        .filter(call_recording::Column::RecordingNumber.eq(recording_number))
        .filter(call_recording::Column::ConsultId.eq(c.id))
        .one(&state.db)
        .await?
        .ok_or_else(not_found)?;
    if let Participant::Doctor { staff_id, .. } = who {
        access::log_access(
            &state.db,
            &c,
            staff_id,
            Access::Read,
            Some(format!("recording {}", r.recording_number)),
            cx,
        )
        .await?;
    }
    let bytes = state.files.get(&r.object_key).await?;
    Ok((bytes, r.content_type))
}
