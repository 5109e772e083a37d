//! What the proof pages load: the account's proofs and the upload form.
use crate::web::client::locale_of;
use crate::web::pages::PageAnswers;
use app::proofs::{DiagnosisOption, ProofForm, ProofFormQuery, ProofsQuery};
use time::OffsetDateTime;
use tower_sessions::Session;

pub(crate) fn answers(pages: &mut PageAnswers) {
    pages.answer_consented(|state, parts, patient, _: ProofsQuery| async move {
        let locale = locale_of(&parts.headers);
        super::service::list(&state, patient.id, locale, OffsetDateTime::now_utc())
            .await
            .map(Some)
    });
    pages.answer_consented(|state, parts, patient, _: ProofFormQuery| async move {
        let english = locale_of(&parts.headers) == app::i18n::Locale::en;
        let member = match parts.extensions.get::<Session>() {
            Some(session) => {
                crate::family::acting_for::shown_member_id(&state, patient.id, session).await?
            }
            None => None,
        };
        let person_name =
            crate::family::service::person_name(&state.db, patient.id, member).await?;
        let mut conditions: Vec<DiagnosisOption> = state
            .conditions
            .all()
            .iter()
            .map(|c| DiagnosisOption {
                icd10: c.icd10.clone(),
                name: if english {
                    c.name_en.clone()
                } else {
                    c.name_zh.clone()
                },
                department: c.department,
            })
            .collect();
        conditions.sort_by(|a, b| a.department.cmp(&b.department).then(a.icd10.cmp(&b.icd10)));
        Ok(Some(ProofForm {
            person_name,
            conditions,
            idempotency_key: format!(
                "form-{:x}",
                OffsetDateTime::now_utc().unix_timestamp_nanos()
            ),
        }))
    });
}
