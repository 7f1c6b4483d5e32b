//! Reading columns by name from either driver's rows (sqlx's Any rows, and rusqlite rows on
//! SQLite's fast read path), so one function turns a row into a domain value.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, StoreError};

pub trait Cols {
    fn opt_text(&self, col: &str) -> Result<Option<String>>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>>;

    fn text(&self, col: &str) -> Result<String> {
        self.opt_text(col)?
            .ok_or_else(|| StoreError::Corrupt(format!("{col} is empty")))
    }

    fn int(&self, col: &str) -> Result<i64> {
        self.opt_int(col)?
            .ok_or_else(|| StoreError::Corrupt(format!("{col} is empty")))
    }

    /// A JSON column (absent = the type's default).
    fn json<T: for<'de> serde::Deserialize<'de> + Default>(&self, col: &str) -> Result<T> {
        match self.opt_text(col)? {
            Some(t) => Ok(serde_json::from_str(&t)?),
            None => Ok(T::default()),
        }
    }
}

impl Cols for AnyRow {
    fn opt_text(&self, col: &str) -> Result<Option<String>> {
        Ok(self.try_get(col)?)
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>> {
        Ok(self.try_get(col)?)
    }
}

impl Cols for rusqlite::Row<'_> {
    fn opt_text(&self, col: &str) -> Result<Option<String>> {
        self.get(col)
            .map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>> {
        self.get(col)
            .map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
    }
}
