//! Writing and reading the audit log (reading is for administrators).

use kartoteka_domain::time::now_ms;
use kartoteka_store::audit::{self, AuditEntry, AuditQuery};
use serde_json::Value;
use sqlx::AnyConnection;

use crate::{Actor, App, AppError, AppResult};

/// Writes one entry inside the caller's transaction.
pub async fn record(
    conn: &mut AnyConnection,
    actor: &Actor,
    action: &str,
    entity: &str,
    entity_id: Option<&str>,
    details: Value,
) -> AppResult<()> {
    audit::insert(
        &mut *conn,
        &AuditEntry {
            id: 0,
            at: now_ms(),
            user_id: (actor.user_id > 0).then_some(actor.user_id),
            username: actor.username.clone(),
            action: action.into(),
            entity: entity.into(),
            entity_id: entity_id.map(str::to_string),
            details: details.to_string(),
        },
    )
    .await?;
    Ok(())
}

impl App {
    pub async fn audit_log(&self, actor: &Actor, query: AuditQuery) -> AppResult<Vec<AuditEntry>> {
        if !actor.may_administer() {
            return Err(AppError::Forbidden(
                "the audit log is for administrators".into(),
            ));
        }
        Ok(audit::list(&self.db.pool, &query).await?)
    }
}
