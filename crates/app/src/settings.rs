//! Per-user interface choices (columns, widths, density, the last filter): small JSON
//! values by key.

use kartoteka_store::users;
use serde_json::Value;

use crate::{Actor, App, AppError, AppResult};

/// Keys a user may store, and the largest value accepted.
const KEYS: [&str; 2] = ["list.columns", "list.filter"];
const MAX_BYTES: usize = 16 * 1024;

impl App {
    pub async fn user_setting(&self, actor: &Actor, key: &str) -> AppResult<Option<Value>> {
        let raw = users::setting(&self.db.pool, actor.user_id, key).await?;
        Ok(raw.and_then(|r| serde_json::from_str(&r).ok()))
    }

    pub async fn put_user_setting(&self, actor: &Actor, key: &str, value: &Value) -> AppResult<()> {
        if !KEYS.contains(&key) {
            return Err(AppError::invalid(
                "key",
                "unknown_setting",
                format!("no setting {key}"),
            ));
        }
        let text = value.to_string();
        if text.len() > MAX_BYTES {
            return Err(AppError::invalid(
                "value",
                "too_long",
                "a setting holds at most 16 KB",
            ));
        }
        users::put_setting(&self.db.pool, actor.user_id, key, &text).await?;
        Ok(())
    }
}
