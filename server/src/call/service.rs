//! A consult's calls (R-CONS-1, R-CONS-4, R-CONS-6): every action decided by
//! [`app::domain::call::decide`] under the consult's row lock, each step written to the
//! consult's log in the same transaction, and the news sent once it has committed. One
//! call of a consult runs at a time (the database's unique index decides a race of two
//! starts). A call stays on the system it started on; falling back to the backup ends it
//! and starts another.
use super::CallParts;
use crate::audit::{self, AuditAction};
use crate::chat::hub::{News, What};
use crate::chat::log::{self, NewEntry};
use crate::consult::access::Participant;
use crate::consult::life;
use crate::context::RequestContext;
use crate::db::{self, consult, consult_call};
use crate::error::AppError;
use crate::orders::AfterCommit;
use crate::state::State;
use app::chat::protocol::CallView;
use app::domain::call::{
    CallAction, CallFacts, CallMedia, CallNote, CallOutcome, CallRefused, CallStep, CallWindow,
    Fallback, MediaSystem, choose_system, decide,
};
use app::domain::consult::{ConsultEvent, Side};
use app::domain::{ErrorCode, FieldError};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};
use std::sync::Arc;

/// Why the server ended a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndCause {
    Doctor,
    Fallback,
    ConsultEnded,
    TooLong,
}

impl EndCause {
    pub const fn as_str(self) -> &'static str {
        match self {
            EndCause::Doctor => "doctor",
            EndCause::Fallback => "fallback",
            EndCause::ConsultEnded => "consult_ended",
            EndCause::TooLong => "too_long",
        }
    }
}

fn refused(r: CallRefused) -> AppError {
    let code = match r {
        CallRefused::NotVideo => ErrorCode::CallNotVideo,
        CallRefused::ConsultEnded => ErrorCode::ConsultEnded,
        CallRefused::NotYetOpen => ErrorCode::ConsultNotYetOpen,
        CallRefused::DoctorOnly => ErrorCode::Forbidden,
        CallRefused::AlreadyLive => ErrorCode::CallAlreadyLive,
        CallRefused::NoCall => ErrorCode::CallNotRunning,
    };
    FieldError::general(code).into()
}

fn window(c: &consult::Model) -> Result<CallWindow, AppError> {
    Ok(CallWindow {
        status: life::status_of(c)?,
        consult_type: life::type_of(c)?,
        opens_at: c.opens_at,
    })
}

fn facts(call: &consult_call::Model) -> CallFacts {
    CallFacts {
        ended: call.ended_at.is_some(),
        patient_in: call.patient_in,
        doctor_in: call.doctor_in,
    }
}

pub(crate) fn system_of(call: &consult_call::Model) -> MediaSystem {
    MediaSystem::parse(&call.system).unwrap_or(MediaSystem::Direct)
}

fn media_of(call: &consult_call::Model) -> CallMedia {
    if call.media == "voice" {
        CallMedia::Voice
    } else {
        CallMedia::Video
    }
}

fn media_str(m: CallMedia) -> &'static str {
    match m {
        CallMedia::Video => "video",
        CallMedia::Voice => "voice",
    }
}

/// The call as both sides see it, without the relay's credentials (each connection adds
/// its own).
pub fn view(call: &consult_call::Model, consult_number: &str) -> CallView {
    CallView {
        consult: consult_number.to_owned(),
        call: call.call_number.clone(),
        system: system_of(call),
        media: media_of(call),
        live: call.ended_at.is_none(),
        patient_in: call.patient_in,
        doctor_in: call.doctor_in,
        started_at: call.started_at,
        relay_only: false,
        ice_servers: Vec::new(),
    }
}

/// The consult's running call, if any.
pub async fn running(
    db: &impl ConnectionTrait,
    consult_id: i64,
) -> Result<Option<consult_call::Model>, AppError> {
    Ok(consult_call::Entity::find()
        .filter(consult_call::Column::ConsultId.eq(consult_id))
        .filter(consult_call::Column::EndedAt.is_null())
        .one(db)
        .await?)
}

/// The consult's latest call, running or not.
pub async fn latest(
    db: &impl ConnectionTrait,
    consult_id: i64,
) -> Result<Option<consult_call::Model>, AppError> {
    Ok(consult_call::Entity::find()
        .filter(consult_call::Column::ConsultId.eq(consult_id))
        .order_by_desc(consult_call::Column::Id)
        .one(db)
        .await?)
}

pub(super) fn note(call: &consult_call::Model, step: CallStep, to: Option<Fallback>) -> CallNote {
    CallNote {
        call: call.call_number.clone(),
        step,
        system: system_of(call),
        media: media_of(call),
        to,
    }
}

/// Writes a step of `call` to the consult's log and has the entry and the call's news
/// published once the transaction commits.
pub(super) async fn log_step(
    txn: &impl ConnectionTrait,
    call: &consult_call::Model,
    n: CallNote,
    side: Side,
    author: Option<i64>,
    now: i64,
    after: &mut AfterCommit,
) -> Result<(), AppError> {
    let entry = log::append(txn, call.consult_id, NewEntry::call(n, side, author), now).await?;
    crate::chat::publish_after(after, call.consult_id, entry.seq);
    Ok(())
}

/// Tells both sides' connections how the call stands now (after the commit).
pub(super) fn announce(after: &mut AfterCommit, call: consult_call::Model, consult_number: String) {
    after.tasks.push(Box::new(move |state| {
        crate::chat::news(
            state,
            News {
                consult_id: call.consult_id,
                what: What::Call(Box::new(view(&call, &consult_number))),
                fresh: None,
            },
        );
    }));
}

/// What an action left: the call as it stands after it, if there is one.
pub async fn act(
    state: &Arc<State>,
    who: Participant,
    c: &consult::Model,
    action: CallAction,
    cx: &RequestContext,
) -> Result<Option<consult_call::Model>, AppError> {
    let parts = state.parts.get::<CallParts>()?;
    let now = cx.now.unix_timestamp();
    let side = who.side();
    // The consult as it is now (a connection's copy is from when it said hello).
    let fresh = consult::Entity::find_by_id(c.id)
        .one(&state.db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("consult {} vanished", c.id))?;
    let c = &fresh;
    // A first look outside the transaction, so that a media server's room is prepared
    // before the database is locked; the decision is taken again under the lock.
    let before = running(&state.db, c.id).await?;
    let outcome =
        decide(window(c)?, before.as_ref().map(facts), side, action, now).map_err(refused)?;
    let (Participant::Doctor { staff_id, .. }, CallOutcome::Start) = (who, outcome) else {
        return step(state, who, c, action, cx).await;
    };
    let CallAction::Start { media } = action else {
        return step(state, who, c, action, cx).await;
    };
    let last_failed = latest(&state.db, c.id).await?.is_some_and(|l| {
        system_of(&l) == MediaSystem::Sfu && l.end_cause.as_deref() == Some("fallback")
    });
    let chosen = choose_system(parts.media.primary_state(), last_failed, now);
    start(state, c, staff_id, media, chosen, None, cx)
        .await
        .map(Some)
}

/// Starts a call on `system` (falling back to the backup when the primary cannot open a
/// room). `replacing`: the call this one takes over from, already ended in the same
/// transaction by a fallback.
async fn start(
    state: &Arc<State>,
    c: &consult::Model,
    staff_id: i64,
    media: CallMedia,
    system: MediaSystem,
    replacing: Option<(consult_call::Model, Side, i64)>,
    cx: &RequestContext,
) -> Result<consult_call::Model, AppError> {
    let parts = state.parts.get::<CallParts>()?;
    let now = cx.now.unix_timestamp();
    let number = db::new_number("CL");
    let (system, room) = match parts
        .media
        .provider(system)
        .open_room(&number, &c.consult_number)
        .await
    {
        Ok(room) => (system, room),
        Err(e) => {
            tracing::warn!(error = %e, "the primary media server could not open a room; the call uses the backup");
            (MediaSystem::Direct, None)
        }
    };
    let txn = db::begin_write(&state.db).await?;
    let locked = life::locked(&txn, c.id).await?;
    let mut after = AfterCommit::default();
    if let Some((old, by, author)) = &replacing {
        let ended = end_in(&txn, old, EndCause::Fallback, now).await?;
        let Some(ended) = ended else {
            // Another page moved it first (both sides lost the media server at once):
            // the call that took over is the one.
            txn.rollback().await?;
            if let Some(room) = &room {
                parts.media.provider(system).close_room(room).await;
            }
            return running(&state.db, c.id)
                .await?
                .ok_or_else(|| refused(CallRefused::NoCall));
        };
        // Its end is not announced on its own: the pages take the call that takes over
        // as its successor (an end would send them back to the lobby).
        {
            let n = note(&ended, CallStep::FellBack, Some(Fallback::Backup));
            log_step(&txn, &ended, n, *by, Some(*author), now, &mut after).await?;
            log_step(
                &txn,
                &ended,
                note(&ended, CallStep::Ended, None),
                Side::System,
                None,
                now,
                &mut after,
            )
            .await?;
        }
    }
    // Under the lock: decided again on what the database holds now.
    let current = running(&txn, c.id).await?;
    decide(
        window(&locked)?,
        current.as_ref().map(facts),
        Side::Doctor,
        CallAction::Start { media },
        now,
    )
    .map_err(refused)?;
    let inserted = consult_call::ActiveModel {
        call_number: Set(number),
        consult_id: Set(c.id),
        system: Set(system.as_str().to_owned()),
        media: Set(media_str(media).to_owned()),
        room: Set(room.clone()),
        started_by: Set(staff_id),
        started_at: Set(now),
        patient_in: Set(false),
        doctor_in: Set(true),
        recording: Set("pending".to_owned()),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let call = match inserted {
        Ok(call) => call,
        Err(e) => {
            if let Some(room) = &room {
                parts.media.provider(system).close_room(room).await;
            }
            return Err(if db::is_unique_violation(&e) {
                refused(CallRefused::AlreadyLive)
            } else {
                e.into()
            });
        }
    };
    log_step(
        &txn,
        &call,
        note(&call, CallStep::Started, None),
        Side::Doctor,
        Some(staff_id),
        now,
        &mut after,
    )
    .await?;
    audit::record(
        &txn,
        cx.audit(AuditAction::CallStarted)
            .on("consult_call", &call.call_number)
            .about_member(c.family_member_id)
            .detail(serde_json::json!({
                "consult": c.consult_number,
                "system": system.as_str(),
                "media": media_str(media),
            })),
    )
    .await?;
    txn.commit().await?;
    announce_now(state, &call, &c.consult_number);
    after.run(state);
    Ok(call)
}

pub(super) fn announce_now(state: &Arc<State>, call: &consult_call::Model, consult_number: &str) {
    crate::chat::news(
        state,
        News {
            consult_id: call.consult_id,
            what: What::Call(Box::new(view(call, consult_number))),
            fresh: None,
        },
    );
}

/// Ends `call` if it still runs; the ended row.
pub(super) async fn end_in(
    txn: &impl ConnectionTrait,
    call: &consult_call::Model,
    cause: EndCause,
    now: i64,
) -> Result<Option<consult_call::Model>, AppError> {
    let done = consult_call::Entity::update_many()
        .col_expr(consult_call::Column::EndedAt, Expr::value(now))
        .col_expr(consult_call::Column::EndCause, Expr::value(cause.as_str()))
        .col_expr(consult_call::Column::PatientIn, Expr::value(false))
        .col_expr(consult_call::Column::DoctorIn, Expr::value(false))
        .filter(consult_call::Column::Id.eq(call.id))
        .filter(consult_call::Column::EndedAt.is_null())
        .exec(txn)
        .await?
        .rows_affected;
    if done != 1 {
        return Ok(None);
    }
    Ok(consult_call::Entity::find_by_id(call.id).one(txn).await?)
}

/// Every action but a start, in one transaction under the consult's lock.
async fn step(
    state: &Arc<State>,
    who: Participant,
    c: &consult::Model,
    action: CallAction,
    cx: &RequestContext,
) -> Result<Option<consult_call::Model>, AppError> {
    let parts = state.parts.get::<CallParts>()?;
    let now = cx.now.unix_timestamp();
    let side = who.side();
    let author = Some(who.author_id());
    let txn = db::begin_write(&state.db).await?;
    let locked = life::locked(&txn, c.id).await?;
    let current = running(&txn, c.id).await?;
    let outcome = decide(
        window(&locked)?,
        current.as_ref().map(facts),
        side,
        action,
        now,
    )
    .map_err(refused)?;
    let Some(call) = current else {
        txn.rollback().await?;
        return Ok(None);
    };
    let mut after = AfterCommit::default();
    let mut close_room = None;
    let mut backup = None;
    let column = |side: Side| match side {
        Side::Doctor => consult_call::Column::DoctorIn,
        _ => consult_call::Column::PatientIn,
    };
    match outcome {
        CallOutcome::Join => {
            let mut update =
                consult_call::Entity::update_many().col_expr(column(side), Expr::value(true));
            if side == Side::Patient && call.patient_joined_at.is_none() {
                update = update.col_expr(consult_call::Column::PatientJoinedAt, Expr::value(now));
            }
            update
                .filter(consult_call::Column::Id.eq(call.id))
                .exec(&txn)
                .await?;
            log_step(
                &txn,
                &call,
                note(&call, CallStep::Joined, None),
                side,
                author,
                now,
                &mut after,
            )
            .await?;
            let other_in = match side {
                Side::Doctor => call.patient_in,
                _ => call.doctor_in,
            };
            // Both in the call: the doctor has begun the service (R-CONS-3's answer).
            if other_in {
                let doctor = match who {
                    Participant::Doctor { staff_id, .. } => staff_id,
                    Participant::Patient { .. } => call.started_by,
                };
                life::step(
                    &txn,
                    c.id,
                    ConsultEvent::DoctorAnswered,
                    Some(doctor),
                    None,
                    cx,
                    &mut after,
                )
                .await?;
            }
        }
        CallOutcome::Leave | CallOutcome::FallBack(Fallback::Voice | Fallback::Text) => {
            // Leaving and writing instead take the side out; voice only changes the media.
            let (col, value, step, to) = match outcome {
                CallOutcome::FallBack(Fallback::Voice) => (
                    consult_call::Column::Media,
                    Expr::value("voice"),
                    CallStep::FellBack,
                    Some(Fallback::Voice),
                ),
                CallOutcome::FallBack(to) => (
                    column(side),
                    Expr::value(false),
                    CallStep::FellBack,
                    Some(to),
                ),
                _ => (column(side), Expr::value(false), CallStep::Left, None),
            };
            consult_call::Entity::update_many()
                .col_expr(col, value)
                .filter(consult_call::Column::Id.eq(call.id))
                .exec(&txn)
                .await?;
            let n = note(&call, step, to);
            log_step(&txn, &call, n, side, author, now, &mut after).await?;
        }
        CallOutcome::End => {
            if let Some(ended) = end_in(&txn, &call, EndCause::Doctor, now).await? {
                log_step(
                    &txn,
                    &ended,
                    note(&ended, CallStep::Ended, None),
                    side,
                    author,
                    now,
                    &mut after,
                )
                .await?;
                audit::record(
                    &txn,
                    cx.audit(AuditAction::CallEnded)
                        .on("consult_call", &ended.call_number)
                        .about_member(c.family_member_id)
                        .detail(serde_json::json!({ "cause": EndCause::Doctor.as_str() })),
                )
                .await?;
                close_room = ended.room.clone().map(|r| (system_of(&ended), r));
            }
        }
        CallOutcome::FallBack(Fallback::Backup) => {
            if system_of(&call) == MediaSystem::Sfu {
                // The call starts again on the backup, in a transaction of its own.
                backup = Some(call.clone());
            }
        }
        CallOutcome::Start | CallOutcome::Nothing => {}
    }
    if let Some(old) = backup {
        txn.rollback().await?;
        let media = media_of(&old);
        let room = old.room.clone();
        let started_by = old.started_by;
        let call = start(
            state,
            c,
            started_by,
            media,
            MediaSystem::Direct,
            Some((old, side, who.author_id())),
            cx,
        )
        .await?;
        if let Some(room) = room {
            parts
                .media
                .provider(MediaSystem::Sfu)
                .close_room(&room)
                .await;
        }
        return Ok(Some(call));
    }
    let now_call = consult_call::Entity::find_by_id(call.id).one(&txn).await?;
    txn.commit().await?;
    if let Some(call) = &now_call {
        announce_now(state, call, &c.consult_number);
    }
    after.run(state);
    if let Some((system, room)) = close_room {
        parts.media.provider(system).close_room(&room).await;
        // The room is closed and its files with it: the recording is made at once.
        let state = state.clone();
        tokio::spawn(async move {
            tokio::time::sleep(super::processing::SETTLE).await;
            let now = time::OffsetDateTime::now_utc();
            if let Err(e) = super::processing::process_ended(&state, now).await {
                tracing::warn!(error = ?e, "a call's recording was not processed at its end");
            }
        });
    }
    Ok(now_call)
}
