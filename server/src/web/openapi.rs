//! The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json.
use axum::Json;
use serde_json::{Value, json};

fn error_responses(codes: &[u16]) -> Value {
    let mut map = serde_json::Map::new();
    for code in codes {
        map.insert(
            code.to_string(),
            json!({ "$ref": "#/components/responses/Error" }),
        );
    }
    Value::Object(map)
}

fn op(summary: &str, body: Option<&str>, ok: (u16, Option<&str>), errors: &[u16]) -> Value {
    let mut responses = error_responses(errors);
    let ok_body = match ok.1 {
        Some(schema) => {
            json!({ "description": "OK", "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
        }
        None => json!({ "description": "OK" }),
    };
    responses[ok.0.to_string()] = ok_body;
    let mut o = json!({ "summary": summary, "responses": responses });
    if let Some(schema) = body {
        o["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } });
        o["parameters"] = json!([{ "$ref": "#/components/parameters/Csrf" }]);
    }
    o
}

pub async fn document() -> Json<Value> {
    let s = |props: Value, required: &[&str]| json!({ "type": "object", "properties": props, "required": required });
    let string = json!({ "type": "string" });
    Json(json!({
        "openapi": "3.1.0",
        "info": { "title": "Fuzhen patient API", "version": "1",
            "description": "Registration, login and consent for Fuzhen. State-changing calls need the session's CSRF token (GET /api/v1/csrf) in X-CSRF-Token. Messages follow the i18n_pref_locale cookie or Accept-Language (zh-CN default)." },
        "paths": {
            "/api/v1/csrf": { "get": op("This session's CSRF token (starts a session)", None, (200, Some("Csrf")), &[]) },
            "/api/v1/sms-codes": { "post": op("Send an SMS code (6 digits, 5 minutes, 5 tries, resend after 60 s)", Some("SendCode"), (202, Some("CodeSent")), &[400, 403, 409, 413, 415, 422, 429]) },
            "/api/v1/registrations": { "post": op("Register with real name, ID number, SMS code and the three consents; logs in", Some("Register"), (201, Some("Me")), &[400, 403, 409, 413, 415, 422, 429]) },
            "/api/v1/sessions": {
                "post": op("Log in with phone and password, or phone and SMS code", Some("Login"), (200, Some("Me")), &[400, 401, 403, 415, 422, 429]),
                "delete": op("Log out on every device", None, (204, None), &[401, 403]),
            },
            "/api/v1/sessions/current": { "delete": op("Log out", None, (204, None), &[403]) },
            "/api/v1/me": { "get": op("The logged-in patient (ID masked)", None, (200, Some("Me")), &[401, 403]) },
            "/api/v1/consents": {
                "get": op("Current texts and versions; the patient's accepted and outstanding ones", None, (200, Some("Consents")), &[]),
                "post": op("Agree to every outstanding text", Some("AcceptConsents"), (204, None), &[400, 401, 403, 409, 422]),
            },
            "/api/v1/consents/withdrawal": { "post": op("Withdraw consent (service stops)", Some("Withdraw"), (204, None), &[400, 401, 403, 422]) },
            "/api/v1/password": { "put": op("Change password (other sessions end)", Some("ChangePassword"), (204, None), &[400, 401, 403, 422]) },
            "/api/v1/password-resets": { "post": op("Reset password with an SMS code (all sessions end)", Some("ResetPassword"), (204, None), &[400, 403, 422, 429]) },
            "/api/v1/dev/sms-outbox": { "get": { "summary": "Dev mode only: SMS the console sender kept", "parameters": [{ "name": "phone", "in": "query", "required": true, "schema": string }], "responses": { "200": { "description": "OK" } } } },
        },
        "components": {
            "parameters": { "Csrf": { "name": "X-CSRF-Token", "in": "header", "required": true, "schema": string } },
            "responses": { "Error": { "description": "Error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } } },
            "schemas": {
                "Error": s(json!({ "error": s(json!({ "code": string, "message": string, "field": { "type": ["string", "null"] } }), &["code", "message", "field"]) }), &["error"]),
                "Csrf": s(json!({ "csrf_token": string }), &["csrf_token"]),
                "SendCode": s(json!({ "phone": string, "purpose": { "enum": ["register", "login", "reset_password"] } }), &["phone", "purpose"]),
                "CodeSent": s(json!({ "resend_after_secs": { "type": "integer" }, "expires_in_secs": { "type": "integer" } }), &[]),
                "ConsentGiven": s(json!({ "document": { "enum": ["service_agreement", "informed_consent", "sensitive_info"] }, "version": string }), &["document", "version"]),
                "Register": s(json!({ "phone": string, "code": string, "password": string, "real_name": string, "id_number": string,
                    "consents": { "type": "array", "items": { "$ref": "#/components/schemas/ConsentGiven" } } }), &["phone", "code", "password", "real_name", "id_number", "consents"]),
                "Login": s(json!({ "phone": string, "password": string, "code": string }), &["phone"]),
                "Me": s(json!({ "patient": { "type": "object" }, "consents_outstanding": { "type": "array" }, "csrf_token": string }), &["patient"]),
                "Consents": s(json!({ "current": { "type": "array" }, "accepted": { "type": "array" }, "outstanding": { "type": "array" } }), &["current"]),
                "AcceptConsents": s(json!({ "consents": { "type": "array", "items": { "$ref": "#/components/schemas/ConsentGiven" } } }), &["consents"]),
                "Withdraw": s(json!({ "confirm": { "type": "boolean" } }), &["confirm"]),
                "ChangePassword": s(json!({ "current_password": string, "new_password": string }), &["current_password", "new_password"]),
                "ResetPassword": s(json!({ "phone": string, "code": string, "new_password": string }), &["phone", "code", "new_password"]),
            }
        }
    }))
}
