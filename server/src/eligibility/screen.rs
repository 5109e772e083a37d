//! The emergency screen before a consult (R-ELIG-4): judged by the domain rule; a
//! stopped screen is stored and audited, for the 就诊人 the patient is acting for.
use crate::accounts::auth::internal;
use crate::audit::{self, AuditAction};
use crate::context::RequestContext;
use crate::db::{self, emergency_screen};
use crate::eligibility::consult_consents::{self, ConsultFor};
use crate::error::AppError;
use crate::state::{AppState, State};
use app::domain::consult_consent::ScreenPass;
use app::domain::department::Department;
use app::domain::emergency::{RedFlag, Screen, judge};
use app::domain::{ErrorCode, Field, FieldError};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use std::collections::HashMap;
use tower_sessions::Session;

/// Judges `answers` (red-flag code → yes) for the patient, acting for `member` (a
/// family member's id) or themselves; a stop is recorded with the audit row.
pub async fn submit(
    state: &State,
    patient_id: i64,
    member: Option<i64>,
    answers: &HashMap<String, bool>,
    cx: &RequestContext,
) -> Result<Screen, AppError> {
    let ip = cx.ip.as_str();
    let now = cx.now;
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
            cx.audit(AuditAction::EmergencyScreenStopped)
                .on("emergency_screen", row.id)
                .about_member(member),
        )
        .await?;
        txn.commit().await?;
    }
    Ok(screen)
}

/// The last clear screen ([`ScreenPass`]), in the session.
pub const SCREEN_PASS: &str = "screen_pass";

/// The consult consent given this session (R-REG-6), which holds and queue places carry.
pub(crate) async fn consult_consent_of(session: &Session) -> Result<String, AppError> {
    session
        .get::<String>(CONSULT_CONSENT)
        .await
        .map_err(internal)?
        .ok_or_else(|| FieldError::general(ErrorCode::ConsultConsentRequired).into())
}

/// Judges a screen and remembers a clear one for the person it was for.
pub(crate) async fn answer_screen(
    state: &AppState,
    patient_id: i64,
    session: &Session,
    answers: &HashMap<String, bool>,
    critical: Option<bool>,
    cx: &RequestContext,
) -> Result<Screen, AppError> {
    let member = cx.acting_for;
    let now = cx.now;
    let result = submit(state, patient_id, member, answers, cx).await?;
    match &result {
        Screen::Clear => {
            // Asked with the red flags: unanswered is unanswered.
            let critical =
                critical.ok_or(FieldError::new(ErrorCode::ScreenUnanswered, Field::Screen))?;
            let pass = ScreenPass {
                at: now.unix_timestamp(),
                member,
                critical,
            };
            session.insert(SCREEN_PASS, pass).await.map_err(internal)?;
        }
        Screen::Emergency(_) => {
            session
                .remove::<ScreenPass>(SCREEN_PASS)
                .await
                .map_err(internal)?;
        }
    }
    Ok(result)
}

/// Records the consult notice confirmed (R-REG-6) for whom the patient acts for, and
/// remembers it in the session for the holds and queue places that carry it.
#[expect(
    clippy::too_many_arguments,
    reason = "the notice's answers and the request's facts"
)]
pub(crate) async fn give(
    state: &AppState,
    patient_id: i64,
    session: &Session,
    icd10: &str,
    department: Department,
    accept: bool,
    version: &str,
    cx: &RequestContext,
) -> Result<String, AppError> {
    let consult = ConsultFor {
        patient_id,
        member: cx.acting_for,
        icd10: icd10.to_owned(),
        department,
    };
    let pass = session
        .get::<ScreenPass>(SCREEN_PASS)
        .await
        .map_err(internal)?;
    let number = consult_consents::give(state, &consult, pass, accept, version, cx).await?;
    session
        .insert(CONSULT_CONSENT, number.clone())
        .await
        .map_err(internal)?;
    Ok(number)
}

/// The last consult consent's number, in the session, for the booking to carry.
pub const CONSULT_CONSENT: &str = "consult_consent";
