//! The card form's state: what the form shows and sends, and the Merge Patch of only what
//! the user changed.

use kartoteka_app::views::RecordView;
use kartoteka_domain::field::{FieldDefinition, FieldType};
use kartoteka_domain::record::{RecordKind, TEXT_FIELDS};
use serde_json::{Map, Value, json};

use super::list::local_time;

/// The system fields a record of `kind` shows, in order.
pub(super) fn system_fields(kind: RecordKind) -> Vec<&'static str> {
    TEXT_FIELDS
        .iter()
        .copied()
        .filter(|f| match kind {
            RecordKind::Person => *f != "organization_name",
            RecordKind::Organization => !matches!(*f, "first_name" | "last_name" | "pesel"),
        })
        .chain((kind == RecordKind::Person).then_some("organization"))
        .collect()
}

/// The form's state: every editable value as the form shows it, keyed by field key.
pub(super) type State_ = Map<String, Value>;

fn custom_input(def: &FieldDefinition, stored: &str, zone: &str) -> String {
    match def.field_type {
        FieldType::DateTime if !stored.is_empty() => local_time(stored, zone).replace(' ', "T"),
        _ => stored.to_string(),
    }
}

/// The state of a stored record.
pub(super) fn state_of(
    r: &RecordView,
    kind: RecordKind,
    defs: &[FieldDefinition],
    zone: &str,
) -> State_ {
    let v = serde_json::to_value(r).unwrap_or(Value::Null);
    let mut s = Map::new();
    for f in system_fields(kind) {
        s.insert(
            f.into(),
            Value::String(v[f].as_str().unwrap_or_default().to_string()),
        );
    }
    s.insert(
        "phones".into(),
        Value::Array(
            r.phones
                .iter()
                .map(|p| json!({"number": p.raw, "type": p.phone_type, "extension": p.extension.clone().unwrap_or_default(), "default": p.default}))
                .collect(),
        ),
    );
    s.insert(
        "emails".into(),
        Value::Array(
            r.emails
                .iter()
                .map(|e| json!({"address": e.address, "default": e.default}))
                .collect(),
        ),
    );
    s.insert("tags".into(), Value::String(r.tags.join(", ")));
    for d in defs.iter().filter(|d| d.visible) {
        let stored = r.custom.get(&d.key).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        s.insert(
            format!("custom.{}", d.key),
            Value::String(custom_input(d, stored.as_deref().unwrap_or_default(), zone)),
        );
    }
    s
}

/// The state the form sent.
pub(super) fn state_from_form(
    pairs: &[(String, String)],
    kind: RecordKind,
    defs: &[FieldDefinition],
) -> State_ {
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let all = |k: &str| {
        pairs
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>()
    };
    let mut s = Map::new();
    for f in system_fields(kind) {
        if let Some(v) = get(f) {
            s.insert(f.into(), Value::String(v));
        }
    }
    let (numbers, types, exts) = (all("phone.number"), all("phone.type"), all("phone.ext"));
    let default_phone = get("phone.default").and_then(|d| d.parse::<usize>().ok());
    let phones: Vec<Value> = numbers
        .iter()
        .enumerate()
        .filter(|(_, n)| !n.trim().is_empty())
        .map(|(i, n)| {
            json!({"number": n.trim(), "type": types.get(i).cloned().unwrap_or_else(|| "mobile".into()),
                   "extension": exts.get(i).map(|e| e.trim().to_string()).unwrap_or_default(), "default": default_phone == Some(i)})
        })
        .collect();
    s.insert("phones".into(), Value::Array(phones));
    let default_email = get("email.default").and_then(|d| d.parse::<usize>().ok());
    let emails: Vec<Value> = all("email.address")
        .iter()
        .enumerate()
        .filter(|(_, a)| !a.trim().is_empty())
        .map(|(i, a)| json!({"address": a.trim(), "default": default_email == Some(i)}))
        .collect();
    s.insert("emails".into(), Value::Array(emails));
    s.insert(
        "tags".into(),
        Value::String(get("tags").unwrap_or_default()),
    );
    for d in defs.iter().filter(|d| d.visible) {
        let k = format!("custom.{}", d.key);
        if let Some(v) = get(&k) {
            s.insert(k, Value::String(v));
        }
    }
    s
}

/// The Merge Patch of what the user changed: only keys whose value differs from the
/// original, so a save never touches (or conflicts on) fields the user left alone.
pub(super) fn patch_of(original: &State_, edited: &State_) -> Map<String, Value> {
    let mut patch = Map::new();
    for (k, v) in edited {
        let unchanged = original.get(k).is_some_and(|o| same(o, v));
        if unchanged {
            continue;
        }
        let value = match (k.as_str(), v) {
            ("tags", Value::String(t)) => Value::Array(
                t.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(|t| Value::String(t.to_string()))
                    .collect(),
            ),
            ("phones", Value::Array(list)) => Value::Array(
                list.iter()
                    .map(|p| {
                        let mut p = p.clone();
                        if p["extension"].as_str().is_some_and(str::is_empty) {
                            p["extension"] = Value::Null;
                        }
                        p
                    })
                    .collect(),
            ),
            (_, Value::String(t)) if t.trim().is_empty() => Value::Null,
            (_, other) => other.clone(),
        };
        patch.insert(k.clone(), value);
    }
    patch
}

/// Equal for the purpose of "did the user change it" (defaults: the first entry when none marked).
fn same(a: &Value, b: &Value) -> bool {
    let norm = |v: &Value| match v {
        Value::Array(items) => {
            let any_default = items.iter().any(|i| i["default"] == Value::Bool(true));
            Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| {
                        let mut x = x.clone();
                        if x.get("default").is_some() {
                            x["default"] = Value::Bool(if any_default {
                                x["default"] == Value::Bool(true)
                            } else {
                                i == 0
                            });
                        }
                        x
                    })
                    .collect(),
            )
        }
        Value::String(s) => Value::String(s.trim().to_string()),
        other => other.clone(),
    };
    norm(a) == norm(b)
}

pub(super) fn text(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or_default().to_string()
}
