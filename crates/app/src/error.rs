//! One error type for every use case, mapped to HTTP once in the web crate.

use kartoteka_domain::Invalid;
use kartoteka_domain::record::FieldError;
use kartoteka_store::StoreError;
use serde_json::{Map, Value};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("authentication required")]
    Unauthorized,
    #[error("wrong username or password")]
    BadCredentials,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("the input is invalid")]
    Validation(Vec<FieldError>),
    #[error("{message}")]
    Conflict {
        message: String,
        details: Map<String, Value>,
    },
    /// If-Match named a version whose changes overlap the patch.
    #[error("the record changed since version {since}; these fields were changed by someone else")]
    PreconditionFailed {
        since: i64,
        current_version: i64,
        current: Map<String, Value>,
    },
    #[error("too many failed log-ins; try again in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: i64 },
    /// An upload over the configured size limit (refused while it arrives).
    #[error("{0}")]
    TooLarge(String),
    #[error("unexpected error")]
    Unexpected(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn field(field: &str, invalid: Invalid) -> AppError {
        AppError::Validation(vec![FieldError::new(field, invalid)])
    }

    pub fn invalid(field: &str, code: &'static str, message: impl Into<String>) -> AppError {
        AppError::field(field, Invalid::new(code, message))
    }

    pub fn forbidden() -> AppError {
        AppError::Forbidden("your role does not allow this".into())
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound("the item".into()),
            StoreError::Unique(m) => AppError::Conflict {
                message: "an item with this value already exists".into(),
                details: Map::from_iter([("constraint".to_string(), Value::String(m))]),
            },
            other => {
                tracing::error!(error = %other, "store error");
                AppError::Unexpected(other.to_string())
            }
        }
    }
}

impl From<kartoteka_store::SqlxError> for AppError {
    fn from(e: kartoteka_store::SqlxError) -> Self {
        AppError::from(StoreError::from(e))
    }
}
