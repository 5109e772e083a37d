//! What the staff pages load: enrolment, and the desks a role may use.
use crate::error::AppError;
use crate::staff::auth::{PendingStaff, StaffMember};
use crate::staff::service as staff;
use crate::state::AppState;
use crate::web::pages::PageAnswers;
use app::domain::staff::Permission;
use app::staff::{Enrolment, EnrolmentQuery, StaffPage, StaffPageQuery};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use time::OffsetDateTime;
use tower_sessions::Session;

pub(crate) fn answers(pages: &mut PageAnswers) {
    pages.answer(
        |state, parts, _: EnrolmentQuery| async move { load_enrolment(&state, parts).await },
    );
    pages.answer(|state, parts, _: StaffPageQuery| async move { load_staff(&state, parts).await });
}

async fn load_enrolment(state: &AppState, mut parts: Parts) -> Result<Option<Enrolment>, AppError> {
    let Ok(pending) = PendingStaff::from_request_parts(&mut parts, state).await else {
        return Ok(None);
    };
    match staff::begin_enrolment(state, pending.id).await {
        Ok(e) => Ok(Some(e)),
        // Already enrolled: the page sends them to the code instead.
        Err(AppError::Rejected { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Shown once, then forgotten: the session keys of what a form left for its page.
pub const FLASH_RECOVERY_CODES: &str = "flash_recovery_codes";
pub const FLASH_CREATED: &str = "flash_created";

async fn load_staff(state: &AppState, mut parts: Parts) -> Result<Option<StaffPage>, AppError> {
    let Ok(member) = StaffMember::from_request_parts(&mut parts, state).await else {
        return Ok(None);
    };
    let accounts = if member.role().may(Permission::ManageStaff) {
        staff::list(&state.db).await?
    } else {
        Vec::new()
    };
    let (mut recovery_codes, mut created) = (Vec::new(), None);
    if let Some(session) = parts.extensions.get::<Session>() {
        recovery_codes = session
            .remove::<Vec<String>>(FLASH_RECOVERY_CODES)
            .await
            .map_err(crate::web::auth::internal)?
            .unwrap_or_default();
        created = session
            .remove::<(String, String)>(FLASH_CREATED)
            .await
            .map_err(crate::web::auth::internal)?;
    }
    let queue = if member.role().may(Permission::ViewReviewQueue) {
        let locale = crate::web::client::locale_of(&parts.headers);
        crate::proofs::service::queue(state, locale, OffsetDateTime::now_utc()).await?
    } else {
        Vec::new()
    };
    let desk = crate::booking::queue::desk(
        &state.db,
        member.id,
        crate::web::client::locale_of(&parts.headers),
        OffsetDateTime::now_utc(),
    )
    .await?;
    let scheduling = if member.role().may(Permission::ManageDirectory) {
        let chosen =
            axum::extract::Query::<std::collections::HashMap<String, String>>::try_from_uri(
                &parts.uri,
            )
            .ok()
            .and_then(|q| q.0.get("doctor").cloned());
        Some(
            crate::booking::service::scheduling(
                state,
                chosen.as_deref(),
                crate::web::client::locale_of(&parts.headers),
                OffsetDateTime::now_utc(),
            )
            .await?,
        )
    } else {
        None
    };
    let query =
        axum::extract::Query::<std::collections::HashMap<String, String>>::try_from_uri(&parts.uri)
            .map(|q| q.0)
            .unwrap_or_default();
    let (orders, reconciliation) = if member.role().may(Permission::ManagePayments) {
        let status = query
            .get("order_status")
            .and_then(|s| app::domain::order::OrderStatus::parse(s));
        let orders = app::staff::StaffOrders {
            status,
            orders: crate::orders::service::list_for_staff(state, status, 1, 30).await?,
        };
        let day = query
            .get("reconcile_day")
            .and_then(|d| crate::orders::reconciliation::parse_day(d));
        let reconciliation =
            crate::orders::reconciliation::staff_view(state, day, OffsetDateTime::now_utc())
                .await?;
        (Some(orders), Some(reconciliation))
    } else {
        (None, None)
    };
    Ok(Some(StaffPage {
        desk,
        scheduling,
        orders,
        reconciliation,
        may_decide: member.role().may(Permission::DecideProofs),
        me: member.view,
        accounts,
        recovery_codes,
        created,
        queue,
    }))
}
