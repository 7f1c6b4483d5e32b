//! Writing records: the row, its contact data and values, and per-field change tracking.

use kartoteka_domain::record::{RecordData, RecordKind, TEXT_FIELDS};
use kartoteka_domain::text::sort_key;
use sqlx::{AnyConnection, Row};
use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::params::{Param, Sql, json_insert};
use crate::{Backend, Result, StoreError};

/// Most parameters one statement may carry on either backend.
pub const MAX_PARAMS: usize = 30_000;

/// What the records row holds besides the field values.
pub struct RowMeta<'a> {
    pub display_name: &'a str,
    pub organization_id: Option<i64>,
    pub at: i64,
    pub by: Option<i64>,
}

/// Collation keys of the default sort: last name (an organization's name for organizations)
/// and first name.
pub fn sort_keys(kind: RecordKind, data: &RecordData, display_name: &str) -> (String, String) {
    let last = match kind {
        RecordKind::Person => data.field("last_name").unwrap_or(display_name),
        RecordKind::Organization => display_name,
    };
    (
        sort_key(last),
        sort_key(data.field("first_name").unwrap_or_default()),
    )
}

fn text_params(data: &RecordData) -> impl Iterator<Item = Param> + '_ {
    TEXT_FIELDS.iter().map(|f| Param::from(data.field(f)))
}

/// Inserts the records row; returns its internal ID.
pub async fn insert(
    conn: &mut AnyConnection,
    public_id: &str,
    kind: RecordKind,
    data: &RecordData,
    meta: &RowMeta<'_>,
    source: &str,
) -> Result<i64> {
    let (sort_last, sort_first) = sort_keys(kind, data, meta.display_name);
    let cols = [
        &["public_id", "kind"][..],
        &TEXT_FIELDS[..],
        &[
            "display_name",
            "organization_id",
            "created_at",
            "created_by",
            "source",
            "modified_at",
            "modified_by",
            "version",
            "sort_last",
            "sort_first",
        ][..],
        &crate::search_keys::COLUMNS[..],
    ]
    .concat();
    let mut sql = Sql::new(format!(
        "INSERT INTO records ({}) VALUES (",
        cols.join(", ")
    ));
    let mut values: Vec<Param> = vec![public_id.into(), kind.as_str().into()];
    values.extend(text_params(data));
    values.extend([
        meta.display_name.into(),
        meta.organization_id.into(),
        meta.at.into(),
        meta.by.into(),
        source.into(),
        meta.at.into(),
        meta.by.into(),
        1.into(),
        sort_last.into(),
        sort_first.into(),
    ]);
    values.extend(crate::search_keys::keys(
        |f| data.field(f),
        meta.display_name,
    ));
    for (i, v) in values.into_iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(v);
    }
    sql.push(") RETURNING id");
    let row = sql.query().fetch_one(&mut *conn).await?;
    Ok(row.try_get(0)?)
}

/// Rewrites the records row with `data` and sets its version.
pub async fn update(
    conn: &mut AnyConnection,
    id: i64,
    kind: RecordKind,
    data: &RecordData,
    meta: &RowMeta<'_>,
    version: i64,
) -> Result<()> {
    let (sort_last, sort_first) = sort_keys(kind, data, meta.display_name);
    let mut sql = Sql::new("UPDATE records SET ");
    for (f, v) in TEXT_FIELDS.iter().zip(text_params(data)) {
        sql.push(f).push(" = ").bind(v).push(", ");
    }
    sql.push("display_name = ").bind(meta.display_name);
    sql.push(", organization_id = ").bind(meta.organization_id);
    sql.push(", modified_at = ").bind(meta.at);
    sql.push(", modified_by = ").bind(meta.by);
    sql.push(", version = ").bind(version);
    sql.push(", sort_last = ").bind(sort_last);
    sql.push(", sort_first = ").bind(sort_first);
    let keys = crate::search_keys::keys(|f| data.field(f), meta.display_name);
    for (c, v) in crate::search_keys::COLUMNS.iter().zip(keys) {
        sql.push(", ").push(c).push(" = ").bind(v);
    }
    sql.push(" WHERE id = ").bind(id);
    sql.query().execute(&mut *conn).await?;
    Ok(())
}

/// Updates only the columns whose values differ between `before` and `after` (text fields,
/// display name, sort and search keys; the organization when `organization` is given), plus
/// the modification stamp and version: an unchanged column leaves its indexes (and on
/// SQLite its trigram table) alone.
#[allow(clippy::too_many_arguments)]
pub fn changed_row(
    id: i64,
    kind: RecordKind,
    before: &RecordData,
    before_display: &str,
    after: &RecordData,
    organization: Option<Option<i64>>,
    at: i64,
    by: Option<i64>,
    version: i64,
) -> RowUpdate {
    let after_display = after.display_name(kind);
    let mut row = RowUpdate {
        id,
        cols: vec!["modified_at", "modified_by", "version"],
        values: vec![at.into(), by.into(), version.into()],
    };
    let mut set = |c: &'static str, v: Param| {
        row.cols.push(c);
        row.values.push(v);
    };
    for f in TEXT_FIELDS {
        if before.field(f) != after.field(f) {
            set(f, after.field(f).into());
        }
    }
    if before_display != after_display {
        set("display_name", after_display.as_str().into());
    }
    if let Some(org) = organization {
        set("organization_id", org.into());
    }
    let (bl, bf) = sort_keys(kind, before, before_display);
    let (al, af) = sort_keys(kind, after, &after_display);
    if bl != al {
        set("sort_last", al.into());
    }
    if bf != af {
        set("sort_first", af.into());
    }
    let old = crate::search_keys::keys(|f| before.field(f), before_display);
    let new = crate::search_keys::keys(|f| after.field(f), &after_display);
    for ((c, o), n) in crate::search_keys::COLUMNS.iter().zip(old).zip(new) {
        if o != n {
            set(c, n);
        }
    }
    row
}

/// A records row's update: its ID, the columns set and their values.
pub struct RowUpdate {
    id: i64,
    cols: Vec<&'static str>,
    values: Vec<Param>,
}

/// Rows for one table: (table, columns, rows).
pub(crate) type TableRows = (&'static str, &'static [&'static str], Vec<Vec<Param>>);

pub(crate) fn phone_rows(id: i64, data: &RecordData) -> TableRows {
    let rows = data
        .phones
        .iter()
        .enumerate()
        .map(|(i, p)| {
            vec![
                id.into(),
                (i as i64).into(),
                p.number.clone().into(),
                p.raw.clone().into(),
                p.phone_type.as_str().into(),
                p.extension.clone().into(),
                p.default.into(),
            ]
        })
        .collect();
    let cols = &[
        "record_id",
        "position",
        "number",
        "raw",
        "phone_type",
        "extension",
        "is_default",
    ];
    ("phones", cols, rows)
}

pub(crate) fn email_rows(id: i64, data: &RecordData) -> TableRows {
    let rows = data
        .emails
        .iter()
        .enumerate()
        .map(|(i, e)| {
            vec![
                id.into(),
                (i as i64).into(),
                e.address.clone().into(),
                e.normalized().into(),
                e.default.into(),
            ]
        })
        .collect();
    (
        "emails",
        &[
            "record_id",
            "position",
            "address",
            "address_norm",
            "is_default",
        ],
        rows,
    )
}

pub(crate) fn tag_rows(id: i64, data: &RecordData) -> TableRows {
    let rows = data
        .tags
        .iter()
        .map(|t| vec![id.into(), t.clone().into()])
        .collect();
    ("record_tags", &["record_id", "tag"], rows)
}

/// Replaces the listed collections (`phones`, `emails`, `tags`, `managers`, `custom.*`).
/// `field_ids` maps custom keys to definitions, `user_ids` usernames to users.
pub async fn replace_children(
    conn: &mut AnyConnection,
    id: i64,
    data: &RecordData,
    changed: &BTreeSet<String>,
    field_ids: &HashMap<String, i64>,
    user_ids: &HashMap<String, i64>,
) -> Result<()> {
    let mut w = RecordWrites::default();
    w.replace_children(id, data, changed, field_ids, user_ids)?;
    w.run(conn).await
}

/// The record ID an update row starts with.
fn row_id(row: &[Param]) -> Option<i64> {
    match row.first() {
        Some(Param::Int(Some(id))) => Some(*id),
        _ => None,
    }
}

/// Writes to many records gathered to run as few statements: the row updates (one
/// statement per set of columns), then per child table one DELETE of the
/// replaced collections and one insert of their new rows (many rows through one JSON
/// parameter), then the field-change notes. A record appears at most once.
#[derive(Default)]
pub struct RecordWrites {
    /// columns set → rows (the record's ID, then the values).
    updates: BTreeMap<Vec<&'static str>, Vec<Vec<Param>>>,
    /// table → records whose rows in it are replaced.
    deletes: BTreeMap<&'static str, Vec<i64>>,
    /// custom field → records whose value of it is replaced.
    custom_deletes: BTreeMap<i64, Vec<i64>>,
    /// table → (columns, new rows).
    inserts: BTreeMap<&'static str, (&'static [&'static str], Vec<Vec<Param>>)>,
    changes: Vec<Vec<Param>>,
}

impl RecordWrites {
    /// Adds a records row update (see [`changed_row`]).
    pub fn update(&mut self, u: RowUpdate) {
        let mut row = Vec::with_capacity(u.values.len() + 1);
        row.push(Param::from(u.id));
        row.extend(u.values);
        self.updates.entry(u.cols).or_default().push(row);
    }

    fn insert(&mut self, (table, cols, rows): TableRows) {
        let e = self.inserts.entry(table).or_insert((cols, Vec::new()));
        e.1.extend(rows);
    }

    /// Replaces the listed collections of record `id` (`phones`, `emails`, `tags`,
    /// `managers`, `custom.*`) with those of `data`.
    pub fn replace_children(
        &mut self,
        id: i64,
        data: &RecordData,
        changed: &BTreeSet<String>,
        field_ids: &HashMap<String, i64>,
        user_ids: &HashMap<String, i64>,
    ) -> Result<()> {
        for (key, rows) in [
            ("phones", phone_rows(id, data)),
            ("emails", email_rows(id, data)),
            ("tags", tag_rows(id, data)),
        ] {
            if changed.contains(key) {
                self.deletes.entry(rows.0).or_default().push(id);
                self.insert(rows);
            }
        }
        if changed.contains("managers") {
            let rows = data
                .managers
                .iter()
                .map(|m| {
                    user_ids
                        .get(m)
                        .map(|u| vec![id.into(), (*u).into()])
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown user {m}")))
                })
                .collect::<Result<Vec<_>>>()?;
            self.deletes.entry("record_managers").or_default().push(id);
            self.insert(("record_managers", &["record_id", "user_id"], rows));
        }
        for key in changed.iter().filter_map(|k| k.strip_prefix("custom.")) {
            let Some(field_id) = field_ids.get(key) else {
                continue;
            };
            self.custom_deletes.entry(*field_id).or_default().push(id);
            if let Some(v) = data.custom.get(key) {
                let row = vec![
                    id.into(),
                    (*field_id).into(),
                    v.clone().into(),
                    kartoteka_domain::text::fold(v).into(),
                ];
                self.insert((
                    "custom_values",
                    &["record_id", "field_id", "value", "folded"],
                    vec![row],
                ));
            }
        }
        Ok(())
    }

    /// The records whose row update sets `column`.
    pub fn updated_with(&self, column: &str) -> Vec<i64> {
        self.updates
            .iter()
            .filter(|(cols, _)| cols.contains(&column))
            .flat_map(|(_, rows)| rows.iter().filter_map(|r| row_id(r)))
            .collect()
    }

    /// Notes that `fields` of record `id` changed at `version` / `at`.
    pub fn note_changes(&mut self, id: i64, fields: &[String], version: i64, at: i64) {
        self.changes.extend(
            fields
                .iter()
                .map(|f| vec![id.into(), f.clone().into(), version.into(), at.into()]),
        );
    }

    /// Runs the gathered writes.
    pub async fn run(mut self, conn: &mut AnyConnection) -> Result<()> {
        // Row updates in ascending ID: an update changing a search key rewrites the
        // record's trigrams, and FTS5 flushes its pending terms to a new segment whenever
        // a rowid comes below the previous one (a segment per row, then merges of them).
        for rows in self.updates.values_mut() {
            rows.sort_unstable_by_key(|r| row_id(r));
        }
        let backend = if conn.backend_name().eq_ignore_ascii_case("postgresql") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let postgres = backend == Backend::Postgres;
        let mut statements: Vec<Sql> = Vec::new();
        // Rows setting the same columns update together (one statement each at 1M records
        // was a large part of a bulk merge).
        for (cols, rows) in &self.updates {
            if let [row] = rows.as_slice() {
                let mut s = Sql::new("UPDATE records SET ");
                for (i, (c, v)) in cols.iter().zip(&row[1..]).enumerate() {
                    if i > 0 {
                        s.push(", ");
                    }
                    s.push(c).push(" = ").bind(v.clone());
                }
                s.push(" WHERE id = ").bind(row[0].clone());
                statements.push(s);
            } else {
                statements.extend(crate::params::json_update(
                    "records", "id", cols, rows, postgres,
                ));
            }
        }
        for (table, ids) in &self.deletes {
            let mut s = Sql::new(format!("DELETE FROM {table} WHERE record_id IN ("));
            crate::bulk_ops::push_json_ids(&mut s, backend, ids);
            s.push(")");
            statements.push(s);
        }
        for (field, ids) in &self.custom_deletes {
            let mut s = Sql::new("DELETE FROM custom_values WHERE field_id = ");
            s.bind(*field).push(" AND record_id IN (");
            crate::bulk_ops::push_json_ids(&mut s, backend, ids);
            s.push(")");
            statements.push(s);
        }
        for (table, (cols, rows)) in &self.inserts {
            if !rows.is_empty() {
                statements.extend(json_insert(table, cols, rows, postgres));
            }
        }
        if !self.changes.is_empty() {
            for mut s in json_insert(
                "record_field_changes",
                &["record_id", "field", "version", "changed_at"],
                &self.changes,
                postgres,
            ) {
                s.push(
                    " ON CONFLICT (record_id, field) DO UPDATE SET version = excluded.version, \
                     changed_at = excluded.changed_at",
                );
                statements.push(s);
            }
        }
        for s in &statements {
            s.query().execute(&mut *conn).await?;
        }
        Ok(())
    }
}

/// Locks a record for a read-modify-write; returns its internal ID, kind and version.
pub async fn lock(
    conn: &mut AnyConnection,
    backend: Backend,
    public_id: &str,
) -> Result<(i64, RecordKind, i64)> {
    let for_update = if backend == Backend::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    let mut sql = Sql::new("SELECT id, kind, version FROM records WHERE public_id = ");
    sql.bind(public_id).push(for_update);
    let row = sql
        .query()
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let kind: String = row.try_get(1)?;
    Ok((
        row.try_get(0)?,
        RecordKind::parse(&kind).map_err(|e| StoreError::Corrupt(e.message))?,
        row.try_get(2)?,
    ))
}

/// Field keys changed after `version`.
pub async fn changed_since(
    conn: &mut AnyConnection,
    id: i64,
    version: i64,
) -> Result<BTreeSet<String>> {
    let rows =
        sqlx::query("SELECT field FROM record_field_changes WHERE record_id = $1 AND version > $2")
            .bind(id)
            .bind(version)
            .fetch_all(&mut *conn)
            .await?;
    rows.iter()
        .map(|r| r.try_get::<String, _>(0).map_err(StoreError::from))
        .collect()
}

/// Notes that `fields` changed at `version` / `at`.
pub async fn note_changes(
    conn: &mut AnyConnection,
    id: i64,
    fields: &[String],
    version: i64,
    at: i64,
) -> Result<()> {
    let mut w = RecordWrites::default();
    w.note_changes(id, fields, version, at);
    w.run(conn).await
}

pub async fn delete(conn: &mut AnyConnection, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM records WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Internal ID and kind of a record by public ID.
pub async fn find(conn: &mut AnyConnection, public_id: &str) -> Result<Option<(i64, RecordKind)>> {
    let row = sqlx::query("SELECT id, kind FROM records WHERE public_id = $1")
        .bind(public_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| {
        let kind: String = r.try_get(1)?;
        Ok((
            r.try_get(0)?,
            RecordKind::parse(&kind).map_err(|e| StoreError::Corrupt(e.message))?,
        ))
    })
    .transpose()
}

/// True when the agent reaches the record through a case of one of their campaigns.
pub async fn agent_reaches(conn: &mut AnyConnection, record_id: i64, user_id: i64) -> Result<bool> {
    let row = sqlx::query(
        "SELECT COUNT(*) FROM cases c JOIN campaign_agents ca ON ca.campaign_id = c.campaign_id \
         WHERE c.record_id = $1 AND ca.user_id = $2",
    )
    .bind(record_id)
    .bind(user_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get::<i64, _>(0)? > 0)
}
