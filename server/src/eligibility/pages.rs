//! What the consult's entry pages load: the start page and the consult notice.
use crate::eligibility::service as eligibility;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::pages::PageAnswers;
use app::eligibility::{
    ConsultConsentQuery, ConsultConsentStep, ConsultConsentView, ConsultStart, ConsultStartQuery,
};
use app::proofs::DiagnosisOption;
use axum::http::request::Parts;
use time::OffsetDateTime;
use tower_sessions::Session;

pub(crate) fn answers(pages: &mut PageAnswers) {
    pages.answer_consented(
        |state, mut parts, patient, ConsultStartQuery(asked)| async move {
            load_consult_start(&state, &mut parts, patient.id, asked)
                .await
                .map(Some)
        },
    );
    pages.answer_consented(
        |state, parts, patient, ConsultConsentQuery(choice)| async move {
            load_consult_consent(&state, &parts, patient.id, &choice).await
        },
    );
}

async fn load_consult_start(
    state: &AppState,
    parts: &mut Parts,
    patient_id: i64,
    asked: Option<(String, String)>,
) -> Result<ConsultStart, AppError> {
    let locale = crate::web::client::locale_of(&parts.headers);
    let english = locale == app::i18n::Locale::en;
    let session = parts.extensions.get::<Session>().cloned();
    let member = match &session {
        Some(s) => crate::family::acting_for::shown_member_id(state, patient_id, s).await?,
        None => None,
    };
    let person_name = crate::family::service::person_name(&state.db, patient_id, member).await?;
    let approved = eligibility::approved(state, patient_id, member).await?;
    let mut diagnoses: Vec<DiagnosisOption> = Vec::new();
    for (_, d) in &approved {
        if diagnoses.iter().any(|o| o.icd10 == d.icd10) {
            continue;
        }
        let name = state
            .conditions
            .by_code(&d.icd10)
            .map(|c| {
                if english {
                    c.name_en.clone()
                } else {
                    c.name_zh.clone()
                }
            })
            .unwrap_or_else(|| d.icd10.clone());
        diagnoses.push(DiagnosisOption {
            icd10: d.icd10.clone(),
            name,
            department: d.department,
        });
    }
    let now = OffsetDateTime::now_utc();
    let mut page = ConsultStart {
        person_name,
        diagnoses,
        eligible_proof: None,
        refusal: None,
    };
    let asked = asked.and_then(|(icd10, dept)| {
        app::domain::department::Department::parse(&dept).map(|d| (icd10, d))
    });
    match asked {
        Some((icd10, department)) => {
            match eligibility::check(state, patient_id, member, &icd10, department, false, now)
                .await?
            {
                Ok((_, proof)) => page.eligible_proof = Some(proof),
                Err(r) => page.refusal = Some(app::localized::refusal_message(locale, r)),
            }
        }
        // Nothing approved to follow up: say so before anything is chosen.
        None if page.diagnoses.is_empty() => {
            page.refusal = Some(app::localized::refusal_message(
                locale,
                app::domain::eligibility::Refusal::FirstVisit,
            ));
        }
        None => {}
    }
    Ok(page)
}

/// The consult notice page (R-REG-6): screen first, a refusal, or the notice to confirm.
async fn load_consult_consent(
    state: &AppState,
    parts: &Parts,
    patient_id: i64,
    choice: &str,
) -> Result<Option<ConsultConsentView>, AppError> {
    use crate::eligibility::consult_consents::ConsultFor;
    use crate::eligibility::consult_consents::Prepared;
    use crate::eligibility::consult_consents::prepare;
    use app::domain::consult_consent::{ScreenPass, notice_text, parse_choice};
    let Some((icd10, department)) = parse_choice(choice) else {
        return Ok(None);
    };
    let Some(session) = parts.extensions.get::<Session>() else {
        return Ok(None);
    };
    let locale = crate::web::client::locale_of(&parts.headers);
    let english = locale == app::i18n::Locale::en;
    let member = crate::family::acting_for::shown_member_id(state, patient_id, session).await?;
    let pass = session
        .get::<ScreenPass>(crate::eligibility::screen::SCREEN_PASS)
        .await
        .map_err(crate::accounts::auth::internal)?;
    let consult = ConsultFor {
        patient_id,
        member,
        icd10,
        department,
    };
    let step = match prepare(state, &consult, pass, OffsetDateTime::now_utc()).await? {
        Prepared::ScreenFirst => ConsultConsentStep::ScreenFirst,
        Prepared::Refused(r) => {
            ConsultConsentStep::Refused(app::localized::refusal_message(locale, r))
        }
        Prepared::Ready(eligible) => ConsultConsentStep::Notice {
            text: notice_text(english).to_owned(),
            version: state.consult_notice_version.clone(),
            guardian_and_specialist_present: eligible.guardian_and_specialist_present,
        },
    };
    let diagnosis = state
        .conditions
        .by_code(&consult.icd10)
        .map(|c| if english { &c.name_en } else { &c.name_zh })
        .map_or_else(
            || consult.icd10.clone(),
            |name| format!("{name} ({})", consult.icd10),
        );
    Ok(Some(ConsultConsentView {
        person_name: crate::family::service::person_name(&state.db, patient_id, member).await?,
        choice: format!("{}:{}", consult.icd10, department.as_str()),
        diagnosis,
        department,
        step,
    }))
}
