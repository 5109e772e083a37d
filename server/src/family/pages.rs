//! What the family page loads: the members and whom the patient acts for.
use crate::web::pages::PageAnswers;
use app::family::{FamilyPage, FamilyPageQuery};
use time::OffsetDateTime;
use tower_sessions::Session;

pub(crate) fn answers(pages: &mut PageAnswers) {
    pages.answer_consented(|state, parts, patient, _: FamilyPageQuery| async move {
        let members =
            super::service::list(&state.db, patient.id, OffsetDateTime::now_utc()).await?;
        let acting_for = match parts.extensions.get::<Session>() {
            Some(session) => super::acting_for::current(session, &members).await?,
            None => None,
        };
        Ok(Some(FamilyPage {
            members,
            acting_for,
        }))
    });
}
