//! Consent records (R-REG-2, R-REG-3): append-only; what counts is each document's
//! latest record.
use crate::audit::{self, AuditAction, AuditEvent};
use crate::context::RequestContext;
use crate::db::{self, consent_record};
use crate::error::AppError;
use crate::state::State;
use app::accounts::{ConsentDocumentView, ConsentRecordView};
use app::domain::china_time::CHINA;
use app::domain::consent::{ConsentDocument, outstanding};
use app::domain::{ErrorCode, Field, FieldError};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use time::OffsetDateTime;

use super::consent_rows::{ACCEPT, WITHDRAW, latest_accepts};

/// Each document's latest accept (not withdrawn), with when it was given.
pub async fn effective(
    db: &impl ConnectionTrait,
    patient_id: i64,
) -> Result<Vec<consent_record::Model>, AppError> {
    let rows = consent_record::Entity::find()
        .filter(consent_record::Column::PatientId.eq(patient_id))
        .order_by_desc(consent_record::Column::Id)
        .all(db)
        .await?;
    Ok(latest_accepts(rows))
}

pub fn accepted_pairs(rows: &[consent_record::Model]) -> Vec<(ConsentDocument, String)> {
    rows.iter()
        .filter_map(|r| Some((ConsentDocument::parse(&r.document)?, r.version.clone())))
        .collect()
}

pub fn outstanding_views(
    state: &State,
    rows: &[consent_record::Model],
) -> Vec<ConsentDocumentView> {
    outstanding(&state.consents, &accepted_pairs(rows))
        .into_iter()
        .map(|(document, version)| ConsentDocumentView {
            document: *document,
            version: version.clone(),
        })
        .collect()
}

pub fn record_views(rows: &[consent_record::Model]) -> Vec<ConsentRecordView> {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    rows.iter()
        .filter_map(|r| {
            Some(ConsentRecordView {
                document: ConsentDocument::parse(&r.document)?,
                version: r.version.clone(),
                accepted_at: OffsetDateTime::from_unix_timestamp(r.at)
                    .ok()?
                    .to_offset(CHINA)
                    .format(format)
                    .ok()?,
            })
        })
        .collect()
}

/// Checks that `given` names the current version of every document in `required`.
pub fn check_given(
    state: &State,
    given: &[(String, String)],
    required: &[ConsentDocument],
) -> Result<Vec<(ConsentDocument, String)>, AppError> {
    let mut accepted = Vec::new();
    for document in required {
        let Some((_, version)) = given
            .iter()
            .find(|(d, v)| d == document.as_str() && !v.is_empty())
        else {
            return Err(FieldError::new(ErrorCode::ConsentMissing, Field::Consent).into());
        };
        let current = state.consent_version(*document);
        if *version != current {
            return Err(FieldError::new(ErrorCode::ConsentOutdated, Field::Consent).into());
        }
        accepted.push((*document, current));
    }
    Ok(accepted)
}

pub fn new_rows(
    patient_id: i64,
    docs: &[(ConsentDocument, String)],
    action: &str,
    ip: &str,
    now: OffsetDateTime,
) -> Vec<consent_record::ActiveModel> {
    docs.iter()
        .map(|(document, version)| consent_record::ActiveModel {
            patient_id: Set(patient_id),
            document: Set(document.as_str().to_owned()),
            version: Set(version.clone()),
            action: Set(action.to_owned()),
            at: Set(now.unix_timestamp()),
            ip: Set(ip.to_owned()),
            ..Default::default()
        })
        .collect()
}

/// A consent is the account's own, whoever it acts for.
fn consent_event(cx: &RequestContext, patient_id: i64, action: AuditAction) -> AuditEvent {
    cx.audit(action)
        .on("patient", patient_id)
        .about_member(None)
}

/// Records fresh consent to every outstanding document (R-REG-2).
pub async fn accept_outstanding(
    state: &State,
    patient_id: i64,
    given: &[(String, String)],
    cx: &RequestContext,
) -> Result<(), AppError> {
    let ip = cx.ip.as_str();
    let now = cx.now;
    let txn = db::begin_write(&state.db).await?;
    let rows = effective(&txn, patient_id).await?;
    let required: Vec<ConsentDocument> = outstanding_views(state, &rows)
        .iter()
        .map(|d| d.document)
        .collect();
    if required.is_empty() {
        return Ok(());
    }
    let accepted = check_given(state, given, &required)?;
    consent_record::Entity::insert_many(new_rows(patient_id, &accepted, ACCEPT, ip, now))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        consent_event(cx, patient_id, AuditAction::ConsentGiven),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Withdraws every consent: service stops until the patient agrees again.
pub async fn withdraw_all(
    state: &State,
    patient_id: i64,
    cx: &RequestContext,
) -> Result<(), AppError> {
    let ip = cx.ip.as_str();
    let now = cx.now;
    let txn = db::begin_write(&state.db).await?;
    let rows = effective(&txn, patient_id).await?;
    let docs = accepted_pairs(&rows);
    if !docs.is_empty() {
        consent_record::Entity::insert_many(new_rows(patient_id, &docs, WITHDRAW, ip, now))
            .exec(&txn)
            .await?;
        let e = consent_event(cx, patient_id, AuditAction::ConsentWithdrawn);
        audit::record(&txn, e).await?;
    }
    txn.commit().await?;
    Ok(())
}
