//! SQLite's import writer: an import that only creates records writes its transactions
//! through rusqlite's prepared single-row statements on a connection of its own, not
//! through sqlx's multi-row JSON statements (each row parsed from JSON by SQLite, each
//! statement handed to sqlx's worker thread and back). The records' trigram rows are
//! written once per transaction (see [`SqliteWriter::begin`]).

use super::loader::sqlite_err;
use super::*;
use crate::imports::Journal;
use crate::trigrams::TRIGRAM_TABLES;
use rusqlite::OptionalExtension;

/// The trigger that writes a new record's trigrams.
const TRIGRAM_INSERT_TRIGGER: &str = "records_trgm_insert";

/// Writes an import's transactions: [`begin`](Self::begin), chunks of records, journal
/// rows and the job's cursor, then [`commit`](Self::commit). Dropped mid-transaction (an
/// error), its connection closes and SQLite rolls the transaction back.
pub struct SqliteWriter {
    conn: rusqlite::Connection,
    /// The first record this transaction inserted.
    first: Option<i64>,
    /// The trigram trigger's SQL while the transaction has it dropped.
    trigger: Option<String>,
    /// Child rows of the transaction's records, written table by table at its commit.
    children: ChildRows,
    /// The trigram tables' `automerge` settings while the transaction has them off.
    automerge: Vec<i64>,
}

impl SqliteWriter {
    /// A connection of its own, as the pool's (64 MB of page cache), with statement
    /// journals in a temporary file (see `Db::import_connection`).
    pub fn open(path: &std::path::Path) -> Result<SqliteWriter> {
        let conn = rusqlite::Connection::open(path).map_err(sqlite_err)?;
        conn.execute_batch(
            "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL; \
             PRAGMA cache_size = -65536; PRAGMA temp_store = FILE; PRAGMA journal_size_limit = 67108864;",
        )
        .map_err(sqlite_err)?;
        Ok(SqliteWriter {
            conn,
            first: None,
            trigger: None,
            children: ChildRows::default(),
            automerge: Vec::new(),
        })
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE`) and drops the trigram insert trigger
    /// inside it; [`commit`](Self::commit) writes the transaction's trigrams in one
    /// statement a table and creates the trigger again before committing. No other
    /// connection writes meanwhile (the write lock is held), and none ever sees the base
    /// without the trigger. With the trigger live, FTS5 flushed its pending terms at the
    /// end of every statement: one segment a row, which made single-row inserts twice as
    /// slow as multi-row ones (session 11).
    pub fn begin(&mut self) -> Result<()> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(sqlite_err)?;
        let trigger: Option<String> = {
            let mut stmt = self
                .conn
                .prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1")
                .map_err(sqlite_err)?;
            let mut rows = stmt.query([TRIGRAM_INSERT_TRIGGER]).map_err(sqlite_err)?;
            match rows.next().map_err(sqlite_err)? {
                Some(r) => Some(r.get(0).map_err(sqlite_err)?),
                None => None,
            }
        };
        if trigger.is_some() {
            self.conn
                .execute_batch(&format!("DROP TRIGGER {TRIGRAM_INSERT_TRIGGER}"))
                .map_err(sqlite_err)?;
        }
        self.trigger = trigger;
        self.first = None;
        // As a bulk merge's transactions (`trigrams::suspend`): FTS5 merges no segments
        // while the transaction writes, the import merges them once at its end.
        self.automerge.clear();
        for (table, _) in TRIGRAM_TABLES {
            let was: Option<i64> = self
                .conn
                .query_row(&crate::trigrams::read_automerge_sql(table), [], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(sqlite_err)?;
            self.set_automerge(table, 0)?;
            self.automerge
                .push(was.unwrap_or(crate::trigrams::FTS5_DEFAULT_AUTOMERGE));
        }
        Ok(())
    }

    fn set_automerge(&self, table: &str, value: i64) -> Result<()> {
        self.conn
            .execute(&crate::trigrams::set_automerge_sql(table), [value])
            .map_err(sqlite_err)?;
        Ok(())
    }

    /// Inserts `records` after the largest record ID, gathering their child rows for the
    /// commit. A public ID that is taken is drawn again.
    pub fn insert_records(
        &mut self,
        records: &mut [NewRecord],
        field_ids: &HashMap<String, i64>,
    ) -> Result<Vec<i64>> {
        let first = max_id_after(&self.conn, "records")?;
        self.first.get_or_insert(first);
        let ids = insert_record_rows(&self.conn, first, records)?;
        let mut case_ids = match self.children.next_case {
            Some(n) => n,
            None => max_id_after(&self.conn, "cases")?,
        }..;
        for (r, id) in records.iter().zip(&ids) {
            self.children
                .add(child_rows(r, *id, &mut case_ids, field_ids));
        }
        self.children.next_case = Some(case_ids.start);
        Ok(ids)
    }

    /// Journals `rows` into `journal`, leaving out those already there.
    pub fn journal(&mut self, journal: &Journal, rows: &[Vec<Param>]) -> Result<()> {
        insert_rows(
            &self.conn,
            journal.table,
            journal.cols,
            rows,
            &format!(" ON CONFLICT ({}) DO NOTHING", journal.key),
        )
    }

    /// Runs one statement with `params` bound in order.
    pub fn execute(&mut self, sql: &str, params: &[Param]) -> Result<usize> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(sqlite_err)?;
        stmt.execute(rusqlite::params_from_iter(params))
            .map_err(sqlite_err)
    }

    /// Writes the gathered child rows and the transaction's trigrams, creates the trigram
    /// trigger again and commits.
    pub fn commit(&mut self) -> Result<()> {
        for (table, cols, rows) in std::mem::take(&mut self.children.tables) {
            insert_rows(&self.conn, table, cols, &rows, "")?;
        }
        self.children.next_case = None;
        if let Some(sql) = self.trigger.take() {
            if let Some(first) = self.first.take() {
                for (table, key) in TRIGRAM_TABLES {
                    // As the trigger: empty keys are not indexed.
                    self.conn
                        .execute(
                            &format!("INSERT INTO {table} (rowid, k) SELECT id, {key} FROM records WHERE id >= ?1 AND {key} <> ''"),
                            [first],
                        )
                        .map_err(sqlite_err)?;
                }
            }
            self.conn.execute_batch(&sql).map_err(sqlite_err)?;
        }
        for ((table, _), was) in TRIGRAM_TABLES
            .iter()
            .zip(std::mem::take(&mut self.automerge))
        {
            self.set_automerge(table, was)?;
        }
        self.conn.execute_batch("COMMIT").map_err(sqlite_err)
    }
}

/// The largest ID of `table` plus one.
pub(super) fn max_id_after(conn: &rusqlite::Connection, table: &str) -> Result<i64> {
    conn.query_row(
        &format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}"),
        [],
        |r| r.get(0),
    )
    .map_err(sqlite_err)
}

/// Inserts the records' rows with IDs from `first`, drawing a taken public ID again.
pub(super) fn insert_record_rows(
    conn: &rusqlite::Connection,
    first: i64,
    records: &mut [NewRecord],
) -> Result<Vec<i64>> {
    let ids: Vec<i64> = (0..records.len() as i64).map(|i| first + i).collect();
    let cols = record_columns();
    let sql = format!(
        "INSERT INTO records ({}) VALUES ({})",
        cols.join(", "),
        vec!["?"; cols.len()].join(", ")
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(sqlite_err)?;
    for i in 0..records.len() {
        let org = records[i]
            .organization_in_batch
            .map(|o| ids[o])
            .or(records[i].organization_id);
        let mut attempts = 0;
        loop {
            let row = record_row(&records[i], ids[i], org);
            match stmt
                .execute(rusqlite::params_from_iter(&row))
                .map_err(sqlite_err)
            {
                Ok(_) => break,
                Err(StoreError::Unique(m)) if attempts < 5 && m.contains("public_id") => {
                    attempts += 1;
                    records[i].public_id = PublicId::generate().as_str().to_string();
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(ids)
}

/// Inserts `rows` into `table` one prepared statement a row; `tail` ends the statement
/// (an `ON CONFLICT` clause, or nothing).
pub(super) fn insert_rows(
    conn: &rusqlite::Connection,
    table: &str,
    cols: &[&str],
    rows: &[Vec<Param>],
    tail: &str,
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES ({}){tail}",
        cols.join(", "),
        vec!["?"; cols.len()].join(", ")
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(sqlite_err)?;
    for row in rows {
        stmt.execute(rusqlite::params_from_iter(row))
            .map_err(sqlite_err)?;
    }
    Ok(())
}
