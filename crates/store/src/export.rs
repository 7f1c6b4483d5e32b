//! Reading records for an export: only the columns asked for, a chunk of records at a time,
//! one statement per kind of data (whole cards cost three times as much).

use std::collections::HashMap;

use kartoteka_domain::record::TEXT_FIELDS;
use sqlx::{AnyConnection, Row};

use crate::bulk_ops::push_json_ids;
use crate::fast::SqliteReader;
use crate::params::Sql;
use crate::{Backend, Result};

/// What an export reads besides the record's own row.
pub const LISTS: [&str; 6] = [
    "phones",
    "emails",
    "tags",
    "managers",
    "campaigns",
    "segments",
];

/// One record as an export sees it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportRow {
    pub id: i64,
    pub public_id: String,
    pub kind: String,
    pub display_name: String,
    pub created_at: i64,
    pub created_by: Option<String>,
    pub source: String,
    pub modified_at: i64,
    pub last_contact_at: Option<i64>,
    /// The organization's public ID.
    pub organization: Option<String>,
    /// The text fields asked for.
    pub fields: HashMap<String, String>,
    /// `phones` (E.164), `emails`, `tags`, `managers` (usernames), `campaigns`, `segments`
    /// (names), each in its order.
    pub lists: HashMap<&'static str, Vec<String>>,
    /// Custom values by key.
    pub custom: HashMap<String, String>,
}

fn list_sql(list: &str) -> Option<&'static str> {
    Some(match list {
        "phones" => "SELECT record_id, number FROM phones WHERE record_id IN (",
        "emails" => "SELECT record_id, address FROM emails WHERE record_id IN (",
        "tags" => "SELECT record_id, tag FROM record_tags WHERE record_id IN (",
        "managers" => {
            "SELECT m.record_id, u.username FROM record_managers m JOIN users u ON u.id = m.user_id WHERE m.record_id IN ("
        }
        "campaigns" => {
            "SELECT k.record_id, g.name FROM cases k JOIN campaigns g ON g.id = k.campaign_id WHERE k.record_id IN ("
        }
        "segments" => {
            "SELECT k.record_id, g.name FROM record_segments k JOIN segments g ON g.id = k.segment_id WHERE k.record_id IN ("
        }
        _ => return None,
    })
}

fn list_order(list: &str) -> &'static str {
    match list {
        "phones" | "emails" => ") ORDER BY 1, position",
        _ => ") ORDER BY 1, 2",
    }
}

/// The statements reading an export's chunk: the records' rows (the text `fields` asked
/// for after 10 fixed columns), then each list asked for as (record, value) in order, then
/// the custom values as (record, key, value).
struct Statements {
    fields: Vec<&'static str>,
    main: Sql,
    lists: Vec<(&'static str, Sql)>,
    custom: Option<Sql>,
}

fn statements(
    backend: Backend,
    ids: &[i64],
    fields: &[String],
    lists: &[String],
    custom: &[String],
) -> Statements {
    let fields: Vec<&'static str> = TEXT_FIELDS
        .iter()
        .copied()
        .filter(|f| fields.iter().any(|x| x == f))
        .collect();
    let mut main = Sql::new(
        "SELECT r.id, r.public_id, r.kind, r.display_name, r.created_at, u.username, r.source, \
         r.modified_at, r.last_contact_at, o.public_id",
    );
    for f in &fields {
        main.push(&format!(", r.{f}"));
    }
    main.push(
        " FROM records r LEFT JOIN users u ON u.id = r.created_by \
         LEFT JOIN records o ON o.id = r.organization_id WHERE r.id IN (",
    );
    push_json_ids(&mut main, backend, ids);
    main.push(")");
    let mut list_statements = Vec::new();
    for list in LISTS.iter().filter(|l| lists.iter().any(|x| x == *l)) {
        let Some(head) = list_sql(list) else {
            continue;
        };
        let mut sql = Sql::new(head);
        push_json_ids(&mut sql, backend, ids);
        sql.push(list_order(list));
        list_statements.push((*list, sql));
    }
    let custom = (!custom.is_empty()).then(|| {
        let mut sql = Sql::new(
            "SELECT v.record_id, f.key, v.value FROM custom_values v JOIN custom_fields f ON f.id = v.field_id \
             WHERE v.record_id IN (",
        );
        push_json_ids(&mut sql, backend, ids);
        sql.push(") AND f.key IN (");
        let keys = serde_json::Value::from(custom.to_vec()).to_string();
        if backend == Backend::Postgres {
            sql.push("SELECT value FROM json_array_elements_text(")
                .bind(keys)
                .push("::json))");
        } else {
            sql.push("SELECT value FROM json_each(")
                .bind(keys)
                .push("))");
        }
        sql
    });
    Statements {
        fields,
        main,
        lists: list_statements,
        custom,
    }
}

/// The records of `ids` (in that order; missing ones skipped) with the text `fields`,
/// `lists` and `custom` keys asked for. On SQLite they are read through the fast reader,
/// off the async workers: sqlx decodes a value several times slower, and an export reads
/// millions.
pub async fn rows(
    conn: &mut AnyConnection,
    backend: Backend,
    reader: Option<&std::sync::Arc<SqliteReader>>,
    ids: &[i64],
    fields: &[String],
    lists: &[String],
    custom: &[String],
) -> Result<Vec<ExportRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let st = statements(backend, ids, fields, lists, custom);
    if let Some(reader) = reader {
        let reader = reader.clone();
        let ids = ids.to_vec();
        return tokio::task::spawn_blocking(move || rows_fast(&reader, &st, &ids))
            .await
            .map_err(|e| crate::StoreError::Config(format!("export: {e}")))?;
    }
    let mut by_id: HashMap<i64, ExportRow> = HashMap::with_capacity(ids.len());
    for r in st.main.query().fetch_all(&mut *conn).await? {
        let mut row = ExportRow {
            id: r.try_get(0)?,
            public_id: r.try_get(1)?,
            kind: r.try_get(2)?,
            display_name: r.try_get(3)?,
            created_at: r.try_get(4)?,
            created_by: r.try_get(5)?,
            source: r.try_get(6)?,
            modified_at: r.try_get(7)?,
            last_contact_at: r.try_get(8)?,
            organization: r.try_get(9)?,
            ..ExportRow::default()
        };
        for (i, f) in st.fields.iter().enumerate() {
            if let Some(v) = r.try_get::<Option<String>, _>(10 + i)? {
                row.fields.insert((*f).to_string(), v);
            }
        }
        by_id.insert(row.id, row);
    }
    for (list, sql) in &st.lists {
        for r in sql.query().fetch_all(&mut *conn).await? {
            let id: i64 = r.try_get(0)?;
            let value: String = r.try_get(1)?;
            if let Some(row) = by_id.get_mut(&id) {
                row.lists.entry(*list).or_default().push(value);
            }
        }
    }
    if let Some(sql) = &st.custom {
        for r in sql.query().fetch_all(&mut *conn).await? {
            let id: i64 = r.try_get(0)?;
            if let Some(row) = by_id.get_mut(&id) {
                row.custom.insert(r.try_get(1)?, r.try_get(2)?);
            }
        }
    }
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// [`rows`] through SQLite's fast reader (blocking).
fn rows_fast(reader: &SqliteReader, st: &Statements, ids: &[i64]) -> Result<Vec<ExportRow>> {
    let e = crate::fast::err;
    let mut by_id: HashMap<i64, ExportRow> = HashMap::with_capacity(ids.len());
    reader.each_row(&st.main, |r| {
        let mut row = ExportRow {
            id: r.get(0).map_err(e)?,
            public_id: r.get(1).map_err(e)?,
            kind: r.get(2).map_err(e)?,
            display_name: r.get(3).map_err(e)?,
            created_at: r.get(4).map_err(e)?,
            created_by: r.get(5).map_err(e)?,
            source: r.get(6).map_err(e)?,
            modified_at: r.get(7).map_err(e)?,
            last_contact_at: r.get(8).map_err(e)?,
            organization: r.get(9).map_err(e)?,
            ..ExportRow::default()
        };
        for (i, f) in st.fields.iter().enumerate() {
            if let Some(v) = r.get::<_, Option<String>>(10 + i).map_err(e)? {
                row.fields.insert((*f).to_string(), v);
            }
        }
        by_id.insert(row.id, row);
        Ok(())
    })?;
    for (list, sql) in &st.lists {
        reader.each_row(sql, |r| {
            let id: i64 = r.get(0).map_err(e)?;
            if let Some(row) = by_id.get_mut(&id) {
                row.lists
                    .entry(*list)
                    .or_default()
                    .push(r.get(1).map_err(e)?);
            }
            Ok(())
        })?;
    }
    if let Some(sql) = &st.custom {
        reader.each_row(sql, |r| {
            let id: i64 = r.get(0).map_err(e)?;
            if let Some(row) = by_id.get_mut(&id) {
                row.custom
                    .insert(r.get(1).map_err(e)?, r.get(2).map_err(e)?);
            }
            Ok(())
        })?;
    }
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}
