//! Snapshots: every row that belongs to a record, read generically from the tables
//! `RELATED` lists.

use serde_json::Value;
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;

use super::{ColType, Columns, Image, RELATED, TableRows, columns, decode};
use crate::bulk_ops::push_json_ids;
use crate::params::Sql;
use crate::{Backend, Result, StoreError};

/// Adds a row of `table` to its owner's image.
fn push_row(
    out: &mut HashMap<i64, Image>,
    owner: i64,
    table: &str,
    cols: &Columns,
    values: Vec<Value>,
) {
    let image = out.entry(owner).or_default();
    let t = image
        .tables
        .entry(table.to_string())
        .or_insert_with(|| TableRows {
            columns: cols.iter().map(|(c, _)| c.clone()).collect(),
            rows: Vec::new(),
        });
    t.rows.push(values);
}

/// A value read by the fast reader, typed as [`decode`] types it.
fn decode_sqlite(row: &rusqlite::Row<'_>, i: usize, t: ColType) -> Result<Value> {
    let e = crate::fast::err;
    Ok(match t {
        ColType::Int => row
            .get::<_, Option<i64>>(i)
            .map_err(e)?
            .map_or(Value::Null, Value::from),
        ColType::Real => row
            .get::<_, Option<f64>>(i)
            .map_err(e)?
            .map_or(Value::Null, Value::from),
        ColType::Text => row
            .get::<_, Option<String>>(i)
            .map_err(e)?
            .map_or(Value::Null, Value::from),
    })
}

/// Snapshots of the given records (those that exist), by internal ID. On SQLite, `reader`
/// (when given) reads them: call it where the reader sees what `conn` sees (outside a
/// transaction, or at the start of a `BEGIN IMMEDIATE` one that has not written yet).
pub async fn images(
    conn: &mut AnyConnection,
    backend: Backend,
    reader: Option<&std::sync::Arc<crate::fast::SqliteReader>>,
    ids: &[i64],
) -> Result<HashMap<i64, Image>> {
    let mut out: HashMap<i64, Image> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let tables: Vec<(&str, &str)> = std::iter::once(("records", "id"))
        .chain(RELATED.iter().copied())
        .collect();
    let mut statements: Vec<(&'static str, Columns, Sql)> = Vec::new();
    for (table, col) in tables {
        let cols = columns(conn, backend, table).await?;
        let list = cols
            .iter()
            .map(|(c, _)| format!("t.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut sql = if table == "case_classifiers" {
            Sql::new(format!(
                "SELECT k.record_id, {list} FROM case_classifiers t JOIN cases k ON k.id = t.case_id WHERE k.record_id IN ("
            ))
        } else {
            Sql::new(format!(
                "SELECT t.{col}, {list} FROM {table} t WHERE t.{col} IN ("
            ))
        };
        push_json_ids(&mut sql, backend, ids);
        sql.push(")");
        statements.push((table, cols, sql));
    }
    let mut referrers =
        Sql::new("SELECT organization_id, id FROM records WHERE organization_id IN (");
    push_json_ids(&mut referrers, backend, ids);
    referrers.push(")");
    match reader.filter(|_| backend == Backend::Sqlite) {
        Some(reader) => {
            let reader = reader.clone();
            out = tokio::task::spawn_blocking(move || -> Result<HashMap<i64, Image>> {
                let e = crate::fast::err;
                let mut out: HashMap<i64, Image> = HashMap::new();
                for (table, cols, sql) in &statements {
                    reader.each_row(sql, |row| {
                        let values = cols
                            .iter()
                            .enumerate()
                            .map(|(i, (_, t))| decode_sqlite(row, i + 1, *t))
                            .collect::<Result<Vec<_>>>()?;
                        push_row(&mut out, row.get(0).map_err(e)?, table, cols, values);
                        Ok(())
                    })?;
                }
                reader.each_row(&referrers, |row| {
                    let org: i64 = row.get(0).map_err(e)?;
                    if let Some(image) = out.get_mut(&org) {
                        image.referrers.push(row.get(1).map_err(e)?);
                    }
                    Ok(())
                })?;
                Ok(out)
            })
            .await
            .map_err(|e| StoreError::Config(format!("snapshots: {e}")))??;
        }
        None => {
            for (table, cols, sql) in &statements {
                for row in sql.query().fetch_all(&mut *conn).await? {
                    let values = cols
                        .iter()
                        .enumerate()
                        .map(|(i, (_, t))| decode(&row, i + 1, *t))
                        .collect::<Result<Vec<_>>>()?;
                    push_row(&mut out, row.try_get(0)?, table, cols, values);
                }
            }
            for row in referrers.query().fetch_all(&mut *conn).await? {
                let org: i64 = row.try_get(0)?;
                if let Some(image) = out.get_mut(&org) {
                    image.referrers.push(row.try_get(1)?);
                }
            }
        }
    }
    // Only records that exist have an image.
    out.retain(|_, image| image.tables.contains_key("records"));
    Ok(out)
}
