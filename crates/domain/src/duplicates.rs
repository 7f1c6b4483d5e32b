//! Duplicates and merge (SPEC C7): the criteria, grouping records linked by equal values,
//! which groups bulk actions leave for manual resolution, and the merged record's data.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::Invalid;
use crate::field::FieldDefinition;
use crate::record::{RecordData, TEXT_FIELDS};

/// Most criteria one search may combine.
pub const MAX_CRITERIA: usize = 7;

/// Default size above which bulk actions leave a group for manual resolution.
pub const DEFAULT_MAX_GROUP: usize = 10;

/// One duplicate criterion. Phones and e-mails are many per record (two records tie when
/// they share one); every other criterion is one value per record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub enum Criterion {
    Phone,
    Email,
    /// A system text field: `first_name`, `last_name`, `display_name`, `city`, `address`,
    /// `nip`, `pesel`, `regon`, `external_id`.
    Field(&'static str),
    /// `custom.<key>`.
    Custom(String),
}

/// The system keys a search accepts besides `phone`, `email` and `custom.*`.
pub const FIELD_CRITERIA: [&str; 9] = [
    "first_name",
    "last_name",
    "display_name",
    "city",
    "address",
    "nip",
    "pesel",
    "regon",
    "external_id",
];

impl Criterion {
    pub fn key(&self) -> String {
        match self {
            Criterion::Phone => "phone".into(),
            Criterion::Email => "email".into(),
            Criterion::Field(f) => (*f).into(),
            Criterion::Custom(k) => format!("custom.{k}"),
        }
    }

    pub fn is_multi(&self) -> bool {
        matches!(self, Criterion::Phone | Criterion::Email)
    }

    /// Whether its values are national IDs (masked for those not granted to see them).
    pub fn is_national_id(&self) -> bool {
        matches!(self, Criterion::Field("pesel" | "nip" | "regon"))
    }

    /// Parses one key (`phones`/`emails` are accepted for `phone`/`email`).
    pub fn parse(key: &str, custom: &[FieldDefinition]) -> Result<Criterion, Invalid> {
        let key = key.trim();
        match key {
            "phone" | "phones" => return Ok(Criterion::Phone),
            "email" | "emails" => return Ok(Criterion::Email),
            _ => {}
        }
        if let Some(f) = FIELD_CRITERIA.iter().find(|f| **f == key) {
            return Ok(Criterion::Field(f));
        }
        if let Some(k) = key.strip_prefix("custom.")
            && custom.iter().any(|d| d.key == k)
        {
            return Ok(Criterion::Custom(k.to_string()));
        }
        Err(Invalid::new(
            "invalid_criterion",
            format!(
                "`{key}` is not a duplicate criterion; use phone, email, {} or custom.<key>",
                FIELD_CRITERIA.join(", ")
            ),
        ))
    }

    /// Parses a list of 1 to 7 distinct criteria.
    pub fn parse_list(
        keys: &[String],
        custom: &[FieldDefinition],
    ) -> Result<Vec<Criterion>, Invalid> {
        let keys: Vec<&str> = keys
            .iter()
            .flat_map(|k| k.split(','))
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .collect();
        if keys.is_empty() {
            return Err(Invalid::new("required", "choose at least one criterion"));
        }
        let mut out: Vec<Criterion> = Vec::new();
        for k in keys {
            let c = Criterion::parse(k, custom)?;
            if !out.contains(&c) {
                out.push(c);
            }
        }
        if out.len() > MAX_CRITERIA {
            return Err(Invalid::new(
                "too_many",
                format!("at most {MAX_CRITERIA} criteria can be combined"),
            ));
        }
        Ok(out)
    }
}

impl From<Criterion> for String {
    fn from(c: Criterion) -> String {
        c.key()
    }
}

impl<'de> Deserialize<'de> for Criterion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Criterion, D::Error> {
        let s = String::deserialize(d)?;
        match s.strip_prefix("custom.") {
            Some(k) => Ok(Criterion::Custom(k.to_string())),
            None => Criterion::parse(&s, &[]).map_err(|e| serde::de::Error::custom(e.message)),
        }
    }
}

/// The values that tie a group, per criterion key: the keys in order, each with its values
/// in order and without repeats; serialized as a JSON object of arrays. A vector, not a
/// `BTreeMap` of `BTreeSet`s: a search by names ties a quarter of a million groups at 1M
/// records, and the maps' nodes (room for eleven entries each) took ~1.6 KB a group, 400 MB
/// of fresh pages the kernel zeroed, against ~350 bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ties(Vec<(String, Vec<String>)>);

impl Ties {
    pub fn new() -> Ties {
        Ties(Vec::new())
    }

    /// Empty, with room for `keys` criteria.
    pub fn with_capacity(keys: usize) -> Ties {
        Ties(Vec::with_capacity(keys))
    }

    /// Adds `value` to the values of `key` (nothing when it is there already).
    pub fn insert(&mut self, key: &str, value: String) {
        let at = match self.0.binary_search_by(|(k, _)| k.as_str().cmp(key)) {
            Ok(at) => at,
            Err(at) => {
                self.0.insert(at, (key.to_string(), Vec::with_capacity(1)));
                at
            }
        };
        let values = &mut self.0[at].1;
        if let Err(i) = values.binary_search(&value) {
            values.insert(i, value);
        }
    }

    /// The values of `key`, in order.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.0
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
            .ok()
            .map(|at| self.0[at].1.as_slice())
    }

    /// Rewrites each value of `key` with `f` (the order and uniqueness are then the
    /// caller's: for display only).
    pub fn map_values(&mut self, key: &str, f: impl Fn(&str) -> String) {
        if let Ok(at) = self.0.binary_search_by(|(k, _)| k.as_str().cmp(key)) {
            for v in &mut self.0[at].1 {
                *v = f(v);
            }
        }
    }

    /// (key, values), keys in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// The first value of the first key: how a list sorts groups by value.
    pub fn first_value(&self) -> Option<&str> {
        self.0.first()?.1.first().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Ties {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Ties {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Ties, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Ties;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of arrays of values")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Ties, A::Error> {
                let mut ties = Ties::with_capacity(m.size_hint().unwrap_or(0));
                while let Some((k, values)) = m.next_entry::<String, Vec<String>>()? {
                    for v in values {
                        ties.insert(&k, v);
                    }
                }
                Ok(ties)
            }
        }
        d.deserialize_map(Visit)
    }
}

/// A group of duplicates found: its members (internal IDs) and the values tying it.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundGroup {
    pub members: Vec<i64>,
    pub ties: Ties,
    /// Whether the group holds together only through a value on the exclusion list.
    pub excluded_link: bool,
}

/// The values tying a clique: (criterion index, value).
pub type TieValues = Vec<(usize, String)>;

/// Groups records linked by cliques (sets of records equal in every criterion) into
/// connected components, with the values of the cliques that formed each.
#[derive(Default)]
pub struct Grouper {
    /// foldhash: with SipHash, grouping 71k phone buckets at 1M took 110–123 ms, with it
    /// 89–100 ms.
    parent: HashMap<i64, i64, foldhash::fast::RandomState>,
    ties: Vec<(i64, Vec<(usize, String)>)>,
    /// Normalized values that alone never tie a group for bulk actions.
    exclusions: BTreeSet<String>,
    /// Cliques tied by an excluded value, joined after all the others.
    deferred: Vec<(Vec<i64>, TieValues)>,
    /// Members of groups that an excluded value joined.
    marked: Vec<i64>,
}

impl Grouper {
    /// A grouper whose cliques tied by one of `exclusions` are joined last, and mark the
    /// group they join (or form) as held together by an excluded value.
    pub fn with_exclusions(exclusions: BTreeSet<String>) -> Grouper {
        Grouper {
            exclusions,
            ..Grouper::default()
        }
    }

    fn find(&mut self, x: i64) -> i64 {
        let mut root = x;
        while let Some(&p) = self.parent.get(&root) {
            if p == root {
                break;
            }
            root = p;
        }
        let mut cur = x;
        while cur != root {
            let next = self.parent.get(&cur).copied().unwrap_or(root);
            self.parent.insert(cur, root);
            cur = next;
        }
        root
    }

    /// Adds a clique of two or more records tied by `values` (criterion index, value).
    pub fn add(&mut self, members: &[i64], values: Vec<(usize, String)>) {
        if members.len() < 2 {
            return;
        }
        if values.iter().any(|(_, v)| self.exclusions.contains(v)) {
            self.deferred.push((members.to_vec(), values));
            return;
        }
        self.union(members, values);
    }

    fn union(&mut self, members: &[i64], values: Vec<(usize, String)>) {
        let Some(&first) = members.first() else {
            return;
        };
        self.parent.entry(first).or_insert(first);
        let mut root = self.find(first);
        for &m in &members[1..] {
            self.parent.entry(m).or_insert(m);
            let b = self.find(m);
            if root != b {
                let (lo, hi) = (root.min(b), root.max(b));
                self.parent.insert(hi, lo);
                root = lo;
            }
        }
        self.ties.push((first, values));
    }

    /// The groups, members sorted by ID; `keys` names the criteria by index.
    pub fn finish(mut self, keys: &[String]) -> Vec<FoundGroup> {
        for (members, values) in std::mem::take(&mut self.deferred) {
            let roots: BTreeSet<Option<i64>> = members
                .iter()
                .map(|m| self.parent.contains_key(m).then(|| self.find(*m)))
                .collect();
            let joined_already = roots.len() == 1 && roots.iter().all(Option::is_some);
            if !joined_already {
                self.marked.push(members[0]);
            }
            self.union(&members, values);
        }
        let members: Vec<i64> = self.parent.keys().copied().collect();
        let mut by_root: HashMap<i64, FoundGroup, foldhash::fast::RandomState> = HashMap::default();
        for m in members {
            let r = self.find(m);
            by_root
                .entry(r)
                .or_insert_with(|| FoundGroup {
                    members: Vec::new(),
                    ties: Ties::new(),
                    excluded_link: false,
                })
                .members
                .push(m);
        }
        let ties = std::mem::take(&mut self.ties);
        for (first, values) in ties {
            let r = self.find(first);
            if let Some(g) = by_root.get_mut(&r) {
                for (i, v) in values {
                    if let Some(k) = keys.get(i) {
                        g.ties.insert(k, v);
                    }
                }
            }
        }
        for m in std::mem::take(&mut self.marked) {
            let r = self.find(m);
            if let Some(g) = by_root.get_mut(&r) {
                g.excluded_link = true;
            }
        }
        let mut out: Vec<FoundGroup> = by_root.into_values().collect();
        for g in &mut out {
            g.members.sort_unstable();
        }
        out.sort_by_key(|g| g.members[0]);
        out
    }
}

/// Why bulk actions leave a group for manual resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Held {
    TooLarge,
    Excluded,
    MixedKinds,
}

impl Held {
    pub fn as_str(self) -> &'static str {
        match self {
            Held::TooLarge => "too_large",
            Held::Excluded => "excluded",
            Held::MixedKinds => "mixed_kinds",
        }
    }

    pub fn parse(s: &str) -> Option<Held> {
        [Held::TooLarge, Held::Excluded, Held::MixedKinds]
            .into_iter()
            .find(|h| h.as_str() == s)
    }
}

/// Whether bulk actions leave a group out: mixing persons and organizations, larger than
/// `max_size`, or held together only through a value on the exclusion list.
pub fn held(size: usize, max_size: usize, mixed_kinds: bool, excluded_link: bool) -> Option<Held> {
    if mixed_kinds {
        Some(Held::MixedKinds)
    } else if size > max_size {
        Some(Held::TooLarge)
    } else if excluded_link {
        Some(Held::Excluded)
    } else {
        None
    }
}

/// One record taking part in a merge: its data, when it was created and when each of its
/// fields last changed (absent: at creation).
#[derive(Debug, Clone)]
pub struct Member {
    pub public_id: String,
    pub data: RecordData,
    pub created_at: i64,
    pub changed: BTreeMap<String, i64>,
}

impl Member {
    fn changed_at(&self, key: &str) -> i64 {
        self.changed.get(key).copied().unwrap_or(self.created_at)
    }
}

/// Choices of a manual merge; whatever is not chosen follows the bulk rule.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Choices {
    /// Field key → public ID of the record whose value to take.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// E.164 number of the default phone.
    #[serde(default)]
    pub default_phone: Option<String>,
    /// Address of the default e-mail.
    #[serde(default)]
    pub default_email: Option<String>,
}

/// The single-valued keys a merge decides: system text fields, custom fields and the
/// organization.
fn value_keys(members: &[Member]) -> BTreeSet<String> {
    let mut keys: BTreeSet<String> = TEXT_FIELDS.iter().map(|f| f.to_string()).collect();
    keys.insert("organization".into());
    for m in members {
        keys.extend(m.data.custom.keys().map(|k| format!("custom.{k}")));
    }
    keys
}

fn single_value(data: &RecordData, key: &str) -> Option<String> {
    match key {
        "organization" => data.organization.clone(),
        _ => match key.strip_prefix("custom.") {
            Some(k) => data.custom.get(k).cloned(),
            None => data.fields.get(key).cloned(),
        },
    }
}

fn set_single(data: &mut RecordData, key: &str, value: Option<String>) {
    match key {
        "organization" => data.organization = value,
        _ => {
            let (map, k) = match key.strip_prefix("custom.") {
                Some(k) => (&mut data.custom, k),
                None => (&mut data.fields, key),
            };
            match value {
                Some(v) => {
                    map.insert(k.to_string(), v);
                }
                None => {
                    map.remove(k);
                }
            }
        }
    }
}

/// Fields whose (non-empty) values differ between the members: key → (public ID, value)
/// per member holding a value. These are what a manual merge asks about.
pub fn differing(members: &[Member]) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    for key in value_keys(members) {
        let values: Vec<(String, String)> = members
            .iter()
            .filter_map(|m| single_value(&m.data, &key).map(|v| (m.public_id.clone(), v)))
            .collect();
        let distinct: BTreeSet<&str> = values.iter().map(|(_, v)| v.as_str()).collect();
        if distinct.len() > 1 {
            out.push((key, values));
        }
    }
    out
}

/// Which member a field's value comes from: the chosen one, else the member holding a value
/// on which that field changed most recently (the main record wins ties). `None` when no
/// member holds a value.
pub fn value_source(members: &[Member], key: &str, choices: &Choices) -> Option<usize> {
    if let Some(chosen) = choices.fields.get(key)
        && let Some(i) = members.iter().position(|m| &m.public_id == chosen)
    {
        return Some(i);
    }
    let mut best: Option<(usize, i64)> = None;
    for (i, m) in members.iter().enumerate() {
        if single_value(&m.data, key).is_none() {
            continue;
        }
        let at = m.changed_at(key);
        if best.is_none_or(|(_, b)| at > b) {
            best = Some((i, at));
        }
    }
    best.map(|(i, _)| i)
}

/// The merged data of `members` (the first is the main record): each single value from
/// [`value_source`]; phones and e-mails united (the main record's first, duplicates by
/// normalized value dropped, the main record's defaults kept unless chosen); tags and
/// managers united. Answers the data and, per field key, the member it came from.
pub fn merge_data(members: &[Member], choices: &Choices) -> (RecordData, BTreeMap<String, String>) {
    let mut out = members.first().map(|m| m.data.clone()).unwrap_or_default();
    let mut sources = BTreeMap::new();
    for key in value_keys(members) {
        let src = value_source(members, &key, choices);
        let value = src.and_then(|i| single_value(&members[i].data, &key));
        if let Some(i) = src {
            sources.insert(key.clone(), members[i].public_id.clone());
        }
        set_single(&mut out, &key, value);
    }
    let mut numbers: BTreeSet<String> = out.phones.iter().map(|p| p.number.clone()).collect();
    let mut addresses: BTreeSet<String> = out.emails.iter().map(|e| e.normalized()).collect();
    let mut tags: BTreeSet<String> = out.tags.iter().cloned().collect();
    let mut managers: BTreeSet<String> = out.managers.iter().cloned().collect();
    for m in members.iter().skip(1) {
        for p in &m.data.phones {
            if numbers.insert(p.number.clone()) {
                let mut p = p.clone();
                p.default = false;
                out.phones.push(p);
            }
        }
        for e in &m.data.emails {
            if addresses.insert(e.normalized()) {
                let mut e = e.clone();
                e.default = false;
                out.emails.push(e);
            }
        }
        tags.extend(m.data.tags.iter().cloned());
        managers.extend(m.data.managers.iter().cloned());
    }
    out.tags = tags.into_iter().collect();
    out.managers = managers.into_iter().collect();
    if let Some(n) = &choices.default_phone
        && out.phones.iter().any(|p| &p.number == n)
    {
        for p in &mut out.phones {
            p.default = &p.number == n;
        }
    }
    if !out.phones.is_empty() && !out.phones.iter().any(|p| p.default) {
        out.phones[0].default = true;
    }
    if let Some(a) = &choices.default_email {
        let a = a.to_lowercase();
        if out.emails.iter().any(|e| e.normalized() == a) {
            for e in &mut out.emails {
                e.default = e.normalized() == a;
            }
        }
    }
    if !out.emails.is_empty() && !out.emails.iter().any(|e| e.default) {
        out.emails[0].default = true;
    }
    (out, sources)
}

#[cfg(test)]
mod tests;
