//! Kartoteka's domain: records, contact data, identifiers and validators.
//! Pure types and functions: no I/O, no async, no SQL.

pub mod cell;
pub mod email;
pub mod ids;
pub mod mask;
pub mod national;
pub mod phone;
pub mod text;

/// Why a single value was refused. `code` is stable and machine-readable
/// (`invalid_checksum`, `invalid_length`, ...); `message` is for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Invalid {
    pub code: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

pub mod access;
pub mod duplicates;
pub mod field;
pub mod filter;
pub mod import;
pub mod record;
pub mod time;
