//! The staff pages' form posts (R-SEC-1, R-SEC-3): login, second factor, enrolment, and
//! an admin's account management. Each answers 303, like the patients' forms.
use super::pages::{FLASH_CREATED, FLASH_RECOVERY_CODES};
use crate::error::AppError;
use crate::staff::auth as staff_auth;
use crate::staff::auth::PendingStaff;
use crate::staff::auth::StaffMember;
use crate::staff::service as staff;
use crate::state::AppState;
use crate::web::client::ClientIp;
use crate::web::extract::Form;
use crate::web::forms::{Fields, field, outcome};
use app::domain::staff::Permission;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use time::OffsetDateTime;
use tower_sessions::Session;

pub fn routes(state: AppState) -> Router<AppState> {
    // What judges a secret: limited per address, as the patients' logins are.
    let guessing = Router::new()
        .route("/forms/staff/login", post(login))
        .route("/forms/staff/second-factor", post(second_factor))
        .route("/forms/staff/enrol", post(enrol))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            crate::web::throttle::limit,
        ));
    Router::new()
        .merge(guessing)
        .route("/forms/staff/logout", post(logout))
        .route("/forms/staff/accounts", post(create_account))
        .route("/forms/staff/accounts/disabled", post(set_disabled))
        .route("/forms/staff/proofs/decision", post(decide_proof))
        .route("/forms/staff/presence", post(set_presence))
        .route("/forms/staff/queue/next", post(call_next))
        .route("/forms/staff/sessions", post(publish_session))
        .route("/forms/staff/slots/cancel", post(cancel_slot))
        .route("/forms/staff/orders/refund", post(refund_order))
        .route("/forms/staff/reconciliation/run", post(run_reconciliation))
        .route(
            "/forms/staff/reconciliation/resolve",
            post(resolve_difference),
        )
}

fn with_notice(page: &str, notice: &str) -> String {
    let sep = if page.contains('?') { '&' } else { '?' };
    format!("{page}{sep}notice={notice}")
}

/// Where a schedule form returns to: the scheduling desk with the operator's chosen
/// doctor, or the doctor's own desk. Only a well-formed doctor number goes into the
/// address.
fn schedule_page(f: &Fields) -> String {
    let n = field(f, "doctor_number").trim();
    if n.is_empty() {
        "/staff/desk".to_owned()
    } else if n.len() <= 32 && n.bytes().all(|b| b.is_ascii_alphanumeric()) {
        format!("/staff/schedule?doctor={n}")
    } else {
        "/staff/schedule".to_owned()
    }
}

/// R-BOOK-1: a doctor publishes a session of their own schedule; an operator or admin
/// publishes one for the doctor in `doctor_number`.
async fn publish_session(
    State(state): State<AppState>,
    member: StaffMember,
    Form(f): Form<Fields>,
) -> Response {
    use app::domain::schedule::{ConsultType, SessionPlan, Split};
    use app::domain::{ErrorCode, Field, FieldError};
    let page = schedule_page(&f);
    let result =
        async {
            let chosen = field(&f, "doctor_number").trim();
            let number = if chosen.is_empty() {
                crate::booking::queue::doctor_of_staff(&state.db, member.id)
                    .await?
                    .doctor_number
            } else {
                crate::booking::schedule::may_schedule(&state, &member, Some(chosen), None).await?;
                chosen.to_owned()
            };
            let bad = || FieldError::new(ErrorCode::ScheduleTimesInvalid, Field::Body);
            let minutes = |s: &str| {
                let (h, m) = s.trim().split_once(':')?;
                let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
                (h < 24 && m < 60).then_some(h * 60 + m)
            };
            let date = time::Date::parse(
                field(&f, "date").trim(),
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .map_err(|_| bad())?;
            let end = match field(&f, "end").trim() {
                "24:00" => Some(24 * 60),
                e => minutes(e),
            };
            let plan =
                SessionPlan {
                    date,
                    start_minute: minutes(field(&f, "start")).ok_or_else(bad)?,
                    end_minute: end.ok_or_else(bad)?,
                    split: Split::SlotMinutes(field(&f, "slot_minutes").trim().parse().map_err(
                        |_| FieldError::new(ErrorCode::ScheduleSlotLength, Field::Body),
                    )?),
                };
            let kind = ConsultType::parse(field(&f, "consult_type"))
                .ok_or(FieldError::new(ErrorCode::InvalidForm, Field::Body))?;
            crate::booking::schedule::publish_session(
                &state,
                &number,
                kind,
                plan,
                member.id,
                OffsetDateTime::now_utc(),
            )
            .await?;
            Ok::<_, AppError>(with_notice(&page, "session_published"))
        }
        .await;
    outcome(&page, result)
}

/// R-BOOK-4: a doctor cancels one of their own slots, with a day's notice.
async fn cancel_slot(
    State(state): State<AppState>,
    member: StaffMember,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let slot = field(&f, "slot_number").trim().to_owned();
    let page = schedule_page(&f);
    let result = async {
        crate::booking::schedule::may_schedule(&state, &member, None, Some(&slot)).await?;
        crate::booking::schedule::cancel_slot(
            &state,
            &slot,
            member.id,
            &ip.to_string(),
            OffsetDateTime::now_utc(),
        )
        .await?;
        Ok::<_, AppError>(with_notice(&page, "slot_cancelled"))
    }
    .await;
    outcome(&page, result)
}

/// The doctor's own directory entry and the consult type a desk form names.
async fn desk_queue(
    state: &AppState,
    member: &StaffMember,
    f: &Fields,
) -> Result<(crate::db::doctor::Model, app::domain::schedule::ConsultType), AppError> {
    let d = crate::booking::queue::doctor_of_staff(&state.db, member.id).await?;
    let kind = app::domain::schedule::ConsultType::parse(field(f, "consult_type")).ok_or(
        app::domain::FieldError::general(app::domain::ErrorCode::InvalidForm),
    )?;
    Ok((d, kind))
}

/// R-BOOK-1: a doctor goes online or offline for a consult type.
async fn set_presence(
    State(state): State<AppState>,
    member: StaffMember,
    Form(f): Form<Fields>,
) -> Response {
    let result = async {
        let (d, kind) = desk_queue(&state, &member, &f).await?;
        crate::booking::queue::set_online(
            &state,
            member.id,
            d.id,
            kind,
            field(&f, "online") == "yes",
            OffsetDateTime::now_utc(),
        )
        .await?;
        Ok::<_, AppError>("/staff/desk?notice=presence_changed")
    }
    .await;
    outcome("/staff/desk", result)
}

async fn call_next(
    State(state): State<AppState>,
    member: StaffMember,
    Form(f): Form<Fields>,
) -> Response {
    let result = async {
        let (d, kind) = desk_queue(&state, &member, &f).await?;
        let called = crate::booking::queue::call_next(
            &state,
            member.id,
            d.id,
            kind,
            OffsetDateTime::now_utc(),
        )
        .await?;
        Ok::<_, AppError>(if called.is_some() {
            "/staff/desk?notice=called_next"
        } else {
            "/staff/desk?notice=queue_empty"
        })
    }
    .await;
    outcome("/staff/desk", result)
}

async fn login(
    State(state): State<AppState>,
    session: Session,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let result = async {
        let (id, enrolled) = staff::check_password(
            &state,
            field(&f, "username"),
            field(&f, "password"),
            &ip.to_string(),
            OffsetDateTime::now_utc(),
        )
        .await?;
        staff_auth::begin(&session, id).await?;
        Ok(if enrolled {
            "/staff/second-factor".to_owned()
        } else {
            "/staff/enrol".to_owned()
        })
    }
    .await;
    outcome("/staff/login", result)
}

async fn second_factor(
    State(state): State<AppState>,
    pending: PendingStaff,
    session: Session,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let result = async {
        staff::verify_second_factor(
            &state,
            pending.id,
            field(&f, "code"),
            &ip.to_string(),
            OffsetDateTime::now_utc(),
        )
        .await?;
        staff_auth::complete(&session, pending.id).await?;
        Ok("/staff".to_owned())
    }
    .await;
    outcome("/staff/second-factor", result)
}

async fn enrol(
    State(state): State<AppState>,
    pending: PendingStaff,
    session: Session,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let result = async {
        let codes = staff::confirm_enrolment(
            &state,
            pending.id,
            field(&f, "code"),
            &ip.to_string(),
            OffsetDateTime::now_utc(),
        )
        .await?;
        staff_auth::complete(&session, pending.id).await?;
        session
            .insert(FLASH_RECOVERY_CODES, codes)
            .await
            .map_err(crate::accounts::auth::internal)?;
        Ok("/staff?notice=enrolled".to_owned())
    }
    .await;
    outcome("/staff/enrol", result)
}

async fn logout(session: Session) -> Response {
    let result = session
        .flush()
        .await
        .map_err(crate::accounts::auth::internal)
        .map(|()| "/staff/login?notice=logged_out".to_owned());
    outcome("/staff", result)
}

async fn create_account(
    State(state): State<AppState>,
    member: StaffMember,
    session: Session,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let result = async {
        member.require(Permission::ManageStaff)?;
        let department = Some(field(&f, "department").to_owned()).filter(|d| !d.is_empty());
        let created = staff::create(
            &state,
            Some(member.id),
            staff::NewStaff {
                username: field(&f, "username").into(),
                // The form shows the name with the real-name field and its error.
                display_name: field(&f, "real_name").into(),
                role: field(&f, "role").into(),
                department,
            },
            &ip.to_string(),
            OffsetDateTime::now_utc(),
        )
        .await?;
        session
            .insert(
                FLASH_CREATED,
                (created.staff.username, created.initial_password),
            )
            .await
            .map_err(crate::accounts::auth::internal)?;
        Ok("/staff/accounts?notice=staff_created".to_owned())
    }
    .await;
    outcome("/staff/accounts", result)
}

async fn set_disabled(
    State(state): State<AppState>,
    member: StaffMember,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let result = async {
        member.require(Permission::ManageStaff)?;
        let id: i64 = field(&f, "staff_id").parse().map_err(|_| {
            AppError::from(app::domain::FieldError::general(
                app::domain::ErrorCode::NotFound,
            ))
        })?;
        let disabled = field(&f, "disabled") == "yes";
        staff::set_disabled(
            &state,
            member.id,
            id,
            disabled,
            &ip.to_string(),
            OffsetDateTime::now_utc(),
        )
        .await?;
        Ok(format!(
            "/staff/accounts?notice={}",
            if disabled {
                "staff_disabled"
            } else {
                "staff_enabled"
            }
        ))
    }
    .await;
    outcome("/staff/accounts", result)
}

async fn decide_proof(
    State(state): State<AppState>,
    member: StaffMember,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    let result = async {
        member.require(Permission::DecideProofs)?;
        let decision = if field(&f, "decision") == "approve" {
            crate::proofs::service::Decision::Approve {
                icd10: field(&f, "icd10").into(),
                department: field(&f, "department").into(),
            }
        } else {
            crate::proofs::service::Decision::Reject {
                reason: field(&f, "reason").into(),
                note: field(&f, "note").into(),
            }
        };
        crate::proofs::service::decide(
            &state,
            member.id,
            field(&f, "proof_number"),
            decision,
            &ip.to_string(),
            OffsetDateTime::now_utc(),
        )
        .await?;
        Ok("/staff/proofs?notice=proof_decided".to_owned())
    }
    .await;
    outcome("/staff/proofs", result)
}

/// R-PAY-2: an operator refunds an order in full (amount left empty) or in part, with
/// the reason; back to the orders card.
async fn refund_order(
    State(state): State<AppState>,
    member: StaffMember,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    use app::domain::order::Fen;
    use app::domain::{ErrorCode, Field, FieldError};
    let page = "/staff/orders";
    let result = async {
        member.require(Permission::ManagePayments)?;
        let amount = match field(&f, "amount_yuan").trim() {
            "" => None,
            yuan => Some(Fen::parse_yuan(yuan).ok_or(FieldError::new(
                ErrorCode::RefundAmountInvalid,
                Field::AmountFen,
            ))?),
        };
        crate::orders::operator_refund(
            &state,
            member.id,
            field(&f, "order_number").trim(),
            amount,
            field(&f, "reason"),
            &ip.to_string(),
            OffsetDateTime::now_utc(),
        )
        .await?;
        Ok::<_, AppError>("/staff/orders?notice=refund_requested".to_owned())
    }
    .await;
    outcome(page, result)
}

/// Where a reconciliation form returns to: the day it was about (well-formed only).
fn reconciliation_page(f: &Fields) -> String {
    match crate::orders::reconciliation::parse_day(field(f, "day")) {
        Some(day) => format!("/staff/reconciliation?reconcile_day={day}"),
        None => "/staff/reconciliation".to_owned(),
    }
}

/// R-PAY-3: reconcile a day now (again).
async fn run_reconciliation(
    State(state): State<AppState>,
    member: StaffMember,
    Form(f): Form<Fields>,
) -> Response {
    use app::domain::{ErrorCode, Field, FieldError};
    let page = reconciliation_page(&f);
    let result = async {
        member.require(Permission::ManagePayments)?;
        let day = crate::orders::reconciliation::parse_day(field(&f, "day"))
            .ok_or(FieldError::new(ErrorCode::InvalidForm, Field::Body))?;
        crate::orders::reconciliation::run_day(&state, day, OffsetDateTime::now_utc()).await?;
        Ok::<_, AppError>(with_notice(&page, "reconciled"))
    }
    .await;
    outcome(&page, result)
}

/// R-PAY-3: an operator resolves a difference with a note.
async fn resolve_difference(
    State(state): State<AppState>,
    member: StaffMember,
    ClientIp(ip): ClientIp,
    Form(f): Form<Fields>,
) -> Response {
    use app::domain::{ErrorCode, Field, FieldError};
    let page = reconciliation_page(&f);
    let result = async {
        member.require(Permission::ManagePayments)?;
        let line: i64 = field(&f, "line")
            .trim()
            .parse()
            .map_err(|_| FieldError::new(ErrorCode::InvalidForm, Field::Body))?;
        crate::orders::reconciliation::resolve(
            &state,
            member.id,
            line,
            field(&f, "note"),
            &ip.to_string(),
            OffsetDateTime::now_utc(),
        )
        .await?;
        Ok::<_, AppError>(with_notice(&page, "difference_resolved"))
    }
    .await;
    outcome(&page, result)
}
