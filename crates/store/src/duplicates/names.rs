//! The records partitioned in memory by name-like criteria (every criterion a column of
//! `records`), on both backends: SQLite feeds the rows from its fast reader, PostgreSQL
//! streams them through sqlx. A record has one value of each, so it falls in exactly one
//! partition: the partitions of two or more records are the groups themselves, with no
//! union of cliques.
//!
//! The rows' strings go into two arenas and each record's key is hashed, not kept as a
//! `String` of its own; sorting the hashes brings equal keys together. A million records
//! cost a few allocations instead of several million.

use std::collections::BTreeSet;
use std::hash::BuildHasher;

use kartoteka_domain::duplicates::{FoundGroup, Ties};

use super::{Facts, Found};
use crate::Result;
use crate::fast::SqliteReader;
use crate::params::Sql;

/// Joins a record's values into its key; no folded value holds it.
const SEP: char = '\u{1f}';

/// The records read: fixed-size columns, and the strings in arenas.
#[derive(Default)]
struct Scan {
    ids: Vec<i64>,
    created: Vec<i64>,
    /// Index into `kinds`.
    kind: Vec<u8>,
    kinds: Vec<String>,
    public_ids: String,
    public_ends: Vec<usize>,
    keys: String,
    key_ends: Vec<usize>,
}

fn slice<'a>(arena: &'a str, ends: &[usize], i: usize) -> &'a str {
    let start = if i == 0 { 0 } else { ends[i - 1] };
    &arena[start..ends[i]]
}

impl Scan {
    fn key(&self, i: u32) -> &str {
        slice(&self.keys, &self.key_ends, i as usize)
    }

    fn facts(&self, i: u32) -> Facts {
        let i = i as usize;
        (
            slice(&self.public_ids, &self.public_ends, i).to_string(),
            self.kinds[self.kind[i] as usize].clone(),
            self.created[i],
        )
    }
}

/// The records read so far, partitioned when all are in.
pub(super) struct Partition {
    n: usize,
    // Two independent 64-bit hashes: a false match of 128 bits among a million keys has
    // odds of about 10^-27, so equal hashes are taken as equal keys without comparing
    // them (which reads each member's key at random, a cache miss each).
    states: (std::hash::RandomState, std::hash::RandomState),
    scan: Scan,
    hashed: Vec<(u64, u64, u32)>,
}

impl Partition {
    /// For records compared by `n` values.
    pub(super) fn new(n: usize) -> Partition {
        Partition {
            n,
            states: (std::hash::RandomState::new(), std::hash::RandomState::new()),
            scan: Scan::default(),
            hashed: Vec::new(),
        }
    }

    /// Adds a record: its facts, and `value(i)` for each of the `n` values.
    pub(super) fn push<'v>(
        &mut self,
        id: i64,
        public_id: &str,
        kind: &str,
        created: i64,
        mut value: impl FnMut(usize) -> Result<&'v str>,
    ) -> Result<()> {
        let scan = &mut self.scan;
        let at = scan.ids.len();
        let start = scan.keys.len();
        for i in 0..self.n {
            if i > 0 {
                scan.keys.push(SEP);
            }
            scan.keys.push_str(value(i)?);
        }
        scan.key_ends.push(scan.keys.len());
        let key = &scan.keys[start..];
        self.hashed.push((
            self.states.0.hash_one(key),
            self.states.1.hash_one(key),
            at as u32,
        ));
        scan.ids.push(id);
        scan.public_ids.push_str(public_id);
        scan.public_ends.push(scan.public_ids.len());
        let k = match scan.kinds.iter().position(|x| x == kind) {
            Some(k) => k,
            None => {
                scan.kinds.push(kind.to_string());
                scan.kinds.len() - 1
            }
        };
        scan.kind.push(k as u8);
        scan.created.push(created);
        Ok(())
    }

    /// The groups of records equal in every value, with all their members' facts. `keys`
    /// names the criteria; a group tied by a value in `exclusions` is marked so.
    pub(super) fn finish(self, keys: &[String], exclusions: &BTreeSet<String>) -> Vec<Found> {
        let Partition {
            scan, mut hashed, ..
        } = self;
        hashed.sort_unstable();
        let runs = || {
            hashed
                .chunk_by(|a, b| (a.0, a.1) == (b.0, b.1))
                .filter(|run| run.len() > 1)
        };
        let mut groups = Vec::with_capacity(runs().count());
        for same in runs() {
            let mut ties = Ties::with_capacity(keys.len());
            let mut excluded_link = false;
            for (k, v) in keys.iter().zip(scan.key(same[0].2).split(SEP)) {
                excluded_link |= exclusions.contains(v);
                ties.insert(k, v.to_string());
            }
            let mut at: Vec<u32> = same.iter().map(|m| m.2).collect();
            at.sort_unstable_by_key(|&i| scan.ids[i as usize]);
            groups.push(Found {
                group: FoundGroup {
                    members: at.iter().map(|&i| scan.ids[i as usize]).collect(),
                    ties,
                    excluded_link,
                },
                facts: at.iter().map(|&i| Some(scan.facts(i))).collect(),
            });
        }
        groups.sort_unstable_by_key(|g| g.group.members[0]);
        groups
    }
}

/// SQLite: runs `sql` on the reader (`id, public_id, kind, created_at`, then one column per
/// criterion) and partitions its rows. Blocking: call it off the async workers.
pub(super) fn partition(
    reader: &SqliteReader,
    sql: &Sql,
    keys: &[String],
    exclusions: &BTreeSet<String>,
) -> Result<Vec<Found>> {
    let e = crate::fast::err;
    let started = std::time::Instant::now();
    let mut p = Partition::new(keys.len());
    reader.each_row(sql, |row| {
        let text = |i: usize| -> Result<&str> {
            Ok(row.get_ref(i).map_err(e)?.as_str().unwrap_or_default())
        };
        p.push(
            row.get(0).map_err(e)?,
            text(1)?,
            text(2)?,
            row.get(3).map_err(e)?,
            |i| text(i + 4),
        )
    })?;
    let scanned = started.elapsed();
    let groups = p.finish(keys, exclusions);
    tracing::debug!(
        scanning = scanned.as_secs_f64(),
        partitioning = (started.elapsed() - scanned).as_secs_f64(),
        "records partitioned by names"
    );
    Ok(groups)
}
