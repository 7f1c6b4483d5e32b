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

/// The child rows of a record, in an order that satisfies foreign keys. Cases take IDs from
/// `next_case` (assigned up front, like records', so classifier history needs no round trip).
fn child_rows(
    r: &NewRecord,
    id: i64,
    next_case: &mut i64,
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
        let case_id = *next_case;
        *next_case += 1;
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
        let mut seen = HashSet::new();
        let mut redrawn = false;
        for r in records.iter_mut() {
            if taken.contains(&r.public_id) || !seen.insert(r.public_id.clone()) {
                r.public_id = PublicId::generate().as_str().to_string();
                redrawn = true;
            }
        }
        if !redrawn {
            return Ok(());
        }
    }
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
    pub fn is_empty(&self) -> bool {
        self.tables.iter().all(|(_, _, rows)| rows.is_empty())
    }

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
pub async fn insert_records_then(
    conn: &mut AnyConnection,
    first_id: i64,
    records: &mut [NewRecord],
    field_ids: &HashMap<String, i64>,
    children: &mut ChildRows,
) -> Result<Vec<i64>> {
    settle_public_ids(conn, records).await?;
    let ids: Vec<i64> = (0..records.len() as i64).map(|i| first_id + i).collect();
    let rows: Vec<Vec<Param>> = records
        .iter()
        .zip(&ids)
        .map(|(r, id)| {
            record_row(
                r,
                *id,
                r.organization_in_batch
                    .map(|i| ids[i])
                    .or(r.organization_id),
            )
        })
        .collect();
    let postgres = conn.backend_name().eq_ignore_ascii_case("postgresql");
    for s in json_insert("records", &record_columns(), &rows, postgres) {
        s.query().execute(&mut *conn).await?;
    }
    drop(rows);
    let mut next_case: i64 = match children.next_case {
        Some(n) => n,
        None => sqlx::query("SELECT COALESCE(MAX(id), 0) + 1 FROM cases")
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?,
    };
    for (r, id) in records.iter().zip(&ids) {
        children.add(child_rows(r, *id, &mut next_case, field_ids));
    }
    children.next_case = Some(next_case);
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

/// SQLite's fast path: one connection of its own, prepared single-row statements reused
/// for every row (sqlx hops threads per statement, which costs more than the insert).
pub struct SqliteLoader {
    conn: rusqlite::Connection,
}

fn sqlite_err(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, msg) = &e
        && (f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
    {
        return StoreError::Unique(msg.clone().unwrap_or_default());
    }
    StoreError::Config(format!("sqlite: {e}"))
}

pub fn values(params: &[Param]) -> Vec<rusqlite::types::Value> {
    use rusqlite::types::Value as V;
    params
        .iter()
        .map(|p| match p {
            Param::Text(t) => t.clone().map(V::Text).unwrap_or(V::Null),
            Param::Int(i) => i.map(V::Integer).unwrap_or(V::Null),
            Param::Real(r) => r.map(V::Real).unwrap_or(V::Null),
        })
        .collect()
}

/// What a load defers (drops, to build at its end).
#[derive(Clone, Copy, Debug)]
pub enum Defer<'a> {
    /// A load into an empty base: every secondary index of the loaded tables but `keep`.
    All { keep: &'a [&'a str] },
    /// A large load into a base in use: only [`FILTER_INDEXES`] but `keep`. Cards, caller
    /// identification, duplicate warnings, campaigns and the trigram tables keep working
    /// as before; the list's filters and sorts scan meanwhile.
    Filters { keep: &'a [&'a str] },
}

impl<'a> Defer<'a> {
    /// Everything into an empty base, the filter indexes into one in use.
    pub fn for_base(empty: bool, keep: &'a [&'a str]) -> Defer<'a> {
        if empty {
            Defer::All { keep }
        } else {
            Defer::Filters { keep }
        }
    }

    fn wants(&self, name: &str) -> bool {
        match self {
            Defer::All { keep } => !keep.contains(&name),
            Defer::Filters { keep } => FILTER_INDEXES.contains(&name) && !keep.contains(&name),
        }
    }
}

/// Indexes only the list's filters and sorts read (`filter` and `sort`), none behind a
/// constraint or a lookup by key: each costs a random index page per new record, which is
/// what makes a large load into a full base slow.
pub const FILTER_INDEXES: [&str; 31] = [
    "records_sort",
    "records_created",
    "records_modified",
    "records_regon",
    "records_k_last",
    "records_k_first",
    "records_k_display",
    "records_k_city",
    "records_city_created",
    "records_k_address",
    "records_x_last",
    "records_x_first",
    "records_x_display",
    "records_x_city",
    "records_x_address",
    "records_last_contact",
    "records_modified_by",
    "records_language",
    "records_stage",
    "records_position",
    "records_acquisition",
    "custom_values_field",
    "custom_values_folded",
    "record_tags_tag",
    "record_segments_segment",
    "case_classifiers_classifier",
    // PostgreSQL's trigram indexes (SQLite's trigram tables are not indexes).
    "records_k_last_trgm",
    "records_k_first_trgm",
    "records_k_display_trgm",
    "records_k_city_trgm",
    "records_k_address_trgm",
];

/// PostgreSQL: drops the secondary indexes of the loaded tables (not those behind
/// constraints) that `scope` names, noting them in `deferred_indexes`, for
/// `build_deferred_postgres` (or the next start) to build after the load.
pub async fn defer_indexes_postgres(db: &crate::Db, scope: Defer<'_>) -> Result<usize> {
    let mut tx = db.begin_write().await?;
    let mut sql = Sql::new(
        "SELECT i.indexname::text, i.indexdef::text FROM pg_indexes i WHERE i.schemaname = current_schema() \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname) AND i.tablename IN (",
    );
    for (i, t) in LOADED_TABLES.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(t.to_string());
    }
    sql.push(")");
    let rows = sql.query().fetch_all(&mut *tx).await?;
    let mut deferred = 0;
    for r in &rows {
        let (name, def): (String, String) = (r.try_get(0)?, r.try_get(1)?);
        if !scope.wants(&name) {
            continue;
        }
        deferred += 1;
        sqlx::query("INSERT INTO deferred_indexes (name, sql) VALUES ($1, $2)")
            .bind(&name)
            .bind(&def)
            .execute(&mut *tx)
            .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP INDEX \"{}\"",
            name.replace('"', "")
        )))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(deferred)
}

/// PostgreSQL: builds the indexes `defer_indexes_postgres` dropped, with memory enough to
/// build them in one pass.
pub async fn build_deferred_postgres(db: &crate::Db) -> Result<()> {
    let mut conn = db.pool.acquire().await?;
    sqlx::query("SET maintenance_work_mem = '512MB'")
        .execute(&mut *conn)
        .await?;
    let rows = sqlx::query("SELECT name, sql FROM deferred_indexes ORDER BY name")
        .fetch_all(&mut *conn)
        .await?;
    for r in &rows {
        let (name, def): (String, String) = (r.try_get(0)?, r.try_get(1)?);
        sqlx::raw_sql(sqlx::AssertSqlSafe(crate::db::idempotent(&def)))
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM deferred_indexes WHERE name = $1")
            .bind(&name)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("RESET maintenance_work_mem")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// (name, sql) of the schema objects a query on `sqlite_master` with one parameter finds.
fn schema_objects(
    tx: &rusqlite::Transaction<'_>,
    sql: &str,
    param: &str,
) -> Result<Vec<(String, String)>> {
    let mut stmt = tx.prepare(sql).map_err(sqlite_err)?;
    let rows = stmt
        .query_map([param], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(sqlite_err)?;
    rows.collect::<std::result::Result<_, _>>()
        .map_err(sqlite_err)
}

/// Notes the objects in `deferred_indexes` (to be created again) and drops them.
fn defer_objects(
    tx: &rusqlite::Transaction<'_>,
    kind: &str,
    objects: &[(String, String)],
) -> Result<()> {
    for (name, sql) in objects {
        tx.execute(
            "INSERT INTO deferred_indexes (name, sql) VALUES (?1, ?2)",
            [name, sql],
        )
        .map_err(sqlite_err)?;
        tx.execute_batch(&format!("DROP {kind} \"{}\"", name.replace('"', "")))
            .map_err(sqlite_err)?;
    }
    Ok(())
}

/// Tables whose secondary indexes a load into an empty base builds afterwards.
const LOADED_TABLES: [&str; 8] = [
    "records",
    "phones",
    "emails",
    "custom_values",
    "record_tags",
    "record_segments",
    "cases",
    "case_classifiers",
];

impl SqliteLoader {
    pub fn open(path: &std::path::Path) -> Result<SqliteLoader> {
        let conn = rusqlite::Connection::open(path).map_err(sqlite_err)?;
        conn.execute_batch(
            "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 30000; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -262144;",
        )
        .map_err(sqlite_err)?;
        Ok(SqliteLoader { conn })
    }

    /// Caps this connection's page cache (the loader's default is 256 MB, for the demo).
    pub fn limit_cache_mb(&mut self, mb: i64) -> Result<()> {
        self.conn
            .execute_batch(&format!("PRAGMA cache_size = -{}", mb.max(1) * 1024))
            .map_err(sqlite_err)
    }

    /// Drops the secondary indexes of the loaded tables that `scope` names, noting them in
    /// `deferred_indexes` (rebuilt by `build_deferred_indexes`, or at the next start if the
    /// load dies). A schema change can meet SQLITE_BUSY without the busy handler (another
    /// connection mid-write): it is tried again.
    pub fn defer_indexes(&mut self, scope: Defer<'_>) -> Result<usize> {
        let mut tries = 0;
        loop {
            match self.try_defer_indexes(scope) {
                Err(StoreError::Config(m)) if m.contains("locked") && tries < 20 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                r => return r,
            }
        }
    }

    fn try_defer_indexes(&mut self, scope: Defer<'_>) -> Result<usize> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sqlite_err)?;
        let mut found: Vec<(String, String)> = Vec::new();
        for table in LOADED_TABLES {
            found.extend(schema_objects(
                &tx,
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name = ?1",
                table,
            )?);
        }
        found.retain(|(name, _)| scope.wants(name));
        defer_objects(&tx, "INDEX", &found)?;
        // The trigram tables' triggers stay in every load. Dropping them and filling the
        // tables in one pass at the end took longer at 1M records (31 s against 21 s of
        // triggers during the load; docs/decisions.md, session 9).
        tx.commit().map_err(sqlite_err)?;
        Ok(found.len())
    }

    /// Builds the indexes `defer_indexes` dropped.
    pub fn build_deferred_indexes(&mut self) -> Result<()> {
        let pending: Vec<(String, String)> = {
            let mut stmt = self
                .conn
                .prepare("SELECT name, sql FROM deferred_indexes ORDER BY name")
                .map_err(sqlite_err)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(sqlite_err)?;
            rows.collect::<std::result::Result<_, _>>()
                .map_err(sqlite_err)?
        };
        // Each index in a transaction of its own: the writers of a base in use wait for one
        // index at a time (a second or two at 2M records), not for all of them. A trigram
        // fill and its triggers, noted by loads before session 9, go together (a record
        // written between would miss its trigrams).
        let (trigram, indexes): (Vec<_>, Vec<_>) = pending
            .into_iter()
            .partition(|(name, _)| name == "_trgm_fill" || name.starts_with("records_trgm_"));
        let mut steps: Vec<Vec<(String, String)>> = indexes.into_iter().map(|i| vec![i]).collect();
        if !trigram.is_empty() {
            steps.push(trigram);
        }
        for step in steps {
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(sqlite_err)?;
            for (name, sql) in &step {
                let t = std::time::Instant::now();
                tx.execute_batch(&crate::db::idempotent(sql))
                    .map_err(sqlite_err)?;
                tracing::debug!(index = %name, seconds = t.elapsed().as_secs_f64(), "deferred index built");
                tx.execute("DELETE FROM deferred_indexes WHERE name = ?1", [name])
                    .map_err(sqlite_err)?;
            }
            tx.commit().map_err(sqlite_err)?;
        }
        // The loaded tables only: the trigram tables' shadow tables (FTS5 reads them by key,
        // whatever the statistics) and the import's journal took ~1.5 of ANALYZE's 2.7 s
        // at 1M.
        let analyze: String = LOADED_TABLES
            .iter()
            .map(|t| format!("ANALYZE {t};"))
            .collect();
        self.conn.execute_batch(&analyze).map_err(sqlite_err)?;
        // The new indexes' pages are in the WAL (hundreds of MB at 1M records): copied back
        // now, or the next short request's commit would.
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(PASSIVE)")
            .map_err(sqlite_err)
    }

    /// Inserts a batch in one transaction with IDs after the current maximum. A public ID
    /// that is taken is drawn again.
    pub fn insert(
        &mut self,
        records: &mut [NewRecord],
        field_ids: &HashMap<String, i64>,
    ) -> Result<Vec<i64>> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sqlite_err)?;
        let first: i64 = tx
            .query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM records", [], |r| {
                r.get(0)
            })
            .map_err(sqlite_err)?;
        let ids: Vec<i64> = (0..records.len() as i64).map(|i| first + i).collect();
        let mut next_case: i64 = tx
            .query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM cases", [], |r| {
                r.get(0)
            })
            .map_err(sqlite_err)?;
        let cols = record_columns();
        let record_sql = format!(
            "INSERT INTO records ({}) VALUES ({})",
            cols.join(", "),
            vec!["?"; cols.len()].join(", ")
        );
        for i in 0..records.len() {
            let org = records[i]
                .organization_in_batch
                .map(|o| ids[o])
                .or(records[i].organization_id);
            let mut attempts = 0;
            loop {
                let row = values(&record_row(&records[i], ids[i], org));
                let mut stmt = tx.prepare_cached(&record_sql).map_err(sqlite_err)?;
                match stmt
                    .execute(rusqlite::params_from_iter(row))
                    .map_err(sqlite_err)
                {
                    Ok(_) => break,
                    Err(StoreError::Unique(_)) if attempts < 5 => {
                        attempts += 1;
                        records[i].public_id = PublicId::generate().as_str().to_string();
                    }
                    Err(e) => return Err(e),
                }
            }
            for (table, cols, rows) in child_rows(&records[i], ids[i], &mut next_case, field_ids) {
                if rows.is_empty() {
                    continue;
                }
                let sql = format!(
                    "INSERT INTO {table} ({}) VALUES ({})",
                    cols.join(", "),
                    vec!["?"; cols.len()].join(", ")
                );
                let mut stmt = tx.prepare_cached(&sql).map_err(sqlite_err)?;
                for row in rows {
                    stmt.execute(rusqlite::params_from_iter(values(&row)))
                        .map_err(sqlite_err)?;
                }
            }
        }
        tx.commit().map_err(sqlite_err)?;
        Ok(ids)
    }
}
