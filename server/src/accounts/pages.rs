//! What the accounts pages load: the profile.
use crate::web::pages::PageAnswers;
use app::accounts::ProfileQuery;
use time::OffsetDateTime;

pub(crate) fn answers(pages: &mut PageAnswers) {
    pages.answer_consented(|state, mut parts, patient, _: ProfileQuery| async move {
        let Some(found) =
            crate::accounts::auth::patient_context(&mut parts, &state, patient.id).await?
        else {
            return Ok(None);
        };
        let (profile, _) = super::service::profile_of(&state, &found, OffsetDateTime::now_utc())?;
        Ok(Some(profile))
    });
}
