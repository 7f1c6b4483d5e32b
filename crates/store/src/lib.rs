//! All SQL of Kartoteka: schema, migrations and queries, for SQLite and PostgreSQL.

pub mod audit;
pub mod bulk;
pub mod bulk_ops;
pub mod cards;
pub mod cases;
pub mod db;
pub mod dictionaries;
pub mod downloads;
pub mod duplicates;
pub mod export;
pub mod fast;
pub mod fields;
pub mod filter;
pub mod groups;
pub mod imports;
pub mod jobs;
pub mod list;
pub mod merge;
pub mod params;
pub mod presence;
pub mod records;
mod row;
pub mod search_keys;
pub mod trigrams;
pub mod users;
pub mod views;

pub use db::{Backend, Db, Tx};
pub use sqlx::Error as SqlxError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write; the text names the constraint or column.
    #[error("already exists: {0}")]
    Unique(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Sql(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e
            && db.is_unique_violation()
        {
            return StoreError::Unique(db.message().to_string());
        }
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            e => StoreError::Sql(e),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;
