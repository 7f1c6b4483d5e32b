//! Listing records in pages: keyset paging on the sort key with the public ID as tie-break.

use sqlx::{Any, Executor, Row};

use crate::filter::Where;
use crate::params::{Param, Sql};
use crate::{Result, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Last name, first name, ID (the default; Polish collation).
    Name,
    CreatedAt,
    ModifiedAt,
    Id,
    /// Another column of `SORTABLE`, by its index there.
    Field(usize),
}

/// The other columns the list sorts by: field key and the expression sorted on (texts by
/// their folded key or stored code, empty values first). Only `city` has an index for it
/// (`records_k_city`); the others sort the matches, fast once a filter narrows them.
pub const SORTABLE: [(&str, &str); 18] = [
    ("first_name", "r.sort_first"),
    ("display_name", "r.k_display"),
    ("city", "r.k_city"),
    ("address", "r.k_address"),
    ("postal_code", "r.k_postal"),
    ("province", "r.k_province"),
    ("country", "r.k_country"),
    ("kind", "r.kind"),
    ("nip", "COALESCE(r.nip, '')"),
    ("pesel", "COALESCE(r.pesel, '')"),
    ("regon", "COALESCE(r.regon, '')"),
    ("external_id", "COALESCE(r.external_id, '')"),
    ("language", "COALESCE(r.language, '')"),
    ("position", "COALESCE(r.position, '')"),
    ("stage", "COALESCE(r.stage, '')"),
    ("acquisition_source", "COALESCE(r.acquisition_source, '')"),
    ("source", "r.source"),
    ("last_contact_at", "COALESCE(r.last_contact_at, 0)"),
];

impl SortKey {
    /// The sort a field key names (`last_name`, `created_at`, `city` …).
    pub fn parse(name: &str) -> Option<SortKey> {
        Some(match name {
            "last_name" | "name" => SortKey::Name,
            "created_at" => SortKey::CreatedAt,
            "modified_at" => SortKey::ModifiedAt,
            "id" => SortKey::Id,
            other => SortKey::Field(SORTABLE.iter().position(|(k, _)| *k == other)?),
        })
    }

    /// The field key of the sort.
    pub fn name(self) -> &'static str {
        match self {
            SortKey::Name => "last_name",
            SortKey::CreatedAt => "created_at",
            SortKey::ModifiedAt => "modified_at",
            SortKey::Id => "id",
            SortKey::Field(i) => SORTABLE.get(i).map_or("last_name", |(k, _)| k),
        }
    }

    /// The ORDER BY columns, the last of them the unique public ID.
    fn columns(self) -> Vec<&'static str> {
        match self {
            SortKey::Name => vec!["r.sort_last", "r.sort_first", "r.public_id"],
            SortKey::CreatedAt => vec!["r.created_at", "r.public_id"],
            SortKey::ModifiedAt => vec!["r.modified_at", "r.public_id"],
            SortKey::Id => vec!["r.public_id"],
            SortKey::Field(i) => vec![
                SORTABLE.get(i).map_or("r.sort_last", |(_, e)| e),
                "r.public_id",
            ],
        }
    }

    /// The index that serves this order (a page of a broad filter walks it).
    fn index(self) -> Option<&'static str> {
        match self {
            SortKey::Name => Some("records_sort"),
            SortKey::CreatedAt => Some("records_created"),
            SortKey::ModifiedAt => Some("records_modified"),
            SortKey::Field(i) if SORTABLE.get(i).is_some_and(|(k, _)| *k == "city") => {
                Some("records_k_city")
            }
            _ => None,
        }
    }
}

/// Whether a sort column holds numbers (instants).
fn is_int(col: &str) -> bool {
    col.contains("_at")
}

/// Where a page starts: the sort values of the last row of the previous page.
pub type Position = Vec<Param>;

#[derive(Debug, Clone)]
pub struct ListQuery {
    pub sort: SortKey,
    pub descending: bool,
    pub after: Option<Position>,
    pub limit: i64,
}

/// One page: internal IDs in order, and the position after the last one when more follow.
pub async fn page(
    pool: &sqlx::AnyPool,
    q: &ListQuery,
    w: &Where<'_>,
) -> Result<(Vec<i64>, Option<Position>)> {
    let mut rows = page_sql(q, w)?.query().fetch_all(pool).await?;
    if w.walk && rows.len() as i64 <= q.limit {
        // The walk's budget ran out before a full page: read it from the filter's index.
        rows = page_sql(q, &Where { walk: false, ..*w })?
            .query()
            .fetch_all(pool)
            .await?;
    }
    let more = rows.len() as i64 > q.limit;
    let rows = &rows[..rows.len().min(q.limit as usize)];
    let ids = rows
        .iter()
        .map(|r| r.try_get::<i64, _>(0))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let next = match (more, rows.last()) {
        (true, Some(last)) => Some(position_of(last, q.sort)?),
        _ => None,
    };
    Ok((ids, next))
}

/// The statement of `page`: the IDs and sort values of one page plus one row (which tells
/// whether more follow).
pub fn page_sql(q: &ListQuery, w: &Where<'_>) -> Result<Sql> {
    let cols = q.sort.columns();
    let mut sql = Sql::new(format!(
        "SELECT r.id, {} FROM records r{} WHERE 1 = 1",
        cols.join(", "),
        walk_index(w, q.sort)
    ));
    w.push(&mut sql);
    if let Some(after) = &q.after {
        if after.len() != cols.len() {
            return Err(StoreError::Corrupt(
                "the cursor does not fit the sort".into(),
            ));
        }
        sql.push(&format!(
            " AND ({}) {} (",
            cols.join(", "),
            if q.descending { "<" } else { ">" }
        ));
        for (i, v) in after.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(v.clone());
        }
        sql.push(")");
    }
    if w.walk {
        push_walk_bound(
            &mut sql,
            w,
            q.sort,
            q.descending,
            q.after.as_deref(),
            None,
            WALK_BUDGET,
        );
    }
    sql.push(&format!(
        " ORDER BY {} LIMIT ",
        order_by(w, q.sort, q.descending)
    ))
    .bind(q.limit + 1);
    Ok(sql)
}

/// Rows a walk along the sort order examines at most (1 % broad: ~100 matches expected); when they hold too few matches (the
/// filter's rows lie elsewhere in the sort order), the page is read from the filter's index.
const WALK_BUDGET: i64 = 10_000;

/// Limits a walk to the first `budget` rows of the sort order from where it starts: ` AND
/// (sort columns) <= (those of the row `budget` further)`, when there is such a row.
fn push_walk_bound(
    sql: &mut Sql,
    w: &Where<'_>,
    sort: SortKey,
    descending: bool,
    after: Option<&[Param]>,
    prefix_key: Option<&str>,
    budget: i64,
) {
    let cols = sort.columns().join(", ");
    let (dir, cmp, after_cmp) = if descending {
        (" DESC", ">=", "<")
    } else {
        ("", "<=", ">")
    };
    let order: Vec<String> = sort.columns().iter().map(|c| format!("{c}{dir}")).collect();
    let mut bound = Sql::new(format!(
        "SELECT {cols} FROM records r{} WHERE 1 = 1",
        walk_index(w, sort)
    ));
    bound.params = std::mem::take(&mut sql.params);
    if let Some(k) = prefix_key {
        push_prefix(&mut bound, k);
    }
    if let Some(after) = after {
        bound.push(&format!(" AND ({cols}) {after_cmp} ("));
        for (i, v) in after.iter().enumerate() {
            if i > 0 {
                bound.push(", ");
            }
            bound.bind(v.clone());
        }
        bound.push(")");
    }
    bound
        .push(&format!(" ORDER BY {} LIMIT 1 OFFSET ", order.join(", ")))
        .bind(budget);
    // The bound's statement twice: whether it has a row, and the row.
    let text = bound.text.clone();
    sql.params = bound.params;
    sql.push(&format!(
        " AND (NOT EXISTS ({text}) OR ({cols}) {cmp} ({text}))"
    ));
}

/// The ORDER BY list of a page. On PostgreSQL a filtered page that is not to walk the sort
/// order sorts by expressions (`col || ''`), which its sort index cannot serve: the planner
/// would otherwise walk it hoping to meet the matches soon, and a filter whose rows lie
/// together elsewhere in the order (a last-name prefix) makes that walk long.
fn order_by(w: &Where<'_>, sort: SortKey, descending: bool) -> String {
    let dir = if descending { " DESC" } else { "" };
    let no_index = w.backend == crate::Backend::Postgres && !w.walk && !w.conds.is_empty();
    sort.columns()
        .iter()
        .map(|c| match (no_index, is_int(c)) {
            (false, _) => format!("{c}{dir}"),
            (true, true) => format!("({c} + 0){dir}"),
            (true, false) => format!("({c} || ''){dir}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// When a page walks the sort order on SQLite, the sort's index, named: otherwise the
/// planner may prefer a full scan of a smaller covering index and sort everything.
fn walk_index(w: &Where<'_>, sort: SortKey) -> String {
    match (w.walk && w.backend == crate::Backend::Sqlite, sort.index()) {
        (true, Some(index)) => format!(" INDEXED BY {index}"),
        _ => String::new(),
    }
}

/// The statement of `count`: from the membership tables alone when the filter is made of
/// memberships, else over the records (driven as `w` says, never walking).
pub fn count_sql(w: &Where<'_>) -> Sql {
    if let Some(sql) = w.member_count_sql() {
        return sql;
    }
    let mut sql = Sql::new("SELECT COUNT(*) FROM records r WHERE 1 = 1");
    push_browse_filter(&mut sql, &Where { walk: false, ..*w }, None);
    sql
}

/// A page walks the sort order instead of sorting the matches when more than this share
/// of the records match (at least `MIN_BROAD`): then a walk finds a page within its budget.
const BROAD_SHARE: f64 = 0.01;
const MIN_BROAD: i64 = 5_000;
/// Estimates stop counting here.
const ESTIMATE_CAP: i64 = 20_000;

/// What planning found: the scope to run, the total when asked or known, and — when at
/// most `SMALL` records match — all of them already in sort order (no further query needed).
pub struct Planned<'a> {
    pub w: Where<'a>,
    pub total: Option<i64>,
    pub small: Option<Vec<(i64, Position)>>,
}

/// A result this small is read whole, unsorted (the read stops early when it is not), and
/// sorted here: one statement gives both the page and the count.
pub const SMALL: i64 = 1000;

/// Plans a filtered query: on SQLite the unit whose index finds the fewest records drives
/// (each unit's count, capped, is cheap on its index; PostgreSQL chooses itself); a small
/// result is read whole; a page of a broad one walks the sort order, of a narrow one sorts
/// the matches.
pub async fn plan<'a>(
    pool: &sqlx::AnyPool,
    w: Where<'a>,
    sort: SortKey,
    descending: bool,
    prefix_key: Option<&str>,
    with_total: bool,
) -> Result<Planned<'a>> {
    let total_of = |w: Where<'a>| async move {
        Ok::<_, StoreError>(if with_total {
            Some(browse_count(pool, &w, prefix_key).await?)
        } else {
            None
        })
    };
    if w.conds.is_empty() && prefix_key.is_none() {
        let total = total_of(w).await?;
        return Ok(Planned {
            w,
            total,
            small: None,
        });
    }
    let units = w.units();
    let mut best: Option<(usize, i64)> = None;
    if w.backend != crate::Backend::Sqlite {
        // PostgreSQL drives by itself (every unit stays in its index form).
    } else if units.len() == 1 {
        best = w.estimate_sql(&units[0], 0).map(|_| (0, 0));
    } else {
        for (i, u) in units.iter().enumerate() {
            if let Some(sql) = w.estimate_sql(u, ESTIMATE_CAP) {
                let n: i64 = sql.query().fetch_one(pool).await?.try_get(0)?;
                if best.is_none_or(|(_, b)| n < b) {
                    best = Some((i, n));
                }
            }
        }
    }
    let w = Where {
        driver: best.map(|(i, _)| i),
        ..w
    };
    if let Some(all) = small(pool, &w, sort, descending, prefix_key).await? {
        return Ok(Planned {
            w,
            total: Some(all.len() as i64),
            small: Some(all),
        });
    }
    let total = total_of(w).await?;
    let records: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) FROM records")
        .fetch_one(pool)
        .await?
        .try_get(0)?;
    let broad_at = MIN_BROAD.max((records as f64 * BROAD_SHARE) as i64);
    let broad = match total {
        Some(t) => t > broad_at,
        None => true,
    };
    let walk = prefix_key.is_some() || (broad && !(sort == SortKey::Name && w.has_name_prefix()));
    Ok(Planned {
        w: Where { walk, ..w },
        total,
        small: None,
    })
}

/// The statement reading up to `SMALL` + 1 matches with their sort values, unsorted.
pub fn small_sql(w: &Where<'_>, sort: SortKey, prefix_key: Option<&str>) -> Sql {
    let mut sql = Sql::new(format!(
        "SELECT r.id, {} FROM records r WHERE 1 = 1",
        sort.columns().join(", ")
    ));
    push_browse_filter(&mut sql, &Where { walk: false, ..*w }, prefix_key);
    sql.push(" LIMIT ").bind(SMALL + 1);
    sql
}

/// All matches in sort order when there are at most `SMALL`.
async fn small(
    pool: &sqlx::AnyPool,
    w: &Where<'_>,
    sort: SortKey,
    descending: bool,
    prefix_key: Option<&str>,
) -> Result<Option<Vec<(i64, Position)>>> {
    let rows = small_sql(w, sort, prefix_key)
        .query()
        .fetch_all(pool)
        .await?;
    if rows.len() as i64 > SMALL {
        return Ok(None);
    }
    let mut all = rows
        .iter()
        .map(|r| Ok((r.try_get::<i64, _>(0)?, position_of(r, sort)?)))
        .collect::<Result<Vec<_>>>()?;
    all.sort_by(|a, b| {
        let o = cmp_position(&a.1, &b.1);
        if descending { o.reverse() } else { o }
    });
    Ok(Some(all))
}

/// The sort values of a row whose first column is the ID.
fn position_of(row: &sqlx::any::AnyRow, sort: SortKey) -> Result<Position> {
    Ok(sort
        .columns()
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if is_int(c) {
                row.try_get::<i64, _>(i + 1).map(Param::from)
            } else {
                row.try_get::<String, _>(i + 1).map(Param::from)
            }
        })
        .collect::<std::result::Result<Vec<_>, _>>()?)
}

/// The order of sort values as the database orders them (texts bytewise, numbers).
pub fn cmp_position(a: &[Param], b: &[Param]) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    for (x, y) in a.iter().zip(b) {
        let o = match (x, y) {
            (Param::Text(x), Param::Text(y)) => x
                .as_deref()
                .map(str::as_bytes)
                .cmp(&y.as_deref().map(str::as_bytes)),
            (Param::Int(x), Param::Int(y)) => x.cmp(y),
            (Param::Real(x), Param::Real(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
            _ => Ordering::Equal,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

pub async fn count<'e, E: Executor<'e, Database = Any>>(exec: E, w: &Where<'_>) -> Result<i64> {
    Ok(count_sql(w).query().fetch_one(exec).await?.try_get(0)?)
}

/// The public and internal IDs of every matching record, in the order they were stored
/// (bulk actions).
pub async fn all_ids<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    w: &Where<'_>,
    prefix_key: Option<&str>,
) -> Result<Vec<(String, i64)>> {
    use futures_util::TryStreamExt;
    let mut sql = Sql::new("SELECT r.public_id, r.id FROM records r WHERE 1 = 1");
    push_browse_filter(&mut sql, w, prefix_key);
    sql.push(" ORDER BY r.id");
    // Streamed: a million rows held as rows first cost ~200 MB more than the pairs.
    let mut out = Vec::new();
    let mut rows = sql.query().fetch(exec);
    while let Some(r) = rows.try_next().await? {
        out.push((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?));
    }
    Ok(out)
}

/// A page of the UI's browsing: records optionally only those whose last-name sort key
/// starts with `prefix_key`, in `sort` order, at an offset.
pub struct Browse<'a> {
    pub prefix_key: Option<&'a str>,
    pub sort: SortKey,
    pub descending: bool,
    pub offset: i64,
    pub limit: i64,
}

pub async fn browse(pool: &sqlx::AnyPool, b: &Browse<'_>, w: &Where<'_>) -> Result<Vec<i64>> {
    let ids = browse_ids(pool, b, w).await?;
    if w.walk && (ids.len() as i64) < b.limit {
        // The walk's budget ran out first: read the page from the filter's index.
        return browse_ids(pool, b, &Where { walk: false, ..*w }).await;
    }
    Ok(ids)
}

async fn browse_ids(pool: &sqlx::AnyPool, b: &Browse<'_>, w: &Where<'_>) -> Result<Vec<i64>> {
    let (prefix_key, offset, limit) = (b.prefix_key, b.offset, b.limit);
    let mut sql = Sql::new(format!(
        "SELECT r.id FROM records r{} WHERE 1 = 1",
        walk_index(w, b.sort)
    ));
    push_browse_filter(&mut sql, w, prefix_key);
    if w.walk {
        let budget = WALK_BUDGET + 20 * (offset + limit);
        push_walk_bound(&mut sql, w, b.sort, b.descending, None, prefix_key, budget);
    }
    sql.push(&format!(
        " ORDER BY {} LIMIT ",
        order_by(w, b.sort, b.descending)
    ))
    .bind(limit);
    sql.push(" OFFSET ").bind(offset);
    let rows = sql.query().fetch_all(pool).await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get::<i64, _>(0))
        .collect::<std::result::Result<_, _>>()?)
}

pub async fn browse_count<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    w: &Where<'_>,
    prefix_key: Option<&str>,
) -> Result<i64> {
    let Some(prefix_key) = prefix_key else {
        return count(exec, w).await;
    };
    let mut sql = Sql::new("SELECT COUNT(*) FROM records r WHERE 1 = 1");
    push_browse_filter(&mut sql, &Where { walk: false, ..*w }, Some(prefix_key));
    Ok(sql.query().fetch_one(exec).await?.try_get(0)?)
}

fn push_browse_filter(sql: &mut Sql, w: &Where<'_>, prefix_key: Option<&str>) {
    w.push(sql);
    if let Some(k) = prefix_key {
        push_prefix(sql, k);
    }
}

/// Last-name sort keys starting with `k` (the search box).
fn push_prefix(sql: &mut Sql, k: &str) {
    // Every key starting with `k` sorts between `k` and `k` + the highest character.
    sql.push(" AND r.sort_last >= ").bind(k.to_string());
    sql.push(" AND r.sort_last < ")
        .bind(format!("{k}\u{10FFFF}"));
}
