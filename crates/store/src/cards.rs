//! Reading records whole ("cards"): the row, its contact data, custom values, tags and
//! managers in ONE statement per batch (JSON aggregated per backend), which is what
//! identification and lists need to be fast.

use kartoteka_domain::field::FieldType;
use kartoteka_domain::phone::PhoneType;
use kartoteka_domain::record::{EmailAddress, Phone, RecordData, RecordKind, TEXT_FIELDS};
use serde::Deserialize;
use sqlx::{Any, Executor, Row};
use std::collections::{BTreeMap, HashMap};

use crate::params::Sql;
use crate::row::Cols;
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
    /// The type of each custom value's field.
    pub custom_types: BTreeMap<String, FieldType>,
    /// (ID, name) of the campaigns it has a case in, and of its segments.
    pub campaigns: Vec<(i64, String)>,
    pub segments: Vec<(i64, String)>,
}

/// The record's campaigns and segments as JSON arrays of `[id, name]`, per backend.
fn groups_sql(backend: Backend) -> (&'static str, &'static str) {
    match backend {
        Backend::Sqlite => (
            "(SELECT json_group_array(json_array(g.id, g.name)) FROM cases k JOIN campaigns g ON g.id = k.campaign_id \
             WHERE k.record_id = r.id)",
            "(SELECT json_group_array(json_array(g.id, g.name)) FROM record_segments k JOIN segments g ON g.id = k.segment_id \
             WHERE k.record_id = r.id)",
        ),
        Backend::Postgres => (
            "(SELECT COALESCE(json_agg(json_build_array(g.id, g.name)), '[]')::text FROM cases k \
             JOIN campaigns g ON g.id = k.campaign_id WHERE k.record_id = r.id)",
            "(SELECT COALESCE(json_agg(json_build_array(g.id, g.name)), '[]')::text FROM record_segments k \
             JOIN segments g ON g.id = k.segment_id WHERE k.record_id = r.id)",
        ),
    }
}

pub(crate) fn select_sql(backend: Backend) -> String {
    let (phones, emails, custom, tags, managers) = match backend {
        Backend::Sqlite => (
            "(SELECT json_group_array(json_object('number', number, 'raw', raw, 'type', phone_type, \
             'extension', extension, 'default', is_default)) FROM (SELECT * FROM phones p \
             WHERE p.record_id = r.id ORDER BY p.position))",
            "(SELECT json_group_array(json_object('address', address, 'default', is_default)) \
             FROM (SELECT * FROM emails e WHERE e.record_id = r.id ORDER BY e.position))",
            "(SELECT json_group_object(f.key, json_array(f.field_type, v.value)) FROM custom_values v \
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
            "(SELECT COALESCE(json_object_agg(f.key, json_build_array(f.field_type, v.value)), '{}')::text FROM custom_values v \
             JOIN custom_fields f ON f.id = v.field_id WHERE v.record_id = r.id)",
            "(SELECT COALESCE(json_agg(tag), '[]')::text FROM record_tags t WHERE t.record_id = r.id)",
            "(SELECT COALESCE(json_agg(u.username), '[]')::text FROM record_managers m \
             JOIN users u ON u.id = m.user_id WHERE m.record_id = r.id)",
        ),
    };
    let (campaigns, segments) = groups_sql(backend);
    format!(
        "SELECT {}, {phones} AS phones_json, {emails} AS emails_json, {custom} AS custom_json, \
         {tags} AS tags_json, {managers} AS managers_json, {campaigns} AS campaigns_json, \
         {segments} AS segments_json {FROM_RECORDS}",
        base_columns()
    )
}

const FROM_RECORDS: &str = "FROM records r LEFT JOIN users cu ON cu.id = r.created_by \
     LEFT JOIN users mu ON mu.id = r.modified_by LEFT JOIN records o ON o.id = r.organization_id ";

/// The records row's own columns of a card.
fn base_columns() -> String {
    let fields: Vec<String> = TEXT_FIELDS.iter().map(|f| format!("r.{f}")).collect();
    format!(
        "r.id, r.public_id, r.kind, r.display_name, {}, r.created_at, cu.username AS created_by_name, \
         r.source, r.modified_at, mu.username AS modified_by_name, r.last_contact_at, r.version, \
         o.public_id AS organization_public_id",
        fields.join(", ")
    )
}

/// The card's records row alone (the fast path reads the children with statements of their own).
pub(crate) fn base_select_sql() -> String {
    format!("SELECT {} {FROM_RECORDS}", base_columns())
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

/// What hangs off a card's records row.
#[derive(Default)]
pub(crate) struct Children {
    pub phones: Vec<Phone>,
    pub emails: Vec<EmailAddress>,
    pub custom: BTreeMap<String, String>,
    pub custom_types: BTreeMap<String, FieldType>,
    pub tags: Vec<String>,
    pub managers: Vec<String>,
    pub campaigns: Vec<(i64, String)>,
    pub segments: Vec<(i64, String)>,
}

fn children_from_json<R: Cols>(row: &R) -> Result<Children> {
    let phones: Vec<PhoneJson> = row.json("phones_json")?;
    let emails: Vec<EmailJson> = row.json("emails_json")?;
    let typed: BTreeMap<String, (String, String)> = row.json("custom_json")?;
    let mut c = Children {
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
        tags: row.json("tags_json")?,
        managers: row.json("managers_json")?,
        campaigns: row.json("campaigns_json")?,
        segments: row.json("segments_json")?,
        ..Children::default()
    };
    for (key, (t, value)) in typed {
        c.custom_types.insert(
            key.clone(),
            FieldType::parse(&t).map_err(|e| StoreError::Corrupt(e.message))?,
        );
        c.custom.insert(key, value);
    }
    Ok(c)
}

pub(crate) fn card_from_row<R: Cols>(row: &R) -> Result<Card> {
    card_from_parts(row, children_from_json(row)?)
}

pub(crate) fn card_from_parts<R: Cols>(row: &R, mut children: Children) -> Result<Card> {
    let mut fields = BTreeMap::new();
    for f in TEXT_FIELDS {
        if let Some(v) = row.opt_text(f)? {
            fields.insert(f.to_string(), v);
        }
    }
    children.tags.sort();
    children.managers.sort();
    children.campaigns.sort_by(|a, b| a.1.cmp(&b.1));
    children.segments.sort_by(|a, b| a.1.cmp(&b.1));
    let Children {
        phones,
        emails,
        custom,
        custom_types,
        tags,
        managers,
        campaigns,
        segments,
    } = children;
    Ok(Card {
        id: row.int("id")?,
        public_id: row.text("public_id")?,
        kind: RecordKind::parse(&row.text("kind")?).map_err(|e| StoreError::Corrupt(e.message))?,
        display_name: row.text("display_name")?,
        data: RecordData {
            fields,
            phones,
            emails,
            custom,
            tags,
            managers,
            organization: row.opt_text("organization_public_id")?,
        },
        created_at: row.int("created_at")?,
        created_by: row.opt_text("created_by_name")?,
        source: row.text("source")?,
        modified_at: row.int("modified_at")?,
        modified_by: row.opt_text("modified_by_name")?,
        last_contact_at: row.opt_int("last_contact_at")?,
        version: row.int("version")?,
        custom_types,
        campaigns,
        segments,
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
    // The IDs as one JSON parameter: sqlx binds thousands of parameters slowly.
    sql.push("WHERE r.id IN (");
    crate::bulk_ops::push_json_ids(&mut sql, backend, ids);
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

/// `WHERE` condition: records holding this E.164 number or normalized e-mail.
pub(crate) fn push_contact_match(sql: &mut Sql, phone: Option<&str>, email: Option<&str>) {
    match (phone, email) {
        (Some(p), _) => {
            sql.push("r.id IN (SELECT x.record_id FROM phones x WHERE x.number = ")
                .bind(p)
                .push(")");
        }
        (None, Some(e)) => {
            sql.push("r.id IN (SELECT x.record_id FROM emails x WHERE x.address_norm = ")
                .bind(e)
                .push(")");
        }
        (None, None) => {
            sql.push("1 = 0");
        }
    }
}

/// Cards of the records holding this E.164 number (or normalized e-mail), in one statement.
pub async fn by_contact<'e, E>(
    exec: E,
    backend: Backend,
    phone: Option<&str>,
    email: Option<&str>,
    limit: i64,
) -> Result<Vec<Card>>
where
    E: Executor<'e, Database = Any>,
{
    let mut sql = Sql::new(select_sql(backend));
    sql.push("WHERE ");
    push_contact_match(&mut sql, phone, email);
    sql.push(" ORDER BY r.id LIMIT ").bind(limit);
    let rows = sql.query().fetch_all(exec).await?;
    rows.iter().map(card_from_row).collect()
}

/// Public ID and display name of the records holding this number or e-mail (what agents get).
pub async fn names_by_contact<'e, E>(
    exec: E,
    phone: Option<&str>,
    email: Option<&str>,
    limit: i64,
) -> Result<Vec<(String, String)>>
where
    E: Executor<'e, Database = Any>,
{
    let mut sql = Sql::new("SELECT r.public_id, r.display_name FROM records r WHERE ");
    push_contact_match(&mut sql, phone, email);
    sql.push(" ORDER BY r.id LIMIT ").bind(limit);
    let rows = sql.query().fetch_all(exec).await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// Public ID and display name of the records whose `pesel`, `nip` or `external_id` column
/// holds `value` (stored normalized), oldest first.
pub async fn names_by_identifier<'e, E>(
    exec: E,
    column: &str,
    value: &str,
    limit: i64,
) -> Result<Vec<(String, String)>>
where
    E: Executor<'e, Database = Any>,
{
    let column = match column {
        "pesel" => "pesel",
        "nip" => "nip",
        "external_id" => "external_id",
        other => return Err(StoreError::Config(format!("no identifier column {other}"))),
    };
    let mut sql = Sql::new(format!(
        "SELECT r.public_id, r.display_name FROM records r WHERE r.{column} = "
    ));
    sql.bind(value).push(" ORDER BY r.id LIMIT ").bind(limit);
    let rows = sql.query().fetch_all(exec).await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

impl crate::Db {
    /// Cards of the records holding this number or e-mail (SQLite's fast path when open).
    pub async fn cards_by_contact(
        &self,
        phone: Option<&str>,
        email: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Card>> {
        match &self.reader {
            Some(r) => r.cards_by_contact(phone, email, limit),
            None => by_contact(&self.pool, self.backend, phone, email, limit).await,
        }
    }

    /// ID and display name of the records holding this number or e-mail.
    pub async fn names_by_contact(
        &self,
        phone: Option<&str>,
        email: Option<&str>,
        limit: i64,
    ) -> Result<Vec<(String, String)>> {
        match &self.reader {
            Some(r) => r.names_by_contact(phone, email, limit),
            None => names_by_contact(&self.pool, phone, email, limit).await,
        }
    }

    /// One card by public ID.
    pub async fn card(&self, public_id: &str) -> Result<Card> {
        match &self.reader {
            Some(r) => r.card_by_public_id(public_id)?.ok_or(StoreError::NotFound),
            None => by_public_id(&self.pool, self.backend, public_id).await,
        }
    }
}

/// A case of a record, as its card lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseLine {
    pub campaign: String,
    pub status: Option<String>,
    pub last_classifier: Option<String>,
    pub attempts: i64,
}

/// A record related to another: its organization, its people, or a labelled relation.
#[derive(Debug, Clone, PartialEq)]
pub struct RelatedLine {
    pub public_id: String,
    pub display_name: String,
    /// `organization`, `person` (of an organization) or the relation's label.
    pub relation: String,
}

pub async fn cases_of<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    record_id: i64,
) -> Result<Vec<CaseLine>> {
    let rows = sqlx::query(
        "SELECT c.name, k.status, k.last_classifier, k.attempts FROM cases k JOIN campaigns c ON c.id = k.campaign_id \
         WHERE k.record_id = $1 ORDER BY c.name",
    )
    .bind(record_id)
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CaseLine {
                campaign: r.try_get(0)?,
                status: r.try_get(1)?,
                last_classifier: r.try_get(2)?,
                attempts: r.try_get(3)?,
            })
        })
        .collect()
}

pub async fn related_of<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    record_id: i64,
    limit: i64,
) -> Result<Vec<RelatedLine>> {
    let rows = sqlx::query(
        "SELECT o.public_id, o.display_name, 'organization' FROM records r JOIN records o ON o.id = r.organization_id WHERE r.id = $1 \
         UNION ALL SELECT p.public_id, p.display_name, 'person' FROM records p WHERE p.organization_id = $1 \
         UNION ALL SELECT x.public_id, x.display_name, l.label FROM record_relations l JOIN records x ON x.id = l.other_id WHERE l.record_id = $1 \
         UNION ALL SELECT x.public_id, x.display_name, l.label FROM record_relations l JOIN records x ON x.id = l.record_id WHERE l.other_id = $1 \
         LIMIT $2",
    )
    .bind(record_id)
    .bind(limit)
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(RelatedLine {
                public_id: r.try_get(0)?,
                display_name: r.try_get(1)?,
                relation: r.try_get(2)?,
            })
        })
        .collect()
}
