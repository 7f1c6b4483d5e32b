//! SQLite's trigram tables (`trgm_*`, FTS5, kept by triggers on `records`) written once per
//! transaction by bulk writes. FTS5 flushes its pending terms to a new segment at every
//! statement savepoint, and merges segments as they pile up: with the triggers live, a
//! bulk merge spent most of its SQLite time flushing and merging the trigram tables
//! (`perf`, session 16). A bulk transaction drops the triggers after `BEGIN IMMEDIATE`,
//! writes the trigrams of what it removed and changed in one statement a table before its
//! commit, and creates the triggers again, all inside the transaction: no other connection
//! writes meanwhile or ever sees the base without them.

use sqlx::{AnyConnection, Row};

use crate::bulk_ops::push_json_ids;
use crate::params::Sql;
use crate::{Backend, Result};

/// The trigram tables and the folded key of `records` each holds.
pub const TRIGRAM_TABLES: [(&str, &str); 5] = [
    ("trgm_last", "k_last"),
    ("trgm_first", "k_first"),
    ("trgm_display", "k_display"),
    ("trgm_city", "k_city"),
    ("trgm_address", "k_address"),
];

/// The triggers of `records` that keep the trigram tables, dropped for the rest of a
/// transaction, and the tables' automatic merging, off for it.
#[must_use = "the triggers must be created again before the commit"]
pub struct Suspended {
    /// Their SQL, to create them again.
    triggers: Vec<String>,
    /// Each trigram table's `automerge` setting, off while suspended.
    automerge: Vec<i64>,
}

/// FTS5's `automerge` when a table has none set.
pub const FTS5_DEFAULT_AUTOMERGE: i64 = 4;

/// A trigram table's `automerge` setting, if it has one (else FTS5's default).
pub(crate) fn read_automerge_sql(table: &str) -> String {
    format!("SELECT v FROM {table}_config WHERE k = 'automerge'")
}

/// Sets a trigram table's `automerge` to `$1` (FTS5's configuration command: the table's
/// connections read it again).
pub(crate) fn set_automerge_sql(table: &str) -> String {
    format!("INSERT INTO {table} ({table}, rank) VALUES ('automerge', $1)")
}

async fn set_automerge(conn: &mut AnyConnection, table: &str, value: i64) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(set_automerge_sql(table)))
        .bind(value)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Drops the trigram triggers of `records` that an update or a delete fires, inside the
/// current write transaction (inserts keep theirs). SQLite only: `None` on PostgreSQL,
/// whose trigram indexes are indexes.
pub async fn suspend(conn: &mut AnyConnection, backend: Backend) -> Result<Option<Suspended>> {
    if backend != Backend::Sqlite {
        return Ok(None);
    }
    let rows = sqlx::query(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'records' \
         AND name LIKE 'records_trgm_%' AND name <> 'records_trgm_insert' ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut triggers = Vec::with_capacity(rows.len());
    for row in rows {
        let name: String = row.try_get(0)?;
        // The name as the schema holds it (no quote can be in it: the migrations name it).
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP TRIGGER \"{}\"",
            name.replace('"', "")
        )))
        .execute(&mut *conn)
        .await?;
        triggers.push(row.try_get(1)?);
    }
    // FTS5 flushes a table's pending terms at every statement savepoint of the transaction
    // and then merges segments as much as it wrote ("automerge"); the merges were half the
    // trigram catch-up's time (session 17). Off for the transaction, on again before its
    // commit: the transaction's new segments wait for the next merge, at most 16 a level
    // (FTS5's crisis merge still runs).
    let mut automerge = Vec::with_capacity(TRIGRAM_TABLES.len());
    for (table, _) in TRIGRAM_TABLES {
        let was: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(read_automerge_sql(table)))
            .fetch_optional(&mut *conn)
            .await?;
        set_automerge(conn, table, 0).await?;
        automerge.push(was.unwrap_or(FTS5_DEFAULT_AUTOMERGE));
    }
    Ok(Some(Suspended {
        triggers,
        automerge,
    }))
}

/// Merges what a bulk job's transactions left unmerged (their `automerge` was off): at most
/// `MERGE_ROUNDS` rounds of FTS5's `merge` command a table, each in a transaction of its
/// own, stopping when a round finds nothing to merge. Otherwise the first writes after the
/// job (an undo, an edit) would merge it, tens of milliseconds each.
pub async fn merge_backlog(conn: &mut AnyConnection, backend: Backend) -> Result<()> {
    if backend != Backend::Sqlite {
        return Ok(());
    }
    let mut before: i64 = sqlx::query_scalar("SELECT total_changes()")
        .fetch_one(&mut *conn)
        .await?;
    for (table, _) in TRIGRAM_TABLES {
        for _ in 0..MERGE_ROUNDS {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO {table} ({table}, rank) VALUES ('merge', $1)"
            )))
            .bind(MERGE_PAGES)
            .execute(&mut *conn)
            .await?;
            let after: i64 = sqlx::query_scalar("SELECT total_changes()")
                .fetch_one(&mut *conn)
                .await?;
            // FTS5: fewer than two changes mean the round had nothing left to merge.
            let idle = after - before < 2;
            before = after;
            if idle {
                break;
            }
        }
    }
    Ok(())
}

/// Pages of merge work a round of [`merge_backlog`] does, and its rounds a table.
const MERGE_PAGES: i64 = 2_000;
const MERGE_ROUNDS: usize = 10;

impl Suspended {
    /// Writes the trigrams the triggers would have: none for the `removed` records, and
    /// those of the records whose key `changed(key)` lists, from their current rows (empty
    /// keys are not indexed); then creates the triggers again.
    pub async fn resume(
        self,
        conn: &mut AnyConnection,
        removed: &[i64],
        changed: impl Fn(&str) -> Vec<i64>,
    ) -> Result<()> {
        for (table, key) in TRIGRAM_TABLES {
            let mut updated = changed(key);
            updated.sort_unstable();
            updated.dedup();
            let mut gone: Vec<i64> = removed.iter().chain(&updated).copied().collect();
            gone.sort_unstable();
            gone.dedup();
            if !gone.is_empty() {
                let mut sql = Sql::new(format!("DELETE FROM {table} WHERE rowid IN ("));
                push_json_ids(&mut sql, Backend::Sqlite, &gone);
                sql.push(")");
                sql.query().execute(&mut *conn).await?;
            }
            if !updated.is_empty() {
                let mut sql = Sql::new(format!(
                    "INSERT INTO {table} (rowid, k) SELECT id, {key} FROM records WHERE id IN ("
                ));
                push_json_ids(&mut sql, Backend::Sqlite, &updated);
                sql.push(&format!(") AND {key} <> '' ORDER BY id"));
                sql.query().execute(&mut *conn).await?;
            }
        }
        for ((table, _), was) in TRIGRAM_TABLES.iter().zip(self.automerge) {
            set_automerge(conn, table, was).await?;
        }
        for sql in self.triggers {
            // The schema's own SQL of the trigger, read before it was dropped.
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }
}
