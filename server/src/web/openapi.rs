//! The OpenAPI 3.1 description of /api/v1, generated from the handlers' `#[utoipa::path]`
//! declarations and the request and response types themselves, served at
//! /api/v1/openapi.json. What is generic to every operation is added here once.
use app::domain::{ALL_CODES, ALL_FIELDS};
use axum::Extension;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{InfoBuilder, OpenApi, OpenApiBuilder, RefOr, Required};
use utoipa::{PartialSchema, ToSchema};

/// The serialized document, built once at start.
#[derive(Clone)]
pub struct OpenApiJson(Arc<String>);

pub fn base() -> OpenApi {
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Fuzhen patient API")
                .version("1")
                .description(Some(
                    "Registration, login and consent for Fuzhen. Authentication is the \
                     session cookie set by logging in. State-changing calls need the CSRF \
                     token (`GET /api/v1/csrf`) in `X-CSRF-Token`. Errors have one shape, \
                     `ErrorBody`; messages follow the `i18n_pref_locale` cookie or \
                     `Accept-Language` (zh-CN by default).",
                ))
                .build(),
        )
        .build()
}

/// Adds what every state-changing operation shares, then serializes the document.
pub fn finish(mut doc: OpenApi) -> OpenApiJson {
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.post,
            &mut item.put,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            add_csrf_header(op);
        }
    }
    let json = doc
        .to_json()
        .unwrap_or_else(|e| format!(r#"{{"error":"openapi: {e}"}}"#));
    OpenApiJson(Arc::new(json))
}

fn add_csrf_header(op: &mut Operation) {
    let csrf = ParameterBuilder::new()
        .name("X-CSRF-Token")
        .parameter_in(ParameterIn::Header)
        .required(Required::True)
        .description(Some(
            "From `GET /api/v1/csrf`; or the form field `csrf_token`.",
        ))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .build();
    op.parameters.get_or_insert_with(Vec::new).push(csrf);
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn document(Extension(doc): Extension<OpenApiJson>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        doc.0.as_str().to_owned(),
    )
        .into_response()
}

/// Every error: `{"error": {"code", "message", "field"}}`. The codes and fields are
/// listed from the same declarations the server uses.
pub struct ErrorBody;

impl PartialSchema for ErrorBody {
    fn schema() -> RefOr<Schema> {
        let code = ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("Stable machine code"))
            .enum_values(Some(ALL_CODES.iter().map(|c| c.as_str())));
        let field = ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .description(Some("The input at fault, if one is"))
            .enum_values(Some(
                ALL_FIELDS
                    .iter()
                    .map(|f| serde_json::Value::from(f.as_str()))
                    .chain([serde_json::Value::Null]),
            ));
        let message = ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("Localized, for people"));
        let detail = ObjectBuilder::new()
            .property("code", code)
            .required("code")
            .property("message", message)
            .required("message")
            .property("field", field)
            .required("field");
        ObjectBuilder::new()
            .property("error", detail)
            .required("error")
            .into()
    }
}

impl ToSchema for ErrorBody {}
