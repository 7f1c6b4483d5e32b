//! Files made for a user to download (exports, failed rows of an import), kept until they
//! expire.

use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use crate::{Result, StoreError};

#[derive(Debug, Clone, PartialEq)]
pub struct Download {
    pub id: i64,
    pub user_id: Option<i64>,
    pub job_id: Option<i64>,
    pub file_name: String,
    pub path: String,
    pub size: i64,
    pub rows: i64,
    pub created_at: i64,
    pub expires_at: i64,
}

fn from_row(r: &AnyRow) -> Result<Download> {
    Ok(Download {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        job_id: r.try_get("job_id")?,
        file_name: r.try_get("file_name")?,
        path: r.try_get("path")?,
        size: r.try_get("size")?,
        rows: r.try_get("rows")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
    })
}

pub async fn insert<'e, E: Executor<'e, Database = Any>>(exec: E, d: &Download) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO downloads (user_id, job_id, file_name, path, size, rows, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(d.user_id)
    .bind(d.job_id)
    .bind(&d.file_name)
    .bind(&d.path)
    .bind(d.size)
    .bind(d.rows)
    .bind(d.created_at)
    .bind(d.expires_at)
    .fetch_one(exec)
    .await?;
    Ok(row.try_get(0)?)
}

pub async fn get<'e, E: Executor<'e, Database = Any>>(exec: E, id: i64) -> Result<Download> {
    let row = sqlx::query("SELECT * FROM downloads WHERE id = $1")
        .bind(id)
        .fetch_optional(exec)
        .await?;
    row.as_ref()
        .map(from_row)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

/// A user's downloads (all users' with `None`) that have not expired, newest first.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    user: Option<i64>,
    now: i64,
) -> Result<Vec<Download>> {
    let rows = sqlx::query(
        "SELECT * FROM downloads WHERE ($1 IS NULL OR user_id = $1) AND expires_at > $2 ORDER BY id DESC LIMIT 200",
    )
    .bind(user)
    .bind(now)
    .fetch_all(exec)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The downloads of a job.
pub async fn of_job<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    job: i64,
) -> Result<Vec<Download>> {
    let rows = sqlx::query("SELECT * FROM downloads WHERE job_id = $1 ORDER BY id")
        .bind(job)
        .fetch_all(exec)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Removes the rows of expired downloads and answers them (their files go next).
pub async fn take_expired<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    now: i64,
) -> Result<Vec<Download>> {
    let rows = sqlx::query("DELETE FROM downloads WHERE expires_at <= $1 RETURNING *")
        .bind(now)
        .fetch_all(exec)
        .await?;
    rows.iter().map(from_row).collect()
}
