//! Consults over HTTP: the patient's list and page, the doctor's desk and consult, the
//! referral, and the doctor's quick replies. (Completion is the record's confirmation:
//! `crate::records::api`.)
use super::access::Participant;
use super::views;
use crate::accounts::auth::ConsentedPatient;
use crate::caller::Ctx;
use crate::db::quick_reply;
use crate::error::AppError;
use crate::staff::auth::StaffMember;
use crate::state::AppState;
use crate::web::api::ApiRoutes;
use crate::web::forms::record_number;
use crate::web::openapi::ErrorBody;
use crate::web::reply::{Input, Reply};
use app::consult::{ConsultDesk, ConsultView, DoctorConsult};
use app::domain::{ErrorCode, Field, FieldError};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Router, routing::post};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

fn json<T: Serialize>(result: Result<T, AppError>) -> Response {
    Reply::Json.answer(result, StatusCode::OK, |_| String::new())
}

/// The account's consults (its holder's and its family members'), newest first.
#[utoipa::path(get, path = "/api/v1/consults", tag = "consults",
    responses((status = 200, body = Vec<ConsultView>)))]
pub(crate) async fn my_consults(
    State(state): State<AppState>,
    patient: ConsentedPatient,
) -> Response {
    json(views::list_for_patient(&state.db, patient.id).await)
}

/// One of the account's consults.
#[utoipa::path(get, path = "/api/v1/consults/{number}", tag = "consults",
    params(("number" = String, Path)),
    responses((status = 200, body = ConsultView), (status = 404, body = ErrorBody)))]
pub(crate) async fn my_consult(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    Path(number): Path<String>,
) -> Response {
    json(views::view(&state.db, Participant::patient(&patient), &number).await)
}

/// The doctor's desk: waiting consults by time left to the answer, those in progress,
/// and today's video appointments.
#[utoipa::path(get, path = "/api/v1/staff/consults/desk", tag = "consults",
    responses((status = 200, body = ConsultDesk), (status = 403, body = ErrorBody)))]
pub(crate) async fn desk(State(state): State<AppState>, cx: Ctx<StaffMember>) -> Response {
    let result = async {
        let Participant::Doctor { doctor_id, .. } =
            Participant::doctor(&state.db, &cx.caller).await?
        else {
            return Err(FieldError::general(ErrorCode::Forbidden).into());
        };
        views::desk(&state, doctor_id, cx.now).await
    }
    .await;
    json(result)
}

/// A consult as its doctor opens it: the patient, their approved diagnoses with proofs,
/// and their past consults and records here (R-CONS-2). Logged (R-EMR-2).
#[utoipa::path(get, path = "/api/v1/staff/consults/{number}", tag = "consults",
    params(("number" = String, Path)),
    responses((status = 200, body = DoctorConsult), (status = 404, body = ErrorBody)))]
pub(crate) async fn doctor_consult(
    State(state): State<AppState>,
    cx: Ctx<StaffMember>,
    Path(number): Path<String>,
) -> Response {
    let result = async {
        let who = Participant::doctor(&state.db, &cx.caller).await?;
        views::for_doctor(&state, who, &number, &cx).await
    }
    .await;
    json(result)
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct ReferralInput {
    /// Why the patient should be seen in person; the patient reads it.
    reason: String,
}

/// Ends the consult: the patient is referred to a visit in person (R-ELIG-4). Before the
/// doctor has answered, the payment goes back in full (R-PAY-2).
#[utoipa::path(post, path = "/api/v1/staff/consults/{number}/referral", tag = "consults",
    params(("number" = String, Path)), request_body = ReferralInput,
    responses((status = 204), (status = 409, description = "consult_ended", body = ErrorBody),
        (status = 422, description = "reason_missing", body = ErrorBody)))]
pub(crate) async fn refer(
    State(state): State<AppState>,
    cx: Ctx<StaffMember>,
    reply: Reply,
    Path(number): Path<String>,
    Input(input): Input<ReferralInput>,
) -> Response {
    let number = record_number(&number);
    let result = async {
        let who = Participant::doctor(&state.db, &cx.caller).await?;
        crate::records::service::refer(&state, who, &number, &input.reason, &cx).await
    }
    .await;
    let page = format!("/staff/consults/{number}");
    reply.back_to(page.clone()).done(result, || page)
}

#[derive(Deserialize, Serialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct QuickReplyInput {
    body: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct QuickReply {
    id: i64,
    body: String,
}

/// The doctor's own quick replies.
#[utoipa::path(get, path = "/api/v1/staff/quick-replies", tag = "consults",
    responses((status = 200, body = Vec<QuickReply>)))]
pub(crate) async fn quick_replies(State(state): State<AppState>, staff: StaffMember) -> Response {
    let result = async {
        Participant::doctor(&state.db, &staff).await?;
        Ok::<_, AppError>(
            quick_reply::Entity::find()
                .filter(quick_reply::Column::StaffId.eq(staff.id))
                .order_by_asc(quick_reply::Column::Id)
                .all(&state.db)
                .await?
                .into_iter()
                .map(|q| QuickReply {
                    id: q.id,
                    body: q.body,
                })
                .collect::<Vec<_>>(),
        )
    }
    .await;
    json(result)
}

/// The most quick replies one doctor keeps.
const MAX_QUICK_REPLIES: usize = 50;

/// Adds a quick reply (1–500 characters; blocked words refused, R-CONS-5).
#[utoipa::path(post, path = "/api/v1/staff/quick-replies", tag = "consults",
    request_body = QuickReplyInput,
    responses((status = 200, body = QuickReply), (status = 422, body = ErrorBody)))]
pub(crate) async fn add_quick_reply(
    State(state): State<AppState>,
    cx: Ctx<StaffMember>,
    reply: Reply,
    Input(input): Input<QuickReplyInput>,
) -> Response {
    let result = async {
        Participant::doctor(&state.db, &cx.caller).await?;
        let body = input.body.trim().to_owned();
        if body.is_empty() || body.chars().count() > 500 {
            return Err(FieldError::new(ErrorCode::MessageTooLong, Field::Body).into());
        }
        let words = state.words.filter().find(&body);
        if !words.is_empty() {
            return Err(AppError::Blocked {
                field: Field::Body,
                words,
            });
        }
        use sea_orm::PaginatorTrait;
        let have = quick_reply::Entity::find()
            .filter(quick_reply::Column::StaffId.eq(cx.caller.id))
            .count(&state.db)
            .await?;
        if have as usize >= MAX_QUICK_REPLIES {
            return Err(FieldError::general(ErrorCode::FilesTooMany).into());
        }
        let q = quick_reply::ActiveModel {
            staff_id: Set(cx.caller.id),
            body: Set(body),
            created_at: Set(cx.now.unix_timestamp()),
            ..Default::default()
        }
        .insert(&state.db)
        .await?;
        Ok(QuickReply {
            id: q.id,
            body: q.body,
        })
    }
    .await;
    reply
        .back_to("/staff/consults")
        .answer(result, StatusCode::OK, |_| "/staff/consults".into())
}

/// Removes one of the doctor's quick replies.
#[utoipa::path(delete, path = "/api/v1/staff/quick-replies/{id}", tag = "consults",
    params(("id" = i64, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub(crate) async fn remove_quick_reply(
    State(state): State<AppState>,
    staff: StaffMember,
    Path(id): Path<i64>,
) -> Response {
    let result = async {
        Participant::doctor(&state.db, &staff).await?;
        let gone = quick_reply::Entity::delete_many()
            .filter(quick_reply::Column::Id.eq(id))
            .filter(quick_reply::Column::StaffId.eq(staff.id))
            .exec(&state.db)
            .await?
            .rows_affected;
        if gone == 1 {
            Ok(())
        } else {
            Err(FieldError::general(ErrorCode::NotFound).into())
        }
    }
    .await;
    Reply::Json.done(result, String::new)
}

pub(crate) fn form_routes() -> Router<AppState> {
    Router::new()
        .route("/forms/staff/consults/{number}/referral", post(refer))
        .route("/forms/staff/quick-replies", post(add_quick_reply))
}

pub(crate) fn routes() -> ApiRoutes {
    ApiRoutes {
        consented: OpenApiRouter::new()
            .routes(routes!(my_consults))
            .routes(routes!(my_consult)),
        staff: OpenApiRouter::new()
            .routes(routes!(desk))
            .routes(routes!(doctor_consult))
            .routes(routes!(refer))
            .routes(routes!(quick_replies, add_quick_reply))
            .routes(routes!(remove_quick_reply)),
        ..ApiRoutes::default()
    }
}
