//! SQLite's fast read path for the hottest point lookups (caller identification, API token
//! checks): plain rusqlite connections to the same file, the same SQL and row mapping as
//! the sqlx path. sqlx's SQLite driver hops threads per statement, which costs ~100 µs a
//! lookup; an indexed read here takes ~25 µs, so it runs inline on the calling task.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::types::Value as V;
use rusqlite::{Connection, OpenFlags};

use crate::cards::{Card, Children, base_select_sql, card_from_parts, push_contact_match};
use crate::params::{Param, Sql};
use crate::row::Cols;
use crate::users::{ApiToken, User, token_user_from_row, token_user_sql};
use crate::{Result, StoreError};
use kartoteka_domain::field::FieldType;
use kartoteka_domain::phone::PhoneType;
use kartoteka_domain::record::{EmailAddress, Phone};

/// Idle read-only connections to one SQLite file.
pub struct SqliteReader {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for SqliteReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteReader")
            .field("path", &self.path)
            .finish()
    }
}

pub(crate) fn err(e: rusqlite::Error) -> StoreError {
    StoreError::Config(format!("sqlite read: {e}"))
}

fn value(p: &Param) -> V {
    match p {
        Param::Text(t) => t.clone().map(V::Text).unwrap_or(V::Null),
        Param::Int(i) => i.map(V::Integer).unwrap_or(V::Null),
        Param::Real(r) => r.map(V::Real).unwrap_or(V::Null),
    }
}

const MAX_IDLE: usize = 16;

impl SqliteReader {
    pub fn new(path: &Path) -> SqliteReader {
        SqliteReader {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
        }
    }

    fn open(&self) -> Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(err)?;
        conn.execute_batch("PRAGMA busy_timeout = 10000; PRAGMA cache_size = -32768;")
            .map_err(err)?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(conn)
    }

    /// Runs `f` on an idle connection (opening one when none is idle).
    fn with<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let taken = self
            .idle
            .lock()
            .map_err(|_| StoreError::Config("reader pool poisoned".into()))?
            .pop();
        let conn = match taken {
            Some(c) => c,
            None => self.open()?,
        };
        let out = f(&conn);
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE
        {
            idle.push(conn);
        }
        out
    }

    fn rows<T>(&self, sql: &Sql, map: impl Fn(&rusqlite::Row<'_>) -> Result<T>) -> Result<Vec<T>> {
        self.with(|conn| query(conn, sql, map))
    }

    /// The lowest and the highest rowid of `table` (0, 0 when empty): the two ends of its
    /// b-tree.
    pub fn id_range(&self, table: &'static str) -> Result<(i64, i64)> {
        self.with(|conn| {
            conn.query_row(
                &format!("SELECT COALESCE(MIN(rowid), 0), COALESCE(MAX(rowid), 0) FROM {table}"),
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(err)
        })
    }

    /// Runs a statement and hands each row to `f` as it comes (scans too large to collect
    /// as rows first). Blocking: call it off the async workers.
    pub fn each_row(
        &self,
        sql: &Sql,
        mut f: impl FnMut(&rusqlite::Row<'_>) -> Result<()>,
    ) -> Result<()> {
        self.with(|conn| {
            let mut stmt = conn.prepare(&sql.text).map_err(err)?;
            let params: Vec<V> = sql.params.iter().map(value).collect();
            let mut rows = stmt
                .query(rusqlite::params_from_iter(params))
                .map_err(err)?;
            while let Some(row) = rows.next().map_err(err)? {
                f(row)?;
            }
            Ok(())
        })
    }

    /// Cards by a `WHERE` condition: the records rows, then each record's children with
    /// small prepared statements (faster here than SQLite's JSON aggregation).
    fn cards(&self, condition: impl FnOnce(&mut Sql)) -> Result<Vec<Card>> {
        let mut sql = Sql::new(base_select_sql());
        sql.push("WHERE ");
        condition(&mut sql);
        self.with(|conn| {
            let mut cards = Vec::new();
            let mut stmt = conn.prepare_cached(&sql.text).map_err(err)?;
            let params: Vec<V> = sql.params.iter().map(value).collect();
            let mut rows = stmt
                .query(rusqlite::params_from_iter(params))
                .map_err(err)?;
            while let Some(row) = rows.next().map_err(err)? {
                let id = row.int("id")?;
                cards.push(card_from_parts(row, children(conn, id)?)?);
            }
            Ok(cards)
        })
    }

    pub fn cards_by_contact(
        &self,
        phone: Option<&str>,
        email: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Card>> {
        self.cards(|sql| {
            push_contact_match(sql, phone, email);
            sql.push(" ORDER BY r.id LIMIT ").bind(limit);
        })
    }

    pub fn names_by_contact(
        &self,
        phone: Option<&str>,
        email: Option<&str>,
        limit: i64,
    ) -> Result<Vec<(String, String)>> {
        let mut sql = Sql::new("SELECT r.public_id, r.display_name FROM records r WHERE ");
        push_contact_match(&mut sql, phone, email);
        sql.push(" ORDER BY r.id LIMIT ").bind(limit);
        self.rows(&sql, |r| {
            Ok((r.text("public_id")?, r.text("display_name")?))
        })
    }

    pub fn card_by_public_id(&self, public_id: &str) -> Result<Option<Card>> {
        Ok(self
            .cards(|sql| {
                sql.push("r.public_id = ").bind(public_id);
            })?
            .pop())
    }

    pub fn token_user(&self, token_hash: &str) -> Result<Option<(User, ApiToken)>> {
        let mut sql = Sql::new(token_user_sql());
        sql.params.push(Param::from(token_hash));
        Ok(self.rows(&sql, |r| token_user_from_row(r))?.pop())
    }
}

fn query<T>(
    conn: &Connection,
    sql: &Sql,
    map: impl Fn(&rusqlite::Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(&sql.text).map_err(err)?;
    let params: Vec<V> = sql.params.iter().map(value).collect();
    let mut rows = stmt
        .query(rusqlite::params_from_iter(params))
        .map_err(err)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(err)? {
        out.push(map(row)?);
    }
    Ok(out)
}

fn children(conn: &Connection, id: i64) -> Result<Children> {
    let of = |text: &str| {
        let mut sql = Sql::new(text);
        sql.params.push(Param::from(id));
        sql
    };
    let mut c = Children {
        phones: query(
            conn,
            &of(
                "SELECT number, raw, phone_type, extension, is_default FROM phones WHERE record_id = ?1 ORDER BY position",
            ),
            |r| {
                Ok(Phone {
                    number: r.text("number")?,
                    raw: r.text("raw")?,
                    phone_type: PhoneType::parse(&r.text("phone_type")?).unwrap_or_default(),
                    extension: r.opt_text("extension")?,
                    default: r.int("is_default")? != 0,
                })
            },
        )?,
        emails: query(
            conn,
            &of("SELECT address, is_default FROM emails WHERE record_id = ?1 ORDER BY position"),
            |r| {
                Ok(EmailAddress {
                    address: r.text("address")?,
                    default: r.int("is_default")? != 0,
                })
            },
        )?,
        ..Children::default()
    };
    // Tags, managers, campaigns and segments in one statement: a statement costs more
    // than its rows here.
    let labels = query(
        conn,
        &of(
            "SELECT 't' AS k, 0 AS id, tag AS name FROM record_tags WHERE record_id = ?1 \
             UNION ALL SELECT 'm', 0, u.username FROM record_managers m JOIN users u ON u.id = m.user_id WHERE m.record_id = ?1 \
             UNION ALL SELECT 'c', g.id, g.name FROM cases x JOIN campaigns g ON g.id = x.campaign_id WHERE x.record_id = ?1 \
             UNION ALL SELECT 's', g.id, g.name FROM record_segments x JOIN segments g ON g.id = x.segment_id WHERE x.record_id = ?1",
        ),
        |r| Ok((r.text("k")?, r.int("id")?, r.text("name")?)),
    )?;
    for (k, id, name) in labels {
        match k.as_str() {
            "t" => c.tags.push(name),
            "m" => c.managers.push(name),
            "c" => c.campaigns.push((id, name)),
            _ => c.segments.push((id, name)),
        }
    }
    let custom = query(
        conn,
        &of(
            "SELECT f.key, f.field_type, v.value FROM custom_values v JOIN custom_fields f ON f.id = v.field_id WHERE v.record_id = ?1",
        ),
        |r| Ok((r.text("key")?, r.text("field_type")?, r.text("value")?)),
    )?;
    for (key, t, v) in custom {
        c.custom_types.insert(
            key.clone(),
            FieldType::parse(&t).map_err(|e| StoreError::Corrupt(e.message))?,
        );
        c.custom.insert(key, v);
    }
    Ok(c)
}
