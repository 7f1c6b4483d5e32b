//! Loading many records at once (demo data now, imports later), with internal IDs assigned
//! up front so children need no round trip per record. SQLite loads through rusqlite with
//! prepared single-row statements; PostgreSQL through multi-row statements.

use kartoteka_domain::ids::PublicId;
use kartoteka_domain::record::{RecordData, RecordKind, TEXT_FIELDS};
use sqlx::{AnyConnection, Row};
use std::collections::{HashMap, HashSet};

use crate::params::{Param, Sql, json_insert};
use crate::records::{TableRows, email_rows, phone_rows, sort_keys, tag_rows};
use crate::{Backend, Result, StoreError};

mod loader;
mod pg_writer;
mod writer;
pub use loader::*;
pub use pg_writer::PgWriter;
pub use writer::SqliteWriter;

/// A record ready to store: validated and normalized.
pub struct NewRecord {
    pub public_id: String,
    pub kind: RecordKind,
    pub data: RecordData,
    /// Index into the same batch of the person's organization.
    pub organization_in_batch: Option<usize>,
    /// An already stored organization.
    pub organization_id: Option<i64>,
    pub created_at: i64,
    pub created_by: Option<i64>,
    pub source: String,
    /// Cases to open, one a campaign.
    pub cases: Vec<NewCase>,
    /// Segments (IDs) to put the record in.
    pub segments: Vec<i64>,
}

/// A case of a record being loaded.
pub struct NewCase {
    pub campaign_id: i64,
    pub assigned_to: Option<i64>,
    pub status: Option<String>,
    /// Classifiers given, oldest first, with when (the last is the case's last classifier).
    pub classifiers: Vec<(String, i64)>,
    pub attempts: i64,
    pub last_call_type: Option<String>,
    pub last_call_status: Option<String>,
    pub recontact_at: Option<i64>,
}

const RECORD_META: [&str; 10] = [
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
];

fn record_columns() -> Vec<&'static str> {
    let mut cols = vec!["id", "public_id", "kind"];
    cols.extend(TEXT_FIELDS);
    cols.extend(RECORD_META);
    cols.extend(crate::search_keys::COLUMNS);
    cols
}

/// The records row of `r` stored as `id`, in `record_columns()` order.
fn record_row(r: &NewRecord, id: i64, organization_id: Option<i64>) -> Vec<Param> {
    let display = r.data.display_name(r.kind);
    let (sort_last, sort_first) = sort_keys(r.kind, &r.data, &display);
    let keys = crate::search_keys::keys(|f| r.data.field(f), &display);
    let mut row: Vec<Param> = vec![
        id.into(),
        r.public_id.clone().into(),
        r.kind.as_str().into(),
    ];
    row.extend(TEXT_FIELDS.iter().map(|f| Param::from(r.data.field(f))));
    row.extend([
        display.into(),
        organization_id.into(),
        r.created_at.into(),
        r.created_by.into(),
        r.source.clone().into(),
        r.created_at.into(),
        r.created_by.into(),
        1.into(),
        sort_last.into(),
        sort_first.into(),
    ]);
    row.extend(keys);
    row
}

/// The records rows of `records` stored as `ids` (a person's organization in the same
/// batch by its ID there).
fn record_rows(records: &[NewRecord], ids: &[i64]) -> Vec<Vec<Param>> {
    records
        .iter()
        .zip(ids)
        .map(|(r, id)| {
            record_row(
                r,
                *id,
                r.organization_in_batch
                    .map(|i| ids[i])
                    .or(r.organization_id),
            )
        })
        .collect()
}

/// The child rows of a record, in an order that satisfies foreign keys. Cases take IDs from
/// `case_ids` (assigned up front, like records', so classifier history needs no round trip;
/// SQLite counts up from the largest, PostgreSQL draws them from the sequence).
fn child_rows(
    r: &NewRecord,
    id: i64,
    case_ids: &mut impl Iterator<Item = i64>,
    field_ids: &HashMap<String, i64>,
) -> Vec<TableRows> {
    let custom = r
        .data
        .custom
        .iter()
        .filter_map(|(k, v)| {
            field_ids.get(k).map(|f| {
                vec![
                    id.into(),
                    (*f).into(),
                    v.clone().into(),
                    kartoteka_domain::text::fold(v).into(),
                ]
            })
        })
        .collect();
    let segments = r
        .segments
        .iter()
        .map(|s| vec![id.into(), (*s).into(), r.created_at.into()])
        .collect();
    let mut cases = Vec::new();
    let mut history = Vec::new();
    for c in &r.cases {
        let Some(case_id) = case_ids.next() else {
            // Every caller gives an ID for each case (an endless count, or one per case).
            break;
        };
        let modified = c
            .classifiers
            .last()
            .map(|(_, at)| *at)
            .unwrap_or(r.created_at);
        cases.push(vec![
            case_id.into(),
            id.into(),
            c.campaign_id.into(),
            c.assigned_to.into(),
            c.status.clone().into(),
            c.classifiers.last().map(|(k, _)| k.clone()).into(),
            c.attempts.into(),
            c.last_call_type.clone().into(),
            c.last_call_status.clone().into(),
            c.recontact_at.into(),
            r.created_at.into(),
            modified.into(),
        ]);
        for (classifier, at) in &c.classifiers {
            history.push(vec![
                case_id.into(),
                classifier.clone().into(),
                c.assigned_to.into(),
                (*at).into(),
            ]);
        }
    }
    vec![
        phone_rows(id, &r.data),
        email_rows(id, &r.data),
        (
            "custom_values",
            &["record_id", "field_id", "value", "folded"],
            custom,
        ),
        tag_rows(id, &r.data),
        (
            "record_segments",
            &["record_id", "segment_id", "added_at"],
            segments,
        ),
        (
            "cases",
            &[
                "id",
                "record_id",
                "campaign_id",
                "assigned_to",
                "status",
                "last_classifier",
                "attempts",
                "last_call_type",
                "last_call_status",
                "recontact_at",
                "created_at",
                "modified_at",
            ],
            cases,
        ),
        (
            "case_classifiers",
            &["case_id", "classifier", "user_id", "at"],
            history,
        ),
    ]
}

/// The next free internal record ID (inside a write transaction).
pub async fn next_record_id(conn: &mut AnyConnection) -> Result<i64> {
    let row = sqlx::query("SELECT COALESCE(MAX(id), 0) + 1 FROM records")
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get(0)?)
}

/// Draws new public IDs for records whose ID is taken (stored already or earlier in the batch).
async fn settle_public_ids(conn: &mut AnyConnection, records: &mut [NewRecord]) -> Result<()> {
    loop {
        let mut sql = Sql::new("SELECT public_id FROM records WHERE public_id IN (");
        let ids: Vec<String> = records.iter().map(|r| r.public_id.clone()).collect();
        crate::bulk_ops::push_json_list(&mut sql, conn, serde_json::Value::from(ids), true);
        sql.push(")");
        let taken: HashSet<String> = sql
            .query()
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<std::result::Result<_, _>>()?;
        if !redraw_taken(records, &taken) {
            return Ok(());
        }
    }
}

/// Draws new public IDs for records whose ID is `taken` or repeats an earlier one of the
/// batch; whether any was drawn (then they must be checked again).
fn redraw_taken(records: &mut [NewRecord], taken: &HashSet<String>) -> bool {
    let mut seen = HashSet::new();
    let mut redrawn = false;
    for r in records.iter_mut() {
        if taken.contains(&r.public_id) || !seen.insert(r.public_id.clone()) {
            r.public_id = PublicId::generate().as_str().to_string();
            redrawn = true;
        }
    }
    redrawn
}

/// Inserts `records` with internal IDs from `first_id` through multi-row statements (the
/// PostgreSQL path), with their child rows. Public IDs that are taken are drawn again.
pub async fn insert_records(
    conn: &mut AnyConnection,
    first_id: i64,
    records: &mut [NewRecord],
    field_ids: &HashMap<String, i64>,
) -> Result<Vec<i64>> {
    let mut children = ChildRows::default();
    let ids = insert_records_then(conn, first_id, records, field_ids, &mut children).await?;
    children.write(conn).await?;
    Ok(ids)
}

/// The child rows (phones, e-mails, custom values, segments, cases …) of records inserted
/// by [`insert_records_then`], written by [`ChildRows::write`] in the same transaction.
///
/// A load that only creates records gathers several chunks' child rows and writes each
/// table's in one run: statements that alternate between `records` and the child tables
/// evict each other's index pages from SQLite's cache, which into a base of a million
/// records costs more than the rows themselves.
#[derive(Default)]
pub struct ChildRows {
    tables: Vec<TableRows>,
    /// The next case ID while cases wait here (the table does not hold them yet).
    next_case: Option<i64>,
}

impl ChildRows {
    /// Writes the rows gathered so far, table by table, and forgets them.
    pub async fn write(&mut self, conn: &mut AnyConnection) -> Result<()> {
        let postgres = conn.backend_name().eq_ignore_ascii_case("postgresql");
        for (table, cols, rows) in std::mem::take(&mut self.tables) {
            for s in json_insert(table, cols, &rows, postgres) {
                s.query().execute(&mut *conn).await?;
            }
        }
        self.next_case = None;
        Ok(())
    }

    fn add(&mut self, rows: Vec<TableRows>) {
        for (i, (table, cols, rows)) in rows.into_iter().enumerate() {
            match self.tables.get_mut(i) {
                Some(c) => c.2.extend(rows),
                None => self.tables.push((table, cols, rows)),
            }
        }
    }
}

/// Inserts `records` as [`insert_records`] does, leaving their child rows in `children`.
async fn insert_records_then(
    conn: &mut AnyConnection,
    first_id: i64,
    records: &mut [NewRecord],
    field_ids: &HashMap<String, i64>,
    children: &mut ChildRows,
) -> Result<Vec<i64>> {
    settle_public_ids(conn, records).await?;
    let ids: Vec<i64> = (0..records.len() as i64).map(|i| first_id + i).collect();
    let rows = record_rows(records, &ids);
    let postgres = conn.backend_name().eq_ignore_ascii_case("postgresql");
    for s in json_insert("records", &record_columns(), &rows, postgres) {
        s.query().execute(&mut *conn).await?;
    }
    drop(rows);
    let mut case_ids = match children.next_case {
        Some(n) => n,
        None => sqlx::query("SELECT COALESCE(MAX(id), 0) + 1 FROM cases")
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?,
    }..;
    for (r, id) in records.iter().zip(&ids) {
        children.add(child_rows(r, *id, &mut case_ids, field_ids));
    }
    children.next_case = Some(case_ids.start);
    Ok(ids)
}

/// After explicit IDs, PostgreSQL's identity sequence must move past them.
pub async fn sync_sequences(conn: &mut AnyConnection, backend: Backend) -> Result<()> {
    if backend == Backend::Postgres {
        for table in ["records", "cases"] {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}
