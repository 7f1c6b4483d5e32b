//! Reading records for an export: only the columns asked for, a chunk of records at a time,
//! one statement per kind of data (whole cards cost three times as much).

use std::collections::HashMap;

use kartoteka_domain::record::TEXT_FIELDS;
use sqlx::{AnyConnection, Row};

use crate::bulk_ops::push_json_ids;
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

/// The records of `ids` (in that order; missing ones skipped) with the text `fields`,
/// `lists` and `custom` keys asked for.
pub async fn rows(
    conn: &mut AnyConnection,
    backend: Backend,
    ids: &[i64],
    fields: &[String],
    lists: &[String],
    custom: &[String],
) -> Result<Vec<ExportRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let fields: Vec<&str> = TEXT_FIELDS
        .iter()
        .copied()
        .filter(|f| fields.iter().any(|x| x == f))
        .collect();
    let mut sql = Sql::new(
        "SELECT r.id, r.public_id, r.kind, r.display_name, r.created_at, u.username, r.source, \
         r.modified_at, r.last_contact_at, o.public_id",
    );
    for f in &fields {
        sql.push(&format!(", r.{f}"));
    }
    sql.push(
        " FROM records r LEFT JOIN users u ON u.id = r.created_by \
         LEFT JOIN records o ON o.id = r.organization_id WHERE r.id IN (",
    );
    push_json_ids(&mut sql, backend, ids);
    sql.push(")");
    let mut by_id: HashMap<i64, ExportRow> = HashMap::with_capacity(ids.len());
    for r in sql.query().fetch_all(&mut *conn).await? {
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
        for (i, f) in fields.iter().enumerate() {
            if let Some(v) = r.try_get::<Option<String>, _>(10 + i)? {
                row.fields.insert((*f).to_string(), v);
            }
        }
        by_id.insert(row.id, row);
    }
    for list in LISTS.iter().filter(|l| lists.iter().any(|x| x == *l)) {
        let Some(head) = list_sql(list) else {
            continue;
        };
        let mut sql = Sql::new(head);
        push_json_ids(&mut sql, backend, ids);
        sql.push(list_order(list));
        for r in sql.query().fetch_all(&mut *conn).await? {
            let id: i64 = r.try_get(0)?;
            let value: String = r.try_get(1)?;
            if let Some(row) = by_id.get_mut(&id) {
                row.lists.entry(list).or_default().push(value);
            }
        }
    }
    if !custom.is_empty() {
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
        for r in sql.query().fetch_all(&mut *conn).await? {
            let id: i64 = r.try_get(0)?;
            if let Some(row) = by_id.get_mut(&id) {
                row.custom.insert(r.try_get(1)?, r.try_get(2)?);
            }
        }
    }
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}
