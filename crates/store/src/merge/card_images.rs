//! Cards built from snapshots: a merge reads every row of its records for the journal
//! anyway, so their cards come from those rows plus the names they refer to (users,
//! campaigns, segments, custom fields, organizations), instead of a second read of the
//! same rows (a third of a bulk merge's reading).

use std::collections::{BTreeSet, HashMap};

use kartoteka_domain::field::FieldType;
use kartoteka_domain::phone::PhoneType;
use kartoteka_domain::record::{EmailAddress, Phone};
use serde_json::Value;
use sqlx::{AnyConnection, Row as _};

use super::Image;
use crate::bulk_ops::push_json_ids;
use crate::cards::{Card, Children, card_from_parts};
use crate::params::Sql;
use crate::row::Cols;
use crate::{Backend, Result, StoreError};

/// A row of a snapshot's table, read by column name.
struct Row<'a> {
    columns: &'a [String],
    values: &'a [Value],
}

impl Row<'_> {
    fn get(&self, col: &str) -> Option<&Value> {
        let i = self.columns.iter().position(|c| c == col)?;
        self.values.get(i)
    }
}

fn rows<'a>(image: &'a Image, table: &str) -> Vec<Row<'a>> {
    image.tables.get(table).map_or_else(Vec::new, |t| {
        t.rows
            .iter()
            .map(|r| Row {
                columns: &t.columns,
                values: r,
            })
            .collect()
    })
}

fn int(row: &Row<'_>, col: &str) -> Option<i64> {
    row.get(col).and_then(Value::as_i64)
}

fn text(row: &Row<'_>, col: &str) -> Option<String> {
    row.get(col).and_then(Value::as_str).map(str::to_string)
}

/// The records row of an image, with the names a card joins to it.
struct RecordRow<'a> {
    row: Row<'a>,
    created_by_name: Option<String>,
    modified_by_name: Option<String>,
    organization_public_id: Option<String>,
}

impl RecordRow<'_> {
    fn value(&self, col: &str) -> Option<&Value> {
        self.row.get(col)
    }
}

impl Cols for RecordRow<'_> {
    fn opt_text(&self, col: &str) -> Result<Option<String>> {
        Ok(match col {
            "created_by_name" => self.created_by_name.clone(),
            "modified_by_name" => self.modified_by_name.clone(),
            "organization_public_id" => self.organization_public_id.clone(),
            _ => match self.value(col) {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(v) => return Err(StoreError::Corrupt(format!("{col}: {v} is not text"))),
            },
        })
    }

    fn opt_int(&self, col: &str) -> Result<Option<i64>> {
        match self.value(col) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| StoreError::Corrupt(format!("{col}: {v} is not an integer"))),
        }
    }
}

/// `SELECT <id>, <name> … WHERE <id> IN (ids)` as a map.
async fn names(
    conn: &mut AnyConnection,
    backend: Backend,
    select: &str,
    ids: &BTreeSet<i64>,
) -> Result<HashMap<i64, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<i64> = ids.iter().copied().collect();
    let mut sql = Sql::new(select);
    push_json_ids(&mut sql, backend, &ids);
    sql.push(")");
    let mut out = HashMap::new();
    for row in sql.query().fetch_all(&mut *conn).await? {
        out.insert(row.try_get::<i64, _>(0)?, row.try_get::<String, _>(1)?);
    }
    Ok(out)
}

/// Custom fields by ID: their key and type.
async fn custom_fields(
    conn: &mut AnyConnection,
    backend: Backend,
    ids: &BTreeSet<i64>,
) -> Result<HashMap<i64, (String, FieldType)>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<i64> = ids.iter().copied().collect();
    let mut sql = Sql::new("SELECT id, key, field_type FROM custom_fields WHERE id IN (");
    push_json_ids(&mut sql, backend, &ids);
    sql.push(")");
    let mut out = HashMap::new();
    for row in sql.query().fetch_all(&mut *conn).await? {
        let t: String = row.try_get(2)?;
        let t = FieldType::parse(&t).map_err(|e| StoreError::Corrupt(e.message))?;
        out.insert(row.try_get::<i64, _>(0)?, (row.try_get::<String, _>(1)?, t));
    }
    Ok(out)
}

/// The cards of the records whose images are given (as `cards::by_ids` reads them), by
/// internal ID.
pub async fn cards_of_images(
    conn: &mut AnyConnection,
    backend: Backend,
    images: &HashMap<i64, Image>,
) -> Result<HashMap<i64, Card>> {
    let (mut users, mut campaigns, mut segments, mut fields, mut orgs) = (
        BTreeSet::new(),
        BTreeSet::new(),
        BTreeSet::new(),
        BTreeSet::new(),
        BTreeSet::new(),
    );
    for image in images.values() {
        let ids = |table: &str, col: &str| -> Vec<i64> {
            rows(image, table)
                .iter()
                .filter_map(|r| int(r, col))
                .collect()
        };
        users.extend(ids("records", "created_by"));
        users.extend(ids("records", "modified_by"));
        users.extend(ids("record_managers", "user_id"));
        orgs.extend(ids("records", "organization_id"));
        campaigns.extend(ids("cases", "campaign_id"));
        segments.extend(ids("record_segments", "segment_id"));
        fields.extend(ids("custom_values", "field_id"));
    }
    let users = names(
        conn,
        backend,
        "SELECT id, username FROM users WHERE id IN (",
        &users,
    )
    .await?;
    let orgs = names(
        conn,
        backend,
        "SELECT id, public_id FROM records WHERE id IN (",
        &orgs,
    )
    .await?;
    let campaigns = names(
        conn,
        backend,
        "SELECT id, name FROM campaigns WHERE id IN (",
        &campaigns,
    )
    .await?;
    let segments = names(
        conn,
        backend,
        "SELECT id, name FROM segments WHERE id IN (",
        &segments,
    )
    .await?;
    let fields = custom_fields(conn, backend, &fields).await?;
    let mut out = HashMap::with_capacity(images.len());
    for (id, image) in images {
        let Some(record) = rows(image, "records").into_iter().next() else {
            continue;
        };
        let name_of = |col: &str, names: &HashMap<i64, String>| {
            int(&record, col).and_then(|i| names.get(&i).cloned())
        };
        let row = RecordRow {
            created_by_name: name_of("created_by", &users),
            modified_by_name: name_of("modified_by", &users),
            organization_public_id: name_of("organization_id", &orgs),
            row: record,
        };
        out.insert(
            *id,
            card_from_parts(
                &row,
                children(image, &users, &campaigns, &segments, &fields)?,
            )?,
        );
    }
    Ok(out)
}

fn children(
    image: &Image,
    users: &HashMap<i64, String>,
    campaigns: &HashMap<i64, String>,
    segments: &HashMap<i64, String>,
    fields: &HashMap<i64, (String, FieldType)>,
) -> Result<Children> {
    let missing = |what: &str, id: Option<i64>| {
        StoreError::Corrupt(format!("{what} {} of a snapshot is gone", id.unwrap_or(0)))
    };
    let mut phones = rows(image, "phones");
    phones.sort_by_key(|r| int(r, "position"));
    let mut emails = rows(image, "emails");
    emails.sort_by_key(|r| int(r, "position"));
    let mut c = Children {
        phones: phones
            .iter()
            .map(|p| Phone {
                number: text(p, "number").unwrap_or_default(),
                raw: text(p, "raw").unwrap_or_default(),
                phone_type: PhoneType::parse(&text(p, "phone_type").unwrap_or_default())
                    .unwrap_or_default(),
                extension: text(p, "extension"),
                default: int(p, "is_default").unwrap_or(0) != 0,
            })
            .collect(),
        emails: emails
            .iter()
            .map(|e| EmailAddress {
                address: text(e, "address").unwrap_or_default(),
                default: int(e, "is_default").unwrap_or(0) != 0,
            })
            .collect(),
        tags: rows(image, "record_tags")
            .iter()
            .filter_map(|r| text(r, "tag"))
            .collect(),
        ..Children::default()
    };
    // Managers, campaigns and segments as the card's joins give them (a name that is
    // gone is left out, as the join leaves it out).
    c.managers = rows(image, "record_managers")
        .iter()
        .filter_map(|r| int(r, "user_id").and_then(|u| users.get(&u).cloned()))
        .collect();
    c.campaigns = rows(image, "cases")
        .iter()
        .filter_map(|r| int(r, "campaign_id"))
        .filter_map(|g| campaigns.get(&g).map(|n| (g, n.clone())))
        .collect();
    c.segments = rows(image, "record_segments")
        .iter()
        .filter_map(|r| int(r, "segment_id"))
        .filter_map(|g| segments.get(&g).map(|n| (g, n.clone())))
        .collect();
    for v in rows(image, "custom_values") {
        let field = int(&v, "field_id");
        let Some((key, t)) = field.and_then(|f| fields.get(&f)) else {
            return Err(missing("custom field", field));
        };
        c.custom_types.insert(key.clone(), *t);
        c.custom
            .insert(key.clone(), text(&v, "value").unwrap_or_default());
    }
    Ok(c)
}
