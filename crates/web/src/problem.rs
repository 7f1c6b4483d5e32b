//! RFC 9457 problem details: every API error leaves through here.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kartoteka_app::AppError;
use serde_json::{Value, json};

/// An API error rendered as `application/problem+json`.
#[derive(Debug)]
pub struct Problem(pub AppError);

impl From<AppError> for Problem {
    fn from(e: AppError) -> Self {
        Problem(e)
    }
}

pub type ApiResult<T> = Result<T, Problem>;

fn body(
    status: StatusCode,
    kind: &str,
    title: &str,
    detail: String,
) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("type".into(), json!(format!("/problems/{kind}")));
    m.insert("title".into(), json!(title));
    m.insert("status".into(), json!(status.as_u16()));
    m.insert("detail".into(), json!(detail));
    m
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let detail = self.0.to_string();
        let (status, mut map, retry) = match self.0 {
            AppError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                body(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "Authentication required",
                    "log in or send an API token as Authorization: Bearer".into(),
                ),
                None,
            ),
            AppError::BadCredentials => (
                StatusCode::UNAUTHORIZED,
                body(
                    StatusCode::UNAUTHORIZED,
                    "bad-credentials",
                    "Wrong username or password",
                    detail,
                ),
                None,
            ),
            AppError::Forbidden(m) => (
                StatusCode::FORBIDDEN,
                body(StatusCode::FORBIDDEN, "forbidden", "Forbidden", m),
                None,
            ),
            AppError::NotFound(what) => (
                StatusCode::NOT_FOUND,
                body(
                    StatusCode::NOT_FOUND,
                    "not-found",
                    "Not found",
                    format!("{what} does not exist"),
                ),
                None,
            ),
            AppError::Validation(errors) => {
                let mut m = body(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation",
                    "Invalid input",
                    errors
                        .iter()
                        .map(|e| format!("{}: {}", e.field, e.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                );
                m.insert("errors".into(), json!(errors));
                (StatusCode::UNPROCESSABLE_ENTITY, m, None)
            }
            AppError::Conflict { message, details } => {
                let mut m = body(StatusCode::CONFLICT, "conflict", "Conflict", message);
                m.extend(details);
                (StatusCode::CONFLICT, m, None)
            }
            AppError::PreconditionFailed {
                current_version,
                current,
                ..
            } => {
                let mut m = body(
                    StatusCode::PRECONDITION_FAILED,
                    "edit-conflict",
                    "The record changed meanwhile",
                    detail,
                );
                m.insert("fields".into(), json!(current.keys().collect::<Vec<_>>()));
                m.insert("current".into(), Value::Object(current));
                m.insert("current_version".into(), json!(current_version));
                (StatusCode::PRECONDITION_FAILED, m, None)
            }
            AppError::TooManyRequests { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                body(
                    StatusCode::TOO_MANY_REQUESTS,
                    "throttled",
                    "Too many attempts",
                    detail,
                ),
                Some(retry_after_secs),
            ),
            AppError::TooLarge(m) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                body(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too-large",
                    "The file is too large",
                    m,
                ),
                None,
            ),
            AppError::Unexpected(cause) => {
                tracing::error!(%cause, "unexpected error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    body(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal",
                        "Internal error",
                        "something went wrong; the log has the cause".into(),
                    ),
                    None,
                )
            }
        };
        if status == StatusCode::UNAUTHORIZED {
            map.insert("status".into(), json!(401));
        }
        let mut resp = (status, Value::Object(map).to_string()).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(r) = retry.and_then(|r| HeaderValue::from_str(&r.to_string()).ok()) {
            resp.headers_mut().insert(header::RETRY_AFTER, r);
        }
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

pub async fn not_found() -> Problem {
    Problem(AppError::NotFound("this address".into()))
}
