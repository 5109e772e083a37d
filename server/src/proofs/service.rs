//! Diagnosis proofs (R-ELIG-2): a patient submits one to five files with the
//! institution, date and diagnosis, for themselves or a family member; an operator or
//! doctor approves or rejects it once; the patient may withdraw it while it waits.
//!
//! Nothing half-stored: every file is checked before any is stored; files are stored
//! before the rows, and deleted again if the rows do not commit. A retried upload with
//! the same key finds the first one instead of making a second.
use crate::audit::{self, AuditAction};
use crate::context::RequestContext;
use crate::db::{self, diagnosis_proof, family_member, patient, proof_file};
use crate::error::AppError;
use crate::notices::service as notices;
use crate::proofs::uploads::process;
use crate::proofs::uploads::{Processed, ProofInput};
use crate::state::State;
use app::domain::china_time;
use app::domain::china_time::CHINA;
use app::domain::department::Department;
use app::domain::notice::NoticeKind;
use app::domain::proof::{ProofStatus, RejectReason, diagnosed_on, institution, note};
use app::domain::upload::{FileKind, PROOFS_WAITING_PER_ACCOUNT, count_ok};
use app::domain::{ErrorCode, Field, FieldError};
use app::i18n::Locale;
use app::proofs::{ProofFileView, ProofView};
use rand::Rng;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use time::OffsetDateTime;

/// Submits a proof for the patient or (`member`) one of their family members. Returns
/// the proof and whether it was made now (false: a retry found it).
pub async fn submit(
    state: &State,
    patient_id: i64,
    member: Option<i64>,
    input: ProofInput,
    files: Vec<Vec<u8>>,
    cx: &RequestContext,
) -> Result<(String, bool), AppError> {
    let now = cx.now;
    let key = idempotency_key(&input.idempotency_key)?;
    if let Some(found) = by_key(&state.db, patient_id, &key).await? {
        return Ok((found.proof_number, false));
    }
    let today = china_time::today(now);
    let place = institution(&input.institution)?;
    let date = diagnosed_on(&input.diagnosed_on, today)?;
    let condition = state
        .conditions
        .by_code(&input.icd10)
        .ok_or(FieldError::new(ErrorCode::ConditionUnknown, Field::Icd10))?
        .clone();
    let note = note(&input.note)?;
    for (field, text) in [(Field::Institution, &place), (Field::Note, &note)] {
        let blocked = state.words.filter().find(text);
        if !blocked.is_empty() {
            return Err(AppError::Blocked {
                field,
                words: blocked,
            });
        }
    }
    count_ok(files.len())?;
    super::quotas::within_quotas(state, patient_id, files.len(), cx).await?;
    let decodes = state.parts.get::<super::decodes::Decodes>()?;
    let mut processed: Vec<Processed> = Vec::with_capacity(files.len());
    for bytes in files {
        processed.push(process(decodes, bytes, state.max_upload_bytes).await?);
    }

    let number = new_proof_number();
    let mut stored: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for (i, p) in processed.into_iter().enumerate() {
        let position = i32::try_from(i + 1).unwrap_or(i32::MAX);
        let object_key = format!("proofs/{number}/{position}.{}", p.kind.extension());
        let thumb_key = p
            .thumbnail
            .as_ref()
            .map(|_| format!("proofs/{number}/{position}.thumb.jpg"));
        let put = async {
            state.files.put(&object_key, p.data.clone()).await?;
            stored.push(object_key.clone());
            if let (Some(k), Some(t)) = (&thumb_key, p.thumbnail) {
                state.files.put(k, t).await?;
                stored.push(k.clone());
            }
            anyhow::Ok(())
        };
        if let Err(e) = put.await {
            discard(state, &stored).await;
            return Err(AppError::Internal(e));
        }
        rows.push(proof_file::ActiveModel {
            position: Set(position),
            kind: Set(p.kind.as_str().to_owned()),
            object_key: Set(object_key),
            thumb_key: Set(thumb_key),
            bytes: Set(i64::try_from(p.data.len()).unwrap_or(i64::MAX)),
            width: Set(p.width.and_then(|w| i32::try_from(w).ok())),
            height: Set(p.height.and_then(|h| i32::try_from(h).ok())),
            sha256: Set(p.sha256),
            ..Default::default()
        });
    }

    let saved = async {
        let txn = db::begin_write(&state.db).await?;
        // The account's row is the lock: two uploads at once count the waiting proofs
        // one after the other, so neither slips past the limit.
        patient::Entity::find_by_id(patient_id)
            .lock_exclusive()
            .one(&txn)
            .await?;
        if super::quotas::waiting_proofs(&txn, patient_id).await? >= PROOFS_WAITING_PER_ACCOUNT {
            txn.rollback().await?;
            return Ok(Err(FieldError::general(ErrorCode::ProofsWaitingLimit)));
        }
        let proof = diagnosis_proof::ActiveModel {
            proof_number: Set(number.clone()),
            patient_id: Set(patient_id),
            family_member_id: Set(member),
            institution: Set(place),
            diagnosed_on: Set(date.to_string()),
            icd10: Set(condition.icd10.clone()),
            department: Set(condition.department.as_str().to_owned()),
            note: Set(note),
            status: Set(ProofStatus::Submitted.as_str().to_owned()),
            idempotency_key: Set(key.clone()),
            created_at: Set(now.unix_timestamp()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        for mut row in rows {
            row.proof_id = Set(proof.id);
            row.insert(&txn).await?;
        }
        audit::record(
            &txn,
            cx.audit(AuditAction::ProofSubmitted)
                .on("diagnosis_proof", &number)
                .about_member(member),
        )
        .await?;
        txn.commit().await?;
        Ok::<_, sea_orm::DbErr>(Ok(()))
    };
    match saved.await {
        Ok(Ok(())) => Ok((number, true)),
        Ok(Err(refused)) => {
            discard(state, &stored).await;
            Err(refused.into())
        }
        Err(e) => {
            discard(state, &stored).await;
            // Two tries with the same key raced: the other one's proof stands.
            if crate::db::is_unique_violation(&e)
                && let Some(found) = by_key(&state.db, patient_id, &key).await?
            {
                return Ok((found.proof_number, false));
            }
            Err(e.into())
        }
    }
}

/// Deletes stored files whose rows will not exist.
async fn discard(state: &State, keys: &[String]) {
    for k in keys {
        if let Err(e) = state.files.delete(k).await {
            tracing::warn!(error = %e, "could not delete an orphaned upload");
        }
    }
}

pub(crate) fn idempotency_key(input: &str) -> Result<String, FieldError> {
    let key = input.trim();
    if (8..=64).contains(&key.len())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(key.to_owned())
    } else {
        Err(FieldError::new(ErrorCode::InvalidForm, Field::Body))
    }
}

async fn by_key(
    db: &impl ConnectionTrait,
    patient_id: i64,
    key: &str,
) -> Result<Option<diagnosis_proof::Model>, AppError> {
    Ok(diagnosis_proof::Entity::find()
        .filter(diagnosis_proof::Column::PatientId.eq(patient_id))
        .filter(diagnosis_proof::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?)
}

/// Public and unguessable: a proof number in a URL cannot be walked.
fn new_proof_number() -> String {
    format!("DP{:016x}", rand::rngs::OsRng.r#gen::<u64>())
}

/// The account's proofs (its own and its family members'), newest first.
pub async fn list(
    state: &State,
    patient_id: i64,
    locale: Locale,
    now: OffsetDateTime,
) -> Result<Vec<ProofView>, AppError> {
    let proofs = diagnosis_proof::Entity::find()
        .filter(diagnosis_proof::Column::PatientId.eq(patient_id))
        .order_by_desc(diagnosis_proof::Column::Id)
        .all(&state.db)
        .await?;
    let mut out = Vec::with_capacity(proofs.len());
    for p in proofs {
        out.push(view(state, p, locale, now).await?);
    }
    Ok(out)
}

/// One proof of the account's; `None` for anyone else's.
pub async fn find(
    db: &impl ConnectionTrait,
    patient_id: i64,
    number: &str,
) -> Result<Option<diagnosis_proof::Model>, AppError> {
    Ok(diagnosis_proof::Entity::find()
        .filter(diagnosis_proof::Column::ProofNumber.eq(number))
        .filter(diagnosis_proof::Column::PatientId.eq(patient_id))
        .one(db)
        .await?)
}

pub async fn view(
    state: &State,
    p: diagnosis_proof::Model,
    locale: Locale,
    now: OffsetDateTime,
) -> Result<ProofView, AppError> {
    let (member_number, person_name) = match p.family_member_id {
        Some(id) => match family_member::Entity::find_by_id(id).one(&state.db).await? {
            Some(m) => (Some(m.member_number), m.real_name),
            None => (None, String::new()),
        },
        None => (
            None,
            patient::Entity::find_by_id(p.patient_id)
                .one(&state.db)
                .await?
                .map(|a| a.real_name)
                .unwrap_or_default(),
        ),
    };
    let files = proof_file::Entity::find()
        .filter(proof_file::Column::ProofId.eq(p.id))
        .order_by_asc(proof_file::Column::Position)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|f| ProofFileView {
            position: f.position,
            kind: f.kind,
            has_thumbnail: f.thumb_key.is_some(),
        })
        .collect();
    let english = locale == Locale::en;
    let diagnosis = state
        .conditions
        .by_code(&p.icd10)
        .map(|c| {
            if english {
                c.name_en.clone()
            } else {
                c.name_zh.clone()
            }
        })
        .unwrap_or_default();
    let submitted = OffsetDateTime::from_unix_timestamp(p.created_at)
        .map_err(|e| anyhow::anyhow!("stored time: {e}"))?
        .to_offset(CHINA);
    Ok(ProofView {
        proof_number: p.proof_number,
        member_number,
        person_name,
        institution: p.institution,
        diagnosed_on: p.diagnosed_on,
        icd10: p.icd10,
        diagnosis,
        department: Department::parse(&p.department)
            .ok_or_else(|| anyhow::anyhow!("stored department unknown"))?,
        note: p.note,
        status: ProofStatus::parse(&p.status)
            .ok_or_else(|| anyhow::anyhow!("stored status unknown"))?,
        reject_reason: p.reject_reason.as_deref().and_then(RejectReason::parse),
        reject_note: p.reject_note,
        approved_icd10: p.approved_icd10,
        approved_department: p.approved_department.as_deref().and_then(Department::parse),
        files,
        submitted_at: format!(
            "{} {:02}:{:02}",
            submitted.date(),
            submitted.hour(),
            submitted.minute()
        ),
        waiting_secs: now.unix_timestamp() - p.created_at,
    })
}

/// The patient withdraws a proof still waiting for review.
pub async fn withdraw(
    state: &State,
    patient_id: i64,
    number: &str,
    cx: &RequestContext,
) -> Result<(), AppError> {
    let Some(p) = find(&state.db, patient_id, number).await? else {
        return Err(FieldError::general(ErrorCode::NotFound).into());
    };
    let txn = db::begin_write(&state.db).await?;
    let changed = diagnosis_proof::Entity::update_many()
        .col_expr(
            diagnosis_proof::Column::Status,
            sea_orm::sea_query::Expr::value(ProofStatus::Withdrawn.as_str()),
        )
        .filter(diagnosis_proof::Column::Id.eq(p.id))
        .filter(diagnosis_proof::Column::Status.eq(ProofStatus::Submitted.as_str()))
        .exec(&txn)
        .await?
        .rows_affected;
    if changed == 0 {
        txn.rollback().await?;
        return Err(FieldError::general(ErrorCode::ProofNotPending).into());
    }
    audit::record(
        &txn,
        cx.audit(AuditAction::ProofWithdrawn)
            .on("diagnosis_proof", &p.proof_number)
            .about_member(p.family_member_id),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A stored file of a proof (or its thumbnail), with its kind.
pub async fn file(
    state: &State,
    proof: &diagnosis_proof::Model,
    position: i32,
    thumbnail: bool,
) -> Result<(FileKind, bytes::Bytes), AppError> {
    let Some(f) = proof_file::Entity::find()
        .filter(proof_file::Column::ProofId.eq(proof.id))
        .filter(proof_file::Column::Position.eq(position))
        .one(&state.db)
        .await?
    else {
        return Err(FieldError::general(ErrorCode::NotFound).into());
    };
    let (key, kind) = match (thumbnail, f.thumb_key) {
        (true, Some(k)) => (k, FileKind::Jpeg),
        (true, None) => return Err(FieldError::general(ErrorCode::NotFound).into()),
        (false, _) => (
            f.object_key,
            FileKind::parse(&f.kind).ok_or_else(|| anyhow::anyhow!("stored kind unknown"))?,
        ),
    };
    Ok((kind, state.files.get(&key).await?))
}

/// What an approver confirms, or why they reject.
#[derive(Debug, Clone)]
pub enum Decision {
    Approve { icd10: String, department: String },
    Reject { reason: String, note: String },
}

/// An operator or doctor decides a waiting proof, once (a concurrent decision loses with
/// `proof_not_pending`); the patient is told in the message centre and by SMS.
pub async fn decide(
    state: &std::sync::Arc<State>,
    staff_id: i64,
    reach: &super::reach::ProofReach,
    number: &str,
    decision: Decision,
    cx: &RequestContext,
) -> Result<(), AppError> {
    let now = cx.now;
    let Some(p) = diagnosis_proof::Entity::find()
        .filter(diagnosis_proof::Column::ProofNumber.eq(number))
        .one(&state.db)
        .await?
    else {
        return Err(FieldError::general(ErrorCode::NotFound).into());
    };
    if !reach.admits(&state.db, &p).await? {
        return Err(FieldError::general(ErrorCode::NotFound).into());
    }
    let mut update = diagnosis_proof::Entity::update_many()
        .col_expr(
            diagnosis_proof::Column::DecidedBy,
            sea_orm::sea_query::Expr::value(staff_id),
        )
        .col_expr(
            diagnosis_proof::Column::DecidedAt,
            sea_orm::sea_query::Expr::value(now.unix_timestamp()),
        );
    let person = view(state, p.clone(), Locale::zh_CN, now)
        .await?
        .person_name;
    let (status, action, kind, params) = match &decision {
        Decision::Approve { icd10, department } => {
            let condition = state
                .conditions
                .by_code(icd10)
                .ok_or(FieldError::new(ErrorCode::ConditionUnknown, Field::Icd10))?;
            let department = Department::parse(department)
                .ok_or(FieldError::new(ErrorCode::InvalidForm, Field::Body))?;
            update = update
                .col_expr(
                    diagnosis_proof::Column::ApprovedIcd10,
                    sea_orm::sea_query::Expr::value(condition.icd10.clone()),
                )
                .col_expr(
                    diagnosis_proof::Column::ApprovedDepartment,
                    sea_orm::sea_query::Expr::value(department.as_str()),
                );
            (
                ProofStatus::Approved,
                AuditAction::ProofApproved,
                NoticeKind::ProofApproved,
                vec![
                    ("name".to_owned(), person),
                    ("diagnosis".to_owned(), condition.name_zh.clone()),
                ],
            )
        }
        Decision::Reject { reason, note: text } => {
            let reason = RejectReason::parse(reason)
                .ok_or(FieldError::new(ErrorCode::InvalidForm, Field::Body))?;
            let text = note(text)?;
            let blocked = state.words.filter().find(&text);
            if !blocked.is_empty() {
                return Err(AppError::Blocked {
                    field: Field::Note,
                    words: blocked,
                });
            }
            update = update
                .col_expr(
                    diagnosis_proof::Column::RejectReason,
                    sea_orm::sea_query::Expr::value(reason.as_str()),
                )
                .col_expr(
                    diagnosis_proof::Column::RejectNote,
                    sea_orm::sea_query::Expr::value(text.clone()),
                );
            let said = app::localized::reject_reason_text(Locale::zh_CN, reason);
            let said = if text.is_empty() {
                said.to_owned()
            } else {
                format!("{said}（{text}）")
            };
            (
                ProofStatus::Rejected,
                AuditAction::ProofRejected,
                NoticeKind::ProofRejected,
                vec![("name".to_owned(), person), ("reason".to_owned(), said)],
            )
        }
    };
    let txn = db::begin_write(&state.db).await?;
    let changed = update
        .col_expr(
            diagnosis_proof::Column::Status,
            sea_orm::sea_query::Expr::value(status.as_str()),
        )
        .filter(diagnosis_proof::Column::Id.eq(p.id))
        .filter(diagnosis_proof::Column::Status.eq(ProofStatus::Submitted.as_str()))
        .exec(&txn)
        .await?
        .rows_affected;
    if changed == 0 {
        txn.rollback().await?;
        return Err(FieldError::general(ErrorCode::ProofNotPending).into());
    }
    audit::record(
        &txn,
        cx.audit(action)
            .on("diagnosis_proof", &p.proof_number)
            .about_member(p.family_member_id),
    )
    .await?;
    let notice = notices::record(
        &txn,
        notices::Notice {
            patient_id: p.patient_id,
            family_member_id: p.family_member_id,
            kind,
            params,
        },
        now,
    )
    .await?;
    txn.commit().await?;
    notices::send_sms_after_commit(state.clone(), notice);
    Ok(())
}

/// The review queue within the staff member's reach: proofs waiting, oldest first.
/// Every look is in the audit log (R-EMR-2), with how many proofs it showed.
pub async fn queue(
    state: &State,
    reach: &super::reach::ProofReach,
    locale: Locale,
    cx: &RequestContext,
) -> Result<Vec<ProofView>, AppError> {
    let now = cx.now;
    let waiting = diagnosis_proof::Entity::find()
        .filter(diagnosis_proof::Column::Status.eq(ProofStatus::Submitted.as_str()))
        .filter(reach.condition())
        .order_by_asc(diagnosis_proof::Column::CreatedAt)
        .order_by_asc(diagnosis_proof::Column::Id)
        .all(&state.db)
        .await?;
    let mut out = Vec::with_capacity(waiting.len());
    for p in waiting {
        out.push(view(state, p, locale, now).await?);
    }
    crate::audit::record_alone(
        &state.db,
        cx.audit(AuditAction::ProofQueueViewed)
            .detail(serde_json::json!({ "shown": out.len() })),
    )
    .await?;
    Ok(out)
}

/// Any proof, for staff (the caller checks the permission and logs the view).
pub async fn by_number(
    db: &impl ConnectionTrait,
    number: &str,
) -> Result<Option<diagnosis_proof::Model>, AppError> {
    Ok(diagnosis_proof::Entity::find()
        .filter(diagnosis_proof::Column::ProofNumber.eq(number))
        .one(db)
        .await?)
}
