//! A duplicate search's stored groups: saving them, listing and counting them, marking
//! them resolved by merges (and back by undo), and the names shown beside their members.

use kartoteka_domain::duplicates::Ties;
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;

use super::CHUNK;
use crate::Result;
use crate::params::{Param, Sql};

/// A stored group of a search.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredGroup {
    pub position: i64,
    pub size: i64,
    /// Public IDs, oldest first.
    pub records: Vec<String>,
    /// Criterion key → the values tying the group.
    pub ties: Ties,
    pub held: String,
    pub resolved_by: Option<i64>,
}

/// A group as its row stores it: the members and the ties as JSON texts.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRow {
    pub position: i64,
    pub size: i64,
    pub records: String,
    pub ties: String,
    /// A sortable text of the ties (their first value).
    pub tie_text: String,
    pub held: String,
}

impl GroupRow {
    pub fn of(g: &StoredGroup) -> Result<GroupRow> {
        Ok(GroupRow {
            position: g.position,
            size: g.size,
            records: serde_json::to_string(&g.records)?,
            ties: serde_json::to_string(&g.ties)?,
            tie_text: g.ties.first_value().unwrap_or_default().to_string(),
            held: g.held.clone(),
        })
    }
}

/// What a search hands its SQLite writer: groups' rows, then the end of them.
#[derive(Debug)]
pub enum GroupBatch {
    Rows(Vec<GroupRow>),
    /// Every group was sent: the writer commits.
    End,
}

/// SQLite: replaces a search's stored groups in one transaction of a rusqlite connection of
/// its own, one prepared insert reused for every group (a quarter of a million groups went
/// in several times slower as JSON rows through sqlx). The rows come in `batches` while
/// the search still builds the later ones (at 1M records it builds and writes 249k groups
/// on two threads at once); the transaction commits at `GroupBatch::End` and is rolled
/// back when the batches stop without it (the search failed). Blocking: call it off the
/// async workers.
pub fn save_groups_sqlite(
    path: &std::path::Path,
    job_id: i64,
    batches: impl IntoIterator<Item = GroupBatch>,
) -> Result<()> {
    let e = crate::fast::err;
    let started = std::time::Instant::now();
    let mut conn = rusqlite::Connection::open(path).map_err(e)?;
    // Its commit does not checkpoint (see below).
    conn.execute_batch(
        "PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
         PRAGMA wal_autocheckpoint = 0;",
    )
    .map_err(e)?;
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(e)?;
    tx.execute("DELETE FROM duplicate_groups WHERE job_id = ?1", [job_id])
        .map_err(e)?;
    let (mut ended, mut stored) = (false, 0);
    {
        // Rows go in 64 to a statement (one row at a time, binding and stepping cost as
        // much as SQLite's own insert).
        const MANY: usize = 64;
        let sql = |n: usize| {
            let one = "(?, ?, ?, ?, ?, ?, ?)";
            format!(
                "INSERT INTO duplicate_groups (job_id, position, size, records, ties, tie_text, held) VALUES {}",
                vec![one; n].join(", ")
            )
        };
        let mut many = tx.prepare(&sql(MANY)).map_err(e)?;
        let mut one = tx.prepare(&sql(1)).map_err(e)?;
        for batch in batches {
            let rows = match batch {
                GroupBatch::Rows(rows) => rows,
                GroupBatch::End => {
                    ended = true;
                    break;
                }
            };
            let mut chunks = rows.chunks_exact(MANY);
            for chunk in &mut chunks {
                bind_groups(&mut many, job_id, chunk)?;
                many.raw_execute().map_err(e)?;
            }
            for g in chunks.remainder() {
                bind_groups(&mut one, job_id, std::slice::from_ref(g))?;
                one.raw_execute().map_err(e)?;
            }
            stored += rows.len();
        }
    }
    if !ended {
        return Err(crate::StoreError::Config(
            "the duplicate search stopped before all its groups were built".into(),
        ));
    }
    let inserted = started.elapsed();
    tx.commit().map_err(e)?;
    tracing::debug!(
        groups = stored,
        inserting = inserted.as_secs_f64(),
        committing = (started.elapsed() - inserted).as_secs_f64(),
        "duplicate groups stored"
    );
    // The groups are in the WAL (~50 MB for 249k groups); they are copied back to the
    // database on a thread of its own, so that the search ends without waiting for it
    // (0.1 s at 1M records). The next short write does not wait either: while a
    // checkpoint runs, the automatic one at its commit steps aside.
    std::thread::spawn(move || {
        if let Err(err) = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE)") {
            tracing::debug!(%err, "checkpoint after storing duplicate groups");
        }
    });
    Ok(())
}

/// Binds `rows` to the placeholders of a multi-row insert, seven a row.
fn bind_groups(stmt: &mut rusqlite::Statement<'_>, job_id: i64, rows: &[GroupRow]) -> Result<()> {
    let e = crate::fast::err;
    for (i, g) in rows.iter().enumerate() {
        let at = i * 7;
        stmt.raw_bind_parameter(at + 1, job_id).map_err(e)?;
        stmt.raw_bind_parameter(at + 2, g.position).map_err(e)?;
        stmt.raw_bind_parameter(at + 3, g.size).map_err(e)?;
        stmt.raw_bind_parameter(at + 4, &g.records).map_err(e)?;
        stmt.raw_bind_parameter(at + 5, &g.ties).map_err(e)?;
        stmt.raw_bind_parameter(at + 6, &g.tie_text).map_err(e)?;
        stmt.raw_bind_parameter(at + 7, &g.held).map_err(e)?;
    }
    Ok(())
}

/// How a search's groups are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupSort {
    /// Largest first (then found order).
    Size,
    /// By the first tying value.
    Value,
    /// As found.
    Found,
}

/// Which of a search's groups to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupShow {
    All,
    /// Open groups bulk actions take.
    Ready,
    /// Open groups left for manual resolution.
    Held,
    Resolved,
}

fn push_show(sql: &mut Sql, show: GroupShow) {
    sql.push(match show {
        GroupShow::All => "",
        GroupShow::Ready => " AND held = '' AND resolved_by IS NULL",
        GroupShow::Held => " AND held <> '' AND resolved_by IS NULL",
        GroupShow::Resolved => " AND resolved_by IS NOT NULL",
    });
}

/// One page of a search's groups.
pub async fn list_groups(
    conn: &mut AnyConnection,
    job_id: i64,
    show: GroupShow,
    sort: GroupSort,
    desc: bool,
    offset: i64,
    limit: i64,
) -> Result<Vec<StoredGroup>> {
    let mut sql = Sql::new(
        "SELECT position, size, records, ties, held, resolved_by FROM duplicate_groups WHERE job_id = ",
    );
    sql.bind(job_id);
    push_show(&mut sql, show);
    let dir = if desc { "DESC" } else { "ASC" };
    sql.push(&match sort {
        GroupSort::Size => format!(" ORDER BY size {dir}, position"),
        GroupSort::Value => format!(" ORDER BY tie_text {dir}, position"),
        GroupSort::Found => format!(" ORDER BY position {dir}"),
    });
    sql.push(" LIMIT ")
        .bind(limit)
        .push(" OFFSET ")
        .bind(offset);
    let rows = sql.query().fetch_all(&mut *conn).await?;
    rows.iter().map(group_from_row).collect()
}

fn group_from_row(row: &sqlx::any::AnyRow) -> Result<StoredGroup> {
    Ok(StoredGroup {
        position: row.try_get(0)?,
        size: row.try_get(1)?,
        records: serde_json::from_str(&row.try_get::<String, _>(2)?)?,
        ties: serde_json::from_str(&row.try_get::<String, _>(3)?)?,
        held: row.try_get(4)?,
        resolved_by: row.try_get(5)?,
    })
}

/// One group of a search.
pub async fn group(conn: &mut AnyConnection, job_id: i64, position: i64) -> Result<StoredGroup> {
    let row = sqlx::query(
        "SELECT position, size, records, ties, held, resolved_by FROM duplicate_groups \
         WHERE job_id = $1 AND position = $2",
    )
    .bind(job_id)
    .bind(position)
    .fetch_one(&mut *conn)
    .await?;
    group_from_row(&row)
}

/// The number of a search's groups shown by `show`, and the records in them.
pub async fn count_groups(
    conn: &mut AnyConnection,
    job_id: i64,
    show: GroupShow,
) -> Result<(i64, i64)> {
    let mut sql = Sql::new(
        "SELECT COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM duplicate_groups WHERE job_id = ",
    );
    sql.bind(job_id);
    push_show(&mut sql, show);
    let row = sql.query().fetch_one(&mut *conn).await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

/// A search's groups of one kind: held for one reason (or `""`), resolved or open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupCount {
    pub held: String,
    pub resolved: bool,
    pub groups: i64,
    /// The records in those groups.
    pub records: i64,
}

/// A search's groups counted by why bulk actions hold them and whether they are resolved,
/// in one pass (a count per kind read a quarter of a million rows each time).
pub async fn group_counts(conn: &mut AnyConnection, job_id: i64) -> Result<Vec<GroupCount>> {
    let rows = sqlx::query(
        "SELECT held, CAST(CASE WHEN resolved_by IS NULL THEN 0 ELSE 1 END AS BIGINT), COUNT(*), \
         CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM duplicate_groups WHERE job_id = $1 \
         GROUP BY 1, 2",
    )
    .bind(job_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(GroupCount {
                held: r.try_get(0)?,
                resolved: r.try_get::<i64, _>(1)? == 1,
                groups: r.try_get(2)?,
                records: r.try_get(3)?,
            })
        })
        .collect()
}

/// Marks groups resolved: (position, operation) of search `job_id`, in one statement.
pub async fn resolve_groups(
    conn: &mut AnyConnection,
    job_id: i64,
    resolved: &[(i64, i64)],
) -> Result<()> {
    if resolved.is_empty() {
        return Ok(());
    }
    // One JSON parameter (a CASE of thousands of bound branches grew with the square of a
    // bulk transaction's groups). SQLite planned an `UPDATE … FROM (<JSON rows>)` as a scan
    // of the search's groups re-parsing the JSON for each: the rows are materialized first.
    let rows: Vec<Vec<Param>> = resolved
        .iter()
        .map(|(position, op)| vec![(*position).into(), (*op).into()])
        .collect();
    if conn.backend_name().eq_ignore_ascii_case("postgresql") {
        for mut sql in crate::params::json_update(
            "duplicate_groups",
            "position",
            &["resolved_by"],
            &rows,
            true,
        ) {
            sql.push(" AND duplicate_groups.job_id = ").bind(job_id);
            sql.query().execute(&mut *conn).await?;
        }
        return Ok(());
    }
    let mut sql = Sql::new(
        "WITH j(position, op) AS MATERIALIZED (SELECT value->>0, value->>1 FROM jsonb_each(",
    );
    sql.bind(crate::params::json_rows(&rows))
        .push(")) UPDATE duplicate_groups SET resolved_by = j.op FROM j WHERE duplicate_groups.job_id = ")
        .bind(job_id)
        .push(" AND duplicate_groups.position = j.position");
    sql.query().execute(&mut *conn).await?;
    Ok(())
}

/// Clears the resolution of groups resolved by an undone operation.
pub async fn unresolve_groups(conn: &mut AnyConnection, operation: i64) -> Result<()> {
    sqlx::query("UPDATE duplicate_groups SET resolved_by = NULL WHERE resolved_by = $1")
        .bind(operation)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Open groups bulk actions take, after position `after`, in order.
pub async fn ready_after(
    conn: &mut AnyConnection,
    job_id: i64,
    after: i64,
    limit: i64,
) -> Result<Vec<StoredGroup>> {
    let rows = sqlx::query(
        "SELECT position, size, records, ties, held, resolved_by FROM duplicate_groups \
         WHERE job_id = $1 AND position > $2 AND held = '' AND resolved_by IS NULL \
         ORDER BY position LIMIT $3",
    )
    .bind(job_id)
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(group_from_row).collect()
}

/// Display name, kind and creation time of records, by public ID.
pub async fn member_names(
    conn: &mut AnyConnection,
    public_ids: &[String],
) -> Result<HashMap<String, (String, String, i64)>> {
    let mut out = HashMap::with_capacity(public_ids.len());
    for chunk in public_ids.chunks(CHUNK) {
        let mut sql = Sql::new(
            "SELECT public_id, display_name, kind, created_at FROM records WHERE public_id IN (",
        );
        crate::bulk_ops::push_json_list(
            &mut sql,
            conn,
            serde_json::Value::from(chunk.to_vec()),
            true,
        );
        sql.push(")");
        for row in sql.query().fetch_all(&mut *conn).await? {
            out.insert(
                row.try_get(0)?,
                (row.try_get(1)?, row.try_get(2)?, row.try_get(3)?),
            );
        }
    }
    Ok(out)
}

/// Searches that ended before `before` and still keep their groups, with no bulk job
/// queued or running over them: (search job ID, its result as stored).
pub async fn searches_to_purge(
    conn: &mut AnyConnection,
    before: i64,
) -> Result<Vec<(i64, String)>> {
    let busy: Vec<i64> = sqlx::query(
        "SELECT params FROM jobs WHERE kind IN ('duplicates_merge', 'duplicates_delete') \
         AND state IN ('queued', 'running')",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .filter_map(|r| r.try_get::<String, _>(0).ok())
    .filter_map(|p| serde_json::from_str::<serde_json::Value>(&p).ok()?["search"].as_i64())
    .collect();
    let rows = sqlx::query(
        "SELECT id, result FROM jobs WHERE kind = 'duplicates_find' \
         AND state IN ('done', 'failed', 'cancelled') AND finished_at < $1 ORDER BY id",
    )
    .bind(before)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let (id, result): (i64, String) = (r.try_get(0)?, r.try_get(1)?);
        let purged = serde_json::from_str::<serde_json::Value>(&result)
            .is_ok_and(|v| v.get("purged_at").is_some());
        if !purged && !busy.contains(&id) {
            out.push((id, result));
        }
    }
    Ok(out)
}

/// Removes a search's groups, `CHUNK` positions a statement (each a short write of its
/// own, so that the writes of agents meanwhile wait little), then notes `purged_at` (ms)
/// in its result, which keeps the counts it found. Answers the groups removed.
pub async fn purge_groups(
    conn: &mut AnyConnection,
    job_id: i64,
    result: &str,
    now: i64,
) -> Result<u64> {
    let last: i64 =
        sqlx::query("SELECT COALESCE(MAX(position), 0) FROM duplicate_groups WHERE job_id = $1")
            .bind(job_id)
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
    let mut removed = 0;
    let mut from = 0;
    while from < last {
        removed += sqlx::query(
            "DELETE FROM duplicate_groups WHERE job_id = $1 AND position > $2 AND position <= $3",
        )
        .bind(job_id)
        .bind(from)
        .bind(from + CHUNK as i64)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        from += CHUNK as i64;
    }
    let mut v: serde_json::Value =
        serde_json::from_str(result).unwrap_or_else(|_| serde_json::json!({}));
    if let Some(m) = v.as_object_mut() {
        m.insert("purged_at".into(), now.into());
    }
    sqlx::query("UPDATE jobs SET result = $1 WHERE id = $2")
        .bind(v.to_string())
        .bind(job_id)
        .execute(&mut *conn)
        .await?;
    Ok(removed)
}
