//! What hangs off a record, for merges and their undo: snapshots of every row that belongs
//! to a record (taken generically from the tables `RELATED` lists), restoring them, moving
//! a removed record's links to the record it merged into, and the operations journal.
//!
//! A new table keyed by record must be listed in `RELATED` (snapshotted, restored, and
//! either moved by `move_links` or deleted with the record) or in `NOT_SNAPSHOT` with a
//! reason: a test reads the schema's foreign keys and fails on any table listed nowhere.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{AnyConnection, Row};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use crate::bulk_ops::push_json_ids;
use crate::params::{Param, Sql};
use crate::{Backend, Result, StoreError};

mod card_images;
mod images;
mod links;
pub use card_images::cards_of_images;
pub use images::images;
pub use links::{Pair, move_links};

/// Tables whose rows belong to a record: (table, the column naming the record). Rows of a
/// removed record are snapshotted and restored by undo. `case_classifiers` belong through
/// their case.
pub const RELATED: &[(&str, &str)] = &[
    ("record_field_changes", "record_id"),
    ("phones", "record_id"),
    ("emails", "record_id"),
    ("custom_values", "record_id"),
    ("record_tags", "record_id"),
    ("record_managers", "record_id"),
    ("record_segments", "record_id"),
    ("record_relations", "record_id"),
    ("record_relations", "other_id"),
    ("cases", "record_id"),
    ("case_classifiers", "case_id"),
];

/// Columns referring to records that merges deliberately leave alone, with why.
pub const NOT_SNAPSHOT: &[(&str, &str, &str)] = &[
    (
        "records",
        "organization_id",
        "people of a merged organization move to the main record and back (`referrers`)",
    ),
    (
        "import_items",
        "record_id",
        "an import's journal: its revert skips records merged away",
    ),
];

/// Every row belonging to one record, as stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Image {
    /// Table name → its rows (`records` holds the record's own row).
    pub tables: BTreeMap<String, TableRows>,
    /// Records whose organization this record is.
    #[serde(default)]
    pub referrers: Vec<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableRows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl Image {
    /// A value of the record's own row.
    pub fn record_value(&self, column: &str) -> Option<&Value> {
        let t = self.tables.get("records")?;
        let i = t.columns.iter().position(|c| c == column)?;
        t.rows.first()?.get(i)
    }

    /// When each field last changed (from `record_field_changes`).
    pub fn field_changes(&self) -> BTreeMap<String, i64> {
        let mut out = BTreeMap::new();
        if let Some(t) = self.tables.get("record_field_changes") {
            let f = t.columns.iter().position(|c| c == "field");
            let a = t.columns.iter().position(|c| c == "changed_at");
            if let (Some(f), Some(a)) = (f, a) {
                for row in &t.rows {
                    if let (Some(Value::String(k)), Some(at)) =
                        (row.get(f), row.get(a).and_then(Value::as_i64))
                    {
                        out.insert(k.clone(), at);
                    }
                }
            }
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColType {
    Int,
    Real,
    Text,
}

type Columns = Vec<(String, ColType)>;

static COLUMNS: Mutex<Option<HashMap<(bool, String), Columns>>> = Mutex::new(None);

fn col_type(declared: &str) -> ColType {
    let d = declared.to_ascii_lowercase();
    if d.contains("int") {
        ColType::Int
    } else if d.contains("double") || d.contains("real") || d.contains("float") {
        ColType::Real
    } else {
        ColType::Text
    }
}

/// A table's columns and their types, read from the schema once per process and backend.
async fn columns(conn: &mut AnyConnection, backend: Backend, table: &str) -> Result<Columns> {
    let key = (backend == Backend::Postgres, table.to_string());
    if let Some(c) = COLUMNS
        .lock()
        .map_err(|_| StoreError::Corrupt("column cache poisoned".into()))?
        .as_ref()
        .and_then(|m| m.get(&key))
    {
        return Ok(c.clone());
    }
    let sql = match backend {
        Backend::Sqlite => "SELECT name, type FROM pragma_table_info($1) ORDER BY cid",
        Backend::Postgres => {
            "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_name = $1 AND table_schema = current_schema() ORDER BY ordinal_position"
        }
    };
    let rows = sqlx::query(sql).bind(table).fetch_all(&mut *conn).await?;
    let cols: Columns = rows
        .iter()
        .map(|r| {
            Ok((
                r.try_get::<String, _>(0)?,
                col_type(&r.try_get::<String, _>(1)?),
            ))
        })
        .collect::<Result<_>>()?;
    if cols.is_empty() {
        return Err(StoreError::Corrupt(format!("no table {table}")));
    }
    COLUMNS
        .lock()
        .map_err(|_| StoreError::Corrupt("column cache poisoned".into()))?
        .get_or_insert_with(HashMap::new)
        .insert(key, cols.clone());
    Ok(cols)
}

fn decode(row: &sqlx::any::AnyRow, i: usize, t: ColType) -> Result<Value> {
    Ok(match t {
        ColType::Int => row
            .try_get::<Option<i64>, _>(i)?
            .map_or(Value::Null, Value::from),
        ColType::Real => row
            .try_get::<Option<f64>, _>(i)?
            .map_or(Value::Null, Value::from),
        ColType::Text => row
            .try_get::<Option<String>, _>(i)?
            .map_or(Value::Null, Value::from),
    })
}

fn param(v: &Value, t: ColType) -> Param {
    match t {
        ColType::Int => Param::Int(v.as_i64()),
        ColType::Real => Param::Real(v.as_f64()),
        ColType::Text => Param::Text(v.as_str().map(str::to_string)),
    }
}

/// Inserts an image's rows: its record's own row (it comes back with its internal ID) when
/// `record`, the rows hanging off it when `children`. Restore every record's row before any
/// children (relations join restored records). Rows already there are skipped.
pub async fn restore(
    conn: &mut AnyConnection,
    backend: Backend,
    image: &Image,
    record: bool,
    children: bool,
) -> Result<()> {
    let order = std::iter::once("records").chain(RELATED.iter().map(|(t, _)| *t));
    let mut done: Vec<&str> = Vec::new();
    for table in order {
        let wanted = if table == "records" { record } else { children };
        if done.contains(&table) || !wanted {
            continue;
        }
        done.push(table);
        let Some(rows) = image.tables.get(table) else {
            continue;
        };
        let cols = columns(conn, backend, table).await?;
        let types: Vec<ColType> = rows
            .columns
            .iter()
            .map(|c| {
                cols.iter()
                    .find(|(n, _)| n == c)
                    .map(|(_, t)| *t)
                    .ok_or_else(|| StoreError::Corrupt(format!("{table}.{c} is gone")))
            })
            .collect::<Result<_>>()?;
        for row in &rows.rows {
            if table == "record_relations" && !relation_ends_exist(conn, &rows.columns, row).await?
            {
                continue;
            }
            let mut sql = Sql::new(format!(
                "INSERT INTO {table} ({}) VALUES (",
                rows.columns.join(", ")
            ));
            for (i, (v, t)) in row.iter().zip(&types).enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(param(v, *t));
            }
            sql.push(") ON CONFLICT DO NOTHING");
            sql.query().execute(&mut *conn).await?;
        }
    }
    Ok(())
}

/// Whether both records a snapshotted relation joins exist (a later merge may have removed
/// one of them).
async fn relation_ends_exist(
    conn: &mut AnyConnection,
    columns: &[String],
    row: &[Value],
) -> Result<bool> {
    for end in ["record_id", "other_id"] {
        let id = columns
            .iter()
            .position(|c| c == end)
            .and_then(|i| row.get(i))
            .and_then(Value::as_i64);
        let Some(id) = id else {
            return Ok(false);
        };
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM records WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        if n == 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Rewrites a record's own row from its image (every column but the ID).
pub async fn restore_row(
    conn: &mut AnyConnection,
    backend: Backend,
    id: i64,
    image: &Image,
) -> Result<()> {
    let Some(rows) = image.tables.get("records") else {
        return Err(StoreError::Corrupt("snapshot without its record".into()));
    };
    let Some(row) = rows.rows.first() else {
        return Err(StoreError::Corrupt("snapshot without its record".into()));
    };
    let cols = columns(conn, backend, "records").await?;
    let mut sql = Sql::new("UPDATE records SET ");
    let mut first = true;
    for (c, v) in rows.columns.iter().zip(row) {
        if c == "id" {
            continue;
        }
        let Some((_, t)) = cols.iter().find(|(n, _)| n == c) else {
            continue;
        };
        if !first {
            sql.push(", ");
        }
        first = false;
        sql.push(c).push(" = ").bind(param(v, *t));
    }
    sql.push(" WHERE id = ").bind(id);
    sql.query().execute(&mut *conn).await?;
    Ok(())
}

/// Deletes every row belonging to a record in the `RELATED` tables (not the record).
pub async fn clear_related(conn: &mut AnyConnection, id: i64) -> Result<()> {
    for (table, col) in RELATED {
        if *table == "case_classifiers" {
            continue; // with their cases
        }
        let sql = format!("DELETE FROM {table} WHERE {col} = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Points records back at the organization they had before a merge (if still re-pointed).
pub async fn restore_referrers(
    conn: &mut AnyConnection,
    backend: Backend,
    org: i64,
    from: i64,
    ids: &[i64],
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::new("UPDATE records SET organization_id = ");
    sql.bind(org)
        .push(" WHERE organization_id = ")
        .bind(from)
        .push(" AND id IN (");
    push_json_ids(&mut sql, backend, ids);
    sql.push(")");
    sql.query().execute(&mut *conn).await?;
    Ok(())
}

/// Deletes records (their rows go with them).
pub async fn delete_records(conn: &mut AnyConnection, backend: Backend, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::new("DELETE FROM records WHERE id IN (");
    push_json_ids(&mut sql, backend, ids);
    sql.push(")");
    sql.query().execute(&mut *conn).await?;
    Ok(())
}

/// What changed on a record (its memberships and cases, which its version does not cover)
/// after `at`: the reasons an undo cannot restore it as it was.
pub async fn changed_after(conn: &mut AnyConnection, id: i64, at: i64) -> Result<Vec<String>> {
    let checks: [(&str, &str); 3] = [
        (
            "SELECT COUNT(*) FROM cases WHERE record_id = $1 AND modified_at > $2",
            "cases",
        ),
        (
            "SELECT COUNT(*) FROM case_classifiers c JOIN cases k ON k.id = c.case_id \
             WHERE k.record_id = $1 AND c.at > $2",
            "case_classifiers",
        ),
        (
            "SELECT COUNT(*) FROM record_segments WHERE record_id = $1 AND added_at > $2",
            "segments",
        ),
    ];
    let mut out = Vec::new();
    for (sql, what) in checks {
        let n: i64 = sqlx::query(sql)
            .bind(id)
            .bind(at)
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        if n > 0 {
            out.push(what.to_string());
        }
    }
    Ok(out)
}

/// One merge or duplicate delete, as journaled.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub id: i64,
    pub job_id: Option<i64>,
    /// `merge` or `delete`.
    pub action: String,
    pub at: i64,
    pub user_id: Option<i64>,
    pub username: String,
    pub main_record_id: Option<i64>,
    pub main_public_id: String,
    /// The main record's version right after the operation.
    pub main_version: Option<i64>,
    /// Public IDs of the removed records.
    pub removed: Vec<String>,
    pub summary: Value,
    pub undone_at: Option<i64>,
    pub undone_by: Option<String>,
    pub purged_at: Option<i64>,
}

/// What undo restores: the main record before (merges only) and each removed record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub main: Option<Image>,
    pub removed: Vec<Image>,
}

/// Operations journaled by one statement at most (11 parameters each).
const OPERATIONS_PER_STATEMENT: usize = 64;

/// Journals operations; answers their IDs in the order given. Each operation's main
/// record must differ from the others' (the returned rows are matched by it).
pub async fn insert_operations(
    conn: &mut AnyConnection,
    ops: &[(Operation, Snapshot)],
) -> Result<Vec<i64>> {
    let mut rows: Vec<Vec<Param>> = Vec::with_capacity(ops.len());
    for (op, snapshot) in ops {
        rows.push(vec![
            op.job_id.into(),
            op.action.clone().into(),
            op.at.into(),
            op.user_id.into(),
            op.username.clone().into(),
            op.main_record_id.into(),
            op.main_public_id.clone().into(),
            op.main_version.into(),
            serde_json::to_string(&op.removed)?.into(),
            op.summary.to_string().into(),
            serde_json::to_string(snapshot)?.into(),
        ]);
    }
    let mut ids: HashMap<i64, i64> = HashMap::with_capacity(ops.len());
    // Bound values, not JSON rows: a snapshot (4 KB) escaped into a JSON parameter was
    // parsed and unescaped out of it again (the journal's INSERT was a third of a bulk
    // merge's JSON work).
    for mut s in crate::params::values_insert(
        "merge_operations",
        &[
            "job_id",
            "action",
            "at",
            "user_id",
            "username",
            "main_record_id",
            "main_public_id",
            "main_version",
            "removed",
            "summary",
            "snapshot",
        ],
        &rows,
        OPERATIONS_PER_STATEMENT,
    ) {
        s.push(" RETURNING id, main_record_id");
        for row in s.query().fetch_all(&mut *conn).await? {
            let main: Option<i64> = row.try_get(1)?;
            ids.insert(main.unwrap_or_default(), row.try_get(0)?);
        }
    }
    ops.iter()
        .map(|(op, _)| {
            ids.get(&op.main_record_id.unwrap_or_default())
                .copied()
                .ok_or_else(|| StoreError::Corrupt("journaled operation not returned".into()))
        })
        .collect()
}

const OP_COLUMNS: &str = "id, job_id, action, at, user_id, username, main_record_id, main_public_id, \
     main_version, removed, summary, undone_at, undone_by, purged_at";

fn op_from_row(row: &sqlx::any::AnyRow) -> Result<Operation> {
    Ok(Operation {
        id: row.try_get(0)?,
        job_id: row.try_get(1)?,
        action: row.try_get(2)?,
        at: row.try_get(3)?,
        user_id: row.try_get(4)?,
        username: row.try_get(5)?,
        main_record_id: row.try_get(6)?,
        main_public_id: row.try_get(7)?,
        main_version: row.try_get(8)?,
        removed: serde_json::from_str(&row.try_get::<String, _>(9)?)?,
        summary: serde_json::from_str(&row.try_get::<String, _>(10)?)?,
        undone_at: row.try_get(11)?,
        undone_by: row.try_get(12)?,
        purged_at: row.try_get(13)?,
    })
}

/// One operation (with its snapshot unless purged), locked for update on PostgreSQL.
pub async fn operation(
    conn: &mut AnyConnection,
    backend: Backend,
    id: i64,
) -> Result<(Operation, Option<Snapshot>)> {
    let lock = if backend == Backend::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    let sql = format!("SELECT {OP_COLUMNS}, snapshot FROM merge_operations WHERE id = $1{lock}");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    let snapshot = match row.try_get::<Option<String>, _>(14)? {
        Some(s) => Some(serde_json::from_str(&s)?),
        None => None,
    };
    Ok((op_from_row(&row)?, snapshot))
}

/// Operations, newest first; those of one job or naming one record when given.
pub async fn operations(
    conn: &mut AnyConnection,
    job: Option<i64>,
    record: Option<&str>,
    limit: i64,
) -> Result<Vec<Operation>> {
    let mut sql = Sql::new(format!(
        "SELECT {OP_COLUMNS} FROM merge_operations WHERE 1 = 1"
    ));
    if let Some(j) = job {
        sql.push(" AND job_id = ").bind(j);
    }
    if let Some(r) = record {
        sql.push(" AND (main_public_id = ")
            .bind(r)
            .push(" OR removed LIKE ")
            .bind(format!("%\"{r}\"%"))
            .push(")");
    }
    sql.push(" ORDER BY id DESC LIMIT ").bind(limit);
    let rows = sql.query().fetch_all(&mut *conn).await?;
    rows.iter().map(op_from_row).collect()
}

/// Marks an operation undone.
pub async fn mark_undone(conn: &mut AnyConnection, id: i64, at: i64, by: &str) -> Result<()> {
    sqlx::query(
        "UPDATE merge_operations SET undone_at = $1, undone_by = $2, snapshot = NULL WHERE id = $3",
    )
    .bind(at)
    .bind(by)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Drops the snapshots of operations older than `before`; answers how many.
pub async fn purge_snapshots(conn: &mut AnyConnection, before: i64, now: i64) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE merge_operations SET snapshot = NULL, purged_at = $1 \
         WHERE at < $2 AND snapshot IS NOT NULL",
    )
    .bind(now)
    .bind(before)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

/// The operations a job made.
pub async fn operation_ids_of_job(conn: &mut AnyConnection, job: i64) -> Result<Vec<i64>> {
    let rows = sqlx::query("SELECT id FROM merge_operations WHERE job_id = $1 ORDER BY id")
        .bind(job)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
}

/// Locks records for a merge (PostgreSQL; SQLite's write transaction holds the database).
pub async fn lock_ids(conn: &mut AnyConnection, backend: Backend, ids: &[i64]) -> Result<()> {
    if backend != Backend::Postgres || ids.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::new("SELECT id FROM records WHERE id IN (");
    push_json_ids(&mut sql, backend, ids);
    sql.push(") ORDER BY id FOR UPDATE");
    sql.query().fetch_all(&mut *conn).await?;
    Ok(())
}
