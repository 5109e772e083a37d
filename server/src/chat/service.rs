//! Writing to and reading from a consult's log (R-CONS-1, R-CONS-4, R-CONS-5). A message is
//! numbered by the consult's counter in the transaction that stores it; a resend with the
//! same client id gets the number it already has. The doctor's first message starts the
//! service: the consult moves to "in progress" and its order is served, in the same
//! transaction.
use super::hub::{Fresh, News, What};
use super::log::{self, NewEntry};
use super::writer::{self, Pending, Written};
use crate::consult::access::{self, Participant};
use crate::consult::life;
use crate::context::RequestContext;
use crate::db::{self, consult, consult_file, consult_message};
use crate::error::AppError;
use crate::state::State;
use app::chat::protocol::{Entry, EntryKind, FileRef, PAGE};
use app::domain::consult::{
    ConsultStatus, Side, WriteRefused, WriteWindow, may_recall, parse_client_id, parse_text,
};
use app::domain::{ErrorCode, Field, FieldError};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::collections::HashMap;
use std::sync::Arc;
use time::OffsetDateTime;

/// What a message holds.
pub enum Body {
    Text(String),
    /// A file uploaded to this consult, by its number.
    File(String),
}

/// A message stored (or found stored: a resend).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub consult_id: i64,
    pub seq: i64,
    pub repeat: bool,
}

impl Sent {
    fn repeat(consult_id: i64, seq: i64) -> Self {
        Sent {
            consult_id,
            seq,
            repeat: true,
        }
    }
}

pub(crate) fn refused(r: WriteRefused) -> AppError {
    let code = match r {
        WriteRefused::Ended => ErrorCode::ConsultEnded,
        WriteRefused::NotYetOpen => ErrorCode::ConsultNotYetOpen,
        WriteRefused::WindowPassed => ErrorCode::ConsultWindowPassed,
    };
    FieldError::general(code).into()
}

pub(crate) fn window(c: &consult::Model) -> Result<WriteWindow, AppError> {
    Ok(WriteWindow {
        status: life::status_of(c)?,
        consult_type: life::type_of(c)?,
        opens_at: c.opens_at,
        first_answer_at: c.first_answer_at,
        text_window_secs: c.text_window_secs,
    })
}

/// Stores a message from `who` in the consult with this number.
pub async fn send(
    state: &Arc<State>,
    who: Participant,
    number: &str,
    client_id: &str,
    body: Body,
    cx: &RequestContext,
) -> Result<Sent, AppError> {
    let c = access::find(&state.db, who, number).await?;
    send_to(state, who, &c, client_id, body, cx).await
}

/// Stores a message from `who` in `c`, a consult [`access::find`] gave `who`. One write
/// transaction: the number (with the sender's read mark and the row's lock), the entry,
/// and the doctor's first answer when it is one. A resend gets the number it already has.
pub async fn send_to(
    state: &Arc<State>,
    who: Participant,
    c: &consult::Model,
    client_id: &str,
    body: Body,
    cx: &RequestContext,
) -> Result<Sent, AppError> {
    let client_id = parse_client_id(client_id).ok_or(FieldError::new(
        ErrorCode::MessageIdInvalid,
        Field::ClientId,
    ))?;
    let side = who.side();
    let (kind, text, file) = match body {
        Body::Text(t) => {
            let t = parse_text(&t)?;
            let words = state.words.filter().find(&t);
            if !words.is_empty() {
                return Err(AppError::Blocked {
                    field: Field::Text,
                    words,
                });
            }
            (EntryKind::Text, t, None)
        }
        Body::File(number) => {
            let f = consult_file::Entity::find()
                .filter(consult_file::Column::FileNumber.eq(&number))
                .filter(consult_file::Column::ConsultId.eq(c.id))
                .filter(consult_file::Column::Side.eq(side.as_str()))
                .one(&state.db)
                .await?
                .ok_or(FieldError::new(ErrorCode::NotFound, Field::Files))?;
            (EntryKind::File, String::new(), Some(f))
        }
    };
    let pending = Pending {
        consult_id: c.id,
        side,
        doctor: (side == Side::Doctor).then(|| who.author_id()),
        entry: NewEntry {
            side,
            author_id: Some(who.author_id()),
            client_id: Some(client_id),
            kind,
            body: text,
            file_id: file.as_ref().map(|f| f.id),
            recalls_seq: None,
        },
        file: file.as_ref().map(file_ref),
        cx: cx.clone(),
    };
    Ok(match writer::write(state, pending).await? {
        Written::Stored { message, .. } => Sent {
            consult_id: c.id,
            seq: message.seq,
            repeat: false,
        },
        Written::Repeat { seq } => Sent::repeat(c.id, seq),
    })
}

/// Recalls the sender's own message within 2 minutes (a new entry; the original stays
/// in the log for traceability, R-CONS-4).
pub async fn recall(
    state: &Arc<State>,
    who: Participant,
    number: &str,
    client_id: &str,
    seq: i64,
    cx: &RequestContext,
) -> Result<Sent, AppError> {
    let client_id = parse_client_id(client_id).ok_or(FieldError::new(
        ErrorCode::MessageIdInvalid,
        Field::ClientId,
    ))?;
    let c = access::find(&state.db, who, number).await?;
    let side = who.side();
    if let Some(m) = log::by_client_id(&state.db, c.id, side, &client_id).await? {
        return Ok(Sent {
            consult_id: c.id,
            seq: m.seq,
            repeat: true,
        });
    }
    let original = consult_message::Entity::find()
        .filter(consult_message::Column::ConsultId.eq(c.id))
        .filter(consult_message::Column::Seq.eq(seq))
        .one(&state.db)
        .await?;
    let now = cx.now.unix_timestamp();
    let own = original.filter(|m| {
        m.side == side.as_str()
            && matches!(m.kind.as_str(), "text" | "file")
            && may_recall(m.created_at, now)
    });
    if own.is_none() {
        return Err(FieldError::general(ErrorCode::RecallRefused).into());
    }
    let txn = db::begin_write(&state.db).await?;
    let next = log::next_seq(&txn, c.id, now)
        .await?
        .ok_or_else(|| anyhow::anyhow!("consult {} vanished", c.id))?;
    let entry = NewEntry {
        side,
        author_id: Some(who.author_id()),
        client_id: Some(client_id),
        kind: EntryKind::Recall,
        body: String::new(),
        file_id: None,
        recalls_seq: Some(seq),
    };
    let stored = log::insert(&txn, c.id, next, entry, now).await?;
    crate::audit::record(
        &txn,
        cx.audit(crate::audit::AuditAction::MessageRecalled)
            .on("consult", &c.consult_number)
            .about_member(c.family_member_id)
            .detail(serde_json::json!({ "seq": seq })),
    )
    .await?;
    txn.commit().await?;
    super::news(
        state,
        News {
            consult_id: c.id,
            what: What::Entry { seq: next },
            fresh: Some(Arc::new(Fresh {
                message: stored,
                file: None,
            })),
        },
    );
    Ok(Sent {
        consult_id: c.id,
        seq: next,
        repeat: false,
    })
}

/// Moves the side's read mark forward (never back).
pub async fn mark_read(
    db: &impl ConnectionTrait,
    consult_id: i64,
    side: Side,
    seq: i64,
) -> Result<bool, AppError> {
    let col = match side {
        Side::Patient => consult::Column::PatientReadSeq,
        Side::Doctor => consult::Column::DoctorReadSeq,
        Side::System => return Ok(false),
    };
    let done = consult::Entity::update_many()
        .col_expr(col, Expr::value(seq))
        .filter(consult::Column::Id.eq(consult_id))
        .filter(col.lt(seq))
        .filter(consult::Column::LastSeq.gte(seq))
        .exec(db)
        .await?
        .rows_affected;
    Ok(done == 1)
}

/// A page of the consult's entries after `after`, as `viewer` sees them.
pub async fn entries(
    db: &impl ConnectionTrait,
    c: &consult::Model,
    after: i64,
    viewer: Side,
) -> Result<Vec<Entry>, AppError> {
    let rows = log::after(db, c.id, after, PAGE as u64).await?;
    views(db, c, &rows, viewer).await
}

/// The views of stored entries: their files looked up, recalled texts hidden.
pub async fn views(
    db: &impl ConnectionTrait,
    c: &consult::Model,
    rows: &[consult_message::Model],
    viewer: Side,
) -> Result<Vec<Entry>, AppError> {
    let file_ids: Vec<i64> = rows.iter().filter_map(|m| m.file_id).collect();
    let files: HashMap<i64, FileRef> = if file_ids.is_empty() {
        HashMap::new()
    } else {
        consult_file::Entity::find()
            .filter(consult_file::Column::Id.is_in(file_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|f| (f.id, file_ref(&f)))
            .collect()
    };
    let recalled = if rows.iter().any(|m| m.kind != "event") {
        log::recalled(db, c.id).await?
    } else {
        Vec::new()
    };
    Ok(rows
        .iter()
        .map(|m| {
            let file = m.file_id.and_then(|id| files.get(&id).cloned());
            log::view(c, m, file, recalled.contains(&m.seq), viewer)
        })
        .collect())
}

pub fn file_ref(f: &consult_file::Model) -> FileRef {
    FileRef {
        number: f.file_number.clone(),
        kind: f.kind.clone(),
        width: f.width.and_then(|w| u32::try_from(w).ok()),
        height: f.height.and_then(|h| u32::try_from(h).ok()),
    }
}

/// R-CONS-1: a reader who has not read the other side's message for the nudge time gets
/// one SMS (at most one per consult an hour): the patient a notice, the doctor a text.
pub async fn nudge_unread(state: &Arc<State>, now: OffsetDateTime) -> Result<usize, AppError> {
    let Ok(parts) = state.parts.get::<super::ChatParts>() else {
        return Ok(0);
    };
    let mut nudged = 0;
    for reader in [Reader::Patient, Reader::Doctor] {
        nudged += nudge_side(state, reader, parts.nudge_secs, now).await?;
    }
    Ok(nudged)
}

/// Who is nudged: a side that reads (the system only writes).
#[derive(Clone, Copy)]
enum Reader {
    Patient,
    Doctor,
}

/// The reader's columns: how far they have read and when they were last nudged.
fn reader_columns(reader: Reader) -> (consult::Column, consult::Column) {
    match reader {
        Reader::Patient => (
            consult::Column::PatientReadSeq,
            consult::Column::PatientNudgedAt,
        ),
        Reader::Doctor => (
            consult::Column::DoctorReadSeq,
            consult::Column::DoctorNudgedAt,
        ),
    }
}

async fn nudge_side(
    state: &Arc<State>,
    reader: Reader,
    nudge_secs: i64,
    now: OffsetDateTime,
) -> Result<usize, AppError> {
    let ts = now.unix_timestamp();
    let (read_seq, nudged_at) = reader_columns(reader);
    let writer = match reader {
        Reader::Patient => Side::Doctor,
        Reader::Doctor => Side::Patient,
    };
    let open = [
        ConsultStatus::Waiting.as_str(),
        ConsultStatus::InProgress.as_str(),
    ];
    let behind: Vec<consult::Model> = consult::Entity::find()
        .filter(consult::Column::Status.is_in(open))
        .filter(sea_orm::sea_query::ExprTrait::lt(
            Expr::col(read_seq),
            Expr::col(consult::Column::LastSeq),
        ))
        .filter(not_nudged_within_the_hour(nudged_at, ts))
        .filter(unread_since(reader, writer, ts - nudge_secs))
        .all(&state.db)
        .await?;
    let mut nudged = 0;
    for c in behind {
        // The claim: of two servers running this job, one sends.
        let txn = db::begin_write(&state.db).await?;
        let claimed = consult::Entity::update_many()
            .col_expr(nudged_at, Expr::value(ts))
            .filter(consult::Column::Id.eq(c.id))
            .filter(not_nudged_within_the_hour(nudged_at, ts))
            .exec(&txn)
            .await?
            .rows_affected;
        if claimed != 1 {
            txn.rollback().await?;
            continue;
        }
        match reader {
            Reader::Patient => {
                let notice = crate::notices::service::record(
                    &txn,
                    crate::notices::notice::Notice {
                        patient_id: c.patient_id,
                        family_member_id: c.family_member_id,
                        kind: app::domain::notice::NoticeKind::ConsultReply,
                        params: vec![],
                    },
                    now,
                )
                .await?;
                txn.commit().await?;
                crate::notices::service::send_sms_after_commit(state.clone(), notice);
            }
            Reader::Doctor => {
                txn.commit().await?;
                text_the_doctor(state.clone(), c.doctor_id, c.consult_number.clone());
            }
        }
        nudged += 1;
    }
    Ok(nudged)
}

/// The doctor's nudge: a text to the phone on their staff account, naming the consult
/// but not the patient (an SMS is read on a lock screen).
fn text_the_doctor(state: Arc<State>, doctor_id: i64, consult_number: String) {
    tokio::spawn(async move {
        let phone = match doctor_phone(&state, doctor_id).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "doctor nudge: no phone to text");
                return;
            }
        };
        let text = app::localized::doctor_unread_sms(app::i18n::Locale::zh_CN, &consult_number);
        if let Err(e) = state.sms.send(&phone, &text, None).await {
            tracing::warn!(error = %e, "doctor nudge SMS failed");
        }
    });
}

async fn doctor_phone(state: &State, doctor_id: i64) -> anyhow::Result<String> {
    let doctor = crate::db::doctor::Entity::find_by_id(doctor_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no doctor {doctor_id}"))?;
    let staff_id = doctor
        .staff_id
        .ok_or_else(|| anyhow::anyhow!("doctor {doctor_id} has no account"))?;
    let staff = crate::db::staff::Entity::find_by_id(staff_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no staff {staff_id}"))?;
    let cipher = staff
        .phone_cipher
        .ok_or_else(|| anyhow::anyhow!("staff {staff_id} has no phone"))?;
    state.crypto.decrypt(
        &cipher,
        &crate::staff::totp::totp_context(staff_id, "phone"),
    )
}

/// The consult has a message of `writer`'s that the reader has not read, written at or
/// before `before`: one query for all consults, however many have unread messages.
fn unread_since(reader: Reader, writer: Side, before: i64) -> Expr {
    let read = match reader {
        Reader::Patient => "consult.patient_read_seq",
        Reader::Doctor => "consult.doctor_read_seq",
    };
    // Only the server's own words and a number go into the text.
    let writer = writer.as_str();
    Expr::cust(format!(
        "EXISTS (SELECT 1 FROM consult_message m WHERE m.consult_id = consult.id \
         AND m.seq > {read} AND m.side = '{writer}' AND m.kind IN ('text', 'file') \
         AND m.created_at <= {before})"
    ))
}

fn not_nudged_within_the_hour(column: consult::Column, ts: i64) -> sea_orm::Condition {
    sea_orm::Condition::any()
        .add(column.is_null())
        .add(column.lte(ts - 3600))
}
