//! Errors as HTTP answers: the one place where application errors become status codes. Every
//! error body is JSON: `{"code": …, "message": …, "field": …}`.

use poem::http::StatusCode;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};

use crate::error::AppError;

/// An error body.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct Problem {
    /// A stable machine-readable code: `invalid`, `unauthorized`, `forbidden`, `not_found`,
    /// `conflict`, `unavailable`, `method_not_allowed`, `payload_too_large`.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
    /// The request field at fault (JSON key, query or path parameter), when there is one.
    pub field: Option<String>,
}

/// The error answers of the API.
#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// The request is invalid; `field` names what is wrong.
    #[oai(status = 400)]
    BadRequest(Json<Problem>),
    /// Missing or wrong credentials (the same answer for an unknown probe and a wrong token).
    #[oai(status = 401)]
    Unauthorized(Json<Problem>),
    /// Not allowed (disabled probe, another probe's connection).
    #[oai(status = 403)]
    Forbidden(Json<Problem>),
    /// Not found.
    #[oai(status = 404)]
    NotFound(Json<Problem>),
    /// Conflicts with the current state.
    #[oai(status = 409)]
    Conflict(Json<Problem>),
    /// The database is unavailable.
    #[oai(status = 503)]
    Unavailable(Json<Problem>),
}

/// snake_case → camelCase, for field names in JSON answers.
pub fn camel(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut upper = false;
    for c in field.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn problem(code: &str, message: impl Into<String>, field: Option<String>) -> Json<Problem> {
    Json(Problem {
        code: code.to_owned(),
        message: message.into(),
        field,
    })
}

/// The canonical 401 body.
pub fn unauthorized() -> ApiError {
    ApiError::Unauthorized(problem(
        "unauthorized",
        "missing or invalid bearer token",
        None,
    ))
}

impl From<AppError> for ApiError {
    /// The status and code come from the error table ([`AppError::status`], [`AppError::code`]);
    /// this only words the message for API clients.
    fn from(e: AppError) -> Self {
        e.log("API request failed");
        let code = e.code();
        let body = match &e {
            AppError::Invalid { field, message } => {
                let field = camel(field);
                problem(code, format!("{field}: {message}"), Some(field))
            }
            AppError::Unauthorized => return unauthorized(),
            AppError::Unavailable { .. } => problem(code, "the database is unavailable", None),
            AppError::NotFound { .. } | AppError::Conflict(_) | AppError::Forbidden(_) => {
                problem(code, e.to_string(), None)
            }
        };
        match e.status() {
            400 => ApiError::BadRequest(body),
            403 => ApiError::Forbidden(body),
            404 => ApiError::NotFound(body),
            409 => ApiError::Conflict(body),
            _ => ApiError::Unavailable(body),
        }
    }
}

/// Turns errors raised by poem itself (unknown route, wrong method, malformed query or body,
/// missing bearer) into the same JSON shape.
pub fn from_poem_error(err: &poem::Error) -> poem::Response {
    let status = err.status();
    let (code, message, field) = match status {
        StatusCode::UNAUTHORIZED => (
            "unauthorized",
            "missing or invalid bearer token".to_owned(),
            None,
        ),
        StatusCode::NOT_FOUND => ("not_found", "no such route".to_owned(), None),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "method not allowed on this route".to_owned(),
            None,
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", err.to_string(), None),
        s if s.is_client_error() => {
            let text = err.to_string();
            // poem-openapi names parameters as `failed to parse parameter `name`: …`.
            let field = text
                .split('`')
                .nth(1)
                .filter(|_| text.contains("parameter"))
                .map(str::to_owned);
            ("invalid", text, field)
        }
        _ => ("unavailable", "internal error".to_owned(), None),
    };
    let body = serde_json::json!({ "code": code, "message": message, "field": field });
    poem::Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .body(body.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn camel_case() {
        assert_eq!(super::camel("tests_per_day"), "testsPerDay");
        assert_eq!(super::camel("name"), "name");
        assert_eq!(
            super::camel("max_packet_loss_percent"),
            "maxPacketLossPercent"
        );
    }
}
