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

    /// The group of the records `same` (equal keys), members by ID.
    fn group(&self, same: &[Hashed], keys: &[String], exclusions: &BTreeSet<String>) -> Found {
        let mut ties = Ties::with_capacity(keys.len());
        let mut excluded_link = false;
        for (k, v) in keys.iter().zip(self.key(same[0].2).split(SEP)) {
            excluded_link |= exclusions.contains(v);
            ties.insert(k, v.to_string());
        }
        let mut at: Vec<u32> = same.iter().map(|m| m.2).collect();
        at.sort_unstable_by_key(|&i| self.ids[i as usize]);
        Found {
            group: FoundGroup {
                members: at.iter().map(|&i| self.ids[i as usize]).collect(),
                ties,
                excluded_link,
            },
            facts: at.iter().map(|&i| Some(self.facts(i))).collect(),
        }
    }

    /// Adds the records of `later` after these.
    fn append(&mut self, later: Scan) {
        let kinds: Vec<u8> = later.kinds.iter().map(|k| self.kind_index(k)).collect();
        self.kind
            .extend(later.kind.iter().map(|&k| kinds[k as usize]));
        self.ids.extend_from_slice(&later.ids);
        self.created.extend_from_slice(&later.created);
        let base = self.public_ids.len();
        self.public_ids.push_str(&later.public_ids);
        self.public_ends
            .extend(later.public_ends.iter().map(|e| e + base));
        let base = self.keys.len();
        self.keys.push_str(&later.keys);
        self.key_ends
            .extend(later.key_ends.iter().map(|e| e + base));
    }

    /// The index of `kind` in `kinds`, added when new.
    fn kind_index(&mut self, kind: &str) -> u8 {
        match self.kinds.iter().position(|x| x == kind) {
            Some(k) => k as u8,
            None => {
                self.kinds.push(kind.to_string());
                (self.kinds.len() - 1) as u8
            }
        }
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
    hashed: Vec<Hashed>,
    sorted: bool,
}

type States = (std::hash::RandomState, std::hash::RandomState);

/// A record's key hashed twice, and its index in the scan.
type Hashed = (u64, u64, u32);

impl Partition {
    /// For records compared by `n` values.
    pub(super) fn new(n: usize) -> Partition {
        Partition::hashing(
            n,
            (std::hash::RandomState::new(), std::hash::RandomState::new()),
        )
    }

    /// For records compared by `n` values, hashed with `states` (the partitions of one
    /// search's parts hash alike).
    fn hashing(n: usize, states: States) -> Partition {
        Partition {
            n,
            states,
            scan: Scan::default(),
            hashed: Vec::new(),
            sorted: false,
        }
    }

    /// Sorts the hashes: equal keys come together.
    fn sort(&mut self) {
        if !self.sorted {
            self.hashed.sort_unstable();
            self.sorted = true;
        }
    }

    /// Adds the records of `later`, read after these (higher IDs), both sorted: its hashes
    /// are merged into these, so the result is sorted too.
    fn append(&mut self, mut later: Partition) {
        self.sort();
        later.sort();
        let offset = self.scan.ids.len() as u32;
        let (a, b) = (std::mem::take(&mut self.hashed), later.hashed);
        let mut merged = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            let y = (b[j].0, b[j].1, b[j].2 + offset);
            if a[i] <= y {
                merged.push(a[i]);
                i += 1;
            } else {
                merged.push(y);
                j += 1;
            }
        }
        merged.extend_from_slice(&a[i..]);
        merged.extend(b[j..].iter().map(|&(h, g, at)| (h, g, at + offset)));
        self.hashed = merged;
        self.scan.append(later.scan);
    }

    /// Room for about `records` records (growing a million records' columns and arenas
    /// copied each of them several times over).
    fn reserve(&mut self, records: usize) {
        let scan = &mut self.scan;
        scan.ids.reserve(records);
        scan.created.reserve(records);
        scan.kind.reserve(records);
        scan.public_ends.reserve(records);
        scan.key_ends.reserve(records);
        scan.public_ids.reserve(records * 9);
        scan.keys.reserve(records * 8 * self.n);
        self.hashed.reserve(records);
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
        let k = scan.kind_index(kind);
        scan.kind.push(k);
        scan.created.push(created);
        Ok(())
    }

    /// The groups of records equal in every value, with all their members' facts, in
    /// order of their lowest ID, each built when taken: a quarter of a million groups
    /// built ahead took ~150 MB of fresh pages (0.2 s of the kernel zeroing them here),
    /// and the writer can store the first ones while the later ones are built. `keys`
    /// names the criteria; a group tied by a value in `exclusions` is marked so.
    pub(super) fn finish(mut self, keys: &[String], exclusions: &BTreeSet<String>) -> Groups {
        self.sort();
        let Partition { scan, hashed, .. } = self;
        let mut runs: Vec<(i64, u32, u32)> = Vec::new();
        let mut start = 0;
        for run in hashed.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
            if run.len() > 1 {
                let first = run.iter().map(|m| scan.ids[m.2 as usize]).min();
                runs.push((first.unwrap_or_default(), start as u32, run.len() as u32));
            }
            start += run.len();
        }
        runs.sort_unstable_by_key(|r| r.0);
        Groups {
            scan,
            hashed,
            runs: runs.into_iter(),
            keys: keys.to_vec(),
            exclusions: exclusions.clone(),
        }
    }
}

/// The groups a names search found, built one at a time (see [`Partition::finish`]).
pub struct Groups {
    scan: Scan,
    hashed: Vec<Hashed>,
    /// (lowest ID, start in `hashed`, records), in order of the lowest ID.
    runs: std::vec::IntoIter<(i64, u32, u32)>,
    keys: Vec<String>,
    exclusions: BTreeSet<String>,
}

impl Iterator for Groups {
    type Item = Found;

    fn next(&mut self) -> Option<Found> {
        let (_, start, len) = self.runs.next()?;
        let same = &self.hashed[start as usize..(start + len) as usize];
        Some(self.scan.group(same, &self.keys, &self.exclusions))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.runs.size_hint()
    }
}

impl ExactSizeIterator for Groups {}

/// Records (by ID range) above which the SQLite scan is split in two halves, each read
/// and sorted on a thread of its own (1M records: 0.42 s read and 0.1 s sorted on one).
const SPLIT_ABOVE: i64 = 100_000;

/// SQLite: runs `sql` on the reader (`id, public_id, kind, created_at`, then one column per
/// criterion, its `WHERE` last) and partitions its rows. A large table is read in two
/// halves by ID at once, on two connections. Blocking: call it off the async workers.
pub(super) fn partition(
    reader: &SqliteReader,
    sql: &Sql,
    keys: &[String],
    exclusions: &BTreeSet<String>,
) -> Result<Groups> {
    let started = std::time::Instant::now();
    let mut first = Partition::new(keys.len());
    let (low, high) = reader.id_range("records")?;
    if high - low > SPLIT_ABOVE {
        let middle = low + (high - low) / 2;
        let mut second = Partition::hashing(keys.len(), first.states.clone());
        // The first takes the second's records in after: room for all.
        first.reserve((high - low) as usize);
        second.reserve(((high - low) / 2) as usize);
        let (mut lower, mut upper) = (sql.clone(), sql.clone());
        lower.push(" AND r.id <= ").bind(middle);
        upper.push(" AND r.id > ").bind(middle);
        std::thread::scope(|s| {
            let other = s.spawn(|| scan_into(reader, &upper, &mut second));
            let mine = scan_into(reader, &lower, &mut first);
            let theirs = other.join().unwrap_or_else(|_| {
                Err(crate::StoreError::Config("the scan's thread failed".into()))
            });
            mine.and(theirs)
        })?;
        first.append(second);
    } else {
        scan_into(reader, sql, &mut first)?;
    }
    let scanned = started.elapsed();
    let p = first;
    let groups = p.finish(keys, exclusions);
    tracing::debug!(
        scanning = scanned.as_secs_f64(),
        partitioning = (started.elapsed() - scanned).as_secs_f64(),
        "records partitioned by names"
    );
    Ok(groups)
}

/// Reads the rows of `sql` into `p`, then sorts its hashes.
fn scan_into(reader: &SqliteReader, sql: &Sql, p: &mut Partition) -> Result<()> {
    let e = crate::fast::err;
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
    p.sort();
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Records 1..=n, record i keyed by `key(i)`, kinds alternating.
    fn fill(p: &mut Partition, ids: std::ops::RangeInclusive<i64>, key: impl Fn(i64) -> String) {
        for i in ids {
            let k = key(i);
            let kind = if i % 7 == 0 { "organization" } else { "person" };
            p.push(i, &format!("P{i}"), kind, 1000 - i, |_| Ok(k.as_str()))
                .unwrap();
        }
    }

    fn shape(found: &[Found]) -> Vec<(Vec<i64>, Vec<String>, Vec<String>)> {
        found
            .iter()
            .map(|f| {
                (
                    f.group.members.clone(),
                    f.group.ties.iter().flat_map(|(_, v)| v.to_vec()).collect(),
                    f.facts
                        .iter()
                        .map(|x| {
                            x.as_ref()
                                .map(|x| format!("{} {}", x.0, x.1))
                                .unwrap_or_default()
                        })
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn two_halves_appended_group_as_one_scan_in_order_of_the_lowest_id() {
        // 60,000 records, 25,000 groups, groups spanning the two halves.
        let key = |i: i64| format!("k{}", (i * 7919) % 25_000);
        let keys = vec!["last_name".to_string()];
        let none = BTreeSet::new();
        let mut whole = Partition::new(1);
        fill(&mut whole, 1..=60_000, key);
        let mut first = Partition::new(1);
        let mut second = Partition::hashing(1, first.states.clone());
        // the second half starts with an organization: its kinds are listed in another
        // order, which appending maps
        fill(&mut first, 1..=30_995, key);
        fill(&mut second, 30_996..=60_000, key);
        second.sort();
        first.append(second);
        let a: Vec<Found> = whole.finish(&keys, &none).collect();
        let b: Vec<Found> = first.finish(&keys, &none).collect();
        assert_eq!(a.len(), 25_000);
        assert_eq!(shape(&a), shape(&b));
        // in order of their lowest ID, members by ID, each with its own facts
        assert!(
            a.windows(2)
                .all(|w| w[0].group.members[0] < w[1].group.members[0])
        );
        let g = &a[0];
        assert_eq!(g.group.members[0], 1);
        assert!(g.group.members.windows(2).all(|w| w[0] < w[1]));
        assert!(g.group.members.iter().all(|&m| key(m) == key(1)));
        assert_eq!(g.group.ties.get("last_name"), Some(&[key(1)][..]));
        assert_eq!(
            g.facts[0],
            Some(("P1".to_string(), "person".to_string(), 999))
        );
        let seventh = a
            .iter()
            .flat_map(|f| f.group.members.iter().zip(&f.facts))
            .find(|(m, _)| **m == 7)
            .unwrap();
        assert_eq!(seventh.1.as_ref().unwrap().1, "organization");
    }
}
