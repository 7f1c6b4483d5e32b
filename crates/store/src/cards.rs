//! Reading records whole ("cards"): the row, its contact data, custom values, tags and
//! managers in ONE statement per batch (JSON aggregated per backend), which is what
//! identification and lists need to be fast.

use kartoteka_domain::phone::PhoneType;
use kartoteka_domain::record::{EmailAddress, Phone, RecordData, RecordKind, TEXT_FIELDS};
use serde::Deserialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};
use std::collections::{BTreeMap, HashMap};

use crate::params::Sql;
use crate::{Backend, Result, StoreError};

/// A record as stored, with everything its card shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    pub id: i64,
    pub public_id: String,
    pub kind: RecordKind,
    pub display_name: String,
    pub data: RecordData,
    pub created_at: i64,
    pub created_by: Option<String>,
    pub source: String,
    pub modified_at: i64,
    pub modified_by: Option<String>,
    pub last_contact_at: Option<i64>,
    pub version: i64,
}

fn select_sql(backend: Backend) -> String {
    let (phones, emails, custom, tags, managers) = match backend {
        Backend::Sqlite => (
            "(SELECT json_group_array(json_object('number', number, 'raw', raw, 'type', phone_type, \
             'extension', extension, 'default', is_default)) FROM (SELECT * FROM phones p \
             WHERE p.record_id = r.id ORDER BY p.position))",
            "(SELECT json_group_array(json_object('address', address, 'default', is_default)) \
             FROM (SELECT * FROM emails e WHERE e.record_id = r.id ORDER BY e.position))",
            "(SELECT json_group_object(f.key, v.value) FROM custom_values v \
             JOIN custom_fields f ON f.id = v.field_id WHERE v.record_id = r.id)",
            "(SELECT json_group_array(tag) FROM record_tags t WHERE t.record_id = r.id)",
            "(SELECT json_group_array(u.username) FROM record_managers m \
             JOIN users u ON u.id = m.user_id WHERE m.record_id = r.id)",
        ),
        Backend::Postgres => (
            "(SELECT COALESCE(json_agg(json_build_object('number', number, 'raw', raw, 'type', \
             phone_type, 'extension', extension, 'default', is_default) ORDER BY p.position), '[]')::text \
             FROM phones p WHERE p.record_id = r.id)",
            "(SELECT COALESCE(json_agg(json_build_object('address', address, 'default', is_default) \
             ORDER BY e.position), '[]')::text FROM emails e WHERE e.record_id = r.id)",
            "(SELECT COALESCE(json_object_agg(f.key, v.value), '{}')::text FROM custom_values v \
             JOIN custom_fields f ON f.id = v.field_id WHERE v.record_id = r.id)",
            "(SELECT COALESCE(json_agg(tag), '[]')::text FROM record_tags t WHERE t.record_id = r.id)",
            "(SELECT COALESCE(json_agg(u.username), '[]')::text FROM record_managers m \
             JOIN users u ON u.id = m.user_id WHERE m.record_id = r.id)",
        ),
    };
    let fields: Vec<String> = TEXT_FIELDS.iter().map(|f| format!("r.{f}")).collect();
    format!(
        "SELECT r.id, r.public_id, r.kind, r.display_name, {}, r.created_at, cu.username AS created_by_name, \
         r.source, r.modified_at, mu.username AS modified_by_name, r.last_contact_at, r.version, \
         o.public_id AS organization_public_id, {phones} AS phones_json, {emails} AS emails_json, \
         {custom} AS custom_json, {tags} AS tags_json, {managers} AS managers_json \
         FROM records r LEFT JOIN users cu ON cu.id = r.created_by \
         LEFT JOIN users mu ON mu.id = r.modified_by LEFT JOIN records o ON o.id = r.organization_id ",
        fields.join(", ")
    )
}

#[derive(Deserialize)]
struct PhoneJson {
    number: String,
    raw: String,
    #[serde(rename = "type")]
    phone_type: String,
    extension: Option<String>,
    default: i64,
}

#[derive(Deserialize)]
struct EmailJson {
    address: String,
    default: i64,
}

fn json_col<T: for<'de> Deserialize<'de> + Default>(row: &AnyRow, col: &str) -> Result<T> {
    let text: Option<String> = row.try_get(col)?;
    match text {
        Some(t) => Ok(serde_json::from_str(&t)?),
        None => Ok(T::default()),
    }
}

fn card_from_row(row: &AnyRow) -> Result<Card> {
    let mut fields = BTreeMap::new();
    for f in TEXT_FIELDS {
        if let Some(v) = row.try_get::<Option<String>, _>(f)? {
            fields.insert(f.to_string(), v);
        }
    }
    let phones: Vec<PhoneJson> = json_col(row, "phones_json")?;
    let emails: Vec<EmailJson> = json_col(row, "emails_json")?;
    let mut tags: Vec<String> = json_col(row, "tags_json")?;
    tags.sort();
    let mut managers: Vec<String> = json_col(row, "managers_json")?;
    managers.sort();
    let kind: String = row.try_get("kind")?;
    Ok(Card {
        id: row.try_get("id")?,
        public_id: row.try_get("public_id")?,
        kind: RecordKind::parse(&kind).map_err(|e| StoreError::Corrupt(e.message))?,
        display_name: row.try_get("display_name")?,
        data: RecordData {
            fields,
            phones: phones
                .into_iter()
                .map(|p| Phone {
                    number: p.number,
                    raw: p.raw,
                    phone_type: PhoneType::parse(&p.phone_type).unwrap_or_default(),
                    extension: p.extension,
                    default: p.default != 0,
                })
                .collect(),
            emails: emails
                .into_iter()
                .map(|e| EmailAddress {
                    address: e.address,
                    default: e.default != 0,
                })
                .collect(),
            custom: json_col(row, "custom_json")?,
            tags,
            managers,
            organization: row.try_get("organization_public_id")?,
        },
        created_at: row.try_get("created_at")?,
        created_by: row.try_get("created_by_name")?,
        source: row.try_get("source")?,
        modified_at: row.try_get("modified_at")?,
        modified_by: row.try_get("modified_by_name")?,
        last_contact_at: row.try_get("last_contact_at")?,
        version: row.try_get("version")?,
    })
}

/// Cards of the given internal IDs, in the order given (missing IDs are skipped).
pub async fn by_ids<'e, E>(exec: E, backend: Backend, ids: &[i64]) -> Result<Vec<Card>>
where
    E: Executor<'e, Database = Any>,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new(select_sql(backend));
    sql.push("WHERE r.id IN (");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(*id);
    }
    sql.push(")");
    let rows = sql.query().fetch_all(exec).await?;
    let mut by_id: HashMap<i64, Card> = HashMap::with_capacity(rows.len());
    for row in &rows {
        let card = card_from_row(row)?;
        by_id.insert(card.id, card);
    }
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// One card by public ID.
pub async fn by_public_id<'e, E>(exec: E, backend: Backend, public_id: &str) -> Result<Card>
where
    E: Executor<'e, Database = Any>,
{
    let mut sql = Sql::new(select_sql(backend));
    sql.push("WHERE r.public_id = ").bind(public_id);
    let row = sql
        .query()
        .fetch_optional(exec)
        .await?
        .ok_or(StoreError::NotFound)?;
    card_from_row(&row)
}

/// The condition limiting records to what an agent reaches (records with a case in a
/// campaign the agent works in), appended to `sql`; `column` holds the record's internal ID.
pub fn push_agent_scope(sql: &mut Sql, column: &str, user_id: i64) {
    sql.push(&format!(
        "{column} IN (SELECT c.record_id FROM cases c JOIN campaign_agents ca \
         ON ca.campaign_id = c.campaign_id WHERE ca.user_id = "
    ))
    .bind(user_id)
    .push(")");
}

/// Internal IDs of the records holding this E.164 number (or normalized e-mail).
pub async fn ids_by_contact<'e, E>(
    exec: E,
    phone: Option<&str>,
    email: Option<&str>,
    agent: Option<i64>,
    limit: i64,
) -> Result<Vec<i64>>
where
    E: Executor<'e, Database = Any>,
{
    let mut sql = match (phone, email) {
        (Some(p), _) => {
            let mut s = Sql::new("SELECT DISTINCT x.record_id FROM phones x WHERE x.number = ");
            s.bind(p);
            s
        }
        (None, Some(e)) => {
            let mut s =
                Sql::new("SELECT DISTINCT x.record_id FROM emails x WHERE x.address_norm = ");
            s.bind(e);
            s
        }
        (None, None) => return Ok(Vec::new()),
    };
    if let Some(user) = agent {
        sql.push(" AND ");
        push_agent_scope(&mut sql, "x.record_id", user);
    }
    sql.push(" ORDER BY x.record_id LIMIT ").bind(limit);
    let rows = sql.query().fetch_all(exec).await?;
    rows.iter()
        .map(|r| r.try_get::<i64, _>(0).map_err(StoreError::from))
        .collect()
}

/// ID and display name only (what agents get from identification).
pub async fn names<'e, E>(exec: E, ids: &[i64]) -> Result<Vec<(String, String)>>
where
    E: Executor<'e, Database = Any>,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new("SELECT public_id, display_name FROM records WHERE id IN (");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(*id);
    }
    sql.push(") ORDER BY id");
    let rows = sql.query().fetch_all(exec).await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}
