//! Public record identifiers: 8 characters of Crockford base32.
//!
//! The alphabet is `0123456789ABCDEFGHJKMNPQRSTVWXYZ` (digits and upper-case
//! letters without I, L, O and U). Parsing is forgiving the way Crockford
//! intended: surrounding whitespace is trimmed, lower case is accepted, and the
//! look-alikes `I`/`L` are read as `1` and `O` as `0`. Anything else (including
//! `U`, hyphens and inner spaces) is refused.

use std::fmt;

use rand::Rng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Invalid;

/// The Crockford base32 alphabet, in value order.
pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Number of characters in a public ID.
pub const LEN: usize = 8;

/// A record's public identifier: exactly [`LEN`] canonical Crockford base32
/// characters (upper case, no aliases).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicId(String);

impl PublicId {
    /// A new random ID (40 bits of randomness from the thread RNG).
    /// Uniqueness is the store's job: retry on a collision.
    pub fn generate() -> PublicId {
        let mut rng = rand::rng();
        let s: String = (0..LEN)
            .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
            .collect();
        PublicId(s)
    }

    /// Parses a public ID typed or pasted by a person or sent by a client.
    ///
    /// Errors: `invalid_length` when, after trimming, it is not 8 characters;
    /// `invalid_character` for a character outside the alphabet and its aliases.
    pub fn parse(s: &str) -> Result<PublicId, Invalid> {
        let s = s.trim();
        let count = s.chars().count();
        if count != LEN {
            return Err(Invalid::new(
                "invalid_length",
                format!("an ID has {LEN} characters, got {count}"),
            ));
        }
        let mut out = String::with_capacity(LEN);
        for c in s.chars() {
            match canonical(c) {
                Some(c) => out.push(c),
                None => {
                    return Err(Invalid::new(
                        "invalid_character",
                        format!(
                            "an ID contains only digits and the letters A-Z without I, L, O, U; got {c:?}"
                        ),
                    ));
                }
            }
        }
        Ok(PublicId(out))
    }

    /// The canonical form (upper case, 8 characters).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Maps a character to its canonical Crockford character, if it has one.
fn canonical(c: char) -> Option<char> {
    let up = c.to_ascii_uppercase();
    match up {
        'I' | 'L' => Some('1'),
        'O' => Some('0'),
        _ if up.is_ascii() && ALPHABET.contains(&(up as u8)) => Some(up),
        _ => None,
    }
}

impl fmt::Display for PublicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for PublicId {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PublicId::parse(s)
    }
}

impl AsRef<str> for PublicId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for PublicId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PublicId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        PublicId::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::collections::HashSet;

    use super::*;

    #[test]
    fn generated_ids_have_eight_alphabet_characters() {
        for _ in 0..1000 {
            let id = PublicId::generate();
            assert_eq!(id.as_str().len(), 8);
            assert!(id.as_str().bytes().all(|b| ALPHABET.contains(&b)), "{id}");
        }
    }

    #[test]
    fn generated_ids_are_distinct_in_practice() {
        let ids: HashSet<PublicId> = (0..10_000).map(|_| PublicId::generate()).collect();
        assert_eq!(ids.len(), 10_000);
    }

    #[test]
    fn generated_ids_parse_back_to_themselves() {
        for _ in 0..100 {
            let id = PublicId::generate();
            assert_eq!(PublicId::parse(id.as_str()).unwrap(), id);
        }
    }

    #[test]
    fn parse_accepts_a_canonical_id() {
        let id = PublicId::parse("7K3M9QZ2").unwrap();
        assert_eq!(id.as_str(), "7K3M9QZ2");
        assert_eq!(id.to_string(), "7K3M9QZ2");
    }

    #[test]
    fn parse_trims_and_upper_cases() {
        assert_eq!(
            PublicId::parse("  7k3m9qz2\t").unwrap().as_str(),
            "7K3M9QZ2"
        );
    }

    #[test]
    fn parse_maps_crockford_aliases() {
        assert_eq!(PublicId::parse("IiLlOo12").unwrap().as_str(), "11110012");
    }

    #[test]
    fn parse_refuses_u_and_symbols_as_invalid_character() {
        for bad in ["7K3M9QZU", "7K3M-QZ2", "7K3M QZ2", "7K3M9QZ!", "7K3M9QZĄ"] {
            let err = PublicId::parse(bad).unwrap_err();
            assert_eq!(err.code, "invalid_character", "{bad}");
        }
    }

    #[test]
    fn parse_refuses_wrong_length() {
        for bad in ["", "   ", "7K3M9QZ", "7K3M9QZ22", "7K3M9QZ2U"] {
            let err = PublicId::parse(bad).unwrap_err();
            assert_eq!(err.code, "invalid_length", "{bad}");
        }
    }

    #[test]
    fn serde_uses_a_plain_string() {
        let id = PublicId::parse("7K3M9QZ2").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"7K3M9QZ2\"");
        let back: PublicId = serde_json::from_str("\"7k3m9qz2\"").unwrap();
        assert_eq!(back, id);
    }

    #[test]
    fn serde_refuses_an_invalid_id() {
        assert!(serde_json::from_str::<PublicId>("\"7K3M9QZU\"").is_err());
        assert!(serde_json::from_str::<PublicId>("12").is_err());
    }

    #[test]
    fn ordering_follows_the_canonical_string() {
        let a = PublicId::parse("00000001").unwrap();
        let b = PublicId::parse("0000000Z").unwrap();
        assert!(a < b);
    }
}
