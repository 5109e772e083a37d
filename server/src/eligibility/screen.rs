//! The emergency screen before a consult (R-ELIG-4): judged by the domain rule; a
//! stopped screen is stored and audited, for the 就诊人 the patient is acting for.
use crate::audit::{self, Actor, AuditAction, AuditEvent};
use crate::db::{self, emergency_screen};
use crate::error::AppError;
use crate::state::State;
use app::domain::emergency::{RedFlag, Screen, judge};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use std::collections::HashMap;
use time::OffsetDateTime;

/// Judges `answers` (red-flag code → yes) for the patient, acting for `member` (a
/// family member's id) or themselves; a stop is recorded with the audit row.
pub async fn submit(
    state: &State,
    patient_id: i64,
    member: Option<i64>,
    answers: &HashMap<String, bool>,
    ip: &str,
    now: OffsetDateTime,
) -> Result<Screen, AppError> {
    let screen = judge(|flag: RedFlag| answers.get(flag.as_str()).copied())?;
    if let Screen::Emergency(flags) = &screen {
        let codes: Vec<&str> = flags.iter().map(|f| f.as_str()).collect();
        let txn = db::begin_write(&state.db).await?;
        let row = emergency_screen::ActiveModel {
            patient_id: Set(patient_id),
            family_member_id: Set(member),
            flags: Set(codes.join(",")),
            at: Set(now.unix_timestamp()),
            ip: Set(ip.to_owned()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        audit::record(
            &txn,
            AuditEvent {
                actor: Actor::Patient(patient_id),
                on_behalf_of: member,
                action: AuditAction::EmergencyScreenStopped,
                entity: Some(("emergency_screen", row.id.to_string())),
                ip: ip.to_owned(),
                at: now,
                detail: None,
            },
        )
        .await?;
        txn.commit().await?;
    }
    Ok(screen)
}
