//! Contact data of a record: phones (normalized to E.164, typed, one default) and e-mails
//! (one default), parsed from the JSON a write sends.

use serde_json::Value;

use super::{EmailAddress, FieldError, Phone};
use crate::Invalid;
use crate::email::Email;
use crate::phone::{PhoneType, parse_phone};

fn entries(value: &Value, field: &str) -> Result<Vec<Value>, Vec<FieldError>> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(a) => Ok(a.clone()),
        _ => Err(vec![FieldError::new(
            field,
            Invalid::new("invalid_type", "expected a list"),
        )]),
    }
}

/// Exactly one default when the list is not empty: the one marked, else the first.
fn settle_default(defaults: &[bool], field: &str) -> Result<usize, FieldError> {
    match defaults.iter().filter(|d| **d).count() {
        0 | 1 => Ok(defaults.iter().position(|d| *d).unwrap_or(0)),
        _ => Err(FieldError::new(
            field,
            Invalid::new("multiple_defaults", "only one entry can be the default"),
        )),
    }
}

pub fn parse_phones(value: &Value, region: &str) -> Result<Vec<Phone>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut phones: Vec<Phone> = Vec::new();
    for (i, entry) in entries(value, "phones")?.iter().enumerate() {
        let at = |f: &str| format!("phones[{i}].{f}");
        let (raw, typ, ext, default) = match entry {
            Value::String(s) => (s.clone(), None, None, false),
            Value::Object(m) => (
                m.get("number")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                m.get("type").and_then(Value::as_str),
                m.get("extension")
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .filter(|e| !e.is_empty()),
                m.get("default").and_then(Value::as_bool).unwrap_or(false),
            ),
            _ => {
                errors.push(FieldError::new(
                    format!("phones[{i}]"),
                    Invalid::new(
                        "invalid_type",
                        "expected a number or {number, type, extension, default}",
                    ),
                ));
                continue;
            }
        };
        let phone_type = match typ.map(PhoneType::parse).transpose() {
            Ok(t) => t.unwrap_or_default(),
            Err(e) => {
                errors.push(FieldError::new(at("type"), e));
                continue;
            }
        };
        if ext.is_some_and(|e| e.len() > 20 || !e.chars().all(|c| c.is_ascii_digit())) {
            errors.push(FieldError::new(
                at("extension"),
                Invalid::new("invalid_extension", "an extension is up to 20 digits"),
            ));
            continue;
        }
        match parse_phone(&raw, region) {
            Ok(p) => {
                let extension = ext.map(str::to_string).or(p.extension);
                if phones
                    .iter()
                    .any(|q| q.number == p.e164 && q.extension == extension)
                {
                    errors.push(FieldError::new(
                        at("number"),
                        Invalid::new("duplicate", format!("{} is already on the list", p.e164)),
                    ));
                    continue;
                }
                phones.push(Phone {
                    number: p.e164,
                    raw: raw.trim().to_string(),
                    phone_type,
                    extension,
                    default,
                });
            }
            Err(e) => errors.push(FieldError::new(at("number"), e)),
        }
    }
    match settle_default(
        &phones.iter().map(|p| p.default).collect::<Vec<_>>(),
        "phones",
    ) {
        Ok(d) => {
            for (i, p) in phones.iter_mut().enumerate() {
                p.default = i == d;
            }
        }
        Err(e) => errors.push(e),
    }
    if errors.is_empty() {
        Ok(phones)
    } else {
        Err(errors)
    }
}

pub fn parse_emails(value: &Value) -> Result<Vec<EmailAddress>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut emails: Vec<EmailAddress> = Vec::new();
    for (i, entry) in entries(value, "emails")?.iter().enumerate() {
        let (raw, default) = match entry {
            Value::String(s) => (s.as_str(), false),
            Value::Object(m) => (
                m.get("address").and_then(Value::as_str).unwrap_or_default(),
                m.get("default").and_then(Value::as_bool).unwrap_or(false),
            ),
            _ => {
                errors.push(FieldError::new(
                    format!("emails[{i}]"),
                    Invalid::new("invalid_type", "expected an address or {address, default}"),
                ));
                continue;
            }
        };
        match Email::parse(raw) {
            Ok(e) => {
                if emails.iter().any(|x| x.normalized() == e.normalized()) {
                    errors.push(FieldError::new(
                        format!("emails[{i}].address"),
                        Invalid::new(
                            "duplicate",
                            format!("{} is already on the list", e.as_str()),
                        ),
                    ));
                    continue;
                }
                emails.push(EmailAddress {
                    address: e.as_str().to_string(),
                    default,
                });
            }
            Err(e) => errors.push(FieldError::new(format!("emails[{i}].address"), e)),
        }
    }
    match settle_default(
        &emails.iter().map(|e| e.default).collect::<Vec<_>>(),
        "emails",
    ) {
        Ok(d) => {
            for (i, e) in emails.iter_mut().enumerate() {
                e.default = i == d;
            }
        }
        Err(e) => errors.push(e),
    }
    if errors.is_empty() {
        Ok(emails)
    } else {
        Err(errors)
    }
}
