//! E-mail addresses: a deliberately modest syntax check (people type them,
//! a mail server is the real judge).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Invalid;

/// Longest accepted address, in characters (RFC 5321's path limit is 254).
pub const MAX_LEN: usize = 254;

/// An e-mail address as entered (trimmed). Compare addresses with
/// [`Email::normalized`], which ignores case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

fn invalid(why: &str) -> Invalid {
    Invalid::new(
        "invalid_email",
        format!("not a valid e-mail address: {why}"),
    )
}

impl Email {
    /// Accepts `local@domain` where: the whole is at most 254 characters with no
    /// whitespace or control characters; there is exactly one `@`; the local
    /// part is non-empty; the domain has at least two dot-separated labels, none
    /// empty (so no leading, trailing or doubled dot). Error code `invalid_email`.
    pub fn parse(s: &str) -> Result<Email, Invalid> {
        let s = s.trim();
        if s.is_empty() {
            return Err(invalid("it is empty"));
        }
        if s.chars().count() > MAX_LEN {
            return Err(invalid(&format!("it is longer than {MAX_LEN} characters")));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("it contains a space"));
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err(invalid("it has no @"));
        };
        if domain.contains('@') {
            return Err(invalid("it has more than one @"));
        }
        if local.is_empty() {
            return Err(invalid("nothing before the @"));
        }
        if domain.is_empty() {
            return Err(invalid("nothing after the @"));
        }
        if !domain.contains('.') {
            return Err(invalid("the domain after the @ has no dot"));
        }
        if domain.split('.').any(str::is_empty) {
            return Err(invalid("the domain after the @ has an empty part"));
        }
        Ok(Email(s.to_string()))
    }

    /// The address as entered (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The whole address lower-cased: the form to compare and search by.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Email {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Email::parse(s)
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for Email {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Email::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn plain_addresses_are_accepted_as_entered() {
        for s in [
            "jan.kowalski@example.pl",
            "Jan.Kowalski@Example.PL",
            "a+tag@sub.example.co.uk",
            "o'brien@example.ie",
            "zażółć@gęśla.pl",
            "x@y.z",
        ] {
            assert_eq!(Email::parse(s).unwrap().as_str(), s);
        }
    }

    #[test]
    fn surrounding_whitespace_is_trimmed() {
        assert_eq!(
            Email::parse("  jan@example.pl \n").unwrap().as_str(),
            "jan@example.pl"
        );
    }

    #[test]
    fn normalized_lower_cases_the_whole_address() {
        let e = Email::parse("Jan.Kowalski@Example.PL").unwrap();
        assert_eq!(e.normalized(), "jan.kowalski@example.pl");
        assert_eq!(e.as_str(), "Jan.Kowalski@Example.PL");
        assert_eq!(
            Email::parse("ŁUKASZ@WP.PL").unwrap().normalized(),
            "łukasz@wp.pl"
        );
    }

    #[test]
    fn addresses_without_exactly_one_at_are_refused() {
        for s in [
            "jan.example.pl",
            "jan@@example.pl",
            "jan@kowalski@example.pl",
        ] {
            assert_eq!(Email::parse(s).unwrap_err().code, "invalid_email", "{s}");
        }
    }

    #[test]
    fn an_empty_local_part_or_domain_is_refused() {
        for s in ["", "   ", "@example.pl", "jan@"] {
            assert_eq!(Email::parse(s).unwrap_err().code, "invalid_email", "{s}");
        }
    }

    #[test]
    fn a_domain_without_a_dot_or_with_an_empty_label_is_refused() {
        for s in [
            "jan@localhost",
            "jan@.example.pl",
            "jan@example.pl.",
            "jan@example..pl",
        ] {
            assert_eq!(Email::parse(s).unwrap_err().code, "invalid_email", "{s}");
        }
    }

    #[test]
    fn inner_spaces_are_refused() {
        for s in [
            "jan kowalski@example.pl",
            "jan@exa mple.pl",
            "Jan <jan@example.pl>",
            "jan@example.pl\tx",
        ] {
            assert_eq!(Email::parse(s).unwrap_err().code, "invalid_email", "{s}");
        }
    }

    #[test]
    fn the_length_limit_is_254_characters() {
        let ok = format!("{}@example.pl", "a".repeat(254 - 11));
        assert_eq!(ok.len(), 254);
        assert!(Email::parse(&ok).is_ok());
        let too_long = format!("a{ok}");
        assert_eq!(Email::parse(&too_long).unwrap_err().code, "invalid_email");
    }

    #[test]
    fn error_messages_say_why() {
        assert!(
            Email::parse("jan.example.pl")
                .unwrap_err()
                .message
                .contains("no @")
        );
        assert!(
            Email::parse("jan@localhost")
                .unwrap_err()
                .message
                .contains("no dot")
        );
    }

    #[test]
    fn serde_uses_a_plain_string() {
        let e = Email::parse("jan@example.pl").unwrap();
        assert_eq!(serde_json::to_string(&e).unwrap(), "\"jan@example.pl\"");
        let back: Email = serde_json::from_str("\" jan@example.pl \"").unwrap();
        assert_eq!(back, e);
        assert!(serde_json::from_str::<Email>("\"jan\"").is_err());
    }
}
