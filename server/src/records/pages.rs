//! What the record pages load: the patient's records, one record, who viewed them.
use crate::web::pages::PageAnswers;
use app::records::{AccessLogQuery, RecordQuery, RecordsQuery};

pub(crate) fn answers(pages: &mut PageAnswers) {
    pages.answer_consented(|state, _parts, patient, _: RecordsQuery| async move {
        super::views::for_patient(&state.db, patient.id)
            .await
            .map(Some)
    });
    pages.answer_consented(|state, _parts, patient, RecordQuery(number)| async move {
        Ok(super::views::for_patient(&state.db, patient.id)
            .await?
            .into_iter()
            .find(|r| r.record_number == number))
    });
    pages.answer_consented(|state, _parts, patient, _: AccessLogQuery| async move {
        super::views::access_log(&state.db, patient.id)
            .await
            .map(Some)
    });
}
