//! Imports: uploaded files, match-key lookups, the journal a revert reads, failed rows.

use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Executor, Row};

use crate::Result;
use crate::bulk_ops::push_json_list;
use crate::params::{Param, Sql, json_insert};

/// A file uploaded for import.
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    pub id: i64,
    pub file_name: String,
    /// Where the file lies (absolute, or relative to the server's working directory).
    pub path: String,
    pub size: i64,
    pub format: String,
    pub csv_encoding: Option<String>,
    pub csv_delimiter: Option<String>,
    /// JSON list of sheet names.
    pub sheets: String,
    pub uploaded_by: Option<i64>,
    pub uploaded_at: i64,
}

fn upload_from(r: &AnyRow) -> Result<Upload> {
    Ok(Upload {
        id: r.try_get("id")?,
        file_name: r.try_get("file_name")?,
        path: r.try_get("path")?,
        size: r.try_get("size")?,
        format: r.try_get("format")?,
        csv_encoding: r.try_get("csv_encoding")?,
        csv_delimiter: r.try_get("csv_delimiter")?,
        sheets: r.try_get("sheets")?,
        uploaded_by: r.try_get("uploaded_by")?,
        uploaded_at: r.try_get("uploaded_at")?,
    })
}

pub async fn insert_upload<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    u: &Upload,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO uploads (file_name, path, size, format, csv_encoding, csv_delimiter, sheets, uploaded_by, uploaded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(&u.file_name)
    .bind(&u.path)
    .bind(u.size)
    .bind(&u.format)
    .bind(&u.csv_encoding)
    .bind(&u.csv_delimiter)
    .bind(&u.sheets)
    .bind(u.uploaded_by)
    .bind(u.uploaded_at)
    .fetch_one(exec)
    .await?;
    Ok(row.try_get(0)?)
}

pub async fn upload<'e, E: Executor<'e, Database = Any>>(exec: E, id: i64) -> Result<Upload> {
    let row = sqlx::query("SELECT * FROM uploads WHERE id = $1")
        .bind(id)
        .fetch_optional(exec)
        .await?;
    row.as_ref()
        .map(upload_from)
        .transpose()?
        .ok_or(crate::StoreError::NotFound)
}

/// Uploads older than `before` (their files are removed by the caller).
pub async fn stale_uploads<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    before: i64,
) -> Result<Vec<Upload>> {
    let rows = sqlx::query("SELECT * FROM uploads WHERE uploaded_at < $1")
        .bind(before)
        .fetch_all(exec)
        .await?;
    rows.iter().map(upload_from).collect()
}

pub async fn delete_upload<'e, E: Executor<'e, Database = Any>>(exec: E, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM uploads WHERE id = $1")
        .bind(id)
        .execute(exec)
        .await?;
    Ok(())
}

/// The records holding each of `values` under a match key (`phone`, `email`,
/// `external_id`, `pesel`, `nip`), as (value, record ID) pairs.
pub async fn lookup(
    conn: &mut AnyConnection,
    key: &str,
    values: &[String],
) -> Result<Vec<(String, i64)>> {
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let (column, id, table) = match key {
        "phone" => ("number", "record_id", "phones"),
        "email" => ("address_norm", "record_id", "emails"),
        "external_id" => ("external_id", "id", "records"),
        "pesel" => ("pesel", "id", "records"),
        "nip" => ("nip", "id", "records"),
        _ => return Err(crate::StoreError::Config(format!("no match key {key}"))),
    };
    let mut sql = Sql::new(format!(
        "SELECT {column}, {id} FROM {table} WHERE {column} IN ("
    ));
    push_json_list(
        &mut sql,
        conn,
        serde_json::Value::from(values.to_vec()),
        true,
    );
    sql.push(")");
    let rows = sql.query().fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
        .collect()
}

/// One entry of an import's journal.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub record_id: i64,
    /// `created` or `updated`.
    pub action: String,
    /// For `updated`: what the import changed (JSON).
    pub undo: Option<String>,
}

/// Journals what an import did; a record already journalled by this import keeps its
/// first entry (created stays created; the first update holds the values before it).
/// A table an import journals into: each row once (`key` is its primary key, and a row
/// already there is left as it is).
pub struct Journal {
    pub table: &'static str,
    pub cols: &'static [&'static str],
    pub key: &'static str,
}

/// What an import did to each record (its revert reads it).
pub const ITEMS: Journal = Journal {
    table: "import_items",
    cols: &["job_id", "record_id", "action", "undo"],
    key: "job_id, record_id",
};

/// The rows an import could not take.
pub const FAILURES: Journal = Journal {
    table: "import_failures",
    cols: &["job_id", "row_number", "cells", "errors"],
    key: "job_id, row_number",
};

/// `ITEMS` rows of `items`.
pub fn item_rows(job: i64, items: &[Item]) -> Vec<Vec<Param>> {
    items
        .iter()
        .map(|i| {
            vec![
                job.into(),
                i.record_id.into(),
                i.action.clone().into(),
                i.undo.clone().into(),
            ]
        })
        .collect()
}

/// `FAILURES` rows of `failures`.
pub fn failure_rows(job: i64, failures: &[Failure]) -> Vec<Vec<Param>> {
    failures
        .iter()
        .map(|f| {
            vec![
                job.into(),
                f.row_number.into(),
                f.cells.clone().into(),
                f.errors.clone().into(),
            ]
        })
        .collect()
}

pub async fn note_items(conn: &mut AnyConnection, job: i64, items: &[Item]) -> Result<()> {
    insert_new(conn, &ITEMS, &item_rows(job, items)).await
}

/// Inserts `rows`, leaving out those whose key is there already.
async fn insert_new(
    conn: &mut AnyConnection,
    journal: &Journal,
    rows: &[Vec<Param>],
) -> Result<()> {
    let postgres = conn.backend_name().eq_ignore_ascii_case("postgresql");
    for mut s in json_insert(journal.table, journal.cols, rows, postgres) {
        s.push(&format!(" ON CONFLICT ({}) DO NOTHING", journal.key));
        s.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// The journal of an import, by record ID after `after`, at most `limit` entries.
pub async fn items<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    job: i64,
    after: i64,
    limit: i64,
) -> Result<Vec<Item>> {
    let rows = sqlx::query(
        "SELECT record_id, action, undo FROM import_items WHERE job_id = $1 AND record_id > $2 ORDER BY record_id LIMIT $3",
    )
    .bind(job)
    .bind(after)
    .bind(limit)
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Item {
                record_id: r.try_get(0)?,
                action: r.try_get(1)?,
                undo: r.try_get(2)?,
            })
        })
        .collect()
}

/// How many records an import created and updated (journal counts).
pub async fn item_counts<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    job: i64,
) -> Result<(i64, i64)> {
    let row = sqlx::query(
        "SELECT COALESCE(SUM(CASE WHEN action = 'created' THEN 1 ELSE 0 END), 0), \
                COALESCE(SUM(CASE WHEN action = 'updated' THEN 1 ELSE 0 END), 0) \
         FROM import_items WHERE job_id = $1",
    )
    .bind(job)
    .fetch_one(exec)
    .await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

/// A row an import could not take.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub row_number: i64,
    /// JSON list of the row's cells as text.
    pub cells: String,
    /// JSON list of `{column, header, value, code, message}`.
    pub errors: String,
}

pub async fn note_failures(conn: &mut AnyConnection, job: i64, failures: &[Failure]) -> Result<()> {
    insert_new(conn, &FAILURES, &failure_rows(job, failures)).await
}

/// Failed rows of an import after row `after`, at most `limit`, in row order.
pub async fn failures<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    job: i64,
    after: i64,
    limit: i64,
) -> Result<Vec<Failure>> {
    let rows = sqlx::query(
        "SELECT row_number, cells, errors FROM import_failures WHERE job_id = $1 AND row_number > $2 ORDER BY row_number LIMIT $3",
    )
    .bind(job)
    .bind(after)
    .bind(limit)
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Failure {
                row_number: r.try_get(0)?,
                cells: r.try_get(1)?,
                errors: r.try_get(2)?,
            })
        })
        .collect()
}
