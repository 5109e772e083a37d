//! Medical records over HTTP (R-EMR-1 … R-EMR-4): the doctor's draft, its revisions,
//! completing the consult (the record confirmed and archived), addenda and printing; the
//! patient's records and "who viewed my record".
use super::{service, views};
use crate::accounts::auth::ConsentedPatient;
use crate::caller::Ctx;
use crate::consult::access::{self, Access, Participant};
use crate::error::AppError;
use crate::staff::auth::StaffMember;
use crate::state::AppState;
use crate::web::api::ApiRoutes;
use crate::web::forms::record_number;
use crate::web::openapi::ErrorBody;
use crate::web::reply::{Input, Reply};
use app::domain::record::RecordText;
use app::domain::{ErrorCode, FieldError};
use app::records::{AccessView, RecordView, RevisionView};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Router, routing::post};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

fn json<T: Serialize>(result: Result<T, AppError>) -> Response {
    Reply::Json.answer(result, StatusCode::OK, |_| String::new())
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct DraftInput {
    /// The revision the doctor read (0 for a new record); another save since is refused.
    revision: i32,
    chief_complaint: String,
    present_illness: String,
    icd10: String,
    advice: String,
    follow_up: String,
}

/// The draft with its revisions, as the doctor works on it.
#[derive(Serialize, ToSchema)]
pub(crate) struct Draft {
    record: Option<RecordView>,
    revisions: Vec<RevisionView>,
}

/// Saves the record's draft as a new revision (kept with author and time).
#[utoipa::path(put, path = "/api/v1/staff/consults/{number}/record", tag = "records",
    params(("number" = String, Path)), request_body = DraftInput,
    responses((status = 200, body = RecordView),
        (status = 409, description = "record_changed, record_archived, consult_ended", body = ErrorBody),
        (status = 422, description = "record_field_too_long", body = ErrorBody)))]
pub(crate) async fn save_draft(
    State(state): State<AppState>,
    cx: Ctx<StaffMember>,
    reply: Reply,
    Path(number): Path<String>,
    Input(input): Input<DraftInput>,
) -> Response {
    let number = record_number(&number);
    let result = async {
        let who = Participant::doctor(&state.db, &cx.caller).await?;
        let text = RecordText {
            chief_complaint: input.chief_complaint,
            present_illness: input.present_illness,
            icd10: input.icd10,
            advice: input.advice,
            follow_up: input.follow_up,
        };
        let r = service::save(&state, who, &number, input.revision, text, &cx).await?;
        views::record_view(&state.db, &r, &number).await
    }
    .await;
    let page = format!("/staff/consults/{number}");
    reply
        .back_to(page.clone())
        .answer(result, StatusCode::OK, |_| format!("{page}#record"))
}

/// The consult's record and its revisions (the doctor's view).
#[utoipa::path(get, path = "/api/v1/staff/consults/{number}/record", tag = "records",
    params(("number" = String, Path)),
    responses((status = 200, body = Draft), (status = 404, body = ErrorBody)))]
pub(crate) async fn draft(
    State(state): State<AppState>,
    staff: StaffMember,
    Path(number): Path<String>,
) -> Response {
    let result = async {
        let who = Participant::doctor(&state.db, &staff).await?;
        let c = access::find(&state.db, who, &number).await?;
        match service::of_consult(&state.db, c.id).await? {
            Some(r) => Ok(Draft {
                revisions: views::revision_views(&state.db, r.id).await?,
                record: Some(views::record_view(&state.db, &r, &number).await?),
            }),
            None => Ok(Draft {
                record: None,
                revisions: Vec::new(),
            }),
        }
    }
    .await;
    json(result)
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct CompletionInput {
    /// The draft's revision the doctor confirms (or, with the fields, the one they read).
    revision: i32,
    /// With the record's fields (the page's form): saved as a new revision first, then
    /// confirmed, so what the doctor sees is what is archived.
    chief_complaint: Option<String>,
    present_illness: Option<String>,
    icd10: Option<String>,
    advice: Option<String>,
    follow_up: Option<String>,
}

/// Completes the consult: the record at `revision`, with every field and an approved
/// diagnosis, is confirmed and archived for good (R-EMR-1).
#[utoipa::path(post, path = "/api/v1/staff/consults/{number}/completion", tag = "records",
    params(("number" = String, Path)), request_body = CompletionInput,
    responses((status = 200, body = RecordView),
        (status = 409, description = "record_required, record_changed, consult_ended", body = ErrorBody),
        (status = 422, description = "record_field_missing, record_diagnosis_invalid", body = ErrorBody)))]
pub(crate) async fn complete(
    State(state): State<AppState>,
    cx: Ctx<StaffMember>,
    reply: Reply,
    Path(number): Path<String>,
    Input(input): Input<CompletionInput>,
) -> Response {
    let number = record_number(&number);
    let result = async {
        let who = Participant::doctor(&state.db, &cx.caller).await?;
        let mut revision = input.revision;
        if let Some(chief_complaint) = input.chief_complaint {
            let text = RecordText {
                chief_complaint,
                present_illness: input.present_illness.unwrap_or_default(),
                icd10: input.icd10.unwrap_or_default(),
                advice: input.advice.unwrap_or_default(),
                follow_up: input.follow_up.unwrap_or_default(),
            };
            revision = service::save(&state, who, &number, revision, text, &cx)
                .await?
                .revision;
        }
        let r = service::complete(&state, who, &number, revision, &cx).await?;
        views::record_view(&state.db, &r, &number).await
    }
    .await;
    let page = format!("/staff/consults/{number}");
    reply
        .back_to(page.clone())
        .answer(result, StatusCode::OK, |_| page.clone())
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct AddendumInput {
    body: String,
}

/// A signed addendum to the archived record (the record itself never changes).
#[utoipa::path(post, path = "/api/v1/staff/consults/{number}/record/addenda", tag = "records",
    params(("number" = String, Path)), request_body = AddendumInput,
    responses((status = 200, body = RecordView), (status = 409, description = "record_required", body = ErrorBody)))]
pub(crate) async fn addendum(
    State(state): State<AppState>,
    cx: Ctx<StaffMember>,
    reply: Reply,
    Path(number): Path<String>,
    Input(input): Input<AddendumInput>,
) -> Response {
    let number = record_number(&number);
    let result = async {
        let who = Participant::doctor(&state.db, &cx.caller).await?;
        service::add_addendum(&state, who, &number, &input.body, &cx).await?;
        let c = access::find(&state.db, who, &number).await?;
        let r = service::of_consult(&state.db, c.id)
            .await?
            .ok_or(FieldError::general(ErrorCode::RecordRequired))?;
        views::record_view(&state.db, &r, &number).await
    }
    .await;
    let page = format!("/staff/consults/{number}");
    reply
        .back_to(page.clone())
        .answer(result, StatusCode::OK, |_| page.clone())
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct PrintInput {
    /// Why it is printed (shown to the patient in "who viewed my record").
    reason: Option<String>,
}

/// The record for printing; the print is logged first (R-EMR-2).
#[utoipa::path(post, path = "/api/v1/staff/consults/{number}/record/print", tag = "records",
    params(("number" = String, Path)), request_body = PrintInput,
    responses((status = 200, body = RecordView), (status = 404, body = ErrorBody)))]
pub(crate) async fn print(
    State(state): State<AppState>,
    cx: Ctx<StaffMember>,
    Path(number): Path<String>,
    Input(input): Input<PrintInput>,
) -> Response {
    let result = async {
        let who = Participant::doctor(&state.db, &cx.caller).await?;
        let reason = input
            .reason
            .map(|r| r.trim().chars().take(200).collect::<String>())
            .filter(|r| !r.is_empty());
        let c = access::find(&state.db, who, &number).await?;
        let r = service::of_consult(&state.db, c.id)
            .await?
            .ok_or(FieldError::general(ErrorCode::RecordRequired))?;
        service::log_staff_use(&state, who, &number, Access::Print, reason, &cx).await?;
        views::record_view(&state.db, &r, &c.consult_number).await
    }
    .await;
    json(result)
}

/// The account's archived records, newest first (R-EMR-4).
#[utoipa::path(get, path = "/api/v1/records", tag = "records",
    responses((status = 200, body = Vec<RecordView>)))]
pub(crate) async fn my_records(
    State(state): State<AppState>,
    patient: ConsentedPatient,
) -> Response {
    json(views::for_patient(&state.db, patient.id).await)
}

/// One of the account's archived records, with its addenda.
#[utoipa::path(get, path = "/api/v1/records/{number}", tag = "records",
    params(("number" = String, Path)),
    responses((status = 200, body = RecordView), (status = 404, body = ErrorBody)))]
pub(crate) async fn my_record(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    Path(number): Path<String>,
) -> Response {
    let result = async {
        views::for_patient(&state.db, patient.id)
            .await?
            .into_iter()
            .find(|r| r.record_number == number)
            .ok_or_else(|| FieldError::general(ErrorCode::NotFound).into())
    }
    .await;
    json(result)
}

/// Who viewed my record: every staff read, copy or print of the account's consults and
/// records, newest first (R-EMR-2).
#[utoipa::path(get, path = "/api/v1/records/access-log", tag = "records",
    responses((status = 200, body = Vec<AccessView>)))]
pub(crate) async fn access_log(
    State(state): State<AppState>,
    patient: ConsentedPatient,
) -> Response {
    json(views::access_log(&state.db, patient.id).await)
}

pub(crate) fn form_routes() -> Router<AppState> {
    Router::new()
        .route("/forms/staff/consults/{number}/record", post(save_draft))
        .route("/forms/staff/consults/{number}/completion", post(complete))
        .route(
            "/forms/staff/consults/{number}/record/addenda",
            post(addendum),
        )
}

pub(crate) fn routes() -> ApiRoutes {
    ApiRoutes {
        consented: OpenApiRouter::new()
            .routes(routes!(my_records))
            .routes(routes!(access_log))
            .routes(routes!(my_record)),
        staff: OpenApiRouter::new()
            .routes(routes!(save_draft, draft))
            .routes(routes!(complete))
            .routes(routes!(addendum))
            .routes(routes!(print)),
        ..ApiRoutes::default()
    }
}
