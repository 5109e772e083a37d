//! What the directory and a doctor's page load.
use crate::accounts::auth::ConsentedPatient;
use crate::error::AppError;
use crate::web::client::locale_of;
use crate::web::pages::PageAnswers;
use app::doctors::{DirectoryPage, DirectoryQuery, DoctorPageData, DoctorQuery};
use axum::extract::FromRequestParts;
use time::OffsetDateTime;
use tower_sessions::Session;

pub(crate) fn answers(pages: &mut PageAnswers) {
    pages.answer(|state, mut parts, query: DirectoryQuery| async move {
        let now = OffsetDateTime::now_utc();
        let mut filter = super::service::Filter {
            department: query.department,
            q: query.q.clone(),
            departments: None,
            page: query
                .page
                .clamp(1, app::domain::doctor::MAX_PAGE.unsigned_abs()),
        };
        let mut whose = None;
        // "My doctors" counts only for a consented patient.
        if query.mine
            && let Ok(patient) = ConsentedPatient::from_request_parts(&mut parts, &state).await
            && let Some(session) = parts.extensions.get::<Session>()
        {
            let member =
                crate::family::acting_for::shown_member_id(&state, patient.id, session).await?;
            let departments =
                super::service::treating_departments(&state, patient.id, member).await?;
            let name = crate::family::service::person_name(&state.db, patient.id, member).await?;
            filter.departments = Some(departments);
            whose = Some(name);
        }
        let list = super::service::list(&state, &filter, now).await?;
        Ok::<_, AppError>(Some(DirectoryPage {
            list,
            person_name: whose,
        }))
    });
    pages.answer(|state, parts, DoctorQuery(number)| async move {
        let now = OffsetDateTime::now_utc();
        let locale = locale_of(&parts.headers);
        let Some(profile) = super::service::profile(&state, &number, now).await? else {
            return Ok(None);
        };
        let days = crate::booking::schedule::slot_days(&state, &number, 14, locale, now).await?;
        let queues = crate::booking::queue_views::summaries_by_number(&state, &number)
            .await?
            .into_iter()
            .map(|q| app::booking::QueueChoice {
                consult_type: q.consult_type,
                waiting: q.waiting,
                wait_minutes: q.wait_minutes,
            })
            .collect();
        Ok(Some(DoctorPageData {
            profile,
            days,
            queues,
        }))
    });
}
