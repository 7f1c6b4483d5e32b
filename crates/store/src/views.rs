//! Saved views of the record list: a named filter (and sort), private or shared.

use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use crate::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct SavedView {
    pub id: i64,
    pub owner_id: i64,
    pub owner: String,
    pub name: String,
    /// The filter as JSON (SPEC "Filter model").
    pub filter: String,
    pub sort: Option<String>,
    pub shared: bool,
    pub modified_at: i64,
}

const SELECT: &str = "SELECT v.id, v.owner_id, u.display_name, v.name, v.filter, v.sort, v.shared, \
                      v.modified_at FROM saved_views v JOIN users u ON u.id = v.owner_id";

fn from_row(r: &AnyRow) -> Result<SavedView> {
    Ok(SavedView {
        id: r.try_get(0)?,
        owner_id: r.try_get(1)?,
        owner: r.try_get(2)?,
        name: r.try_get(3)?,
        filter: r.try_get(4)?,
        sort: r.try_get(5)?,
        shared: r.try_get::<i64, _>(6)? != 0,
        modified_at: r.try_get(7)?,
    })
}

/// The views a user sees: their own and the shared ones, by name.
pub async fn visible<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    user: i64,
) -> Result<Vec<SavedView>> {
    let sql = format!("{SELECT} WHERE v.owner_id = $1 OR v.shared = 1 ORDER BY v.name, v.id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(user)
        .fetch_all(exec)
        .await?;
    rows.iter().map(from_row).collect()
}

pub async fn get<'e, E: Executor<'e, Database = Any>>(exec: E, id: i64) -> Result<SavedView> {
    let sql = format!("{SELECT} WHERE v.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(exec)
        .await?;
    row.as_ref()
        .map(from_row)
        .transpose()?
        .ok_or(crate::StoreError::NotFound)
}

/// Saves a view; a view of the same owner and name is replaced. Returns its ID.
pub async fn save<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    owner: i64,
    name: &str,
    filter: &str,
    sort: Option<&str>,
    shared: bool,
    now: i64,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO saved_views (owner_id, name, filter, sort, shared, created_at, modified_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (owner_id, name) DO UPDATE SET \
         filter = excluded.filter, sort = excluded.sort, shared = excluded.shared, \
         modified_at = excluded.modified_at RETURNING id",
    )
    .bind(owner)
    .bind(name)
    .bind(filter)
    .bind(sort)
    .bind(shared as i64)
    .bind(now)
    .fetch_one(exec)
    .await?;
    Ok(row.try_get(0)?)
}

pub async fn delete<'e, E: Executor<'e, Database = Any>>(exec: E, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM saved_views WHERE id = $1")
        .bind(id)
        .execute(exec)
        .await?;
    Ok(())
}
