//! The message centre (R-BOOK-3): the account's notices and how many are unread.
use crate::accounts::auth::ConsentedPatient;
use crate::notices::service as notices;
use crate::state::AppState;
use crate::web::api::ApiResult;
use crate::web::api::ApiRoutes;
use crate::web::client::Lang;
use crate::web::extract::Json;
use crate::web::openapi::ErrorBody;
use app::domain::{ErrorCode, FieldError};
use app::notices::{NoticeList, NoticeView};
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use time::OffsetDateTime;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The account's notices, newest first (at most 100), in the request's language.
#[utoipa::path(get, path = "/api/v1/messages", tag = "messages",
    responses(
        (status = 200, body = NoticeList),
        (status = 401, body = ErrorBody),
    ))]
pub(crate) async fn list_messages(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    Lang(locale): Lang,
) -> ApiResult {
    Ok(Json(notices::list(&state.db, patient.id, locale).await?).into_response())
}

/// One notice; reading it marks it read.
#[utoipa::path(get, path = "/api/v1/messages/{id}", tag = "messages",
    params(("id" = i64, Path, description = "The notice")),
    responses(
        (status = 200, body = NoticeView),
        (status = 404, description = "Not this account's notice", body = ErrorBody),
    ))]
pub(crate) async fn open_message(
    State(state): State<AppState>,
    patient: ConsentedPatient,
    Lang(locale): Lang,
    Path(id): Path<i64>,
) -> ApiResult {
    match notices::open(&state.db, patient.id, id, locale, OffsetDateTime::now_utc()).await? {
        Some(m) => Ok(Json(m).into_response()),
        None => Err(FieldError::general(ErrorCode::NotFound).into()),
    }
}

pub(crate) fn routes() -> ApiRoutes {
    ApiRoutes {
        consented: OpenApiRouter::new()
            .routes(routes!(list_messages))
            .routes(routes!(open_message)),
        ..ApiRoutes::default()
    }
}
