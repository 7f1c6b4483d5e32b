//! The filter model (SPEC.md "Filter model"): `{"all": [{"field", "op", "value"}]}`, the
//! catalog of criteria (SPEC C4) and the check that turns a filter into typed conditions
//! the store compiles to SQL.

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Invalid;
use crate::field::{FieldDefinition, FieldType};
use crate::record::FieldError;
use crate::text::fold;

/// A filter: criteria combined with AND.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    #[serde(default)]
    pub all: Vec<Criterion>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    pub field: String,
    pub op: Op,
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub value: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Eq,
    Like,
    In,
    Lt,
    Gt,
    Between,
    Empty,
    NotEmpty,
}

impl Op {
    pub const ALL: [Op; 8] = [
        Op::Eq,
        Op::Like,
        Op::In,
        Op::Lt,
        Op::Gt,
        Op::Between,
        Op::Empty,
        Op::NotEmpty,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Like => "like",
            Op::In => "in",
            Op::Lt => "lt",
            Op::Gt => "gt",
            Op::Between => "between",
            Op::Empty => "empty",
            Op::NotEmpty => "not_empty",
        }
    }

    pub fn parse(s: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// What kind of value a criterion takes, which decides its operators and its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Free text: `like` with `%`, `eq`, `empty`, `not_empty`; case and diacritics ignored.
    Text,
    /// Identifiers compared as typed (spaces and dashes ignored): `eq`, `like`, `in`, empty.
    Code,
    Phone,
    Email,
    /// A dictionary's codes (the dictionary's name): `in`, `eq`, empty.
    Dictionary(&'static str),
    /// An instant: `lt` (before), `gt` (after), `between`, empty.
    Date,
    Number,
    /// User IDs: `in`, `eq`, empty.
    User,
    Campaign,
    Segment,
    Tag,
    /// Record IDs (public).
    Record,
    /// Person or organization.
    RecordKind,
    /// The user's own records: `eq` true.
    Mine,
}

impl Kind {
    pub fn ops(self) -> &'static [Op] {
        use Op::*;
        match self {
            Kind::Text => &[Like, Eq, Empty, NotEmpty],
            Kind::Code | Kind::Phone | Kind::Email => &[Eq, Like, In, Empty, NotEmpty],
            Kind::Dictionary(_)
            | Kind::User
            | Kind::Campaign
            | Kind::Segment
            | Kind::Tag
            | Kind::Record => &[In, Eq, Empty, NotEmpty],
            Kind::Date | Kind::Number => &[Between, Lt, Gt, Eq, Empty, NotEmpty],
            Kind::RecordKind | Kind::Mine => &[Eq],
        }
    }

    /// The name the UI and the API catalog use for the input this kind needs.
    pub fn input(self) -> &'static str {
        match self {
            Kind::Text | Kind::Code | Kind::Email => "text",
            Kind::Phone => "phone",
            Kind::Dictionary(_) => "dictionary",
            Kind::Date => "date",
            Kind::Number => "number",
            Kind::User => "user",
            Kind::Campaign => "campaign",
            Kind::Segment => "segment",
            Kind::Tag => "tag",
            Kind::Record => "record",
            Kind::RecordKind => "kind",
            Kind::Mine => "flag",
        }
    }
}

/// The system criteria of SPEC C4, by field key, in the order the UI offers them.
pub const SYSTEM: &[(&str, Kind)] = &[
    ("last_name", Kind::Text),
    ("first_name", Kind::Text),
    ("display_name", Kind::Text),
    ("phone", Kind::Phone),
    ("email", Kind::Email),
    ("id", Kind::Record),
    ("campaigns", Kind::Campaign),
    ("segments", Kind::Segment),
    ("tags", Kind::Tag),
    ("city", Kind::Text),
    ("address", Kind::Text),
    ("postal_code", Kind::Text),
    ("province", Kind::Text),
    ("country", Kind::Text),
    ("kind", Kind::RecordKind),
    ("nip", Kind::Code),
    ("pesel", Kind::Code),
    ("regon", Kind::Code),
    ("external_id", Kind::Code),
    ("language", Kind::Dictionary("languages")),
    ("position", Kind::Dictionary("positions")),
    ("stage", Kind::Dictionary("stages")),
    (
        "acquisition_source",
        Kind::Dictionary("acquisition_sources"),
    ),
    ("organization", Kind::Record),
    ("managers", Kind::User),
    ("mine", Kind::Mine),
    ("created_at", Kind::Date),
    ("created_by", Kind::User),
    ("source", Kind::Text),
    ("modified_at", Kind::Date),
    ("modified_by", Kind::User),
    ("last_contact_at", Kind::Date),
    ("case.status", Kind::Text),
    ("case.assigned_to", Kind::User),
    ("case.last_classifier", Kind::Dictionary("classifiers")),
    ("case.classifiers", Kind::Dictionary("classifiers")),
    ("case.attempts", Kind::Number),
    ("case.last_call_type", Kind::Code),
    ("case.last_call_status", Kind::Code),
    ("case.recontact_at", Kind::Date),
];

/// The kind of a criterion key, custom fields included.
pub fn kind_of(key: &str, custom: &[FieldDefinition]) -> Option<Kind> {
    if let Some(k) = key.strip_prefix("custom.") {
        return custom
            .iter()
            .find(|f| f.key == k)
            .map(|f| match f.field_type {
                FieldType::Text | FieldType::Masked => Kind::Text,
                FieldType::Number => Kind::Number,
                FieldType::DateTime => Kind::Date,
                FieldType::Dictionary => Kind::Dictionary("custom"),
                FieldType::Nip | FieldType::Pesel | FieldType::Regon => Kind::Code,
            });
    }
    SYSTEM.iter().find(|(k, _)| *k == key).map(|(_, k)| *k)
}

/// A `like` pattern split at its `%`: literal pieces, whether it is anchored at the start
/// (no leading `%`) and at the end (no trailing `%`).
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    pub pieces: Vec<String>,
    pub anchored_start: bool,
    pub anchored_end: bool,
}

impl Pattern {
    /// Parses `%ski`, `Kowal%`, `%ow%`, `a%b`; `\%` is a literal percent. `folded` folds the
    /// literal pieces (for text matched regardless of case and diacritics).
    pub fn parse(s: &str, folded: bool) -> Pattern {
        let mut pieces = vec![String::new()];
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&'%') => {
                    chars.next();
                    if let Some(p) = pieces.last_mut() {
                        p.push('%');
                    }
                }
                '%' => pieces.push(String::new()),
                c => {
                    if let Some(p) = pieces.last_mut() {
                        p.push(c);
                    }
                }
            }
        }
        let anchored_start = !pieces.first().is_some_and(String::is_empty);
        let anchored_end = !pieces.last().is_some_and(String::is_empty) || pieces.len() == 1;
        let pieces: Vec<String> = pieces
            .into_iter()
            .map(|p| if folded { fold_piece(&p) } else { p })
            .filter(|p| !p.is_empty())
            .collect();
        Pattern {
            pieces,
            anchored_start,
            anchored_end,
        }
    }

    /// No wildcard at all: an exact match.
    pub fn is_exact(&self) -> bool {
        self.anchored_start && self.anchored_end && self.pieces.len() <= 1
    }

    /// The SQL LIKE pattern (escape character `\`), `_` and `\` escaped.
    pub fn to_like(&self) -> String {
        let mut out = String::new();
        if !self.anchored_start {
            out.push('%');
        }
        for (i, p) in self.pieces.iter().enumerate() {
            if i > 0 {
                out.push('%');
            }
            for c in p.chars() {
                if matches!(c, '%' | '_' | '\\') {
                    out.push('\\');
                }
                out.push(c);
            }
        }
        if !self.anchored_end && !out.ends_with('%') {
            out.push('%');
        }
        out
    }
}

/// Folds a piece of a pattern keeping its edge spaces (`fold` trims; `"jan "%` must keep it).
fn fold_piece(p: &str) -> String {
    let lead = p.starts_with(char::is_whitespace);
    let trail = p.ends_with(char::is_whitespace) && p.trim().len() < p.len();
    let core = fold(p);
    if core.is_empty() {
        return if p.is_empty() {
            String::new()
        } else {
            " ".into()
        };
    }
    format!(
        "{}{}{}",
        if lead { " " } else { "" },
        core,
        if trail { " " } else { "" }
    )
}

/// A test on one value.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Eq(Val),
    In(Vec<Val>),
    Lt(Val),
    Gt(Val),
    /// Inclusive bounds.
    Between(Val, Val),
    Like(Pattern),
    Empty,
    NotEmpty,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Int(i64),
    Num(f64),
    Text(String),
}

/// One checked criterion, ready for the store.
#[derive(Debug, Clone, PartialEq)]
pub struct Cond {
    /// The field key (`last_name`, `case.status`, `custom.nps`).
    pub field: String,
    pub kind: Kind,
    pub test: Test,
}

/// What checking a filter needs besides the filter.
pub struct Context<'a> {
    pub custom: &'a [FieldDefinition],
    pub zone: Tz,
    pub default_region: &'a str,
}

/// Checks every criterion; the errors name `all[i].field`, `all[i].op` or `all[i].value`.
pub fn check(filter: &Filter, ctx: &Context<'_>) -> Result<Vec<Cond>, Vec<FieldError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    if filter.all.len() > 50 {
        errors.push(FieldError::new(
            "all",
            Invalid::new("too_many", "a filter holds at most 50 criteria"),
        ));
    }
    for (i, c) in filter.all.iter().enumerate() {
        match check_one(c, ctx) {
            Ok(cond) => out.push(cond),
            Err((part, e)) => errors.push(FieldError::new(format!("all[{i}].{part}"), e)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn check_one(c: &Criterion, ctx: &Context<'_>) -> Result<Cond, (&'static str, Invalid)> {
    let kind = kind_of(&c.field, ctx.custom).ok_or((
        "field",
        Invalid::new(
            "unknown_field",
            format!("`{}` is not a field one can filter on", c.field),
        ),
    ))?;
    if !kind.ops().contains(&c.op) {
        let ops: Vec<&str> = kind.ops().iter().map(|o| o.as_str()).collect();
        return Err((
            "op",
            Invalid::new(
                "invalid_op",
                format!(
                    "`{}` does not work on {}; use {}",
                    c.op.as_str(),
                    c.field,
                    ops.join(", ")
                ),
            ),
        ));
    }
    let test = test_of(&c.field, kind, c.op, &c.value, ctx).map_err(|e| ("value", e))?;
    Ok(Cond {
        field: c.field.clone(),
        kind,
        test,
    })
}

fn texts(v: &Value) -> Result<Vec<String>, Invalid> {
    let one = |v: &Value| match v {
        Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(Invalid::new(
            "invalid_value",
            "expected a non-empty text or number",
        )),
    };
    match v {
        Value::Array(a) if !a.is_empty() => a.iter().map(one).collect(),
        Value::Array(_) => Err(Invalid::new("invalid_value", "choose at least one value")),
        v => Ok(vec![one(v)?]),
    }
}

fn single(v: &Value) -> Result<String, Invalid> {
    let mut t = texts(v)?;
    if t.len() != 1 {
        return Err(Invalid::new("invalid_value", "expected one value"));
    }
    Ok(t.remove(0))
}

fn pair(v: &Value) -> Result<(String, String), Invalid> {
    match texts(v)?.as_slice() {
        [a, b] => Ok((a.clone(), b.clone())),
        _ => Err(Invalid::new(
            "invalid_value",
            "`between` takes two values: [from, to]",
        )),
    }
}

/// A code as stored: national IDs lose spaces and dashes (and a NIP its `PL` prefix);
/// other codes are compared as typed.
fn code(field: &str, s: &str) -> String {
    if !matches!(field, "nip" | "pesel" | "regon") {
        return s.to_string();
    }
    let c: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    match c.get(..2) {
        Some(p) if field == "nip" && p.eq_ignore_ascii_case("pl") => c[2..].to_string(),
        _ => c,
    }
}

fn test_of(field: &str, kind: Kind, op: Op, v: &Value, ctx: &Context<'_>) -> Result<Test, Invalid> {
    if matches!(op, Op::Empty) {
        return Ok(Test::Empty);
    }
    if matches!(op, Op::NotEmpty) {
        return Ok(Test::NotEmpty);
    }
    let custom_def = field
        .strip_prefix("custom.")
        .and_then(|k| ctx.custom.iter().find(|f| f.key == k));
    let text = |s: &str| Val::Text(s.to_string());
    Ok(match kind {
        Kind::Text => {
            let p = Pattern::parse(&single(v)?, true);
            if p.pieces.is_empty() && op == Op::Like {
                Test::NotEmpty
            } else if op == Op::Eq || p.is_exact() {
                Test::Eq(Val::Text(p.pieces.concat()))
            } else {
                Test::Like(p)
            }
        }
        Kind::Code => {
            let s = single_or_list(op, v)?;
            match op {
                Op::Like => {
                    let p = Pattern::parse(&code(field, &s[0]), false);
                    if p.is_exact() {
                        Test::Eq(Val::Text(p.pieces.concat()))
                    } else {
                        Test::Like(p)
                    }
                }
                _ => list_test(op, s.iter().map(|x| text(&code(field, x))).collect()),
            }
        }
        Kind::Phone => {
            let s = single_or_list(op, v)?;
            if op == Op::Like {
                // Digits with wildcards, matched against the stored E.164 number.
                let digits: String = s[0]
                    .chars()
                    .filter(|c| c.is_ascii_digit() || *c == '%' || *c == '+')
                    .collect();
                Test::Like(Pattern::parse(&digits, false))
            } else {
                let mut nums = Vec::new();
                for x in &s {
                    let n = crate::phone::normalize_phone_query(x, ctx.default_region).ok_or_else(
                        || Invalid::new("invalid_phone", format!("`{x}` is not a phone number")),
                    )?;
                    nums.push(Val::Text(n));
                }
                list_test(op, nums)
            }
        }
        Kind::Email => {
            let s = single_or_list(op, v)?;
            if op == Op::Like {
                let p = Pattern::parse(&s[0].to_lowercase(), false);
                if p.is_exact() {
                    Test::Eq(Val::Text(p.pieces.concat()))
                } else {
                    Test::Like(p)
                }
            } else {
                list_test(op, s.iter().map(|x| text(&x.to_lowercase())).collect())
            }
        }
        Kind::Dictionary(_) | Kind::Tag => {
            let s = texts(v)?;
            let s = match custom_def {
                // A custom dictionary's value is stored as the option spelled in the definition.
                Some(def) => s
                    .iter()
                    .map(|x| {
                        def.options
                            .iter()
                            .find(|o| o.to_lowercase() == x.to_lowercase())
                            .cloned()
                            .ok_or_else(|| {
                                Invalid::new(
                                    "not_in_dictionary",
                                    format!("`{x}` is not one of: {}", def.options.join(", ")),
                                )
                            })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                None => s,
            };
            list_test(op, s.iter().map(|x| text(x)).collect())
        }
        Kind::User | Kind::Campaign | Kind::Segment => {
            let ids = texts(v)?
                .iter()
                .map(|x| {
                    x.parse::<i64>()
                        .map(Val::Int)
                        .map_err(|_| Invalid::new("invalid_value", format!("`{x}` is not an ID")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            list_test(op, ids)
        }
        Kind::Record => {
            let ids = texts(v)?
                .iter()
                .map(|x| {
                    crate::ids::PublicId::parse(x)
                        .map(|id| Val::Text(id.as_str().to_string()))
                        .map_err(|_| {
                            Invalid::new("invalid_value", format!("`{x}` is not a record ID"))
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            list_test(op, ids)
        }
        Kind::RecordKind => {
            let s = single(v)?.to_lowercase();
            match s.as_str() {
                "person" | "organization" => Test::Eq(Val::Text(s)),
                _ => {
                    return Err(Invalid::new(
                        "invalid_value",
                        "expected person or organization",
                    ));
                }
            }
        }
        Kind::Mine => match v {
            Value::Bool(true) | Value::Null => Test::Eq(Val::Int(1)),
            Value::String(s) if s == "true" || s == "1" => Test::Eq(Val::Int(1)),
            _ => return Err(Invalid::new("invalid_value", "expected true")),
        },
        Kind::Number => {
            let num = |s: &str| {
                s.replace(',', ".")
                    .replace(' ', "")
                    .parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite())
                    .map(Val::Num)
                    .ok_or_else(|| Invalid::new("invalid_number", format!("`{s}` is not a number")))
            };
            match op {
                Op::Between => {
                    let (a, b) = pair(v)?;
                    Test::Between(num(&a)?, num(&b)?)
                }
                Op::Lt => Test::Lt(num(&single(v)?)?),
                Op::Gt => Test::Gt(num(&single(v)?)?),
                _ => Test::Eq(num(&single(v)?)?),
            }
        }
        Kind::Date => {
            // A date alone spans its whole day: after it means from the next day on,
            // between includes the last day.
            let bound = |s: &str, end: bool| -> Result<i64, Invalid> {
                let at = crate::time::parse_instant(s, ctx.zone)?.timestamp_millis();
                let date_only = !s.contains(':');
                Ok(if end && date_only {
                    at + 86_400_000 - 1
                } else {
                    at
                })
            };
            match op {
                Op::Between => {
                    let (a, b) = pair(v)?;
                    let (a, b) = (bound(&a, false)?, bound(&b, true)?);
                    if a > b {
                        return Err(Invalid::new(
                            "invalid_range",
                            "the range ends before it starts",
                        ));
                    }
                    Test::Between(Val::Int(a), Val::Int(b))
                }
                Op::Lt => Test::Lt(Val::Int(bound(&single(v)?, false)?)),
                Op::Gt => Test::Gt(Val::Int(bound(&single(v)?, true)?)),
                _ => {
                    let s = single(v)?;
                    Test::Between(Val::Int(bound(&s, false)?), Val::Int(bound(&s, true)?))
                }
            }
        }
    })
}

fn single_or_list(op: Op, v: &Value) -> Result<Vec<String>, Invalid> {
    if op == Op::In {
        texts(v)
    } else {
        Ok(vec![single(v)?])
    }
}

fn list_test(op: Op, mut vals: Vec<Val>) -> Test {
    if op == Op::Eq && vals.len() == 1 {
        Test::Eq(vals.remove(0))
    } else {
        Test::In(vals)
    }
}

#[cfg(test)]
mod tests;
