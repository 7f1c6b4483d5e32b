//! Finding duplicate groups (SPEC C7); a search's stored groups are in `groups`.
//!
//! One criterion drives the search: the most selective one the records' indexes serve
//! (national IDs, external ID, phone, e-mail, a custom field, then names). Its values
//! shared by two or more records give candidate buckets straight from an index; the other
//! criteria's values are read for the candidates only and split the buckets further.
//! When every criterion is a name-like column, the records are read once and partitioned
//! by all of them at once, in memory (`names`).

use futures_util::TryStreamExt;
use kartoteka_domain::duplicates::{Criterion, FoundGroup, Grouper};
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;

use crate::bulk_ops::push_json_ids;
use crate::fast::SqliteReader;
use crate::filter::Where;
use crate::params::Sql;
use crate::{Backend, Result};

/// IDs read per statement when loading candidates' values.
const CHUNK: usize = 20_000;

mod groups;
mod names;
pub use groups::*;

fn rank(c: &Criterion) -> u8 {
    match c {
        Criterion::Field("pesel") => 0,
        Criterion::Field("nip") => 1,
        Criterion::Field("regon") => 2,
        Criterion::Field("external_id") => 3,
        Criterion::Phone => 4,
        Criterion::Email => 5,
        Criterion::Custom(_) => 6,
        Criterion::Field("display_name") => 7,
        Criterion::Field("address") => 8,
        Criterion::Field("last_name") => 9,
        Criterion::Field("first_name") => 10,
        Criterion::Field(_) => 11,
    }
}

/// The records column holding a single-valued criterion's normalized value.
fn column(field: &str) -> &'static str {
    match field {
        "first_name" => "r.k_first",
        "last_name" => "r.k_last",
        "display_name" => "r.k_display",
        "city" => "r.k_city",
        "address" => "r.k_address",
        "nip" => "r.nip",
        "pesel" => "r.pesel",
        "regon" => "r.regon",
        _ => "r.external_id",
    }
}

/// `AND r.id IN (the filter's records)`, when limited to a filter.
fn push_scope(sql: &mut Sql, column: &str, scope: Option<&Where<'_>>) {
    if let Some(w) = scope {
        sql.push(&format!(
            " AND {column} IN (SELECT r.id FROM records r WHERE 1 = 1"
        ));
        w.push(sql);
        sql.push(")");
    }
}

/// A record's public ID, kind and creation time (how a group lists and orders its members).
pub type Facts = (String, String, i64);

/// A group found, with its members' facts where the search read them on the way (`None`:
/// not read; [`member_facts`] reads them).
#[derive(Debug)]
pub struct Found {
    pub group: FoundGroup,
    /// In the order of `group.members`.
    pub facts: Vec<Option<Facts>>,
}

/// The groups a search found: built ahead, or (searches by names) built one at a time as
/// they are taken.
pub enum FoundGroups {
    Built(std::vec::IntoIter<Found>),
    Names(Box<names::Groups>),
}

impl FoundGroups {
    /// The members whose facts the search did not read ([`member_facts`] reads them).
    pub fn missing_facts(&self) -> Vec<i64> {
        match self {
            FoundGroups::Built(groups) => groups
                .as_slice()
                .iter()
                .flat_map(|f| f.group.members.iter().zip(&f.facts))
                .filter(|(_, facts)| facts.is_none())
                .map(|(id, _)| *id)
                .collect(),
            // read with the records
            FoundGroups::Names(_) => Vec::new(),
        }
    }
}

impl Iterator for FoundGroups {
    type Item = Found;

    fn next(&mut self) -> Option<Found> {
        match self {
            FoundGroups::Built(groups) => groups.next(),
            FoundGroups::Names(groups) => groups.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            FoundGroups::Built(groups) => groups.size_hint(),
            FoundGroups::Names(groups) => groups.size_hint(),
        }
    }
}

/// Groups with the facts of `facts` attached (each record is in one group).
fn attach(groups: Vec<FoundGroup>, mut facts: HashMap<i64, Facts>) -> Vec<Found> {
    groups
        .into_iter()
        .map(|group| Found {
            facts: group.members.iter().map(|id| facts.remove(id)).collect(),
            group,
        })
        .collect()
}

/// Finds the groups of records equal in every criterion. `custom_ids` maps custom keys to
/// their definitions' IDs. Members are internal IDs; their facts come along where the
/// search read them (of all, or of some: [`member_facts`] reads the rest).
pub async fn find(
    conn: &mut AnyConnection,
    backend: Backend,
    reader: Option<&std::sync::Arc<SqliteReader>>,
    criteria: &[Criterion],
    custom_ids: &HashMap<String, i64>,
    scope: Option<&Where<'_>>,
    exclusions: &std::collections::BTreeSet<String>,
) -> Result<FoundGroups> {
    let keys: Vec<String> = criteria.iter().map(Criterion::key).collect();
    let Some(driver) = (0..criteria.len()).min_by_key(|&i| rank(&criteria[i])) else {
        return Ok(FoundGroups::Built(Vec::new().into_iter()));
    };
    let name_like = criteria
        .iter()
        .all(|c| matches!(c, Criterion::Field(_)) && rank(c) >= 7);
    if name_like {
        let groups = partitioned(conn, reader, criteria, scope, &keys, exclusions).await?;
        return Ok(FoundGroups::Names(Box::new(groups)));
    }
    let mut grouper = Grouper::with_exclusions(exclusions.clone());
    let (buckets, facts) =
        driver_buckets(conn, reader, &criteria[driver], custom_ids, scope).await?;
    let others: Vec<usize> = (0..criteria.len()).filter(|&i| i != driver).collect();
    if others.is_empty() {
        for (value, ids) in buckets {
            grouper.add(&ids, vec![(driver, value)]);
        }
        let groups = grouper.finish(&keys);
        return Ok(FoundGroups::Built(
            attach(groups, facts.get().await?).into_iter(),
        ));
    }
    // The other criteria's values of every candidate.
    let candidates = members(&buckets);
    let singles: Vec<usize> = others
        .iter()
        .copied()
        .filter(|&i| !criteria[i].is_multi())
        .collect();
    let multis: Vec<usize> = others
        .iter()
        .copied()
        .filter(|&i| criteria[i].is_multi())
        .collect();
    let single_values =
        load_singles(conn, backend, criteria, &singles, custom_ids, &candidates).await?;
    let mut multi_values = Vec::with_capacity(multis.len());
    for &m in &multis {
        multi_values.push((
            m,
            load_multi(conn, backend, &criteria[m], &candidates).await?,
        ));
    }
    for (value, ids) in buckets {
        // Split by the single-valued criteria (records missing one drop out).
        let mut split: HashMap<&[String], Vec<i64>> = HashMap::new();
        for id in &ids {
            if let Some(vals) = single_values.get(id) {
                split.entry(vals.as_slice()).or_default().push(*id);
            }
        }
        for (vals, members) in split {
            if members.len() < 2 {
                continue;
            }
            let mut ties: Vec<(usize, String)> = vec![(driver, value.clone())];
            ties.extend(singles.iter().copied().zip(vals.iter().cloned()));
            refine(&mut grouper, &members, &multi_values, ties);
        }
    }
    let groups = grouper.finish(&keys);
    Ok(FoundGroups::Built(
        attach(groups, facts.get().await?).into_iter(),
    ))
}

/// Splits a clique further by each remaining many-valued criterion (records sharing one of
/// its values), then adds what is left.
fn refine(
    grouper: &mut Grouper,
    members: &[i64],
    multis: &[(usize, HashMap<i64, Vec<String>>)],
    ties: Vec<(usize, String)>,
) {
    let Some(((m, values), rest)) = multis.split_first() else {
        grouper.add(members, ties);
        return;
    };
    let mut by_value: HashMap<&str, Vec<i64>> = HashMap::new();
    for id in members {
        for v in values.get(id).into_iter().flatten() {
            by_value.entry(v.as_str()).or_default().push(*id);
        }
    }
    for (v, clique) in by_value {
        if clique.len() > 1 {
            let mut t = ties.clone();
            t.push((*m, v.to_string()));
            refine(grouper, &clique, rest, t);
        }
    }
}

/// Every criterion a records column: the records are read once and partitioned here
/// (`names`); SQLite itself would sort a million rows for it (5 s) for want of an index on
/// exactly these columns. On SQLite through the fast reader.
async fn partitioned(
    conn: &mut AnyConnection,
    reader: Option<&std::sync::Arc<SqliteReader>>,
    criteria: &[Criterion],
    scope: Option<&Where<'_>>,
    keys: &[String],
    exclusions: &std::collections::BTreeSet<String>,
) -> Result<names::Groups> {
    let cols: Vec<&str> = criteria
        .iter()
        .map(|c| match c {
            Criterion::Field(f) => column(f),
            _ => "''",
        })
        .collect();
    let aliased = cols
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} AS v{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut sql = Sql::new(format!(
        "SELECT r.id, r.public_id, r.kind, r.created_at, {aliased} FROM records r WHERE 1 = 1"
    ));
    for c in &cols {
        sql.push(&format!(" AND {c} <> ''"));
    }
    push_scope(&mut sql, "r.id", scope);
    if let Some(reader) = reader {
        let (reader, keys, exclusions) = (reader.clone(), keys.to_vec(), exclusions.clone());
        return tokio::task::spawn_blocking(move || {
            names::partition(&reader, &sql, &keys, &exclusions)
        })
        .await
        .map_err(|e| crate::StoreError::Config(format!("duplicate search: {e}")))?;
    }
    // Elsewhere (PostgreSQL) the rows stream into the same partition: a windowed
    // `COUNT(*) OVER (PARTITION BY …)` sorted the million rows server-side (5.2 s at 1M).
    let mut partition = names::Partition::new(cols.len());
    let query = sql.query();
    let mut rows = query.fetch(&mut *conn);
    while let Some(row) = rows.try_next().await? {
        let values = (0..cols.len())
            .map(|i| row.try_get::<String, _>(i + 4))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        partition.push(
            row.try_get(0)?,
            &row.try_get::<String, _>(1)?,
            &row.try_get::<String, _>(2)?,
            row.try_get(3)?,
            |i| Ok(values[i].as_str()),
        )?;
    }
    Ok(partition.finish(keys, exclusions))
}

/// The driving criterion's values shared by two or more records, with those records.
/// On SQLite the statement runs on the fast reader, joined to the records for the members'
/// facts, which it answers too (sqlx decodes the rows several times slower).
async fn driver_buckets(
    conn: &mut AnyConnection,
    reader: Option<&std::sync::Arc<SqliteReader>>,
    c: &Criterion,
    custom_ids: &HashMap<String, i64>,
    scope: Option<&Where<'_>>,
) -> Result<(Buckets, FactsFrom)> {
    // (value expression, record column, table, extra condition)
    let (value, record, table, mut cond) = match c {
        Criterion::Phone => ("number", "record_id", "phones", Sql::new("")),
        Criterion::Email => ("address_norm", "record_id", "emails", Sql::new("")),
        Criterion::Field(f) => {
            let col = column(f).trim_start_matches("r.");
            (col, "id", "records", Sql::new(format!(" AND {col} <> ''")))
        }
        Criterion::Custom(k) => {
            let mut s = Sql::new(" AND field_id = ");
            s.bind(custom_ids.get(k).copied().unwrap_or(-1));
            ("folded", "record_id", "custom_values", s)
        }
    };
    if matches!(c, Criterion::Custom(_)) {
        cond.push(" AND folded <> ''");
    }
    if let (Some(reader), false) = (reader, table == "records") {
        let mut sql = Sql::new(format!("SELECT {value}, {record} FROM {table} WHERE 1 = 1"));
        append(&mut sql, &cond);
        push_scope(&mut sql, record, scope);
        sql.push(&format!(" ORDER BY {value}"));
        let scanning = reader.clone();
        let buckets = tokio::task::spawn_blocking(move || value_runs(&scanning, &sql))
            .await
            .map_err(|e| crate::StoreError::Config(format!("duplicate search: {e}")))??;
        let ids = members(&buckets);
        let reader = reader.clone();
        let looking = tokio::task::spawn_blocking(move || {
            let mut facts = HashMap::with_capacity(ids.len());
            if !ids.is_empty() {
                member_facts_sqlite(&reader, &ids, &mut facts)?;
            }
            Ok(facts)
        });
        return Ok((buckets, FactsFrom::Looking(looking)));
    }
    // On SQLite (the reader) a records column: the members' facts come from the same
    // rows. Not on PostgreSQL: joining the records cost it ~1 s at 1M, more than reading
    // the members' facts afterwards (`member_facts`, ~0.7 s).
    let mut sql = if reader.is_some() {
        Sql::new(format!(
            "SELECT {value}, id, public_id, kind, created_at FROM records WHERE 1 = 1"
        ))
    } else {
        Sql::new(format!("SELECT {value}, {record} FROM {table} WHERE 1 = 1"))
    };
    append(&mut sql, &cond);
    push_scope(&mut sql, record, scope);
    sql.push(&format!(
        " AND {value} IN (SELECT {value} FROM {table} WHERE 1 = 1"
    ));
    append(&mut sql, &cond);
    push_scope(&mut sql, record, scope);
    sql.push(&format!(
        " GROUP BY {value} HAVING COUNT(*) > 1) ORDER BY 1"
    ));
    fn push(out: &mut Buckets, v: &str, id: i64) {
        match out.last_mut() {
            Some((last, ids)) if last == v => ids.push(id),
            _ => out.push((v.to_string(), vec![id])),
        }
    }
    if let Some(reader) = reader {
        let reader = reader.clone();
        return tokio::task::spawn_blocking(move || -> Result<(Buckets, FactsFrom)> {
            let e = crate::fast::err;
            let mut out = Buckets::new();
            let mut facts = HashMap::new();
            reader.each_row(&sql, |row| {
                let id: i64 = row.get(1).map_err(e)?;
                push(
                    &mut out,
                    row.get_ref(0).map_err(e)?.as_str().unwrap_or_default(),
                    id,
                );
                facts.insert(
                    id,
                    (
                        row.get(2).map_err(e)?,
                        row.get(3).map_err(e)?,
                        row.get(4).map_err(e)?,
                    ),
                );
                Ok(())
            })?;
            Ok((out, FactsFrom::Ready(facts)))
        })
        .await
        .map_err(|e| crate::StoreError::Config(format!("duplicate search: {e}")))?;
    }
    let rows = sql.query().fetch_all(&mut *conn).await?;
    let mut out = Buckets::new();
    for row in &rows {
        let v: String = row.try_get(0)?;
        push(&mut out, &v, row.try_get(1)?);
    }
    Ok((out, FactsFrom::Ready(HashMap::new())))
}

/// Values shared by records, with those records, in value order.
type Buckets = Vec<(String, Vec<i64>)>;

/// The records in any bucket, in ID order, once each.
fn members(buckets: &Buckets) -> Vec<i64> {
    let mut ids: Vec<i64> = buckets
        .iter()
        .flat_map(|(_, ids)| ids.iter().copied())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The members' facts: read with the buckets, or being looked up.
enum FactsFrom {
    Ready(HashMap<i64, Facts>),
    Looking(tokio::task::JoinHandle<Result<HashMap<i64, Facts>>>),
}

impl FactsFrom {
    async fn get(self) -> Result<HashMap<i64, Facts>> {
        match self {
            FactsFrom::Ready(facts) => Ok(facts),
            FactsFrom::Looking(h) => h
                .await
                .map_err(|e| crate::StoreError::Config(format!("duplicate search: {e}")))?,
        }
    }
}

/// On SQLite, a child table's values (phones, e-mails, custom values): `sql` reads every
/// (value, record) pair in value order from the value's covering index, and runs of one
/// value are the buckets; the members' facts are then looked up in record order
/// (neighbours share pages) on a blocking thread while the caller groups the buckets. At
/// 1M (2M phones, 160k members) the scan takes ~0.26 s, the lookups ~0.23 s and the
/// grouping ~0.1 s; the earlier `GROUP BY … HAVING` subquery with the records joined row
/// by row took 0.7 s. (Looking the members up while the scan went on, a batch at a time,
/// was slower: the batches lost the record order's locality.)
/// Runs of equal values (two rows or more) of `sql`'s (value, record) rows in value order.
fn value_runs(reader: &SqliteReader, sql: &Sql) -> Result<Buckets> {
    let e = crate::fast::err;
    let mut out = Buckets::new();
    let mut current = String::new();
    let mut run: Vec<i64> = Vec::new();
    let flush = |current: &str, run: &mut Vec<i64>, out: &mut Buckets| {
        if run.len() > 1 {
            out.push((current.to_string(), std::mem::take(run)));
        } else {
            run.clear();
        }
    };
    reader.each_row(sql, |row| {
        let value = row.get_ref(0).map_err(e)?.as_str().unwrap_or_default();
        let id: i64 = row.get(1).map_err(e)?;
        if value != current {
            flush(&current, &mut run, &mut out);
            current.clear();
            current.push_str(value);
        }
        run.push(id);
        Ok(())
    })?;
    flush(&current, &mut run, &mut out);
    Ok(out)
}

/// [`member_facts`] on the fast reader, into `facts`.
fn member_facts_sqlite(
    reader: &SqliteReader,
    ids: &[i64],
    facts: &mut HashMap<i64, Facts>,
) -> Result<()> {
    let e = crate::fast::err;
    let mut sql = Sql::new("SELECT id, public_id, kind, created_at FROM records WHERE id IN (");
    push_json_ids(&mut sql, Backend::Sqlite, ids);
    sql.push(")");
    reader.each_row(&sql, |row| {
        facts.insert(
            row.get(0).map_err(e)?,
            (
                row.get(1).map_err(e)?,
                row.get(2).map_err(e)?,
                row.get(3).map_err(e)?,
            ),
        );
        Ok(())
    })
}

/// Appends a fragment with its parameters.
fn append(sql: &mut Sql, part: &Sql) {
    // Renumber the fragment's placeholders after the statement's own.
    let mut text = part.text.clone();
    for i in (1..=part.params.len()).rev() {
        text = text.replace(&format!("${i}"), &format!("${}", sql.params.len() + i));
    }
    sql.text.push_str(&text);
    sql.params.extend(part.params.iter().cloned());
}

/// The single-valued criteria's values (normalized) of each candidate having all of them.
async fn load_singles(
    conn: &mut AnyConnection,
    backend: Backend,
    criteria: &[Criterion],
    singles: &[usize],
    custom_ids: &HashMap<String, i64>,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<String>>> {
    let mut out = HashMap::with_capacity(ids.len());
    if singles.is_empty() {
        out.extend(ids.iter().map(|id| (*id, Vec::new())));
        return Ok(out);
    }
    for chunk in ids.chunks(CHUNK) {
        let mut select = Vec::new();
        let mut joins = Sql::new("");
        for (n, &i) in singles.iter().enumerate() {
            match &criteria[i] {
                Criterion::Field(f) => select.push(format!("{} AS v{n}", column(f))),
                Criterion::Custom(k) => {
                    select.push(format!("c{n}.folded AS v{n}"));
                    let mut j = Sql::new(format!(
                        " JOIN custom_values c{n} ON c{n}.record_id = r.id AND c{n}.field_id = "
                    ));
                    j.bind(custom_ids.get(k).copied().unwrap_or(-1));
                    append(&mut joins, &j);
                }
                _ => select.push(format!("'' AS v{n}")),
            }
        }
        let mut sql = Sql::new(format!("SELECT r.id, {} FROM records r", select.join(", ")));
        append(&mut sql, &joins);
        sql.push(" WHERE r.id IN (");
        push_json_ids(&mut sql, backend, chunk);
        sql.push(")");
        let rows = sql.query().fetch_all(&mut *conn).await?;
        for row in &rows {
            let id: i64 = row.try_get(0)?;
            let mut vals = Vec::with_capacity(singles.len());
            for n in 0..singles.len() {
                match row.try_get::<Option<String>, _>(n + 1)? {
                    Some(v) if !v.is_empty() => vals.push(v),
                    _ => break,
                }
            }
            if vals.len() == singles.len() {
                out.insert(id, vals);
            }
        }
    }
    Ok(out)
}

/// Each candidate's phones or e-mails (normalized).
async fn load_multi(
    conn: &mut AnyConnection,
    backend: Backend,
    c: &Criterion,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<String>>> {
    let (col, table) = match c {
        Criterion::Email => ("address_norm", "emails"),
        _ => ("number", "phones"),
    };
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let mut sql = Sql::new(format!(
            "SELECT record_id, {col} FROM {table} WHERE record_id IN ("
        ));
        push_json_ids(&mut sql, backend, chunk);
        sql.push(")");
        for row in sql.query().fetch_all(&mut *conn).await? {
            out.entry(row.try_get(0)?)
                .or_default()
                .push(row.try_get(1)?);
        }
    }
    Ok(out)
}

/// Public ID, kind and creation time of records, by internal ID.
pub async fn member_facts(
    conn: &mut AnyConnection,
    backend: Backend,
    ids: &[i64],
) -> Result<HashMap<i64, Facts>> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let mut sql = Sql::new("SELECT id, public_id, kind, created_at FROM records WHERE id IN (");
        push_json_ids(&mut sql, backend, chunk);
        sql.push(")");
        for row in sql.query().fetch_all(&mut *conn).await? {
            out.insert(
                row.try_get(0)?,
                (row.try_get(1)?, row.try_get(2)?, row.try_get(3)?),
            );
        }
    }
    Ok(out)
}
