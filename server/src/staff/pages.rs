//! What the staff pages load: enrolment, and the desks a role may use.
use crate::caller::Ctx;
use crate::error::AppError;
use crate::staff::auth::{PendingStaff, StaffMember};
use crate::staff::service as staff;
use crate::state::AppState;
use crate::web::client::locale_of;
use crate::web::pages::PageAnswers;
use app::domain::staff::Permission;
use app::staff::{
    Desk, DoctorDeskQuery, Enrolment, EnrolmentQuery, OrdersDeskQuery, ProofDesk, ProofDeskQuery,
    ReconciliationDeskQuery, ScheduleDeskQuery, StaffAccounts, StaffAccountsQuery, StaffHome,
    StaffHomeQuery, StaffOrders,
};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use time::OffsetDateTime;
use tower_sessions::Session;

pub(crate) fn answers(pages: &mut PageAnswers) {
    pages.answer(
        |state, parts, _: EnrolmentQuery| async move { load_enrolment(&state, parts).await },
    );
    pages.answer(|state, parts, _: StaffHomeQuery| async move { home(&state, parts).await });
    pages.answer(|state, mut parts, _: ProofDeskQuery| async move {
        let Ok(cx) = Ctx::<StaffMember>::from_request_parts(&mut parts, &state).await else {
            return Ok(None);
        };
        if !cx.caller.role().may(Permission::ViewReviewQueue) {
            return Ok(None);
        }
        let locale = locale_of(&parts.headers);
        let reach = crate::proofs::reach::ProofReach::of(&cx.caller);
        Ok(Some(ProofDesk {
            queue: crate::proofs::service::queue(&state, &reach, locale, &cx).await?,
            may_decide: cx.caller.role().may(Permission::DecideProofs),
        }))
    });
    pages.answer(|state, mut parts, _: DoctorDeskQuery| async move {
        let Ok(cx) = Ctx::<StaffMember>::from_request_parts(&mut parts, &state).await else {
            return Ok(None);
        };
        let locale = locale_of(&parts.headers);
        crate::booking::desk::desk(&state.db, cx.caller.id, locale, &cx).await
    });
    pages.answer(|state, mut parts, ScheduleDeskQuery(doctor)| async move {
        if desk_member(&state, &mut parts, Permission::ManageDirectory)
            .await
            .is_none()
        {
            return Ok(None);
        }
        let locale = locale_of(&parts.headers);
        crate::booking::schedule::scheduling(
            &state,
            doctor.as_deref(),
            locale,
            OffsetDateTime::now_utc(),
        )
        .await
        .map(Some)
    });
    pages.answer(|state, mut parts, OrdersDeskQuery(status)| async move {
        if desk_member(&state, &mut parts, Permission::ManagePayments)
            .await
            .is_none()
        {
            return Ok(None);
        }
        Ok(Some(StaffOrders {
            status,
            orders: crate::orders::list_for_staff(&state, status, 1, 30).await?,
            failed_refunds: crate::orders::failed_refunds(&state).await?,
        }))
    });
    pages.answer(
        |state, mut parts, ReconciliationDeskQuery(day)| async move {
            if desk_member(&state, &mut parts, Permission::ManagePayments)
                .await
                .is_none()
            {
                return Ok(None);
            }
            let day = day.and_then(|d| crate::orders::reconciliation::parse_day(&d));
            crate::orders::reconciliation::staff_view(&state, day, OffsetDateTime::now_utc())
                .await
                .map(Some)
        },
    );
    pages.answer(|state, mut parts, _: StaffAccountsQuery| async move {
        let Some(member) = desk_member(&state, &mut parts, Permission::ManageStaff).await else {
            return Ok(None);
        };
        Ok(Some(StaffAccounts {
            accounts: staff::list(&state).await?,
            me: member.view,
        }))
    });
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

/// The staff member with both factors, if their role may use the desk.
async fn desk_member(
    state: &AppState,
    parts: &mut Parts,
    permission: Permission,
) -> Option<StaffMember> {
    StaffMember::from_request_parts(parts, state)
        .await
        .ok()
        .filter(|m| m.role().may(permission))
}

/// The home: who is logged in, the recovery codes once, and the desks of this role.
async fn home(state: &AppState, mut parts: Parts) -> Result<Option<StaffHome>, AppError> {
    let Ok(member) = StaffMember::from_request_parts(&mut parts, state).await else {
        return Ok(None);
    };
    let recovery_codes = match parts.extensions.get::<Session>() {
        Some(session) => session
            .remove::<Vec<String>>(FLASH_RECOVERY_CODES)
            .await
            .map_err(crate::accounts::auth::internal)?
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let role = member.role();
    let mut desks = Vec::new();
    if crate::booking::desk::is_doctor(&state.db, member.id).await? {
        desks.push(Desk::Doctor);
        if role.may(Permission::Consult) {
            desks.push(Desk::Consults);
        }
    }
    for (desk, permission) in [
        (Desk::Proofs, Permission::ViewReviewQueue),
        (Desk::Schedule, Permission::ManageDirectory),
        (Desk::Orders, Permission::ManagePayments),
        (Desk::Reconciliation, Permission::ManagePayments),
        (Desk::Accounts, Permission::ManageStaff),
    ] {
        if role.may(permission) {
            desks.push(desk);
        }
    }
    Ok(Some(StaffHome {
        me: member.view,
        recovery_codes,
        desks,
    }))
}
