//! What the order pages load: the account's orders and the sandbox checkout.
use crate::web::pages::PageAnswers;
use app::orders::SandboxCheckoutQuery;
use app::orders::{OrderQuery, OrdersQuery};

pub(crate) fn answers(pages: &mut PageAnswers) {
    pages.answer_consented(|state, _parts, patient, _: OrdersQuery| async move {
        super::list_for_patient(&state, patient.id).await.map(Some)
    });
    pages.answer_consented(|state, _parts, patient, OrderQuery(number)| async move {
        super::view_for_patient(&state, patient.id, &number).await
    });
    pages.answer_consented(
        |state, _parts, patient, SandboxCheckoutQuery(order, method)| async move {
            super::sandbox_checkout(&state, patient.id, &order, &method).await
        },
    );
}
