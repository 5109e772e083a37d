//! What the message centre loads.
use crate::web::client::locale_of;
use crate::web::pages::PageAnswers;
use app::notices::{NoticeQuery, NoticesQuery};
use time::OffsetDateTime;

pub(crate) fn answers(pages: &mut PageAnswers) {
    pages.answer_consented(|state, parts, patient, _: NoticesQuery| async move {
        super::service::list(&state.db, patient.id, locale_of(&parts.headers))
            .await
            .map(Some)
    });
    pages.answer_consented(|state, parts, patient, NoticeQuery(id)| async move {
        let locale = locale_of(&parts.headers);
        super::service::open(&state.db, patient.id, id, locale, OffsetDateTime::now_utc()).await
    });
}
