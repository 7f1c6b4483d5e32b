//! The folded and reversed search keys of a record (migration 0007), written with every
//! records row, and the start-up backfill of rows stored before the keys existed.

use kartoteka_domain::text::fold;
use sqlx::Row;

use crate::params::{Param, Sql};
use crate::{Db, Result};

/// The key columns, in the order `keys` returns their values.
pub const COLUMNS: [&str; 13] = [
    "k_last",
    "k_first",
    "k_display",
    "k_city",
    "k_address",
    "x_last",
    "x_first",
    "x_display",
    "x_city",
    "x_address",
    "k_postal",
    "k_province",
    "k_country",
];

/// The folded text reversed: `%ski` becomes a prefix search on it.
pub fn reversed(folded: &str) -> String {
    folded.chars().rev().collect()
}

/// The address as one searchable text: both lines.
fn address(line1: Option<&str>, line2: Option<&str>) -> String {
    match (line1, line2) {
        (Some(a), Some(b)) => format!("{a} {b}"),
        (a, b) => a.or(b).unwrap_or_default().to_string(),
    }
}

/// The values of `COLUMNS` for a record whose field values `field` gives.
pub fn keys<'a>(field: impl Fn(&str) -> Option<&'a str>, display_name: &str) -> Vec<Param> {
    let folded = [
        fold(field("last_name").unwrap_or_default()),
        fold(field("first_name").unwrap_or_default()),
        fold(display_name),
        fold(field("city").unwrap_or_default()),
        fold(&address(field("address_line1"), field("address_line2"))),
    ];
    let mut out: Vec<Param> = folded.iter().map(|k| Param::from(k.clone())).collect();
    out.extend(folded.iter().map(|k| Param::from(reversed(k))));
    out.extend(
        ["postal_code", "province", "country"]
            .iter()
            .map(|f| Param::from(fold(field(f).unwrap_or_default()))),
    );
    out
}

/// Fills the keys of rows stored before they existed (display names are never empty, so
/// an empty `k_display` marks them), in chunks.
pub async fn backfill(db: &Db) -> Result<()> {
    let mut total = 0usize;
    loop {
        let rows = sqlx::query(
            "SELECT id, first_name, last_name, display_name, city, address_line1, address_line2, \
             postal_code, province, country FROM records WHERE k_display = '' LIMIT 2000",
        )
        .fetch_all(&db.pool)
        .await?;
        if rows.is_empty() {
            break;
        }
        let mut tx = db.begin_write().await?;
        for r in &rows {
            let id: i64 = r.try_get(0)?;
            let names = [
                "first_name",
                "last_name",
                "display_name",
                "city",
                "address_line1",
                "address_line2",
                "postal_code",
                "province",
                "country",
            ];
            let values = names
                .iter()
                .enumerate()
                .map(|(i, _)| r.try_get::<Option<String>, _>(i + 1))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let field = |f: &str| {
                names
                    .iter()
                    .position(|n| *n == f)
                    .and_then(|i| values[i].as_deref())
            };
            let display = field("display_name").unwrap_or("?");
            let mut sql = Sql::new("UPDATE records SET ");
            for (i, (c, v)) in COLUMNS.iter().zip(keys(field, display)).enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.push(c).push(" = ").bind(v);
            }
            sql.push(" WHERE id = ").bind(id);
            sql.query().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        total += rows.len();
    }
    // Custom values: folded in Rust (LOWER folds ASCII only).
    loop {
        let rows = sqlx::query(
            "SELECT record_id, field_id, value FROM custom_values WHERE folded IS NULL LIMIT 2000",
        )
        .fetch_all(&db.pool)
        .await?;
        if rows.is_empty() {
            break;
        }
        let mut tx = db.begin_write().await?;
        for r in &rows {
            let (rid, fid, v): (i64, i64, String) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
            sqlx::query(
                "UPDATE custom_values SET folded = $1 WHERE record_id = $2 AND field_id = $3",
            )
            .bind(fold(&v))
            .bind(rid)
            .bind(fid)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        total += rows.len();
    }
    if total > 0 {
        tracing::info!(rows = total, "search keys filled");
    }
    Ok(())
}
