//! The audit log: one entry per user action.

use sqlx::{Any, Executor, Row};

use crate::Result;
use crate::params::Sql;

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub user_id: Option<i64>,
    pub username: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    /// JSON: for edits `{"changes": [{field, before, after}]}`.
    pub details: String,
}

pub async fn insert<'e, E: Executor<'e, Database = Any>>(exec: E, e: &AuditEntry) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, user_id, username, action, entity, entity_id, details) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(e.at)
    .bind(e.user_id)
    .bind(&e.username)
    .bind(&e.action)
    .bind(&e.entity)
    .bind(&e.entity_id)
    .bind(&e.details)
    .execute(exec)
    .await?;
    Ok(())
}

#[derive(Debug, Default, Clone)]
pub struct AuditQuery {
    pub username: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub action: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// Entries older than this ID (paging newest first).
    pub before_id: Option<i64>,
    pub limit: i64,
}

pub async fn list<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    q: &AuditQuery,
) -> Result<Vec<AuditEntry>> {
    let mut sql = Sql::new(
        "SELECT id, at, user_id, username, action, entity, entity_id, details FROM audit_log WHERE 1 = 1",
    );
    if let Some(u) = &q.username {
        sql.push(" AND username = ").bind(u.clone());
    }
    if let Some(e) = &q.entity {
        sql.push(" AND entity = ").bind(e.clone());
    }
    if let Some(e) = &q.entity_id {
        sql.push(" AND entity_id = ").bind(e.clone());
    }
    if let Some(a) = &q.action {
        sql.push(" AND action = ").bind(a.clone());
    }
    if let Some(f) = q.from {
        sql.push(" AND at >= ").bind(f);
    }
    if let Some(t) = q.to {
        sql.push(" AND at <= ").bind(t);
    }
    if let Some(b) = q.before_id {
        sql.push(" AND id < ").bind(b);
    }
    sql.push(" ORDER BY id DESC LIMIT ").bind(q.limit);
    let rows = sql.query().fetch_all(exec).await?;
    rows.iter()
        .map(|r| {
            Ok(AuditEntry {
                id: r.try_get(0)?,
                at: r.try_get(1)?,
                user_id: r.try_get(2)?,
                username: r.try_get(3)?,
                action: r.try_get(4)?,
                entity: r.try_get(5)?,
                entity_id: r.try_get(6)?,
                details: r.try_get(7)?,
            })
        })
        .collect()
}
