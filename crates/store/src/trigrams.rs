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
/// transaction.
#[must_use = "the triggers must be created again before the commit"]
pub struct Suspended {
    /// Their SQL, to create them again.
    triggers: Vec<String>,
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
    Ok(Some(Suspended { triggers }))
}

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
        for sql in self.triggers {
            // The schema's own SQL of the trigger, read before it was dropped.
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }
}
