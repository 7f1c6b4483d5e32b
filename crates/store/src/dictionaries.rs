//! Dictionaries: positions, stages, acquisition sources, languages, classifiers, ticket statuses.

use sqlx::{Any, Executor, Row};
use std::collections::BTreeMap;

use crate::{Result, StoreError};

/// The dictionaries the product knows, with their default entries (code, English label).
pub const DICTIONARIES: [(&str, &[(&str, &str)]); 6] = [
    (
        "languages",
        &[
            ("pl", "Polish"),
            ("en", "English"),
            ("de", "German"),
            ("cs", "Czech"),
            ("ro", "Romanian"),
        ],
    ),
    ("positions", &[]),
    (
        "stages",
        &[
            ("lead", "Lead"),
            ("prospect", "Prospect"),
            ("customer", "Customer"),
            ("former", "Former customer"),
        ],
    ),
    (
        "acquisition_sources",
        &[
            ("website", "Website"),
            ("phone", "Phone"),
            ("referral", "Referral"),
            ("campaign", "Campaign"),
        ],
    ),
    ("classifiers", &[]),
    (
        "ticket_statuses",
        &[("new", "New"), ("open", "Open"), ("closed", "Closed")],
    ),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub dictionary: String,
    pub code: String,
    pub label: String,
    pub position: i64,
    pub active: bool,
}

/// Fills empty dictionaries with their defaults (first start).
pub async fn seed(conn: &mut sqlx::AnyConnection) -> Result<()> {
    for (dict, entries) in DICTIONARIES {
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM dictionary_entries WHERE dictionary = $1")
            .bind(dict)
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        if n > 0 {
            continue;
        }
        for (i, (code, label)) in entries.iter().enumerate() {
            sqlx::query("INSERT INTO dictionary_entries (dictionary, code, label, position, active) VALUES ($1, $2, $3, $4, 1)")
                .bind(dict)
                .bind(*code)
                .bind(*label)
                .bind(i as i64)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

pub async fn entries<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    dictionary: Option<&str>,
) -> Result<Vec<Entry>> {
    let rows = match dictionary {
        Some(d) => {
            sqlx::query("SELECT dictionary, code, label, position, active FROM dictionary_entries WHERE dictionary = $1 ORDER BY position, code")
                .bind(d)
                .fetch_all(exec)
                .await?
        }
        None => {
            sqlx::query("SELECT dictionary, code, label, position, active FROM dictionary_entries ORDER BY dictionary, position, code")
                .fetch_all(exec)
                .await?
        }
    };
    rows.iter()
        .map(|r| {
            Ok(Entry {
                dictionary: r.try_get(0)?,
                code: r.try_get(1)?,
                label: r.try_get(2)?,
                position: r.try_get(3)?,
                active: r.try_get::<i64, _>(4)? != 0,
            })
        })
        .collect()
}

/// Active (code, label) pairs per dictionary, for validating writes.
pub async fn active_codes<'e, E: Executor<'e, Database = Any>>(
    exec: E,
) -> Result<BTreeMap<String, Vec<(String, String)>>> {
    let mut map: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for e in entries(exec, None).await?.into_iter().filter(|e| e.active) {
        map.entry(e.dictionary).or_default().push((e.code, e.label));
    }
    Ok(map)
}

pub async fn upsert<'e, E: Executor<'e, Database = Any>>(exec: E, e: &Entry) -> Result<()> {
    sqlx::query(
        "INSERT INTO dictionary_entries (dictionary, code, label, position, active) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (dictionary, code) DO UPDATE SET label = excluded.label, position = excluded.position, \
         active = excluded.active",
    )
    .bind(&e.dictionary)
    .bind(&e.code)
    .bind(&e.label)
    .bind(e.position)
    .bind(i64::from(e.active))
    .execute(exec)
    .await?;
    Ok(())
}

pub async fn delete<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    dictionary: &str,
    code: &str,
) -> Result<()> {
    let done = sqlx::query("DELETE FROM dictionary_entries WHERE dictionary = $1 AND code = $2")
        .bind(dictionary)
        .bind(code)
        .execute(exec)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// How many records use `code` in the system field bound to `dictionary`.
pub async fn usage<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    column: &str,
    code: &str,
) -> Result<i64> {
    // `column` comes from the fixed list of dictionary-bound record fields, never from input.
    let sql = format!("SELECT COUNT(*) FROM records WHERE {column} = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(code)
        .fetch_one(exec)
        .await?;
    Ok(row.try_get(0)?)
}
