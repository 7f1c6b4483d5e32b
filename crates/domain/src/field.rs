//! Custom field definitions (SPEC.md "Custom field definition") and their values.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Invalid;
use crate::mask::Mask;
use crate::national::{Nip, Pesel, Regon};
use crate::time::parse_instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    Number,
    DateTime,
    Dictionary,
    Masked,
    Nip,
    Pesel,
    Regon,
}

impl FieldType {
    pub const ALL: [FieldType; 8] = [
        FieldType::Text,
        FieldType::Number,
        FieldType::DateTime,
        FieldType::Dictionary,
        FieldType::Masked,
        FieldType::Nip,
        FieldType::Pesel,
        FieldType::Regon,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Number => "number",
            FieldType::DateTime => "date_time",
            FieldType::Dictionary => "dictionary",
            FieldType::Masked => "masked",
            FieldType::Nip => "nip",
            FieldType::Pesel => "pesel",
            FieldType::Regon => "regon",
        }
    }

    pub fn parse(s: &str) -> Result<FieldType, Invalid> {
        FieldType::ALL
            .into_iter()
            .find(|t| t.as_str() == s.trim())
            .ok_or_else(|| {
                Invalid::new(
                    "invalid_field_type",
                    "unknown type; use text, number, date_time, dictionary, masked, nip, pesel or regon",
                )
            })
    }
}

/// Longest text a custom value may hold (the spreadsheet cell limit of the import rules).
pub const MAX_TEXT: usize = 32 * 1024;

/// `[A-Za-z0-9_-]{1,64}`.
pub fn validate_key(key: &str) -> Result<(), Invalid> {
    if key.is_empty() || key.len() > 64 {
        return Err(Invalid::new(
            "invalid_length",
            "a key has 1 to 64 characters",
        ));
    }
    if !key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(Invalid::new(
            "invalid_character",
            "a key may hold only letters A-Z, digits, `_` and `-`",
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDefinition {
    pub key: String,
    pub label: String,
    pub field_type: FieldType,
    /// Options of a dictionary field.
    pub options: Vec<String>,
    /// The pattern of a masked field.
    pub mask: Option<String>,
    pub visible: bool,
    pub editable: bool,
    pub required: bool,
    pub position: i64,
}

/// Which flag broke the visible → editable → required chain.
pub fn check_flags(
    visible: bool,
    editable: bool,
    required: bool,
) -> Result<(), (&'static str, Invalid)> {
    if editable && !visible {
        return Err((
            "editable",
            Invalid::new(
                "flag_dependency",
                "a field can be editable only when it is visible",
            ),
        ));
    }
    if required && !(visible && editable) {
        return Err((
            "required",
            Invalid::new(
                "flag_dependency",
                "a field can be required only when it is visible and editable",
            ),
        ));
    }
    Ok(())
}

impl FieldDefinition {
    /// Turns an input value into its stored text; `None` clears the value.
    pub fn normalize(&self, value: &Value, zone: chrono_tz::Tz) -> Result<Option<String>, Invalid> {
        let text = match value {
            Value::Null => return Ok(None),
            Value::String(s) if s.trim().is_empty() => return Ok(None),
            Value::String(s) => s.trim().to_string(),
            Value::Number(n) if self.field_type == FieldType::Number => n.to_string(),
            Value::Number(n) => n.to_string(),
            _ => {
                return Err(Invalid::new(
                    "invalid_type",
                    format!("expected a {} value", self.field_type.as_str()),
                ));
            }
        };
        let stored = match self.field_type {
            FieldType::Text => {
                if text.len() > MAX_TEXT {
                    return Err(Invalid::new("too_long", "a text value holds at most 32 KB"));
                }
                text
            }
            FieldType::Number => {
                let n: f64 = text
                    .replace(',', ".")
                    .replace(' ', "")
                    .parse()
                    .map_err(|_| {
                        Invalid::new("invalid_number", format!("`{text}` is not a number"))
                    })?;
                if !n.is_finite() {
                    return Err(Invalid::new("invalid_number", "the number is out of range"));
                }
                format_number(n)
            }
            FieldType::DateTime => {
                parse_instant(&text, zone)?.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            }
            FieldType::Dictionary => self
                .options
                .iter()
                .find(|o| o.to_lowercase() == text.to_lowercase())
                .cloned()
                .ok_or_else(|| {
                    Invalid::new(
                        "not_in_dictionary",
                        format!("`{text}` is not one of: {}", self.options.join(", ")),
                    )
                })?,
            FieldType::Masked => {
                let pattern = self.mask.as_deref().unwrap_or_default();
                Mask::parse(pattern)?.check(&text)?;
                text
            }
            FieldType::Nip => Nip::parse(&text)?.as_str().to_string(),
            FieldType::Pesel => Pesel::parse(&text)?.as_str().to_string(),
            FieldType::Regon => Regon::parse(&text)?.as_str().to_string(),
        };
        Ok(Some(stored))
    }

    /// The JSON form of a stored value.
    pub fn to_json(&self, stored: &str) -> Value {
        value_json(self.field_type, stored)
    }
}

/// The JSON form of a stored value of a field of type `t`: numbers as numbers, the rest as text.
pub fn value_json(t: FieldType, stored: &str) -> Value {
    match t {
        FieldType::Number => stored
            .parse::<f64>()
            .ok()
            .and_then(|n| {
                if n.fract() == 0.0 && n.abs() < 9e15 {
                    Some(Value::from(n as i64))
                } else {
                    serde_json::Number::from_f64(n).map(Value::Number)
                }
            })
            .unwrap_or_else(|| Value::String(stored.to_string())),
        _ => Value::String(stored.to_string()),
    }
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 9e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn def(t: FieldType) -> FieldDefinition {
        FieldDefinition {
            key: "k".into(),
            label: "K".into(),
            field_type: t,
            options: vec!["Gold".into(), "Silver".into()],
            mask: Some("##-###".into()),
            visible: true,
            editable: true,
            required: false,
            position: 0,
        }
    }

    #[test]
    fn keys_follow_the_pattern() {
        assert!(validate_key("budget_2026-Q1").is_ok());
        assert!(validate_key("").is_err());
        assert!(validate_key("zł").is_err());
        assert!(validate_key("a.b").is_err());
        assert!(validate_key(&"x".repeat(65)).is_err());
    }

    #[test]
    fn flags_depend_on_each_other() {
        assert!(check_flags(true, true, true).is_ok());
        assert!(check_flags(false, false, false).is_ok());
        assert_eq!(check_flags(false, true, false).unwrap_err().0, "editable");
        assert_eq!(check_flags(true, false, true).unwrap_err().0, "required");
    }

    #[test]
    fn each_type_normalizes_its_values() {
        let z = chrono_tz::Europe::Warsaw;
        assert_eq!(
            def(FieldType::Number)
                .normalize(&json!("12,50"), z)
                .unwrap(),
            Some("12.5".into())
        );
        assert_eq!(
            def(FieldType::Number).normalize(&json!(7), z).unwrap(),
            Some("7".into())
        );
        assert!(def(FieldType::Number).normalize(&json!("abc"), z).is_err());
        assert_eq!(
            def(FieldType::Dictionary)
                .normalize(&json!("gold"), z)
                .unwrap(),
            Some("Gold".into())
        );
        assert!(
            def(FieldType::Dictionary)
                .normalize(&json!("Bronze"), z)
                .is_err()
        );
        assert_eq!(
            def(FieldType::Masked)
                .normalize(&json!("00-950"), z)
                .unwrap(),
            Some("00-950".into())
        );
        assert!(
            def(FieldType::Masked)
                .normalize(&json!("00950"), z)
                .is_err()
        );
        assert_eq!(
            def(FieldType::DateTime)
                .normalize(&json!("2026-05-01"), z)
                .unwrap(),
            Some("2026-04-30T22:00:00Z".into())
        );
        assert_eq!(
            def(FieldType::Text).normalize(&Value::Null, z).unwrap(),
            None
        );
        assert!(def(FieldType::Text).normalize(&json!([1]), z).is_err());
    }
}
