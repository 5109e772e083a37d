//! The [`Viewer`] for pages and server functions: a layer on the page group only.
//! It reads (the session, the patient, their consents) and writes nothing, except the
//! once-a-minute idle refresh of a logged-in session.
use super::auth::ConsentedPatient;
use super::auth::{CODE_PHONE, CODE_SENT_AT, current_patient, patient_context};
use super::csrf::CsrfToken;
use super::staff_auth::{PendingStaff, STAFF_ID, STAFF_PENDING, StaffMember};
use crate::services::{
    AppError, accounts, consents, eligibility, family, notices, staff, today_in_china,
};
use crate::state::AppState;
use app::booking::{BookingList, BookingView, QueuePlace};
use app::doctors::{DirectoryPage, DirectoryQuery, DoctorPageData};
use app::domain::staff::Permission;
use app::messages_view::{MessageList, MessageView};
use app::proofs::{
    ConsultConsentStep, ConsultConsentView, ConsultStart, DiagnosisOption, ProofForm, ProofView,
};
use app::staff::{Enrolment, StaffPage};
use app::viewer::{
    FamilyPage, Loading, PageData, PageDataContext, PatientProfile, SignedIn, StaffSignedIn, Viewer,
};
use axum::extract::FromRequestParts;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;
use time::OffsetDateTime;
use tower_sessions::Session;

pub async fn attach_viewer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let viewer = match build(&state, &mut parts, OffsetDateTime::now_utc()).await {
        Ok(v) => v,
        Err(e) => {
            let _ = super::error::ApiError::from(e);
            Viewer::default()
        }
    };
    parts.extensions.insert(viewer);
    next.run(Request::from_parts(parts, body)).await
}

async fn build(
    state: &AppState,
    parts: &mut axum::http::request::Parts,
    now: OffsetDateTime,
) -> Result<Viewer, AppError> {
    let mut viewer = Viewer {
        csrf_token: parts
            .extensions
            .get::<CsrfToken>()
            .map(|t| t.0.clone())
            .unwrap_or_default(),
        current_consents: state.current_consent_views(),
        today: today_in_china(now).to_string(),
        ..Viewer::default()
    };
    if let Some(patient) = current_patient(parts, state).await?
        && let Some(found) = patient_context(parts, state, patient.id).await?
    {
        viewer.consents_outstanding = consents::outstanding_views(state, &found.consents);
        viewer.signed_in = Some(SignedIn {
            consents_withdrawn: found.consents.is_empty(),
        });
        if viewer.consents_outstanding.is_empty() {
            viewer.unread_messages = found.unread;
        }
    }
    if let Some(session) = parts.extensions.get::<Session>().cloned()
        && session.id().is_some()
    {
        let staff_id = session.get::<i64>(STAFF_ID).await.ok().flatten();
        if staff_id.is_some()
            && let Ok(member) = StaffMember::from_request_parts(parts, state).await
        {
            viewer.staff = Some(StaffSignedIn {
                display_name: member.view.display_name.clone(),
                role: member.view.role,
            });
        }
        if let Some(id) = session.get::<i64>(STAFF_PENDING).await.ok().flatten()
            && let Some((_, view)) = staff::find_active(&state.db, id).await?
        {
            viewer.staff_pending = Some(view.enrolled);
        }
    }
    if let Some(session) = parts.extensions.get::<Session>() {
        // Only a session that already exists is read: no cookie, no query.
        if session.id().is_some() {
            viewer.code_phone = session.get::<String>(CODE_PHONE).await.ok().flatten();
            if let Some(sent) = session.get::<i64>(CODE_SENT_AT).await.ok().flatten() {
                viewer.resend_in_secs = (sent + state.sms_policy.resend_after.whole_seconds()
                    - now.unix_timestamp())
                .max(0);
            }
        }
    }
    Ok(viewer)
}

/// What pages load from the database: only for a logged-in patient who has agreed to
/// the texts in force (the same extractor as the API's).
pub fn page_data(state: AppState) -> PageDataContext {
    PageDataContext(Arc::new(ServerPageData(state)))
}

struct ServerPageData(AppState);

impl PageData for ServerPageData {
    fn profile(&self, parts: Parts) -> Loading<Option<PatientProfile>> {
        let state = self.0.clone();
        Box::pin(async move { load_profile(&state, parts).await.map_err(logged) })
    }

    fn family(&self, parts: Parts) -> Loading<Option<FamilyPage>> {
        let state = self.0.clone();
        Box::pin(async move { load_family(&state, parts).await.map_err(logged) })
    }

    fn enrolment(&self, parts: Parts) -> Loading<Option<Enrolment>> {
        let state = self.0.clone();
        Box::pin(async move { load_enrolment(&state, parts).await.map_err(logged) })
    }

    fn staff(&self, parts: Parts) -> Loading<Option<StaffPage>> {
        let state = self.0.clone();
        Box::pin(async move { load_staff(&state, parts).await.map_err(logged) })
    }

    fn consult_start(
        &self,
        mut parts: Parts,
        asked: Option<(String, String)>,
    ) -> Loading<Option<ConsultStart>> {
        let state = self.0.clone();
        Box::pin(async move {
            let Ok(patient) = ConsentedPatient::from_request_parts(&mut parts, &state).await else {
                return Ok(None);
            };
            load_consult_start(&state, &mut parts, patient.id, asked)
                .await
                .map(Some)
                .map_err(logged)
        })
    }

    fn consult_consent(
        &self,
        mut parts: Parts,
        choice: String,
    ) -> Loading<Option<ConsultConsentView>> {
        let state = self.0.clone();
        Box::pin(async move {
            let Ok(patient) = ConsentedPatient::from_request_parts(&mut parts, &state).await else {
                return Ok(None);
            };
            load_consult_consent(&state, &parts, patient.id, &choice)
                .await
                .map_err(logged)
        })
    }

    fn directory(&self, mut parts: Parts, query: DirectoryQuery) -> Loading<Option<DirectoryPage>> {
        let state = self.0.clone();
        Box::pin(async move {
            let now = OffsetDateTime::now_utc();
            let mut filter = crate::services::doctors::Filter {
                department: query.department,
                q: query.q.clone(),
                departments: None,
                page: query
                    .page
                    .clamp(1, app::domain::doctor::MAX_PAGE.unsigned_abs()),
            };
            let mut whose = None;
            if query.mine
                && let Ok(patient) = ConsentedPatient::from_request_parts(&mut parts, &state).await
                && let Some(session) = parts.extensions.get::<Session>()
            {
                let found = async {
                    let member = super::acting_for::member_id(&state, patient.id, session).await?;
                    let departments =
                        super::api::doctors::treating_departments(&state, patient.id, member)
                            .await?;
                    let name = person_name(&state, patient.id, member).await?;
                    Ok::<_, AppError>((departments, name))
                }
                .await
                .map_err(logged)?;
                filter.departments = Some(found.0);
                whose = Some(found.1);
            }
            let list = crate::services::doctors::list(&state, &filter, now)
                .await
                .map_err(logged)?;
            Ok(Some(DirectoryPage {
                list,
                person_name: whose,
            }))
        })
    }

    fn doctor(&self, parts: Parts, number: String) -> Loading<Option<DoctorPageData>> {
        let state = self.0.clone();
        Box::pin(async move {
            let now = OffsetDateTime::now_utc();
            let locale = super::client::locale_of(&parts.headers);
            let Some(profile) = crate::services::doctors::profile(&state, &number, now)
                .await
                .map_err(logged)?
            else {
                return Ok(None);
            };
            let days = crate::services::bookings::slot_days(&state, &number, 14, locale, now)
                .await
                .map_err(logged)?;
            let queues = crate::services::queue::summaries_by_number(&state, &number)
                .await
                .map_err(logged)?
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
        })
    }

    fn queue_place(&self, mut parts: Parts, number: String) -> Loading<Option<QueuePlace>> {
        let state = self.0.clone();
        Box::pin(async move {
            let Ok(patient) = ConsentedPatient::from_request_parts(&mut parts, &state).await else {
                return Ok(None);
            };
            crate::services::queue::place(&state.db, patient.id, &number)
                .await
                .map_err(logged)
        })
    }

    fn bookings(&self, mut parts: Parts) -> Loading<Option<BookingList>> {
        let state = self.0.clone();
        Box::pin(async move {
            let Ok(patient) = ConsentedPatient::from_request_parts(&mut parts, &state).await else {
                return Ok(None);
            };
            let locale = super::client::locale_of(&parts.headers);
            crate::services::bookings::list_for_patient(
                &state,
                patient.id,
                locale,
                OffsetDateTime::now_utc(),
            )
            .await
            .map(Some)
            .map_err(logged)
        })
    }

    fn booking(&self, mut parts: Parts, number: String) -> Loading<Option<BookingView>> {
        let state = self.0.clone();
        Box::pin(async move {
            let Ok(patient) = ConsentedPatient::from_request_parts(&mut parts, &state).await else {
                return Ok(None);
            };
            let locale = super::client::locale_of(&parts.headers);
            crate::services::bookings::find_for_patient(
                &state,
                patient.id,
                &number,
                locale,
                super::client::browser_of(&parts.headers),
                OffsetDateTime::now_utc(),
            )
            .await
            .map_err(logged)
        })
    }

    fn orders(&self, mut parts: Parts) -> Loading<Option<Vec<app::orders::OrderView>>> {
        let state = self.0.clone();
        Box::pin(async move {
            let Ok(patient) = ConsentedPatient::from_request_parts(&mut parts, &state).await else {
                return Ok(None);
            };
            crate::services::orders::list_for_patient(&state, patient.id)
                .await
                .map(Some)
                .map_err(logged)
        })
    }

    fn order(&self, mut parts: Parts, number: String) -> Loading<Option<app::orders::OrderView>> {
        let state = self.0.clone();
        Box::pin(async move {
            let Ok(patient) = ConsentedPatient::from_request_parts(&mut parts, &state).await else {
                return Ok(None);
            };
            crate::services::orders::view_for_patient(&state, patient.id, &number)
                .await
                .map_err(logged)
        })
    }

    fn sandbox_checkout(
        &self,
        mut parts: Parts,
        order_number: String,
        method: String,
    ) -> Loading<Option<app::booking::SandboxCheckout>> {
        let state = self.0.clone();
        Box::pin(async move {
            let Ok(patient) = ConsentedPatient::from_request_parts(&mut parts, &state).await else {
                return Ok(None);
            };
            crate::services::orders::sandbox_checkout(&state, patient.id, &order_number, &method)
                .await
                .map_err(logged)
        })
    }

    fn proofs(&self, mut parts: Parts) -> Loading<Option<Vec<ProofView>>> {
        let state = self.0.clone();
        Box::pin(async move {
            let Ok(patient) = ConsentedPatient::from_request_parts(&mut parts, &state).await else {
                return Ok(None);
            };
            let locale = super::client::locale_of(&parts.headers);
            crate::services::proofs::list(&state, patient.id, locale, OffsetDateTime::now_utc())
                .await
                .map(Some)
                .map_err(logged)
        })
    }

    fn proof_form(&self, mut parts: Parts) -> Loading<Option<ProofForm>> {
        let state = self.0.clone();
        Box::pin(async move {
            let Ok(patient) = ConsentedPatient::from_request_parts(&mut parts, &state).await else {
                return Ok(None);
            };
            let english = super::client::locale_of(&parts.headers) == app::i18n::Locale::en;
            let member = match parts.extensions.get::<Session>() {
                Some(session) => super::acting_for::member_id(&state, patient.id, session)
                    .await
                    .map_err(logged)?,
                None => None,
            };
            let person_name = person_name(&state, patient.id, member)
                .await
                .map_err(logged)?;
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
        })
    }

    fn messages(&self, mut parts: Parts) -> Loading<Option<MessageList>> {
        let state = self.0.clone();
        Box::pin(async move {
            let Ok(patient) = ConsentedPatient::from_request_parts(&mut parts, &state).await else {
                return Ok(None);
            };
            let locale = super::client::locale_of(&parts.headers);
            notices::list(&state.db, patient.id, locale)
                .await
                .map(Some)
                .map_err(logged)
        })
    }

    fn message(&self, mut parts: Parts, id: i64) -> Loading<Option<MessageView>> {
        let state = self.0.clone();
        Box::pin(async move {
            let Ok(patient) = ConsentedPatient::from_request_parts(&mut parts, &state).await else {
                return Ok(None);
            };
            let locale = super::client::locale_of(&parts.headers);
            notices::open(&state.db, patient.id, id, locale, OffsetDateTime::now_utc())
                .await
                .map_err(logged)
        })
    }
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

/// The name of whom the patient acts for: a family member, or themselves.
async fn person_name(
    state: &AppState,
    patient_id: i64,
    member: Option<i64>,
) -> Result<String, AppError> {
    family::person_name(&state.db, patient_id, member).await
}

async fn load_consult_start(
    state: &AppState,
    parts: &mut Parts,
    patient_id: i64,
    asked: Option<(String, String)>,
) -> Result<ConsultStart, AppError> {
    let locale = super::client::locale_of(&parts.headers);
    let english = locale == app::i18n::Locale::en;
    let session = parts.extensions.get::<Session>().cloned();
    let member = match &session {
        Some(s) => super::acting_for::member_id(state, patient_id, s).await?,
        None => None,
    };
    let person_name = person_name(state, patient_id, member).await?;
    let approved = eligibility::approved(state, patient_id, member).await?;
    let mut diagnoses: Vec<DiagnosisOption> = Vec::new();
    for (_, d) in &approved {
        if diagnoses.iter().any(|o| o.icd10 == d.icd10) {
            continue;
        }
        let name = state
            .conditions
            .by_code(&d.icd10)
            .map(|c| {
                if english {
                    c.name_en.clone()
                } else {
                    c.name_zh.clone()
                }
            })
            .unwrap_or_else(|| d.icd10.clone());
        diagnoses.push(DiagnosisOption {
            icd10: d.icd10.clone(),
            name,
            department: d.department,
        });
    }
    let now = OffsetDateTime::now_utc();
    let mut page = ConsultStart {
        person_name,
        diagnoses,
        eligible_proof: None,
        refusal: None,
    };
    let asked = asked.and_then(|(icd10, dept)| {
        app::domain::department::Department::parse(&dept).map(|d| (icd10, d))
    });
    match asked {
        Some((icd10, department)) => {
            match eligibility::check(state, patient_id, member, &icd10, department, false, now)
                .await?
            {
                Ok((_, proof)) => page.eligible_proof = Some(proof),
                Err(r) => page.refusal = Some(app::messages::refusal_message(locale, r)),
            }
        }
        // Nothing approved to follow up: say so before anything is chosen.
        None if page.diagnoses.is_empty() => {
            page.refusal = Some(app::messages::refusal_message(
                locale,
                app::domain::eligibility::Refusal::FirstVisit,
            ));
        }
        None => {}
    }
    Ok(page)
}

/// The consult notice page (R-REG-6): screen first, a refusal, or the notice to confirm.
async fn load_consult_consent(
    state: &AppState,
    parts: &Parts,
    patient_id: i64,
    choice: &str,
) -> Result<Option<ConsultConsentView>, AppError> {
    use crate::services::consult_consents::{ConsultFor, Prepared, prepare};
    use app::domain::consult_consent::{ScreenPass, notice_text, parse_choice};
    let Some((icd10, department)) = parse_choice(choice) else {
        return Ok(None);
    };
    let Some(session) = parts.extensions.get::<Session>() else {
        return Ok(None);
    };
    let locale = super::client::locale_of(&parts.headers);
    let english = locale == app::i18n::Locale::en;
    let member = super::acting_for::member_id(state, patient_id, session).await?;
    let pass = session
        .get::<ScreenPass>(super::api::screen::SCREEN_PASS)
        .await
        .map_err(super::auth::internal)?;
    let consult = ConsultFor {
        patient_id,
        member,
        icd10,
        department,
    };
    let step = match prepare(state, &consult, pass, OffsetDateTime::now_utc()).await? {
        Prepared::ScreenFirst => ConsultConsentStep::ScreenFirst,
        Prepared::Refused(r) => {
            ConsultConsentStep::Refused(app::messages::refusal_message(locale, r))
        }
        Prepared::Ready(eligible) => ConsultConsentStep::Notice {
            text: notice_text(english).to_owned(),
            version: state.consult_notice_version.clone(),
            guardian_and_specialist_present: eligible.guardian_and_specialist_present,
        },
    };
    let diagnosis = state
        .conditions
        .by_code(&consult.icd10)
        .map(|c| if english { &c.name_en } else { &c.name_zh })
        .map_or_else(
            || consult.icd10.clone(),
            |name| format!("{name} ({})", consult.icd10),
        );
    Ok(Some(ConsultConsentView {
        person_name: person_name(state, patient_id, member).await?,
        choice: format!("{}:{}", consult.icd10, department.as_str()),
        diagnosis,
        department,
        step,
    }))
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
            .map_err(super::auth::internal)?
            .unwrap_or_default();
        created = session
            .remove::<(String, String)>(FLASH_CREATED)
            .await
            .map_err(super::auth::internal)?;
    }
    let queue = if member.role().may(Permission::ViewReviewQueue) {
        let locale = super::client::locale_of(&parts.headers);
        crate::services::proofs::queue(state, locale, OffsetDateTime::now_utc()).await?
    } else {
        Vec::new()
    };
    let desk = crate::services::queue::desk(
        &state.db,
        member.id,
        super::client::locale_of(&parts.headers),
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
            crate::services::bookings::scheduling(
                state,
                chosen.as_deref(),
                super::client::locale_of(&parts.headers),
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
            orders: crate::services::orders::list_for_staff(state, status, 1, 30).await?,
        };
        let day = query
            .get("reconcile_day")
            .and_then(|d| crate::services::reconciliation::parse_day(d));
        let reconciliation =
            crate::services::reconciliation::staff_view(state, day, OffsetDateTime::now_utc())
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

fn logged(e: AppError) -> String {
    let _ = super::error::ApiError::from(e); // logs it
    "internal".into()
}

async fn load_profile(
    state: &AppState,
    mut parts: Parts,
) -> Result<Option<PatientProfile>, AppError> {
    let Ok(patient) = ConsentedPatient::from_request_parts(&mut parts, state).await else {
        return Ok(None);
    };
    // Read already to key a kept page: render exactly that reading.
    if let Some(known) = parts
        .extensions
        .get::<super::personal_pages::KnownProfile>()
    {
        return Ok(Some(known.0.as_ref().clone()));
    }
    let Some(found) = patient_context(&mut parts, state, patient.id).await? else {
        return Ok(None);
    };
    let (profile, _) = accounts::profile_of(state, &found, OffsetDateTime::now_utc())?;
    Ok(Some(profile))
}

async fn load_family(state: &AppState, mut parts: Parts) -> Result<Option<FamilyPage>, AppError> {
    let Ok(patient) = ConsentedPatient::from_request_parts(&mut parts, state).await else {
        return Ok(None);
    };
    let members = family::list(&state.db, patient.id, OffsetDateTime::now_utc()).await?;
    let acting_for = match parts.extensions.get::<Session>() {
        Some(session) => super::acting_for::current(session, &members).await?,
        None => None,
    };
    Ok(Some(FamilyPage {
        members,
        acting_for,
    }))
}
