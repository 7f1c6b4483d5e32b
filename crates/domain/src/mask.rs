//! Masked text: a pattern a custom field value must match.
//!
//! In a mask, `#` stands for one ASCII digit, `a` for one letter (any Unicode
//! letter, so `ą`, `Ł`, `ß` count), `$` for a currency symbol, and every other
//! character stands for itself (case-sensitive). There is no escape: a mask
//! cannot require a literal `#`, `a` or `$`.
//!
//! `$` matches either one currency-symbol character (`$ ¢ £ ¤ ¥`, the whole
//! Unicode Currency Symbols block U+20A0..U+20CF with `€ ₽ ₴ ₹ ₺ ₿ ...`, and a
//! few others such as `₣`, `﷼`, full-width `＄`) or the two-letter Polish
//! abbreviation `zł` (any case: `zł`, `Zł`, `ZŁ`).
//!
//! Values are trimmed before checking; masks are trimmed when parsed.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Invalid;

/// Longest accepted mask, in characters.
pub const MAX_LEN: usize = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token {
    Digit,
    Letter,
    Currency,
    Literal(char),
}

impl Token {
    fn of(c: char) -> Token {
        match c {
            '#' => Token::Digit,
            'a' => Token::Letter,
            '$' => Token::Currency,
            c => Token::Literal(c),
        }
    }
}

/// A parsed mask. Cheap to check against many values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mask {
    pattern: String,
    tokens: Vec<Token>,
}

/// One currency-symbol character?
pub fn is_currency_symbol(c: char) -> bool {
    matches!(
        c,
        '$' | '¢'
            | '£'
            | '¤'
            | '¥'
            | '֏'
            | '؋'
            | '৲'
            | '৳'
            | '৻'
            | '૱'
            | '௹'
            | '฿'
            | '៛'
            | '\u{20A0}'..='\u{20CF}' | '꠸' | '﷼' | '﹩' | '＄' | '￠' | '￡' | '￥' | '￦'
    )
}

impl Mask {
    /// Parses a mask: non-empty after trimming, at most 200 characters.
    /// Error code `invalid_mask`.
    pub fn parse(s: &str) -> Result<Mask, Invalid> {
        let pattern = s.trim();
        if pattern.is_empty() {
            return Err(Invalid::new("invalid_mask", "a mask cannot be empty"));
        }
        if pattern.chars().count() > MAX_LEN {
            return Err(Invalid::new(
                "invalid_mask",
                format!("a mask is at most {MAX_LEN} characters"),
            ));
        }
        Ok(Mask {
            pattern: pattern.to_string(),
            tokens: pattern.chars().map(Token::of).collect(),
        })
    }

    /// The mask as written (trimmed).
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Does `value` (trimmed) match the mask? Error code `mask_mismatch`, with
    /// a message naming the pattern, e.g.
    /// `expected ##-### (# a digit, a a letter)`.
    pub fn check(&self, value: &str) -> Result<(), Invalid> {
        if self.matches(value.trim()) {
            Ok(())
        } else {
            Err(Invalid::new("mask_mismatch", self.expectation()))
        }
    }

    fn matches(&self, value: &str) -> bool {
        let mut chars = value.chars();
        for token in &self.tokens {
            let Some(c) = chars.next() else {
                return false;
            };
            let ok = match token {
                Token::Digit => c.is_ascii_digit(),
                Token::Letter => c.is_alphabetic(),
                Token::Literal(l) => c == *l,
                Token::Currency => {
                    if matches!(c, 'z' | 'Z') {
                        // `zł`, or nothing: a lone `z` is not a currency.
                        matches!(chars.next(), Some('ł' | 'Ł'))
                    } else {
                        is_currency_symbol(c)
                    }
                }
            };
            if !ok {
                return false;
            }
        }
        chars.next().is_none()
    }

    /// `expected <mask> (<legend of the placeholders it uses>)`.
    fn expectation(&self) -> String {
        let mut legend = Vec::new();
        if self.tokens.contains(&Token::Digit) {
            legend.push("# a digit");
        }
        if self.tokens.contains(&Token::Letter) {
            legend.push("a a letter");
        }
        if self.tokens.contains(&Token::Currency) {
            legend.push("$ a currency symbol");
        }
        if legend.is_empty() {
            format!("expected {}", self.pattern)
        } else {
            format!("expected {} ({})", self.pattern, legend.join(", "))
        }
    }
}

impl fmt::Display for Mask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.pattern)
    }
}

impl std::str::FromStr for Mask {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mask::parse(s)
    }
}

impl Serialize for Mask {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.pattern)
    }
}

impl<'de> Deserialize<'de> for Mask {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Mask::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn ok(mask: &str, value: &str) -> bool {
        Mask::parse(mask).unwrap().check(value).is_ok()
    }

    #[test]
    fn postal_code_mask_accepts_a_postal_code() {
        assert!(ok("##-###", "00-950"));
        assert!(ok("##-###", " 00-950 "));
    }

    #[test]
    fn postal_code_mask_refuses_missing_dash_letters_and_wrong_length() {
        for v in [
            "00950",
            "0A-950",
            "00-95",
            "00-9500",
            "00 950",
            "",
            "００-950",
        ] {
            assert!(!ok("##-###", v), "{v}");
        }
    }

    #[test]
    fn id_card_mask_accepts_letters_space_and_digits() {
        assert!(ok("aaa ######", "ABC 123456"));
        assert!(ok("aaa ######", "abc 123456"));
        assert!(!ok("aaa ######", "ABC123456"));
        assert!(!ok("aaa ######", "AB1 123456"));
    }

    #[test]
    fn letters_include_polish_and_other_unicode_letters() {
        assert!(ok("aaa", "ĄŚŻ"));
        assert!(ok("aaa", "łóß"));
        assert!(!ok("a", "1"));
        assert!(!ok("a", "-"));
    }

    #[test]
    fn digits_are_ascii_only() {
        assert!(ok("###", "007"));
        assert!(!ok("#", "٣"));
    }

    #[test]
    fn currency_accepts_one_symbol_or_zl() {
        for v in [
            "$ 10", "€ 10", "£ 10", "¥ 10", "₽ 10", "zł 10", "ZŁ 10", "Zł 10",
        ] {
            assert!(ok("$ ##", v), "{v}");
        }
        for v in ["z 10", "zl 10", "PLN 10", "10", "E 10", "zł10"] {
            assert!(!ok("$ ##", v), "{v}");
        }
        assert!(ok("##,## $", "12,50 zł"));
        assert!(ok("##,## $", "12,50 €"));
    }

    #[test]
    fn other_characters_are_literal_and_case_sensitive() {
        assert!(ok("PL-##", "PL-12"));
        assert!(!ok("PL-##", "pl-12"));
        assert!(!ok("PL-##", "PX-12"));
        assert!(ok("(##)", "(12)"));
    }

    #[test]
    fn the_letter_a_is_always_a_placeholder() {
        // "Ka" is a literal K followed by any letter.
        assert!(ok("Ka#", "Kx1"));
        assert!(!ok("Ka#", "xa1"));
    }

    #[test]
    fn mismatch_message_names_the_pattern_and_its_placeholders() {
        let err = Mask::parse("##-###").unwrap().check("00950").unwrap_err();
        assert_eq!(err.code, "mask_mismatch");
        assert_eq!(err.message, "expected ##-### (# a digit)");

        let err = Mask::parse("aaa ######").unwrap().check("x").unwrap_err();
        assert_eq!(err.message, "expected aaa ###### (# a digit, a a letter)");

        let err = Mask::parse("$ ##").unwrap().check("x").unwrap_err();
        assert_eq!(
            err.message,
            "expected $ ## (# a digit, $ a currency symbol)"
        );

        let err = Mask::parse("XYZ").unwrap().check("x").unwrap_err();
        assert_eq!(err.message, "expected XYZ");
    }

    #[test]
    fn empty_and_overlong_masks_are_refused() {
        for m in ["", "   "] {
            assert_eq!(Mask::parse(m).unwrap_err().code, "invalid_mask");
        }
        assert!(Mask::parse(&"#".repeat(200)).is_ok());
        assert_eq!(
            Mask::parse(&"#".repeat(201)).unwrap_err().code,
            "invalid_mask"
        );
    }

    #[test]
    fn masks_are_trimmed_and_kept_as_written() {
        let m = Mask::parse(" ##-### ").unwrap();
        assert_eq!(m.as_str(), "##-###");
        assert_eq!(m.to_string(), "##-###");
    }

    #[test]
    fn serde_uses_the_pattern_string() {
        let m = Mask::parse("##-###").unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"##-###\"");
        let back: Mask = serde_json::from_str("\"##-###\"").unwrap();
        assert_eq!(back, m);
        assert!(serde_json::from_str::<Mask>("\"\"").is_err());
    }
}
