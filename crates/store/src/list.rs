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
}

impl SortKey {
    /// The ORDER BY columns, the last of them the unique public ID.
    fn columns(self) -> &'static [&'static str] {
        match self {
            SortKey::Name => &["r.sort_last", "r.sort_first", "r.public_id"],
            SortKey::CreatedAt => &["r.created_at", "r.public_id"],
            SortKey::ModifiedAt => &["r.modified_at", "r.public_id"],
            SortKey::Id => &["r.public_id"],
        }
    }
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
    let cols = q.sort.columns();
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
        (true, Some(last)) => Some(
            cols.iter()
                .enumerate()
                .map(|(i, c)| {
                    if c.ends_with("_at") {
                        last.try_get::<i64, _>(i + 1).map(Param::from)
                    } else {
                        last.try_get::<String, _>(i + 1).map(Param::from)
                    }
                })
                .collect::<std::result::Result<Vec<_>, _>>()?,
        ),
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
    let dir = if q.descending { " DESC" } else { "" };
    let order: Vec<String> = cols.iter().map(|c| format!("{c}{dir}")).collect();
    sql.push(&format!(" ORDER BY {} LIMIT ", order.join(", ")))
        .bind(q.limit + 1);
    Ok(sql)
}

/// Rows a walk along the sort order examines at most (2 % broad: ~100 matches expected); when they hold too few matches (the
/// filter's rows lie elsewhere in the sort order), the page is read from the filter's index.
const WALK_BUDGET: i64 = 5_000;

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

/// When a page walks the sort order on SQLite, the sort's index, named: otherwise the
/// planner may prefer a full scan of a smaller covering index and sort everything.
fn walk_index(w: &Where<'_>, sort: SortKey) -> &'static str {
    match (w.walk && w.backend == crate::Backend::Sqlite, sort) {
        (true, SortKey::Name) => " INDEXED BY records_sort",
        (true, SortKey::CreatedAt) => " INDEXED BY records_created",
        (true, SortKey::ModifiedAt) => " INDEXED BY records_modified",
        _ => "",
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
const BROAD_SHARE: f64 = 0.02;
const MIN_BROAD: i64 = 5_000;
/// Estimates stop counting here.
const ESTIMATE_CAP: i64 = 20_000;

/// Plans a filtered query on SQLite (PostgreSQL plans itself): the unit whose index finds
/// the fewest records drives (each unit's count, capped, is cheap on its index), and a page
/// of a broad result walks the sort order. Returns the plan and, when `with_total`, the
/// total count.
pub async fn plan<'a>(
    pool: &sqlx::AnyPool,
    w: Where<'a>,
    sort: SortKey,
    with_total: bool,
) -> Result<(Where<'a>, Option<i64>)> {
    if w.backend != crate::Backend::Sqlite || w.conds.is_empty() {
        let total = if with_total {
            Some(count(pool, &w).await?)
        } else {
            None
        };
        return Ok((w, total));
    }
    let units = w.units();
    let mut best: Option<(usize, i64)> = None;
    if units.len() == 1 && with_total {
        // The count will tell how broad it is.
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
    let total = if with_total {
        Some(count(pool, &w).await?)
    } else {
        None
    };
    let records: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) FROM records")
        .fetch_one(pool)
        .await?
        .try_get(0)?;
    let broad_at = MIN_BROAD.max((records as f64 * BROAD_SHARE) as i64);
    let broad = match (total, best) {
        (Some(t), _) => t > broad_at,
        (None, Some((_, n))) => n > broad_at.min(ESTIMATE_CAP - 1),
        (None, None) => true,
    };
    let walk = broad && !(sort == SortKey::Name && w.has_name_prefix());
    Ok((Where { walk, ..w }, total))
}

pub async fn count<'e, E: Executor<'e, Database = Any>>(exec: E, w: &Where<'_>) -> Result<i64> {
    Ok(count_sql(w).query().fetch_one(exec).await?.try_get(0)?)
}

/// Whether more than `cap` records match: cheap where the filter has an index (it stops
/// at `cap`), and it tells a broad filter (page best read in sort order) from a narrow one
/// (page best read from the filter's index, then sorted).
pub async fn more_than<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    w: &Where<'_>,
    prefix_key: Option<&str>,
    cap: i64,
) -> Result<bool> {
    let mut sql = Sql::new("SELECT COUNT(*) FROM (SELECT 1 FROM records r WHERE 1 = 1");
    push_browse_filter(&mut sql, w, prefix_key);
    sql.push(" LIMIT ").bind(cap + 1).push(") t");
    let n: i64 = sql.query().fetch_one(exec).await?.try_get(0)?;
    Ok(n > cap)
}

/// The public and internal IDs of every matching record, in the order they were stored
/// (bulk actions).
pub async fn all_ids<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    w: &Where<'_>,
) -> Result<Vec<(String, i64)>> {
    let mut sql = Sql::new("SELECT r.public_id, r.id FROM records r WHERE 1 = 1");
    w.push(&mut sql);
    sql.push(" ORDER BY r.id");
    let rows = sql.query().fetch_all(exec).await?;
    Ok(rows
        .iter()
        .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
        .collect::<std::result::Result<_, sqlx::Error>>()?)
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
    let dir = if b.descending { " DESC" } else { "" };
    let order: Vec<String> = b
        .sort
        .columns()
        .iter()
        .map(|c| format!("{c}{dir}"))
        .collect();
    sql.push(&format!(" ORDER BY {} LIMIT ", order.join(", ")))
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
    let mut sql = Sql::new("SELECT COUNT(*) FROM records r WHERE 1 = 1");
    push_browse_filter(&mut sql, &Where { walk: false, ..*w }, prefix_key);
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
