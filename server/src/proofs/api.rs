//! Diagnosis proofs (R-ELIG-2): patients upload, list and withdraw; staff review, open
//! files (each view logged, R-EMR-2) and decide.
use crate::accounts::auth::ConsentedPatient;
use crate::audit::{self, AuditAction};
use crate::caller::Ctx;
use crate::error::AppError;
use crate::proofs::reach::ProofReach;
use crate::proofs::service as proofs;
use crate::proofs::service::Decision;
use crate::staff::auth::StaffMember;
use crate::state::AppState;
use crate::web::api::ApiResult;
use crate::web::api::ApiRoutes;
use crate::web::client::Lang;
use crate::web::extract::{Json, Query};
use crate::web::openapi::ErrorBody;
use crate::web::reply::{Input, Reply};
use app::domain::staff::Permission;
use app::domain::upload::FileKind;
use app::domain::{ErrorCode, Field, FieldError};
use app::proofs::ProofView;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Router, routing::post};
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The multipart form of an upload (documentation only: the handler reads the parts).
#[derive(ToSchema)]
#[expect(dead_code, reason = "read by the OpenAPI document only")]
pub(crate) struct ProofUpload {
    institution: String,
    /// `YYYY-MM-DD`.
    diagnosed_on: String,
    /// From `/api/v1/conditions`.
    icd10: String,
    note: Option<String>,
    /// Made by the client for this upload (8–64 of `A-Z a-z 0-9 - _`); a retry after a
    /// lost answer sends the same key and gets the first upload back.
    idempotency_key: String,
    /// One to five files: JPEG, PNG, WebP or PDF, each within the size limit.
    #[schema(value_type = Vec<String>, format = Binary)]
    files: Vec<Vec<u8>>,
}

/// Upload a proof of diagnosis for the person the patient is acting for (multipart).
#[utoipa::path(post, path = "/api/v1/proofs", tag = "proofs",
    request_body(content = ProofUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored", body = ProofView),
        (status = 200, description = "A retry: the proof first stored with this key", body = ProofView),
        (status = 413, description = "file_too_large", body = ErrorBody),
        (status = 422, description = "A refused file or field, or blocked words", body = ErrorBody),
    ))]
pub(crate) async fn upload_proof(
    State(state): State<AppState>,
    cx: Ctx<ConsentedPatient>,
    Lang(locale): Lang,
    reply: Reply,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let result = async {
        let multipart = multipart.map_err(|_| {
            AppError::from(FieldError::new(
                ErrorCode::UnsupportedMediaType,
                Field::Body,
            ))
        })?;
        let (input, files) = super::uploads::read_upload(multipart, state.max_upload_bytes).await?;
        let (number, created) =
            proofs::submit(&state, cx.caller.id, cx.acting_for, input, files, &cx).await?;
        let proof = proofs::find(&state.db, cx.caller.id, &number)
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("stored proof not found")))?;
        Ok((created, proofs::view(&state, proof, locale, cx.now).await?))
    }
    .await;
    let status = match &result {
        Ok((true, _)) => StatusCode::CREATED,
        _ => StatusCode::OK,
    };
    reply
        .back_to("/proofs/new")
        .answer(result.map(|(_, view)| view), status, |_| {
            "/proofs?notice=proof_submitted".into()
        })
}
/// The account's proofs (its own and its family members'), newest first.
#[utoipa::path(get, path = "/api/v1/proofs", tag = "proofs",
    responses((status = 200, body = Vec<ProofView>)))]
pub(crate) async fn list_proofs(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    Lang(locale): Lang,
) -> ApiResult {
    let list = proofs::list(&state, patient.id, locale, OffsetDateTime::now_utc()).await?;
    Ok(Json(list).into_response())
}

/// Withdraw a proof that is still waiting for review.
#[utoipa::path(delete, path = "/api/v1/proofs/{number}", tag = "proofs",
    params(("number" = String, Path, description = "The proof number")),
    responses(
        (status = 204),
        (status = 404, body = ErrorBody),
        (status = 409, description = "proof_not_pending", body = ErrorBody),
    ))]
pub(crate) async fn withdraw_proof(
    State(state): State<AppState>,
    cx: Ctx<ConsentedPatient>,
    reply: Reply,
    Path(number): Path<String>,
) -> Response {
    let result = proofs::withdraw(&state, cx.caller.id, &number, &cx).await;
    reply
        .back_to("/proofs")
        .done(result, || "/proofs?notice=proof_withdrawn".into())
}
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(crate) struct FileQuery {
    /// The small preview of an image instead of the image.
    thumbnail: bool,
}

/// One stored file, for its owner: never run by the browser, PDFs always downloaded.
pub(crate) fn file_response(kind: FileKind, bytes: bytes::Bytes, name: &str) -> Response {
    let disposition = if kind == FileKind::Pdf {
        format!("attachment; filename=\"{name}.pdf\"")
    } else {
        format!("inline; filename=\"{name}.{}\"", kind.extension())
    };
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(kind.content_type()),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    // A file is data, never a page: no scripts even if a browser tried.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    res
}

/// A file of one of the account's proofs.
#[utoipa::path(get, path = "/api/v1/proofs/{number}/files/{position}", tag = "proofs",
    params(
        ("number" = String, Path, description = "The proof number"),
        ("position" = i32, Path, description = "1-based"),
        FileQuery,
    ),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 404, body = ErrorBody),
    ))]
pub(crate) async fn proof_file(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    Path((number, position)): Path<(String, i32)>,
    Query(q): Query<FileQuery>,
) -> ApiResult {
    let Some(proof) = proofs::find(&state.db, patient.id, &number).await? else {
        return Err(FieldError::general(ErrorCode::NotFound).into());
    };
    let (kind, bytes) = proofs::file(&state, &proof, position, q.thumbnail).await?;
    Ok(file_response(kind, bytes, &format!("{number}-{position}")))
}

/// The review queue: proofs waiting, oldest first, with their waiting time. A doctor
/// sees their own department's and their own patients'; every look is logged.
#[utoipa::path(get, path = "/api/v1/staff/proofs", tag = "staff",
    responses(
        (status = 200, body = Vec<ProofView>),
        (status = 403, body = ErrorBody),
    ))]
pub(crate) async fn review_queue(
    State(state): State<AppState>,
    cx: Ctx<StaffMember>,
    Lang(locale): Lang,
) -> ApiResult {
    cx.caller.require(Permission::ViewReviewQueue)?;
    let reach = ProofReach::of(&cx.caller);
    let queue = proofs::queue(&state, &reach, locale, &cx).await?;
    Ok(Json(queue).into_response())
}

/// Open a file of a proof within reach (R-EMR-2: every view is in the audit log).
#[utoipa::path(get, path = "/api/v1/staff/proofs/{number}/files/{position}", tag = "staff",
    params(
        ("number" = String, Path, description = "The proof number"),
        ("position" = i32, Path, description = "1-based"),
        FileQuery,
    ),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub(crate) async fn staff_proof_file(
    State(state): State<AppState>,
    cx: Ctx<StaffMember>,
    Path((number, position)): Path<(String, i32)>,
    Query(q): Query<FileQuery>,
) -> ApiResult {
    cx.caller.require(Permission::ViewProofFiles)?;
    let Some(proof) = proofs::by_number(&state.db, &number).await? else {
        return Err(FieldError::general(ErrorCode::NotFound).into());
    };
    if !ProofReach::of(&cx.caller).admits(&state.db, &proof).await? {
        return Err(FieldError::general(ErrorCode::NotFound).into());
    }
    let (kind, bytes) = proofs::file(&state, &proof, position, q.thumbnail).await?;
    audit::record_alone(
        &state.db,
        cx.audit(AuditAction::ProofFileViewed)
            .on("diagnosis_proof", &number)
            .detail(serde_json::json!({ "position": position, "thumbnail": q.thumbnail })),
    )
    .await
    .map_err(AppError::from)?;
    Ok(file_response(kind, bytes, &format!("{number}-{position}")))
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub(crate) struct DecisionBody {
    /// `approve` or `reject`.
    decision: String,
    /// Approve: the confirmed ICD-10 code.
    icd10: String,
    /// Approve: the confirmed department.
    department: String,
    /// Reject: `unreadable`, `not_a_diagnosis`, `wrong_person`,
    /// `no_institution_or_date`, `diagnosis_mismatch` or `other`.
    reason: String,
    /// Reject: free text for the patient (at most 200 characters).
    note: String,
}

/// Approve (confirming diagnosis, ICD-10 code and department) or reject (with a reason)
/// a waiting proof; the patient is told in the message centre and by SMS.
#[utoipa::path(post, path = "/api/v1/staff/proofs/{number}/decision", tag = "staff",
    params(("number" = String, Path, description = "The proof number")),
    request_body = DecisionBody,
    responses(
        (status = 204),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "proof_not_pending: decided already", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub(crate) async fn decide_proof(
    State(state): State<AppState>,
    cx: Ctx<StaffMember>,
    reply: Reply,
    Path(number): Path<String>,
    Input(body): Input<DecisionBody>,
) -> Response {
    let result = async {
        cx.caller.require(Permission::DecideProofs)?;
        let decision = match body.decision.as_str() {
            "approve" => Decision::Approve {
                icd10: body.icd10,
                department: body.department,
            },
            "reject" => Decision::Reject {
                reason: body.reason,
                note: body.note,
            },
            _ => return Err(FieldError::new(ErrorCode::InvalidForm, Field::Body).into()),
        };
        let reach = ProofReach::of(&cx.caller);
        proofs::decide(&state, cx.caller.id, &reach, &number, decision, &cx).await
    }
    .await;
    reply
        .back_to("/staff/proofs")
        .done(result, || "/staff/proofs?notice=proof_decided".into())
}
/// The same operations for the pages' forms: the no-JS upload (a multipart form, with
/// the upload's body limit) and the withdrawal.
pub(crate) fn form_routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/forms/proofs", post(upload_proof))
        .layer(axum::extract::DefaultBodyLimit::max(
            state.max_upload_bytes * app::domain::upload::MAX_FILES + 64 * 1024,
        ))
        .route("/forms/proofs/{number}/withdraw", post(withdraw_proof))
        .route("/forms/staff/proofs/{number}/decision", post(decide_proof))
}

pub(crate) fn routes(state: &AppState) -> ApiRoutes {
    ApiRoutes {
        consented: OpenApiRouter::new()
            .routes(routes!(list_proofs))
            .routes(routes!(withdraw_proof))
            .routes(routes!(proof_file))
            .merge(
                // Up to five files of the configured size, and the form's fields.
                OpenApiRouter::new().routes(routes!(upload_proof)).layer(
                    axum::extract::DefaultBodyLimit::max(
                        state.max_upload_bytes * app::domain::upload::MAX_FILES + 64 * 1024,
                    ),
                ),
            ),
        staff: OpenApiRouter::new()
            .routes(routes!(review_queue))
            .routes(routes!(staff_proof_file))
            .routes(routes!(decide_proof)),
        ..ApiRoutes::default()
    }
}
