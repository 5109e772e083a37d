//! What the booking pages load: the account's bookings and places in live queues.
use crate::web::client::{browser_of, locale_of};
use crate::web::pages::PageAnswers;
use app::booking::{BookingQuery, BookingsQuery, QueuePlaceQuery};
use time::OffsetDateTime;

pub(crate) fn answers(pages: &mut PageAnswers) {
    pages.answer_consented(
        |state, _parts, patient, QueuePlaceQuery(number)| async move {
            super::queue_views::place(&state.db, patient.id, &number).await
        },
    );
    pages.answer_consented(|state, parts, patient, _: BookingsQuery| async move {
        let locale = locale_of(&parts.headers);
        super::views::list_for_patient(&state, patient.id, locale, OffsetDateTime::now_utc())
            .await
            .map(Some)
    });
    pages.answer_consented(|state, parts, patient, BookingQuery(number)| async move {
        super::views::find_for_patient(
            &state,
            patient.id,
            &number,
            locale_of(&parts.headers),
            browser_of(&parts.headers),
            OffsetDateTime::now_utc(),
        )
        .await
    });
}
