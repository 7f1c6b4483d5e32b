//! SQLite's loader (rusqlite, prepared single-row statements) and the secondary indexes a
//! large write drops and builds again at its end, on SQLite and PostgreSQL.

use super::*;
use rusqlite::OptionalExtension;

/// SQLite's fast path: one connection of its own, prepared single-row statements reused
/// for every row (sqlx hops threads per statement, which costs more than the insert).
pub struct SqliteLoader {
    conn: rusqlite::Connection,
    /// The planner's statistics of the indexes this loader dropped (`sqlite_stat1`:
    /// table, index, stat), put back with them (see `build_deferred_indexes`).
    kept_stats: Vec<KeptStat>,
}

/// A table whose size changed by this factor or more since its statistics is analyzed
/// after a deferred build; otherwise the dropped indexes get their statistics back.
const RESTAT_FACTOR: i64 = 4;

/// Each dropped index's table and statistics row (none for an index never analyzed, or
/// analyzed while its table was empty).
fn stats_of(
    tx: &rusqlite::Transaction<'_>,
    indexes: &[(String, &'static str)],
) -> Result<Vec<KeptStat>> {
    let analyzed: bool = tx
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1')",
            [],
            |r| r.get(0),
        )
        .map_err(sqlite_err)?;
    let mut out = Vec::new();
    for (name, table) in indexes {
        let stat: Option<String> = if analyzed {
            tx.query_row(
                "SELECT stat FROM sqlite_stat1 WHERE idx = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()
            .map_err(sqlite_err)?
        } else {
            None
        };
        out.push(KeptStat {
            table,
            index: name.clone(),
            stat,
        });
    }
    Ok(out)
}

/// A dropped index's statistics, to put back when it is built.
struct KeptStat {
    table: &'static str,
    index: String,
    /// Its `sqlite_stat1` row; the first number is the table's rows when analyzed.
    stat: Option<String>,
}

impl KeptStat {
    /// The table's rows the statistics describe (0 without statistics).
    fn rows(&self) -> i64 {
        self.stat
            .as_deref()
            .and_then(|s| s.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }
}

pub(super) fn sqlite_err(e: rusqlite::Error) -> StoreError {
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
        Ok(SqliteLoader {
            conn,
            kept_stats: Vec::new(),
        })
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
        let mut tables: Vec<(String, &'static str)> = Vec::new();
        for table in LOADED_TABLES {
            for (name, sql) in schema_objects(
                &tx,
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name = ?1",
                table,
            )? {
                if scope.wants(&name) {
                    tables.push((name.clone(), table));
                    found.push((name, sql));
                }
            }
        }
        let kept = stats_of(&tx, &tables)?;
        defer_objects(&tx, "INDEX", &found)?;
        // The trigram tables' triggers stay in every load. Dropping them and filling the
        // tables in one pass at the end took longer at 1M records (31 s against 21 s of
        // triggers during the load; docs/decisions.md, session 9).
        tx.commit().map_err(sqlite_err)?;
        self.kept_stats = kept;
        Ok(found.len())
    }

    /// Whether the statistics kept when the indexes were dropped still hold: every index
    /// to build was dropped by this loader, and no table changed size by `RESTAT_FACTOR`
    /// or more since its statistics were gathered (a table without them must still be
    /// empty). SQLite's own `PRAGMA optimize` likewise re-analyzes only after large changes.
    fn kept_stats_hold(&self, building: &[(String, String)]) -> Result<bool> {
        if building
            .iter()
            .any(|(name, _)| !self.kept_stats.iter().any(|k| k.index == *name))
        {
            return Ok(false);
        }
        let mut then: Vec<(&str, i64)> = Vec::new();
        for k in &self.kept_stats {
            match then.iter_mut().find(|(t, _)| *t == k.table) {
                Some((_, rows)) => *rows = (*rows).max(k.rows()),
                None => then.push((k.table, k.rows())),
            }
        }
        for (table, then) in then {
            let now: i64 = self
                .conn
                .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
                .map_err(sqlite_err)?;
            let holds = if then == 0 {
                now == 0
            } else {
                now < then * RESTAT_FACTOR && now * RESTAT_FACTOR > then
            };
            if !holds {
                return Ok(false);
            }
        }
        Ok(true)
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
        // Into a base in use the dropped indexes get back the statistics they had (an
        // ANALYZE at 2M records took ~4.5 s), each in its index's transaction, so that no
        // connection plans with the index but without its statistics; SQLite reloads them
        // with the schema the CREATE INDEX changed.
        let restat = !self.kept_stats_hold(&indexes)?;
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
                if !restat
                    && let Some(KeptStat {
                        table,
                        index,
                        stat: Some(stat),
                    }) = self.kept_stats.iter().find(|k| k.index == *name)
                {
                    tx.execute(
                        "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?1, ?2, ?3)",
                        [*table, index.as_str(), stat.as_str()],
                    )
                    .map_err(sqlite_err)?;
                }
            }
            tx.commit().map_err(sqlite_err)?;
        }
        if restat {
            // The loaded tables only: the trigram tables' shadow tables (FTS5 reads them by
            // key, whatever the statistics) and the import's journal took ~1.5 of ANALYZE's
            // 2.7 s at 1M.
            let analyze: String = LOADED_TABLES
                .iter()
                .map(|t| format!("ANALYZE {t};"))
                .collect();
            self.conn.execute_batch(&analyze).map_err(sqlite_err)?;
        }
        self.kept_stats.clear();
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
        let first = super::writer::max_id_after(&tx, "records")?;
        let mut case_ids = super::writer::max_id_after(&tx, "cases")?..;
        let ids = super::writer::insert_record_rows(&tx, first, records)?;
        for (r, id) in records.iter().zip(&ids) {
            for (table, cols, rows) in child_rows(r, *id, &mut case_ids, field_ids) {
                super::writer::insert_rows(&tx, table, cols, &rows, "")?;
            }
        }
        tx.commit().map_err(sqlite_err)?;
        Ok(ids)
    }
}
