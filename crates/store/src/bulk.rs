//! Loading many records at once (demo data now, imports later): multi-row statements with
//! internal IDs assigned up front, so children need no round trip per record.

use kartoteka_domain::record::{RecordData, RecordKind, TEXT_FIELDS};
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;

use crate::params::{Param, multi_insert};
use crate::records::{MAX_PARAMS, sort_keys};
use crate::{Backend, Result};

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
}

/// The next free internal record ID (inside a write transaction).
pub async fn next_record_id(conn: &mut AnyConnection) -> Result<i64> {
    let row = sqlx::query("SELECT COALESCE(MAX(id), 0) + 1 FROM records")
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get(0)?)
}

/// Inserts `records` with IDs `first_id..`; returns the IDs. Custom values are stored for
/// the keys found in `field_ids`.
pub async fn insert_records(
    conn: &mut AnyConnection,
    first_id: i64,
    records: &[NewRecord],
    field_ids: &HashMap<String, i64>,
) -> Result<Vec<i64>> {
    let ids: Vec<i64> = (0..records.len() as i64).map(|i| first_id + i).collect();
    let mut cols: Vec<&str> = vec!["id", "public_id", "kind"];
    cols.extend(TEXT_FIELDS);
    cols.extend([
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
    ]);
    let mut rows = Vec::with_capacity(records.len());
    let mut phones = Vec::new();
    let mut emails = Vec::new();
    let mut custom = Vec::new();
    let mut tags = Vec::new();
    for (r, id) in records.iter().zip(&ids) {
        let display = r.data.display_name(r.kind);
        let (sort_last, sort_first) = sort_keys(r.kind, &r.data, &display);
        let org = r
            .organization_in_batch
            .map(|i| ids[i])
            .or(r.organization_id);
        let mut row: Vec<Param> = vec![
            (*id).into(),
            r.public_id.clone().into(),
            r.kind.as_str().into(),
        ];
        row.extend(TEXT_FIELDS.iter().map(|f| Param::from(r.data.field(f))));
        row.extend([
            display.into(),
            org.into(),
            r.created_at.into(),
            r.created_by.into(),
            r.source.clone().into(),
            r.created_at.into(),
            r.created_by.into(),
            1.into(),
            sort_last.into(),
            sort_first.into(),
        ]);
        rows.push(row);
        for (i, p) in r.data.phones.iter().enumerate() {
            phones.push(vec![
                (*id).into(),
                (i as i64).into(),
                p.number.clone().into(),
                p.raw.clone().into(),
                p.phone_type.as_str().into(),
                p.extension.clone().into(),
                p.default.into(),
            ]);
        }
        for (i, e) in r.data.emails.iter().enumerate() {
            emails.push(vec![
                (*id).into(),
                (i as i64).into(),
                e.address.clone().into(),
                e.normalized().into(),
                e.default.into(),
            ]);
        }
        for (k, v) in &r.data.custom {
            if let Some(f) = field_ids.get(k) {
                custom.push(vec![(*id).into(), (*f).into(), v.clone().into()]);
            }
        }
        for t in &r.data.tags {
            tags.push(vec![(*id).into(), t.clone().into()]);
        }
    }
    let mut statements = multi_insert("records", &cols, &rows, MAX_PARAMS);
    statements.extend(multi_insert(
        "phones",
        &[
            "record_id",
            "position",
            "number",
            "raw",
            "phone_type",
            "extension",
            "is_default",
        ],
        &phones,
        MAX_PARAMS,
    ));
    statements.extend(multi_insert(
        "emails",
        &[
            "record_id",
            "position",
            "address",
            "address_norm",
            "is_default",
        ],
        &emails,
        MAX_PARAMS,
    ));
    statements.extend(multi_insert(
        "custom_values",
        &["record_id", "field_id", "value"],
        &custom,
        MAX_PARAMS,
    ));
    statements.extend(multi_insert(
        "record_tags",
        &["record_id", "tag"],
        &tags,
        MAX_PARAMS,
    ));
    for s in &statements {
        s.query().execute(&mut *conn).await?;
    }
    Ok(ids)
}

/// After explicit IDs, PostgreSQL's identity sequence must move past them.
pub async fn sync_sequences(conn: &mut AnyConnection, backend: Backend) -> Result<()> {
    if backend == Backend::Postgres {
        sqlx::query(
            "SELECT setval(pg_get_serial_sequence('records', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM records), false)",
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// SQLite's fast path: one connection of its own, prepared single-row statements reused
/// for every row (sqlx hops threads per statement, which costs more than the insert).
pub struct SqliteLoader {
    conn: rusqlite::Connection,
}

fn sqlite_err(e: rusqlite::Error) -> crate::StoreError {
    if let rusqlite::Error::SqliteFailure(f, msg) = &e
        && (f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
    {
        return crate::StoreError::Unique(msg.clone().unwrap_or_default());
    }
    crate::StoreError::Config(format!("sqlite: {e}"))
}

impl SqliteLoader {
    pub fn open(path: &std::path::Path) -> Result<SqliteLoader> {
        let conn = rusqlite::Connection::open(path).map_err(sqlite_err)?;
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 30000; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -262144;")
            .map_err(sqlite_err)?;
        Ok(SqliteLoader { conn })
    }

    /// Inserts a batch in one transaction with IDs after the current maximum.
    pub fn insert(
        &mut self,
        records: &[NewRecord],
        field_ids: &HashMap<String, i64>,
    ) -> Result<Vec<i64>> {
        use rusqlite::params_from_iter;
        use rusqlite::types::Value as V;
        let p = |x: &Param| match x {
            Param::Text(t) => t.clone().map(V::Text).unwrap_or(V::Null),
            Param::Int(i) => i.map(V::Integer).unwrap_or(V::Null),
            Param::Real(r) => r.map(V::Real).unwrap_or(V::Null),
        };
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
        let mut cols: Vec<&str> = vec!["id", "public_id", "kind"];
        cols.extend(TEXT_FIELDS);
        cols.extend([
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
        ]);
        let placeholders = vec!["?"; cols.len()].join(", ");
        {
            let mut rec = tx
                .prepare(&format!(
                    "INSERT INTO records ({}) VALUES ({placeholders})",
                    cols.join(", ")
                ))
                .map_err(sqlite_err)?;
            let mut ph = tx
                .prepare("INSERT INTO phones (record_id, position, number, raw, phone_type, extension, is_default) VALUES (?, ?, ?, ?, ?, ?, ?)")
                .map_err(sqlite_err)?;
            let mut em = tx
                .prepare("INSERT INTO emails (record_id, position, address, address_norm, is_default) VALUES (?, ?, ?, ?, ?)")
                .map_err(sqlite_err)?;
            let mut cv = tx
                .prepare("INSERT INTO custom_values (record_id, field_id, value) VALUES (?, ?, ?)")
                .map_err(sqlite_err)?;
            let mut tg = tx
                .prepare("INSERT INTO record_tags (record_id, tag) VALUES (?, ?)")
                .map_err(sqlite_err)?;
            for (r, id) in records.iter().zip(&ids) {
                let display = r.data.display_name(r.kind);
                let (sort_last, sort_first) = sort_keys(r.kind, &r.data, &display);
                let org = r
                    .organization_in_batch
                    .map(|i| ids[i])
                    .or(r.organization_id);
                let mut row: Vec<V> = vec![
                    V::Integer(*id),
                    V::Text(r.public_id.clone()),
                    V::Text(r.kind.as_str().into()),
                ];
                row.extend(TEXT_FIELDS.iter().map(|f| {
                    r.data
                        .field(f)
                        .map(|v| V::Text(v.into()))
                        .unwrap_or(V::Null)
                }));
                row.extend(
                    [
                        Param::from(display),
                        org.into(),
                        r.created_at.into(),
                        r.created_by.into(),
                        r.source.clone().into(),
                        r.created_at.into(),
                        r.created_by.into(),
                        1.into(),
                        sort_last.into(),
                        sort_first.into(),
                    ]
                    .iter()
                    .map(p),
                );
                rec.execute(params_from_iter(row)).map_err(sqlite_err)?;
                for (i, ph_) in r.data.phones.iter().enumerate() {
                    ph.execute(rusqlite::params![
                        id,
                        i as i64,
                        ph_.number,
                        ph_.raw,
                        ph_.phone_type.as_str(),
                        ph_.extension,
                        i64::from(ph_.default)
                    ])
                    .map_err(sqlite_err)?;
                }
                for (i, e) in r.data.emails.iter().enumerate() {
                    em.execute(rusqlite::params![
                        id,
                        i as i64,
                        e.address,
                        e.normalized(),
                        i64::from(e.default)
                    ])
                    .map_err(sqlite_err)?;
                }
                for (k, v) in &r.data.custom {
                    if let Some(f) = field_ids.get(k) {
                        cv.execute(rusqlite::params![id, f, v])
                            .map_err(sqlite_err)?;
                    }
                }
                for t in &r.data.tags {
                    tg.execute(rusqlite::params![id, t]).map_err(sqlite_err)?;
                }
            }
        }
        tx.commit().map_err(sqlite_err)?;
        Ok(ids)
    }
}
