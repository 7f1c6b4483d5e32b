//! The pure rules of an import (SPEC.md "C5 Import"): where a column goes ([`Target`],
//! suggested from its header by [`suggest`]), how a row of cells becomes a record
//! ([`convert_row`]), which keys find the record a row matches ([`MatchKey`]) and how a
//! matched row updates it ([`update_patch`]).
//!
//! Every value goes through the same rules as any other write: a row becomes a JSON Merge
//! Patch applied with [`apply_patch`], so validation, normalization and the flags of custom
//! fields are those of the API and the card.

use std::collections::BTreeSet;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value, json};

use crate::Invalid;
use crate::cell::{Cell, excel_date_time};
use crate::email::Email;
use crate::field::{FieldDefinition, FieldType};
use crate::national::pad_lost_zeros;
use crate::phone::{PhoneType, parse_phone};
use crate::record::{
    DICTIONARY_FIELDS, FieldError, LANGUAGE_NAMES, READ_ONLY_FIELDS, RecordData, RecordKind,
    TEXT_FIELDS, WriteContext, apply_patch, dictionary_code,
};
use crate::text::fold;

mod headers;
pub use headers::{suggest, suggest_all};

/// The longest cell read, in bytes (the spreadsheet cell limit).
pub const MAX_CELL: usize = 32 * 1024;

/// The longest tag, in characters (as a record write allows).
pub const MAX_TAG: usize = 100;

/// The column of a [`CellError`] that concerns the whole row (no column holds the field).
pub const ROW: usize = usize::MAX;

/// Where a column of an import goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// The column is not imported.
    Ignore,
    /// The record's kind: `person`/`organization` or a Polish or English word for one
    /// (`osoba`, `firma`, `organizacja`, `company`, …), ignoring case and diacritics;
    /// anything else is `invalid_kind`.
    Kind,
    /// A writable system field: a key of [`TEXT_FIELDS`], checked as a record write checks
    /// it. NIP, PESEL and REGON that lost their leading zeros get them back; dictionary
    /// fields take a code or a label ignoring case and diacritics (languages also their
    /// Polish and English names), anything else is `not_in_dictionary`.
    Field(String),
    /// A custom field, by its key, normalized as its type says: number cells for number
    /// fields, date cells (local time in the configured zone) for date-time fields,
    /// dictionary options ignoring case and diacritics, lost leading zeros of NIP, PESEL
    /// and REGON fields restored.
    Custom(String),
    /// Phones of this type: one or more numbers separated by `,` or `;`, parsed in the
    /// default region (`tel.` prefixes, `0048`, extensions as [`parse_phone`] reads them).
    Phone(PhoneType),
    /// E-mail addresses, separated by `,`, `;` or whitespace.
    Email,
    /// Tags, separated by commas or semicolons, each at most [`MAX_TAG`] characters.
    Tags,
}

impl Target {
    /// `""` (ignore), `"kind"`, `"first_name"`…, `"custom.<key>"`, `"phone.<type>"`
    /// (e.g. `"phone.mobile"`), `"email"`, `"tags"`.
    pub fn key(&self) -> String {
        match self {
            Target::Ignore => String::new(),
            Target::Kind => "kind".to_string(),
            Target::Field(k) => k.clone(),
            Target::Custom(k) => format!("custom.{k}"),
            Target::Phone(t) => format!("phone.{}", t.as_str()),
            Target::Email => "email".to_string(),
            Target::Tags => "tags".to_string(),
        }
    }

    /// The inverse of [`Target::key`]; `custom` are the defined custom fields (a custom key
    /// must exist). Read-only system fields ([`READ_ONLY_FIELDS`]: `created_at`, `source`,
    /// `last_contact_at`, …) are refused with code `read_only`; anything else unknown with
    /// `unknown_target`.
    pub fn parse(key: &str, custom: &[FieldDefinition]) -> Result<Target, Invalid> {
        let key = key.trim();
        let unknown = || Invalid::new("unknown_target", format!("`{key}` is not an import target"));
        match key {
            "" => return Ok(Target::Ignore),
            "kind" => return Ok(Target::Kind),
            "email" => return Ok(Target::Email),
            "tags" => return Ok(Target::Tags),
            k if TEXT_FIELDS.contains(&k) => return Ok(Target::Field(k.to_string())),
            k if READ_ONLY_FIELDS.contains(&k) || k == "last_contact" => {
                return Err(Invalid::new(
                    "read_only",
                    format!("{k} is set by the system and cannot be imported"),
                ));
            }
            _ => {}
        }
        if let Some(k) = key.strip_prefix("custom.") {
            return custom
                .iter()
                .find(|d| d.key == k)
                .map(|d| Target::Custom(d.key.clone()))
                .ok_or_else(|| Invalid::new("unknown_target", format!("no custom field `{k}`")));
        }
        if let Some(t) = key.strip_prefix("phone.") {
            return PhoneType::parse(t)
                .map(Target::Phone)
                .map_err(|_| unknown());
        }
        Err(unknown())
    }

    /// Phones, e-mails and tags may take several columns; other targets one.
    pub fn repeatable(&self) -> bool {
        matches!(self, Target::Phone(_) | Target::Email | Target::Tags)
    }

    /// The field key of a record write this target sets (`phones` for a phone column).
    fn field_key(&self) -> String {
        match self {
            Target::Phone(_) => "phones".to_string(),
            Target::Email => "emails".to_string(),
            t => t.key(),
        }
    }
}

impl Serialize for Target {
    /// As its [`Target::key`].
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.key())
    }
}

/// Problems of a mapping as a whole: a single-value target given to more than one column
/// (code `duplicate_target`, at each later column).
pub fn check_mapping(mapping: &[Target]) -> Vec<(usize, Invalid)> {
    let mut out = Vec::new();
    for (i, t) in mapping.iter().enumerate() {
        if *t != Target::Ignore && !t.repeatable() && mapping[..i].contains(t) {
            out.push((
                i,
                Invalid::new(
                    "duplicate_target",
                    format!("another column is already mapped to {}", t.key()),
                ),
            ));
        }
    }
    out
}

/// How rows become records.
pub struct RowContext<'a> {
    /// Region, zone, custom fields, dictionaries and flags of the writes; its `kind` is
    /// ignored and rows are always created (`creating` is taken as true).
    pub write: WriteContext<'a>,
    /// The kind of every row when no column is mapped to [`Target::Kind`] (or the row's kind
    /// cell is blank); `None` = per row: organization when the row has an organization name
    /// and no first or last name, else person.
    pub kind: Option<RecordKind>,
}

/// An invalid cell, or (column [`ROW`]) a problem of the row that no column holds, such as
/// a required custom field no column maps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CellError {
    pub column: usize,
    pub code: String,
    pub message: String,
}

impl CellError {
    fn new(column: usize, invalid: Invalid) -> Self {
        CellError {
            column,
            code: invalid.code.to_string(),
            message: invalid.message,
        }
    }

    fn from_field(column: usize, e: FieldError) -> Self {
        CellError {
            column,
            code: e.code,
            message: e.message,
        }
    }
}

/// A change made to a cell's value that the report counts: `leading_zeros_restored` (a
/// PESEL, NIP or REGON stored as a number that lost its leading zeros, padded back) or
/// `error_cell_empty` (an error cell such as `#N/A`, read as empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Repair {
    pub column: usize,
    pub code: &'static str,
    pub message: String,
}

/// One row as an import reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvertedRow {
    pub kind: RecordKind,
    /// The record as this row creates it (valid only when `errors` is empty; empty otherwise).
    pub data: RecordData,
    /// Every invalid cell of the row, not just the first, in column order (row problems,
    /// column [`ROW`], last).
    pub errors: Vec<CellError>,
    pub repairs: Vec<Repair>,
    /// No mapped cell holds a value (skip the row, count it as empty).
    pub blank: bool,
}

/// Words for the kinds in a kind column, squashed (folded, letters only).
const PERSON_WORDS: &[&str] = &[
    "person",
    "osoba",
    "osobafizyczna",
    "osobaprywatna",
    "individual",
    "klientindywidualny",
    "private",
];
const ORGANIZATION_WORDS: &[&str] = &[
    "organization",
    "organisation",
    "organizacja",
    "firma",
    "company",
    "business",
    "przedsiebiorstwo",
    "instytucja",
    "osobaprawna",
    "klientbiznesowy",
];

fn parse_kind(text: &str) -> Result<RecordKind, Invalid> {
    let w: String = fold(text).chars().filter(|c| c.is_alphanumeric()).collect();
    if PERSON_WORDS.contains(&w.as_str()) {
        Ok(RecordKind::Person)
    } else if ORGANIZATION_WORDS.contains(&w.as_str()) {
        Ok(RecordKind::Organization)
    } else {
        Err(Invalid::new(
            "invalid_kind",
            format!("`{text}` is not a kind: use person (osoba) or organization (firma)"),
        ))
    }
}

/// The national identifiers that lose leading zeros in spreadsheets.
#[derive(Clone, Copy)]
enum National {
    Nip,
    Pesel,
    Regon,
}

impl National {
    fn of_field(key: &str) -> Option<National> {
        match key {
            "nip" => Some(National::Nip),
            "pesel" => Some(National::Pesel),
            "regon" => Some(National::Regon),
            _ => None,
        }
    }

    fn of_type(t: FieldType) -> Option<National> {
        match t {
            FieldType::Nip => Some(National::Nip),
            FieldType::Pesel => Some(National::Pesel),
            FieldType::Regon => Some(National::Regon),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            National::Nip => "NIP",
            National::Pesel => "PESEL",
            National::Regon => "REGON",
        }
    }

    /// `digits` with its lost leading zeros, when it is digits only and shorter than the
    /// identifier (a REGON: 9 digits when it has at most 9, else 14).
    fn padded(self, digits: &str) -> Option<String> {
        let len = match self {
            National::Nip => 10,
            National::Pesel => 11,
            National::Regon if digits.len() <= 9 => 9,
            National::Regon => 14,
        };
        pad_lost_zeros(digits, len)
    }
}

/// A mapped cell that holds a value.
struct Read<'c> {
    cell: &'c Cell,
    /// Trimmed text: numbers without a fraction, dates as a spreadsheet shows them.
    text: String,
}

/// Checks one value as a write of `key` alone would (the kind chosen so that a name
/// belongs to it; the row's kind is checked when the row is assembled).
fn check_value(key: &str, value: &Value, w: &WriteContext<'_>) -> Result<(), FieldError> {
    let kind = if key == "organization_name" {
        RecordKind::Organization
    } else {
        RecordKind::Person
    };
    let ctx = WriteContext {
        kind,
        default_region: w.default_region,
        zone: w.zone,
        custom_fields: w.custom_fields,
        dictionaries: w.dictionaries,
        bound_by_flags: w.bound_by_flags,
        creating: false,
    };
    let mut patch = Map::new();
    patch.insert(key.to_string(), value.clone());
    match apply_patch(&RecordData::default(), &patch, &ctx) {
        Ok(_) => Ok(()),
        Err(errors) => match errors.into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        },
    }
}

/// The entry of `entries` named by `text` ignoring case and diacritics, by code, label or
/// (languages) a common Polish or English name; the exact rules of [`dictionary_code`]
/// first.
fn dictionary_entry(dictionary: &str, entries: &[(String, String)], text: &str) -> Option<String> {
    if let Some(code) = dictionary_code(dictionary, entries, text) {
        return Some(code);
    }
    let t = fold(text);
    entries
        .iter()
        .find(|(code, label)| fold(code) == t || fold(label) == t)
        .map(|(code, _)| code.clone())
        .or_else(|| {
            (dictionary == "languages").then_some(())?;
            let (code, _) = LANGUAGE_NAMES
                .iter()
                .find(|(_, names)| names.iter().any(|n| fold(n) == t))?;
            entries
                .iter()
                .find(|(c, _)| c == code)
                .map(|(c, _)| c.clone())
        })
}

/// The value of a national identifier cell, repaired when it lost its leading zeros and
/// the padded value is valid.
fn national_value(
    col: usize,
    which: National,
    key: &str,
    text: &str,
    w: &WriteContext<'_>,
    repairs: &mut Vec<Repair>,
) -> Value {
    if let Some(padded) = which.padded(text) {
        let v = Value::String(padded);
        if check_value(key, &v, w).is_ok() {
            repairs.push(Repair {
                column: col,
                code: "leading_zeros_restored",
                message: format!(
                    "the {} had lost its leading zeros (stored as a number); they were restored",
                    which.name()
                ),
            });
            return v;
        }
    }
    Value::String(text.to_string())
}

/// Splits a cell holding several values.
fn split(text: &str, separators: &[char]) -> Vec<String> {
    text.split(|c: char| separators.contains(&c))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Phone numbers of a cell, separated by `,` or `;`; an RFC 3966 parameter after a `;`
/// (`tel:+48221234567;ext=12`) stays with its number.
fn split_phones(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in split(text, &[',', ';']) {
        match out.last_mut() {
            Some(prev) if part.contains('=') && part.starts_with(|c: char| c.is_alphabetic()) => {
                prev.push(';');
                prev.push_str(&part);
            }
            _ => out.push(part),
        }
    }
    out
}

/// A value gathered from the row, with the column it came from.
struct Gathered {
    /// Single-value patch keys (`first_name`, `custom.vip`) with their values: the first
    /// column of each key.
    singles: Vec<(usize, String, Value)>,
    /// Values of a key an earlier column gave already (checked, not used).
    shadowed: Vec<(usize, String, Value)>,
    /// (column, raw number, type, E.164).
    phones: Vec<(usize, String, PhoneType, String)>,
    /// (column, address).
    emails: Vec<(usize, String)>,
    /// (column, tag).
    tags: Vec<(usize, String)>,
    kind: Option<RecordKind>,
}

/// Reads one row of cells into a record, checking every mapped cell on its own so that
/// every invalid cell is reported with its column, then applying the valid values as one
/// Merge Patch (creating, with the row's kind), whose remaining errors (a required custom
/// field without a value, a person's name on an organization) go to the column mapped to
/// that field, or to [`ROW`].
///
/// Cells beyond the mapping or mapped to [`Target::Ignore`] are ignored; blank cells hold
/// no value; text is trimmed; a cell over [`MAX_CELL`] bytes is `too_long`; an error cell
/// (`#N/A`) is read as empty with a repair `error_cell_empty`. Number cells become text
/// without a fraction where text is expected, date cells the date as shown. See
/// [`Target`] for what each target accepts.
pub fn convert_row(cells: &[Cell], mapping: &[Target], ctx: &RowContext<'_>) -> ConvertedRow {
    let w = &ctx.write;
    let mut errors: Vec<CellError> = Vec::new();
    let mut repairs: Vec<Repair> = Vec::new();
    let mut g = Gathered {
        singles: Vec::new(),
        shadowed: Vec::new(),
        phones: Vec::new(),
        emails: Vec::new(),
        tags: Vec::new(),
        kind: None,
    };
    // Columns that held a value, whatever became of it.
    let mut filled: Vec<usize> = Vec::new();

    for (col, (cell, target)) in cells.iter().zip(mapping).enumerate() {
        if *target == Target::Ignore {
            continue;
        }
        let text = match cell {
            Cell::Error(e) => {
                repairs.push(Repair {
                    column: col,
                    code: "error_cell_empty",
                    message: format!("the error cell {} was read as empty", e.trim()),
                });
                continue;
            }
            c if c.is_blank() => continue,
            Cell::Text(t) => t.trim().to_string(),
            c => c.display(),
        };
        filled.push(col);
        if text.len() > MAX_CELL {
            errors.push(CellError::new(
                col,
                Invalid::new(
                    "too_long",
                    format!("the cell holds {} bytes; at most 32 KB", text.len()),
                ),
            ));
            continue;
        }
        let read = Read { cell, text };
        if let Err(e) = gather(col, &read, target, w, &mut g, &mut repairs) {
            errors.push(e);
        }
    }

    let kind_of = |singles: &[(usize, String, Value)]| {
        g.kind.or(ctx.kind).unwrap_or_else(|| {
            let has = |k: &str| singles.iter().any(|(_, key, _)| key == k);
            if has("organization_name") && !has("first_name") && !has("last_name") {
                RecordKind::Organization
            } else {
                RecordKind::Person
            }
        })
    };
    let mut kind = kind_of(&g.singles);

    if filled.is_empty() {
        return ConvertedRow {
            kind,
            data: RecordData::default(),
            errors,
            repairs,
            blank: true,
        };
    }

    let write = |kind| WriteContext {
        kind,
        default_region: w.default_region,
        zone: w.zone,
        custom_fields: w.custom_fields,
        dictionaries: w.dictionaries,
        bound_by_flags: w.bound_by_flags,
        creating: true,
    };
    // The single values are checked with the whole row: a valid row (nearly every row)
    // costs one `apply_patch`. Values a column of the same key gave before are checked
    // alone. Only when the row fails is each value checked alone, so that every invalid
    // cell is named, and the row applied again without them: a valid later column of a
    // key then stands in for an invalid earlier one.
    let mut applied = apply_patch(&RecordData::default(), &row_patch(&g), &write(kind));
    let mut values = std::mem::take(&mut g.shadowed);
    if applied.is_err() {
        values.append(&mut g.singles);
        values.sort_by_key(|(col, _, _)| *col);
    }
    for (col, key, value) in values {
        if let Err(e) = check_value(&key, &value, w) {
            errors.push(CellError::from_field(col, e));
        } else if applied.is_err() && !g.singles.iter().any(|(_, k, _)| *k == key) {
            g.singles.push((col, key, value));
        }
    }
    if applied.is_err() {
        kind = kind_of(&g.singles);
        applied = apply_patch(&RecordData::default(), &row_patch(&g), &write(kind));
    }
    let data = match applied {
        Ok((data, _)) => data,
        Err(field_errors) => {
            let failed: BTreeSet<usize> = errors.iter().map(|e| e.column).collect();
            for e in field_errors {
                let col = column_of(&e.field, mapping, &filled);
                // A cell already reported is not reported again (e.g. as missing).
                if col == ROW || !failed.contains(&col) {
                    errors.push(CellError::from_field(col, e));
                }
            }
            RecordData::default()
        }
    };
    errors.sort_by_key(|e| e.column);
    let data = if errors.is_empty() {
        data
    } else {
        RecordData::default()
    };
    ConvertedRow {
        kind,
        data,
        errors,
        repairs,
        blank: false,
    }
}

/// Reads one cell holding a value into `g`, or says why it is invalid.
fn gather(
    col: usize,
    read: &Read<'_>,
    target: &Target,
    w: &WriteContext<'_>,
    g: &mut Gathered,
    repairs: &mut Vec<Repair>,
) -> Result<(), CellError> {
    let text = read.text.as_str();
    match target {
        Target::Ignore => Ok(()),
        Target::Kind => {
            let k = parse_kind(text).map_err(|e| CellError::new(col, e))?;
            g.kind.get_or_insert(k);
            Ok(())
        }
        Target::Field(key) => {
            let value = if let Some(n) = National::of_field(key) {
                national_value(col, n, key, text, w, repairs)
            } else if let Some((_, dict)) = DICTIONARY_FIELDS.iter().find(|(f, _)| f == key) {
                let entries = w.dictionaries.get(*dict).map(Vec::as_slice);
                let code = dictionary_entry(dict, entries.unwrap_or_default(), text);
                Value::String(code.unwrap_or_else(|| text.to_string()))
            } else {
                Value::String(text.to_string())
            };
            single(col, key.clone(), value, g)
        }
        Target::Custom(key) => {
            let field = format!("custom.{key}");
            let Some(def) = w.custom_fields.iter().find(|d| d.key == *key) else {
                return Err(CellError::new(
                    col,
                    Invalid::new("unknown_field", format!("no custom field `{key}`")),
                ));
            };
            let value = match (def.field_type, read.cell) {
                (FieldType::Number, Cell::Number(n)) => serde_json::Number::from_f64(*n)
                    .map(Value::Number)
                    .ok_or_else(|| {
                        CellError::new(col, Invalid::new("invalid_number", "not a finite number"))
                    })?,
                (FieldType::DateTime, Cell::DateTime(serial)) => {
                    let local = excel_date_time(*serial).ok_or_else(|| {
                        CellError::new(
                            col,
                            Invalid::new("invalid_date", "the date is out of range"),
                        )
                    })?;
                    Value::String(local.format("%Y-%m-%d %H:%M:%S").to_string())
                }
                (FieldType::Dictionary, _) => {
                    let t = fold(text);
                    let option = def.options.iter().find(|o| fold(o) == t);
                    Value::String(option.map_or(text, String::as_str).to_string())
                }
                (t, _) => match National::of_type(t) {
                    Some(n) => national_value(col, n, &field, text, w, repairs),
                    None => Value::String(text.to_string()),
                },
            };
            single(col, field, value, g)
        }
        Target::Phone(phone_type) => {
            for raw in split_phones(text) {
                let parsed = parse_phone(&raw, w.default_region).map_err(|e| {
                    let several = split_phones(text).len() > 1;
                    let message = if several {
                        format!("{raw}: {}", e.message)
                    } else {
                        e.message
                    };
                    CellError {
                        column: col,
                        code: e.code.to_string(),
                        message,
                    }
                })?;
                if !g.phones.iter().any(|(_, _, _, e164)| *e164 == parsed.e164) {
                    g.phones.push((col, raw, *phone_type, parsed.e164));
                }
            }
            Ok(())
        }
        Target::Email => {
            let parts = split(text, &[',', ';', ' ', '\t', '\n', '\r']);
            let mut found = Vec::new();
            for raw in &parts {
                let e = Email::parse(raw).map_err(|e| {
                    let message = if parts.len() > 1 {
                        format!("{raw}: {}", e.message)
                    } else {
                        e.message
                    };
                    CellError {
                        column: col,
                        code: e.code.to_string(),
                        message,
                    }
                })?;
                found.push(e);
            }
            for e in found {
                if !g
                    .emails
                    .iter()
                    .any(|(_, a)| a.to_lowercase() == e.normalized())
                {
                    g.emails.push((col, e.as_str().to_string()));
                }
            }
            Ok(())
        }
        Target::Tags => {
            let tags = split(text, &[',', ';']);
            if let Some(long) = tags.iter().find(|t| t.chars().count() > MAX_TAG) {
                return Err(CellError::new(
                    col,
                    Invalid::new(
                        "invalid_tag",
                        format!(
                            "a tag has at most {MAX_TAG} characters; `{}…` has {}",
                            long.chars().take(20).collect::<String>(),
                            long.chars().count()
                        ),
                    ),
                ));
            }
            g.tags.extend(tags.into_iter().map(|t| (col, t)));
            Ok(())
        }
    }
}

/// Keeps a single value (the first column with a value wins; `convert_row` checks them).
fn single(col: usize, key: String, value: Value, g: &mut Gathered) -> Result<(), CellError> {
    if g.singles.iter().any(|(_, k, _)| *k == key) {
        g.shadowed.push((col, key, value));
    } else {
        g.singles.push((col, key, value));
    }
    Ok(())
}

/// The Merge Patch creating the record of the gathered values.
fn row_patch(g: &Gathered) -> Map<String, Value> {
    let mut patch = Map::new();
    for (_, key, value) in &g.singles {
        patch.insert(key.clone(), value.clone());
    }
    if !g.phones.is_empty() {
        let phones = g
            .phones
            .iter()
            .enumerate()
            .map(
                |(i, (_, raw, t, _))| json!({"number": raw, "type": t.as_str(), "default": i == 0}),
            )
            .collect();
        patch.insert("phones".to_string(), Value::Array(phones));
    }
    if !g.emails.is_empty() {
        let emails = g
            .emails
            .iter()
            .enumerate()
            .map(|(i, (_, a))| json!({"address": a, "default": i == 0}))
            .collect();
        patch.insert("emails".to_string(), Value::Array(emails));
    }
    if !g.tags.is_empty() {
        let tags = g.tags.iter().map(|(_, t)| json!(t)).collect();
        patch.insert("tags".to_string(), Value::Array(tags));
    }
    patch
}

/// The column of the field a write error names (`phones[1].number` → a phone column):
/// the first such column that held a value, else the first mapped to it, else [`ROW`].
fn column_of(field: &str, mapping: &[Target], filled: &[usize]) -> usize {
    let base = field.split('[').next().unwrap_or(field);
    let columns: Vec<usize> = mapping
        .iter()
        .enumerate()
        .filter(|(_, t)| **t != Target::Ignore && t.field_key() == base)
        .map(|(i, _)| i)
        .collect();
    columns
        .iter()
        .find(|c| filled.contains(c))
        .or(columns.first())
        .copied()
        .unwrap_or(ROW)
}

/// Keys tried to find the record a row matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchKey {
    Phone,
    Email,
    ExternalId,
    Pesel,
    Nip,
}

impl MatchKey {
    pub const ALL: [MatchKey; 5] = [
        MatchKey::Phone,
        MatchKey::Email,
        MatchKey::ExternalId,
        MatchKey::Pesel,
        MatchKey::Nip,
    ];

    /// `"phone"`, `"email"`, `"external_id"`, `"pesel"`, `"nip"`.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchKey::Phone => "phone",
            MatchKey::Email => "email",
            MatchKey::ExternalId => "external_id",
            MatchKey::Pesel => "pesel",
            MatchKey::Nip => "nip",
        }
    }

    /// The inverse of [`MatchKey::as_str`]; code `invalid_match_key`.
    pub fn parse(s: &str) -> Result<MatchKey, Invalid> {
        MatchKey::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| {
                Invalid::new(
                    "invalid_match_key",
                    format!("unknown match key `{s}`; use phone, email, external_id, pesel or nip"),
                )
            })
    }

    /// The row's normalized values of this key: phones' E.164 numbers, lower-cased
    /// e-mails, the external ID as stored, compact PESEL/NIP. Empty when the row has none.
    pub fn values(self, data: &RecordData) -> Vec<String> {
        match self {
            MatchKey::Phone => data.phones.iter().map(|p| p.number.clone()).collect(),
            MatchKey::Email => data.emails.iter().map(|e| e.normalized()).collect(),
            MatchKey::ExternalId | MatchKey::Pesel | MatchKey::Nip => data
                .field(self.as_str())
                .map(str::to_string)
                .into_iter()
                .collect(),
        }
    }
}

impl Serialize for MatchKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The Merge Patch (only keys that change) updating `current` with a matched row, to apply
/// with [`apply_patch`] on `current` (`creating` false), so that the caller gets validation,
/// flags and a `diff` for the audit and the journal.
///
/// Empty cells keep the stored value; text fields and custom values the row gives
/// overwrite; phones, e-mails and tags are added to what the record has, never replaced: a
/// phone already present by E.164 or an e-mail present ignoring case is not added again,
/// the record's defaults stay, and when it had none the row's first becomes the default.
/// The `phones`/`emails` arrays are the full new lists; existing phones keep their raw
/// text, type, extension and default (their raw text is parsed again by the write, in the
/// default region of the write).
pub fn update_patch(current: &RecordData, row: &ConvertedRow) -> Map<String, Value> {
    let mut patch = Map::new();
    for (key, value) in &row.data.fields {
        if current.field(key) != Some(value.as_str()) {
            patch.insert(key.clone(), Value::String(value.clone()));
        }
    }
    for (key, value) in &row.data.custom {
        if current.custom.get(key) != Some(value) {
            patch.insert(format!("custom.{key}"), Value::String(value.clone()));
        }
    }

    let new_phones: Vec<_> = row
        .data
        .phones
        .iter()
        .filter(|p| !current.phones.iter().any(|q| q.number == p.number))
        .collect();
    if !new_phones.is_empty() {
        let had_default = current.phones.iter().any(|p| p.default);
        let mut phones: Vec<Value> = current.phones.iter().map(phone_json).collect();
        for (i, p) in new_phones.into_iter().enumerate() {
            let mut v = phone_json(p);
            if let Value::Object(m) = &mut v {
                m.insert("default".into(), Value::Bool(!had_default && i == 0));
            }
            phones.push(v);
        }
        patch.insert("phones".into(), Value::Array(phones));
    }

    let new_emails: Vec<_> = row
        .data
        .emails
        .iter()
        .filter(|e| {
            !current
                .emails
                .iter()
                .any(|x| x.normalized() == e.normalized())
        })
        .collect();
    if !new_emails.is_empty() {
        let had_default = current.emails.iter().any(|e| e.default);
        let mut emails: Vec<Value> = current
            .emails
            .iter()
            .map(|e| json!({"address": e.address, "default": e.default}))
            .collect();
        for (i, e) in new_emails.into_iter().enumerate() {
            emails.push(json!({"address": e.address, "default": !had_default && i == 0}));
        }
        patch.insert("emails".into(), Value::Array(emails));
    }

    let mut tags: BTreeSet<&String> = current.tags.iter().collect();
    let before = tags.len();
    tags.extend(row.data.tags.iter());
    if tags.len() != before {
        patch.insert("tags".into(), json!(tags));
    }
    patch
}

/// A stored phone in the shape [`crate::record::parse_phones`] reads.
fn phone_json(p: &crate::record::Phone) -> Value {
    let mut m = Map::new();
    let raw = if p.raw.trim().is_empty() {
        &p.number
    } else {
        &p.raw
    };
    m.insert("number".into(), Value::String(raw.clone()));
    m.insert("type".into(), Value::String(p.phone_type.as_str().into()));
    if let Some(ext) = &p.extension {
        m.insert("extension".into(), Value::String(ext.clone()));
    }
    m.insert("default".into(), Value::Bool(p.default));
    Value::Object(m)
}

#[cfg(test)]
mod tests;
