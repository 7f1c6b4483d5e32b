//! Durable jobs: rows claimed by a worker, resumable from their cursor.

use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Executor, Row};

use crate::{Backend, Db, Result, StoreError};

#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    /// queued, running, done, failed, cancelled.
    pub state: String,
    pub params: String,
    /// How far the job got: the index of the next item to do.
    pub cursor: i64,
    pub done: i64,
    pub total: i64,
    pub result: String,
    pub error: Option<String>,
    pub cancel_requested: bool,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

/// Every column but `params` (which may hold millions of IDs): `get_with_params` reads it.
const COLS: &str = "id, kind, state, cursor, done, total, result, error, cancel_requested, created_by, \
                    created_at, started_at, finished_at";

fn from_row(r: &AnyRow) -> Result<Job> {
    Ok(Job {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        state: r.try_get("state")?,
        params: r.try_get("params").unwrap_or_default(),
        cursor: r.try_get("cursor")?,
        done: r.try_get("done")?,
        total: r.try_get("total")?,
        result: r.try_get("result")?,
        error: r.try_get("error")?,
        cancel_requested: r.try_get::<i64, _>("cancel_requested")? != 0,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
    })
}

pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    kind: &str,
    params: &str,
    total: i64,
    created_by: Option<i64>,
    now: i64,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO jobs (kind, state, params, total, created_by, created_at) VALUES ($1, 'queued', $2, $3, $4, $5) RETURNING id",
    )
    .bind(kind)
    .bind(params)
    .bind(total)
    .bind(created_by)
    .bind(now)
    .fetch_one(exec)
    .await?;
    Ok(row.try_get(0)?)
}

pub async fn get<'e, E: Executor<'e, Database = Any>>(exec: E, id: i64) -> Result<Job> {
    let sql = format!("SELECT {COLS} FROM jobs WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(exec)
        .await?;
    row.as_ref()
        .map(from_row)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

/// A job with its parameters (to run it).
pub async fn get_with_params<'e, E: Executor<'e, Database = Any>>(exec: E, id: i64) -> Result<Job> {
    let sql = format!("SELECT {COLS}, params FROM jobs WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(exec)
        .await?;
    row.as_ref()
        .map(from_row)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

pub async fn list<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    created_by: Option<i64>,
    limit: i64,
) -> Result<Vec<Job>> {
    let rows = match created_by {
        Some(u) => {
            let sql =
                format!("SELECT {COLS} FROM jobs WHERE created_by = $1 ORDER BY id DESC LIMIT $2");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(u)
                .bind(limit)
                .fetch_all(exec)
                .await?
        }
        None => {
            let sql = format!("SELECT {COLS} FROM jobs ORDER BY id DESC LIMIT $1");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(limit)
                .fetch_all(exec)
                .await?
        }
    };
    rows.iter().map(from_row).collect()
}

/// Claims the oldest queued job, or a running one whose worker stopped beating (a restart or
/// a kill), and marks it running.
pub async fn claim(db: &Db, now: i64, stale_before: i64) -> Result<Option<Job>> {
    claim_where(db, now, stale_before, None).await
}

/// Claims job `id` when it is waiting (or its worker stopped beating): the command line
/// runs its own job in-process unless a server's worker took it first.
pub async fn claim_one(db: &Db, id: i64, now: i64, stale_before: i64) -> Result<Option<Job>> {
    claim_where(db, now, stale_before, Some(id)).await
}

async fn claim_where(
    db: &Db,
    now: i64,
    stale_before: i64,
    only: Option<i64>,
) -> Result<Option<Job>> {
    let mut tx = db.begin_write().await?;
    let lock = if db.backend == Backend::Postgres {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "SELECT id FROM jobs WHERE (state = 'queued' OR (state = 'running' AND heartbeat_at < $1)) AND ($2 IS NULL OR id = $2) ORDER BY id LIMIT 1{lock}"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(stale_before)
        .bind(only)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else {
        tx.rollback().await?;
        return Ok(None);
    };
    let id: i64 = row.try_get(0)?;
    sqlx::query("UPDATE jobs SET state = 'running', started_at = COALESCE(started_at, $1), heartbeat_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let job = get_with_params(&mut *tx, id).await?;
    tx.commit().await?;
    Ok(Some(job))
}

/// Moves a job's cursor, with its count done and result ($1 … $5: cursor, done, result,
/// now, job).
pub const ADVANCE: &str =
    "UPDATE jobs SET cursor = $1, done = $2, result = $3, heartbeat_at = $4 WHERE id = $5";

/// Moves the job's cursor with the writes of the chunk it just did (same transaction).
pub async fn advance(
    conn: &mut AnyConnection,
    id: i64,
    cursor: i64,
    done: i64,
    result: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(ADVANCE)
        .bind(cursor)
        .bind(done)
        .bind(result)
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn finish<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    id: i64,
    state: &str,
    error: Option<&str>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE jobs SET state = $1, error = $2, finished_at = $3, heartbeat_at = $3 WHERE id = $4",
    )
    .bind(state)
    .bind(error)
    .bind(now)
    .bind(id)
    .execute(exec)
    .await?;
    Ok(())
}

pub async fn request_cancel<'e, E: Executor<'e, Database = Any>>(exec: E, id: i64) -> Result<()> {
    sqlx::query(
        "UPDATE jobs SET cancel_requested = 1 WHERE id = $1 AND state IN ('queued', 'running')",
    )
    .bind(id)
    .execute(exec)
    .await?;
    Ok(())
}

/// Notes records a job changed (inside the chunk's transaction).
pub async fn items<'e, E: Executor<'e, Database = Any>>(exec: E, id: i64) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT record_public_id FROM job_items WHERE job_id = $1 ORDER BY record_public_id",
    )
    .bind(id)
    .fetch_all(exec)
    .await?;
    rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
}

/// Jobs of one kind (of one creator when given), newest first.
pub async fn list_of_kind<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    kind: &str,
    created_by: Option<i64>,
    limit: i64,
) -> Result<Vec<Job>> {
    let sql = format!(
        "SELECT {COLS} FROM jobs WHERE kind = $1 AND ($2 IS NULL OR created_by = $2) ORDER BY id DESC LIMIT $3"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(kind)
        .bind(created_by)
        .bind(limit)
        .fetch_all(exec)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Sets how many items the job has (known only once it has looked at its input).
pub async fn set_total<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    id: i64,
    total: i64,
) -> Result<()> {
    sqlx::query("UPDATE jobs SET total = $1 WHERE id = $2")
        .bind(total)
        .bind(id)
        .execute(exec)
        .await?;
    Ok(())
}

/// Replaces a finished job's result (e.g. an import marked as reverted).
pub async fn set_result<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    id: i64,
    result: &str,
) -> Result<()> {
    sqlx::query("UPDATE jobs SET result = $1 WHERE id = $2")
        .bind(result)
        .bind(id)
        .execute(exec)
        .await?;
    Ok(())
}

/// Does a queued or running import read upload `id`?
pub async fn uses_upload<'e, E: Executor<'e, Database = Any>>(exec: E, id: i64) -> Result<bool> {
    let row = sqlx::query(
        "SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running') AND kind IN ('import', 'import_dry_run') AND params LIKE $1",
    )
    .bind(format!("{{\"upload\":{id},%"))
    .fetch_one(exec)
    .await?;
    Ok(row.try_get::<i64, _>(0)? > 0)
}
