//! Records (contacts): kinds, system fields, contact data and the Merge Patch rules of
//! SPEC.md "Writes". Everything here is pure: existence of organizations, managers and
//! dictionary codes is checked by the caller through [`WriteContext`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

use crate::Invalid;
use crate::field::FieldDefinition;
use crate::national::{Nip, Pesel, Regon};
use crate::phone::PhoneType;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Person,
    Organization,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Person => "person",
            RecordKind::Organization => "organization",
        }
    }
    pub fn parse(s: &str) -> Result<RecordKind, Invalid> {
        match s.trim() {
            "person" => Ok(RecordKind::Person),
            "organization" => Ok(RecordKind::Organization),
            _ => Err(Invalid::new(
                "invalid_kind",
                "kind is `person` or `organization`",
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Manual,
    Import,
    Api,
    Call,
    Form,
    Merge,
}

impl Source {
    pub const ALL: [Source; 6] = [
        Source::Manual,
        Source::Import,
        Source::Api,
        Source::Call,
        Source::Form,
        Source::Merge,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Manual => "manual",
            Source::Import => "import",
            Source::Api => "api",
            Source::Call => "call",
            Source::Form => "form",
            Source::Merge => "merge",
        }
    }
    pub fn parse(s: &str) -> Result<Source, Invalid> {
        Source::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| Invalid::new("invalid_source", format!("unknown source `{s}`")))
    }
}

/// Writable single-value system fields, in the order of SPEC.md's field keys.
pub const TEXT_FIELDS: [&str; 18] = [
    "first_name",
    "last_name",
    "organization_name",
    "name",
    "city",
    "address_line1",
    "address_line2",
    "postal_code",
    "province",
    "country",
    "nip",
    "pesel",
    "regon",
    "language",
    "external_id",
    "position",
    "stage",
    "acquisition_source",
];

/// System fields whose value must be a code of a dictionary, with that dictionary's name.
pub const DICTIONARY_FIELDS: [(&str, &str); 4] = [
    ("language", "languages"),
    ("position", "positions"),
    ("stage", "stages"),
    ("acquisition_source", "acquisition_sources"),
];

/// Fields the system sets; a write naming one is refused.
pub const READ_ONLY_FIELDS: [&str; 11] = [
    "display_name",
    "created_at",
    "created_by",
    "source",
    "modified_at",
    "modified_by",
    "last_contact_at",
    "version",
    "campaigns",
    "segments",
    "id",
];

/// Longest value of a system text field.
pub const MAX_FIELD_LEN: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phone {
    /// E.164.
    pub number: String,
    pub raw: String,
    #[serde(rename = "type")]
    pub phone_type: PhoneType,
    pub extension: Option<String>,
    pub default: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailAddress {
    pub address: String,
    pub default: bool,
}

impl EmailAddress {
    pub fn normalized(&self) -> String {
        self.address.to_lowercase()
    }
}

/// Everything about a record that its version covers (SPEC.md "Writes").
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RecordData {
    /// Set system text fields (absent = empty).
    pub fields: BTreeMap<String, String>,
    pub phones: Vec<Phone>,
    pub emails: Vec<EmailAddress>,
    /// Custom field key → stored text.
    pub custom: BTreeMap<String, String>,
    /// Sorted, unique.
    pub tags: Vec<String>,
    /// Usernames, sorted, unique.
    pub managers: Vec<String>,
    /// Public ID of the organization record (persons only).
    pub organization: Option<String>,
}

impl RecordData {
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }

    pub fn default_phone(&self) -> Option<&Phone> {
        self.phones.iter().find(|p| p.default)
    }

    pub fn default_email(&self) -> Option<&EmailAddress> {
        self.emails.iter().find(|e| e.default)
    }

    /// The display name: `name` when set, else the names, else the default phone or e-mail.
    pub fn display_name(&self, kind: RecordKind) -> String {
        if let Some(n) = self.field("name") {
            return n.to_string();
        }
        let derived = match kind {
            RecordKind::Person => [self.field("first_name"), self.field("last_name")]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" "),
            RecordKind::Organization => self
                .field("organization_name")
                .unwrap_or_default()
                .to_string(),
        };
        if !derived.is_empty() {
            return derived;
        }
        if let Some(p) = self.default_phone() {
            return p.number.clone();
        }
        self.default_email()
            .map(|e| e.address.clone())
            .unwrap_or_default()
    }

    /// The value of one field key as JSON (for diffs, audit and 412 answers).
    pub fn value_of(&self, key: &str) -> Value {
        match key {
            "phones" => json!(self.phones),
            "emails" => json!(self.emails),
            "tags" => json!(self.tags),
            "managers" => json!(self.managers),
            "organization" => json!(self.organization),
            _ => match key.strip_prefix("custom.") {
                Some(k) => json!(self.custom.get(k)),
                None => json!(self.fields.get(key)),
            },
        }
    }

    /// Field keys that hold a value or differ between two states.
    fn keys(&self) -> BTreeSet<String> {
        let mut keys: BTreeSet<String> = self.fields.keys().cloned().collect();
        keys.extend(self.custom.keys().map(|k| format!("custom.{k}")));
        keys.extend(["phones", "emails", "tags", "managers", "organization"].map(String::from));
        keys
    }
}

/// One changed field, for the audit log and change tracking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: Value,
    pub after: Value,
}

pub fn diff(before: &RecordData, after: &RecordData) -> Vec<FieldChange> {
    let mut keys = before.keys();
    keys.extend(after.keys());
    keys.into_iter()
        .filter_map(|k| {
            let (b, a) = (before.value_of(&k), after.value_of(&k));
            (b != a).then_some(FieldChange {
                field: k,
                before: b,
                after: a,
            })
        })
        .collect()
}

/// A validation failure of one field of a write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, invalid: Invalid) -> Self {
        FieldError {
            field: field.into(),
            code: invalid.code.to_string(),
            message: invalid.message,
        }
    }
}

/// What a write needs to know besides the patch.
pub struct WriteContext<'a> {
    pub kind: RecordKind,
    pub default_region: &'a str,
    pub zone: chrono_tz::Tz,
    pub custom_fields: &'a [FieldDefinition],
    /// Dictionary name → active (code, label); a value matches a code or a label,
    /// ignoring case, and is stored as the code.
    pub dictionaries: &'a BTreeMap<String, Vec<(String, String)>>,
    /// Agents and integrations may not write non-editable (or invisible) custom fields.
    pub bound_by_flags: bool,
    /// True when creating: every required custom field must then get a value.
    pub creating: bool,
}

/// Applies a JSON Merge Patch (RFC 7396) to `current`. `custom` may come nested
/// (`{"custom": {"k": v}}`) or flat (`{"custom.k": v}`). Returns the new state and the
/// field keys the patch named, or every field error found.
pub fn apply_patch(
    current: &RecordData,
    patch: &Map<String, Value>,
    ctx: &WriteContext<'_>,
) -> Result<(RecordData, BTreeSet<String>), Vec<FieldError>> {
    let mut next = current.clone();
    let mut errors = Vec::new();
    let mut touched = BTreeSet::new();

    for (key, value) in patch {
        if let Some(k) = key.strip_prefix("custom.") {
            touched.insert(key.clone());
            set_custom(&mut next, k, value, ctx, &mut errors);
            continue;
        }
        match key.as_str() {
            "kind" => {
                if value.as_str() != Some(ctx.kind.as_str()) {
                    errors.push(FieldError::new(
                        "kind",
                        Invalid::new(
                            "immutable",
                            "the kind is chosen at creation and never changes",
                        ),
                    ));
                }
            }
            "custom" => match value {
                Value::Object(m) => {
                    for (k, v) in m {
                        touched.insert(format!("custom.{k}"));
                        set_custom(&mut next, k, v, ctx, &mut errors);
                    }
                }
                Value::Null => {
                    for k in current.custom.keys() {
                        touched.insert(format!("custom.{k}"));
                        set_custom(&mut next, k, &Value::Null, ctx, &mut errors);
                    }
                }
                _ => errors.push(FieldError::new(
                    "custom",
                    Invalid::new("invalid_type", "expected an object of custom field values"),
                )),
            },
            "phones" => {
                touched.insert(key.clone());
                match parse_phones(value, ctx.default_region) {
                    Ok(p) => next.phones = p,
                    Err(e) => errors.extend(e),
                }
            }
            "emails" => {
                touched.insert(key.clone());
                match parse_emails(value) {
                    Ok(e) => next.emails = e,
                    Err(e) => errors.extend(e),
                }
            }
            "tags" | "managers" => {
                touched.insert(key.clone());
                match parse_string_set(key, value) {
                    Ok(v) if key == "tags" => next.tags = v,
                    Ok(v) => next.managers = v,
                    Err(e) => errors.push(e),
                }
            }
            "organization" => {
                touched.insert(key.clone());
                if ctx.kind == RecordKind::Organization && !value.is_null() {
                    errors.push(FieldError::new(
                        key,
                        Invalid::new(
                            "not_allowed",
                            "an organization cannot belong to an organization",
                        ),
                    ));
                    continue;
                }
                match value {
                    Value::Null => next.organization = None,
                    Value::String(s) => match crate::ids::PublicId::parse(s) {
                        Ok(id) => next.organization = Some(id.as_str().to_string()),
                        Err(e) => errors.push(FieldError::new(key, e)),
                    },
                    _ => errors.push(FieldError::new(
                        key,
                        Invalid::new("invalid_type", "expected the record ID of an organization"),
                    )),
                }
            }
            k if TEXT_FIELDS.contains(&k) => {
                touched.insert(key.clone());
                match normalize_text_field(k, value, ctx) {
                    Ok(Some(v)) => {
                        next.fields.insert(k.to_string(), v);
                    }
                    Ok(None) => {
                        next.fields.remove(k);
                    }
                    Err(e) => errors.push(FieldError::new(k, e)),
                }
            }
            k if READ_ONLY_FIELDS.contains(&k) => errors.push(FieldError::new(
                k,
                Invalid::new("read_only", "this field is set by the system"),
            )),
            k => errors.push(FieldError::new(
                k,
                Invalid::new("unknown_field", "no such field"),
            )),
        }
    }

    // Names belong to their kind.
    let foreign: &[&str] = match ctx.kind {
        RecordKind::Person => &["organization_name"],
        RecordKind::Organization => &["first_name", "last_name"],
    };
    for k in foreign {
        if touched.contains(*k) && next.fields.contains_key(*k) {
            errors.push(FieldError::new(
                *k,
                Invalid::new("not_allowed", format!("a {} has no {k}", ctx.kind.as_str())),
            ));
        }
    }

    // Required custom fields: on create, and when the write touches the field itself.
    for def in ctx.custom_fields.iter().filter(|d| d.required) {
        let key = format!("custom.{}", def.key);
        if (ctx.creating || touched.contains(&key)) && !next.custom.contains_key(&def.key) {
            errors.push(FieldError::new(
                key,
                Invalid::new("required", format!("{} is required", def.label)),
            ));
        }
    }

    if errors.is_empty() {
        Ok((next, touched))
    } else {
        Err(errors)
    }
}

fn set_custom(
    next: &mut RecordData,
    key: &str,
    value: &Value,
    ctx: &WriteContext<'_>,
    errors: &mut Vec<FieldError>,
) {
    let field = format!("custom.{key}");
    let Some(def) = ctx.custom_fields.iter().find(|d| d.key == key) else {
        errors.push(FieldError::new(
            field,
            Invalid::new("unknown_field", "no such custom field"),
        ));
        return;
    };
    if ctx.bound_by_flags && !(def.visible && def.editable) {
        // A write of the value already stored is not a change.
        let unchanged = def.normalize(value, ctx.zone).ok().flatten().as_deref()
            == next.custom.get(key).map(String::as_str);
        if !unchanged {
            errors.push(FieldError::new(
                field,
                Invalid::new("not_editable", format!("{} is not editable", def.label)),
            ));
        }
        return;
    }
    match def.normalize(value, ctx.zone) {
        Ok(Some(v)) => {
            next.custom.insert(key.to_string(), v);
        }
        Ok(None) => {
            next.custom.remove(key);
        }
        Err(e) => errors.push(FieldError::new(field, e)),
    }
}

fn normalize_text_field(
    key: &str,
    value: &Value,
    ctx: &WriteContext<'_>,
) -> Result<Option<String>, Invalid> {
    let text = match value {
        Value::Null => return Ok(None),
        Value::String(s) => s.trim().to_string(),
        Value::Number(n)
            if matches!(
                key,
                "nip" | "pesel" | "regon" | "postal_code" | "external_id"
            ) =>
        {
            n.to_string()
        }
        _ => return Err(Invalid::new("invalid_type", "expected text")),
    };
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > MAX_FIELD_LEN {
        return Err(Invalid::new(
            "too_long",
            format!("at most {MAX_FIELD_LEN} characters"),
        ));
    }
    let normalized = match key {
        "nip" => Nip::parse(&text)?.as_str().to_string(),
        "pesel" => Pesel::parse(&text)?.as_str().to_string(),
        "regon" => Regon::parse(&text)?.as_str().to_string(),
        _ => match DICTIONARY_FIELDS.iter().find(|(f, _)| *f == key) {
            Some((_, dict)) => {
                let entries = ctx
                    .dictionaries
                    .get(*dict)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                dictionary_code(dict, entries, &text).ok_or_else(|| {
                    let codes: Vec<&str> = entries.iter().map(|(c, _)| c.as_str()).collect();
                    Invalid::new(
                        "not_in_dictionary",
                        format!(
                            "`{text}` is not in the {dict} dictionary ({})",
                            codes.join(", ")
                        ),
                    )
                })?
            }
            None => text,
        },
    };
    Ok(Some(normalized))
}

/// Names of the default languages in Polish and English, besides their codes and labels.
pub const LANGUAGE_NAMES: [(&str, &[&str]); 5] = [
    ("pl", &["polski", "polish", "polska"]),
    ("en", &["angielski", "english"]),
    ("de", &["niemiecki", "german", "deutsch"]),
    ("cs", &["czeski", "czech", "čeština"]),
    ("ro", &["rumuński", "romanian", "română"]),
];

/// The code of a dictionary entry named by its code, its label, or (languages) a common name.
pub fn dictionary_code(
    dictionary: &str,
    entries: &[(String, String)],
    text: &str,
) -> Option<String> {
    let t = text.trim().to_lowercase();
    entries
        .iter()
        .find(|(code, label)| code.to_lowercase() == t || label.to_lowercase() == t)
        .or_else(|| {
            (dictionary == "languages").then_some(())?;
            let (code, _) = LANGUAGE_NAMES
                .iter()
                .find(|(_, names)| names.contains(&t.as_str()))?;
            entries.iter().find(|(c, _)| c == code)
        })
        .map(|(code, _)| code.clone())
}

fn parse_string_set(field: &str, value: &Value) -> Result<Vec<String>, FieldError> {
    let invalid = || {
        FieldError::new(
            field,
            Invalid::new(
                "invalid_type",
                "expected a list of non-empty texts (at most 100 characters each)",
            ),
        )
    };
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(a) => a,
        _ => return Err(invalid()),
    };
    let mut set = BTreeSet::new();
    for v in items {
        let s = v
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.chars().count() <= 100);
        set.insert(s.ok_or_else(invalid)?.to_string());
    }
    Ok(set.into_iter().collect())
}

mod contact;
pub use contact::{parse_emails, parse_phones};

#[cfg(test)]
mod tests;
