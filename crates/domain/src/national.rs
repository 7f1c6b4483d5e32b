//! Polish national identifiers: NIP (tax number), PESEL (personal number) and
//! REGON (business register number).
//!
//! Input may contain whitespace and dashes (ASCII `-` and the Unicode hyphens and
//! dashes U+2010..U+2015, U+2212 that word processors substitute); a NIP may
//! start with `PL` in any case. Any other character is `invalid_character`; a
//! wrong number of digits is `invalid_length`; a bad check digit is
//! `invalid_checksum`; a PESEL encoding an impossible date is `invalid_date`.
//! Values are stored compact (digits only).
//!
//! These values must never reach application logs: error messages never quote
//! the input, and `Debug` shows only the last four digits. `Display`,
//! [`as_str`](Pesel::as_str) and serde give the full value.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Invalid;

/// Left-pads `digits` with zeros to `len` when it is non-empty, all ASCII digits
/// and shorter than `len`; `None` otherwise. For identifiers that lost their
/// leading zeros by being stored as numbers in a spreadsheet (a PESEL of someone
/// born in 1900-1909 or 2000-2009, e.g. `2070803628` -> `02070803628`).
pub fn pad_lost_zeros(digits: &str, len: usize) -> Option<String> {
    if digits.is_empty() || digits.len() >= len || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(format!("{digits:0>len$}"))
}

/// Is `c` a separator allowed (and dropped) inside an identifier?
fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '-' | '\u{2010}'..='\u{2015}' | '\u{2212}')
}

/// Drops separators and returns the digit values, or `invalid_character`.
fn compact(s: &str, what: &str) -> Result<Vec<u8>, Invalid> {
    let mut digits = Vec::with_capacity(16);
    for c in s.chars() {
        if let Some(d) = c.to_digit(10) {
            digits.push(d as u8);
        } else if !is_separator(c) {
            return Err(Invalid::new(
                "invalid_character",
                format!("{what} may contain only digits, spaces and dashes"),
            ));
        }
    }
    Ok(digits)
}

fn to_string(digits: &[u8]) -> String {
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

fn weighted_sum(digits: &[u8], weights: &[u32]) -> u32 {
    digits
        .iter()
        .zip(weights)
        .map(|(d, w)| u32::from(*d) * w)
        .sum()
}

fn checksum_error(what: &str) -> Invalid {
    Invalid::new(
        "invalid_checksum",
        format!("this is not a valid {what}: the check digit does not match"),
    )
}

/// Masks all but the last four characters with `*`.
fn mask_all_but_last4(s: &str) -> String {
    let n = s.chars().count();
    s.chars()
        .enumerate()
        .map(|(i, c)| if i + 4 < n { '*' } else { c })
        .collect()
}

macro_rules! id_boilerplate {
    ($ty:ident) => {
        impl $ty {
            /// The compact form (digits only).
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        /// Redacted: national IDs must not reach logs.
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    concat!(stringify!($ty), "({})"),
                    mask_all_but_last4(&self.0)
                )
            }
        }

        impl std::str::FromStr for $ty {
            type Err = Invalid;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $ty::parse(s)
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                $ty::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

// ---------------------------------------------------------------------------
// NIP

/// NIP, the Polish tax identification number: 10 digits, the last a check digit.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Nip(String);

id_boilerplate!(Nip);

impl Nip {
    const WEIGHTS: [u32; 9] = [6, 5, 7, 2, 3, 4, 5, 6, 7];

    /// Parses a NIP such as `526-025-02-74`, `PL 5260250274` or `pl5260250274`.
    pub fn parse(s: &str) -> Result<Nip, Invalid> {
        let s = s.trim_start();
        let s = match (s.get(..2), s.get(2..)) {
            (Some(prefix), Some(rest)) if prefix.eq_ignore_ascii_case("PL") => rest,
            _ => s,
        };
        let d = compact(s, "a NIP")?;
        if d.len() != 10 {
            return Err(Invalid::new(
                "invalid_length",
                format!("a NIP has 10 digits, got {}", d.len()),
            ));
        }
        let r = weighted_sum(&d[..9], &Self::WEIGHTS) % 11;
        if r == 10 || r != u32::from(d[9]) {
            return Err(checksum_error("NIP"));
        }
        Ok(Nip(to_string(&d)))
    }
}

// ---------------------------------------------------------------------------
// PESEL

/// PESEL, the Polish personal identification number: 11 digits encoding the
/// birth date (`YYMMDD`, the century in the month), a serial number whose last
/// digit gives the sex, and a check digit.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pesel(String);

id_boilerplate!(Pesel);

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Decodes `YY`, `MM` (with the century offset) and `DD` into a date, if the
/// month is a possible encoding. Does not check the day.
fn pesel_date(yy: u32, mm: u32, dd: u32) -> Option<(i32, u32, u32)> {
    let (century, month) = match mm {
        1..=12 => (1900, mm),
        21..=32 => (2000, mm - 20),
        41..=52 => (2100, mm - 40),
        61..=72 => (2200, mm - 60),
        81..=92 => (1800, mm - 80),
        _ => return None,
    };
    // yy < 100, so this cannot overflow.
    Some((century + yy as i32, month, dd))
}

impl Pesel {
    const WEIGHTS: [u32; 10] = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3];

    /// Parses a PESEL such as `44051401359` or `440514 01359`.
    pub fn parse(s: &str) -> Result<Pesel, Invalid> {
        let d = compact(s, "a PESEL")?;
        if d.len() != 11 {
            return Err(Invalid::new(
                "invalid_length",
                format!("a PESEL has 11 digits, got {}", d.len()),
            ));
        }
        let check = (10 - weighted_sum(&d[..10], &Self::WEIGHTS) % 10) % 10;
        if check != u32::from(d[10]) {
            return Err(checksum_error("PESEL"));
        }
        let n = |i: usize| u32::from(d[i]) * 10 + u32::from(d[i + 1]);
        match pesel_date(n(0), n(2), n(4)) {
            Some((y, m, day)) if day >= 1 && day <= days_in_month(y, m) => {}
            _ => {
                return Err(Invalid::new(
                    "invalid_date",
                    "this is not a valid PESEL: it encodes an impossible birth date",
                ));
            }
        }
        Ok(Pesel(to_string(&d)))
    }

    fn pair(&self, i: usize) -> u32 {
        let b = self.0.as_bytes();
        match (b.get(i), b.get(i + 1)) {
            (Some(a), Some(c)) => u32::from(a - b'0') * 10 + u32::from(c - b'0'),
            _ => 0,
        }
    }

    /// The birth date encoded in the number: `(year, month, day)`.
    pub fn birth_date(&self) -> (i32, u32, u32) {
        // Always `Some` for a parsed PESEL; the fallback is unreachable.
        pesel_date(self.pair(0), self.pair(2), self.pair(4)).unwrap_or((1900, 1, 1))
    }

    /// Whether the holder is female (the 10th digit is even).
    pub fn is_female(&self) -> bool {
        self.0
            .as_bytes()
            .get(9)
            .is_some_and(|d| (d - b'0').is_multiple_of(2))
    }

    /// The form shown to agents without the "see national IDs" grant:
    /// seven asterisks and the last four digits, e.g. `*******1234`.
    pub fn masked(&self) -> String {
        mask_all_but_last4(&self.0)
    }
}

// ---------------------------------------------------------------------------
// REGON

/// REGON, the Polish business register number: 9 digits (an entity) or 14
/// digits (a local unit: the entity's 9 digits, 4 more and a check digit).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Regon(String);

id_boilerplate!(Regon);

impl Regon {
    const WEIGHTS_9: [u32; 8] = [8, 9, 2, 3, 4, 5, 6, 7];
    const WEIGHTS_14: [u32; 13] = [2, 4, 8, 5, 0, 9, 7, 3, 6, 1, 2, 4, 8];

    fn check_ok(digits: &[u8], weights: &[u32]) -> bool {
        let n = weights.len();
        let check = weighted_sum(&digits[..n], weights) % 11 % 10;
        digits.get(n).is_some_and(|d| u32::from(*d) == check)
    }

    /// Parses a 9- or 14-digit REGON such as `123456785` or `12345678512347`.
    pub fn parse(s: &str) -> Result<Regon, Invalid> {
        let d = compact(s, "a REGON")?;
        match d.len() {
            9 => {
                if !Self::check_ok(&d, &Self::WEIGHTS_9) {
                    return Err(checksum_error("REGON"));
                }
            }
            14 => {
                if !Self::check_ok(&d, &Self::WEIGHTS_14) {
                    return Err(checksum_error("REGON"));
                }
                if !Self::check_ok(&d[..9], &Self::WEIGHTS_9) {
                    return Err(Invalid::new(
                        "invalid_checksum",
                        "this is not a valid REGON: its first 9 digits are not a valid REGON",
                    ));
                }
            }
            n => {
                return Err(Invalid::new(
                    "invalid_length",
                    format!("a REGON has 9 or 14 digits, got {n}"),
                ));
            }
        }
        Ok(Regon(to_string(&d)))
    }

    /// The 9-digit REGON of the entity (itself when it has 9 digits).
    pub fn entity(&self) -> &str {
        self.0.get(..9).unwrap_or(&self.0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn code<T: fmt::Debug>(r: Result<T, Invalid>) -> &'static str {
        r.unwrap_err().code
    }

    // --- pad_lost_zeros -----------------------------------------------------

    #[test]
    fn pad_lost_zeros_restores_a_pesel_from_a_spreadsheet() {
        assert_eq!(
            pad_lost_zeros("2070803628", 11).as_deref(),
            Some("02070803628")
        );
        assert_eq!(pad_lost_zeros("5", 4).as_deref(), Some("0005"));
    }

    #[test]
    fn pad_lost_zeros_leaves_full_length_non_digit_and_empty_input_alone() {
        assert_eq!(pad_lost_zeros("02070803628", 11), None);
        assert_eq!(pad_lost_zeros("020708036281", 11), None);
        assert_eq!(pad_lost_zeros("207 080 3628", 11), None);
        assert_eq!(pad_lost_zeros("2.07E+09", 11), None);
        assert_eq!(pad_lost_zeros("", 11), None);
    }

    // --- NIP ------------------------------------------------------------------

    #[test]
    fn nip_accepts_published_valid_examples() {
        assert_eq!(Nip::parse("5260250274").unwrap().as_str(), "5260250274");
        assert_eq!(Nip::parse("1234563218").unwrap().as_str(), "1234563218");
    }

    #[test]
    fn nip_accepts_spaces_dashes_and_a_pl_prefix_in_any_case() {
        for s in [
            "526-025-02-74",
            "526 025 02 74",
            "526-02-50-274",
            " 5260250274 ",
            "PL5260250274",
            "pl5260250274",
            "Pl 526-025-02-74",
            "pL  5260250274",
            "526\u{2013}025\u{2013}02\u{2013}74",
            "526\u{a0}025\u{a0}02\u{a0}74",
        ] {
            assert_eq!(Nip::parse(s).unwrap().as_str(), "5260250274", "{s}");
        }
    }

    #[test]
    fn nip_refuses_one_changed_digit() {
        assert_eq!(code(Nip::parse("5260250275")), "invalid_checksum");
        assert_eq!(code(Nip::parse("5260350274")), "invalid_checksum");
    }

    #[test]
    fn nip_refuses_two_swapped_digits() {
        assert_eq!(code(Nip::parse("5620250274")), "invalid_checksum");
        assert_eq!(code(Nip::parse("1234563281")), "invalid_checksum");
    }

    #[test]
    fn nip_refuses_a_remainder_of_ten() {
        // 001000002: weighted sum mod 11 is 10, so no last digit can make it valid.
        for last in 0..10 {
            assert_eq!(
                code(Nip::parse(&format!("001000002{last}"))),
                "invalid_checksum"
            );
        }
    }

    #[test]
    fn nip_refuses_wrong_length() {
        assert_eq!(code(Nip::parse("526025027")), "invalid_length");
        assert_eq!(code(Nip::parse("52602502740")), "invalid_length");
        assert_eq!(code(Nip::parse("")), "invalid_length");
        assert_eq!(code(Nip::parse("PL")), "invalid_length");
    }

    #[test]
    fn nip_refuses_letters_and_other_characters() {
        assert_eq!(code(Nip::parse("526O250274")), "invalid_character");
        assert_eq!(code(Nip::parse("526.025.02.74")), "invalid_character");
        assert_eq!(code(Nip::parse("DE5260250274")), "invalid_character");
        assert_eq!(code(Nip::parse("5260250274PL")), "invalid_character");
        assert_eq!(code(Nip::parse("526/025/02/74")), "invalid_character");
        assert_eq!(code(Nip::parse("５260250274")), "invalid_character");
    }

    #[test]
    fn nip_error_messages_do_not_quote_the_input() {
        for s in ["5260250275", "526025027", "526O250274"] {
            let err = Nip::parse(s).unwrap_err();
            assert!(!err.message.contains(s), "{}", err.message);
        }
    }

    // --- PESEL ----------------------------------------------------------------

    #[test]
    fn pesel_accepts_a_valid_male_born_in_1944() {
        let p = Pesel::parse("44051401359").unwrap();
        assert_eq!(p.as_str(), "44051401359");
        assert_eq!(p.birth_date(), (1944, 5, 14));
        assert!(!p.is_female());
    }

    #[test]
    fn pesel_02070803628_is_a_female_born_in_1902() {
        // Month 07 without an offset is the 1900s; 2002 would be month 27.
        let p = Pesel::parse("02070803628").unwrap();
        assert_eq!(p.birth_date(), (1902, 7, 8));
        assert!(p.is_female());
    }

    #[test]
    fn pesel_month_plus_twenty_means_the_2000s() {
        let p = Pesel::parse("02270803624").unwrap();
        assert_eq!(p.birth_date(), (2002, 7, 8));
        assert!(p.is_female());
    }

    #[test]
    fn pesel_months_81_to_92_mean_the_1800s() {
        assert_eq!(
            Pesel::parse("00810100002").unwrap().birth_date(),
            (1800, 1, 1)
        );
        assert_eq!(
            Pesel::parse("00923100003").unwrap().birth_date(),
            (1800, 12, 31)
        );
    }

    #[test]
    fn pesel_months_41_and_61_mean_the_2100s_and_2200s() {
        assert_eq!(
            Pesel::parse("00410100000").unwrap().birth_date(),
            (2100, 1, 1)
        );
        assert_eq!(
            Pesel::parse("00610100006").unwrap().birth_date(),
            (2200, 1, 1)
        );
    }

    #[test]
    fn pesel_accepts_february_29_in_leap_years() {
        assert_eq!(
            Pesel::parse("04022900001").unwrap().birth_date(),
            (1904, 2, 29)
        );
        assert_eq!(
            Pesel::parse("00222900009").unwrap().birth_date(),
            (2000, 2, 29)
        );
        assert_eq!(
            Pesel::parse("04222900007").unwrap().birth_date(),
            (2004, 2, 29)
        );
        assert_eq!(
            Pesel::parse("80022900005").unwrap().birth_date(),
            (1980, 2, 29)
        );
    }

    #[test]
    fn pesel_refuses_february_29_in_non_leap_years() {
        // 1981, 1900, 2100 and 2200 are not leap years (all with correct checksums).
        for s in ["81022900002", "00022900003", "00422900005", "00622900001"] {
            assert_eq!(code(Pesel::parse(s)), "invalid_date", "{s}");
        }
    }

    #[test]
    fn pesel_refuses_month_13_and_unused_month_codes() {
        assert_eq!(code(Pesel::parse("00130100003")), "invalid_date");
        assert_eq!(code(Pesel::parse("00800100001")), "invalid_date");
    }

    #[test]
    fn pesel_refuses_day_31_in_a_thirty_day_month_and_day_zero() {
        assert_eq!(code(Pesel::parse("00043100008")), "invalid_date");
        // 1900-01-00, checksum correct.
        assert_eq!(code(Pesel::parse("00010000001")), "invalid_date");
    }

    #[test]
    fn pesel_accepts_the_last_day_of_the_year() {
        assert_eq!(
            Pesel::parse("99123100003").unwrap().birth_date(),
            (1999, 12, 31)
        );
    }

    #[test]
    fn pesel_refuses_one_changed_digit_and_two_swapped_digits() {
        assert_eq!(code(Pesel::parse("44051401358")), "invalid_checksum");
        assert_eq!(code(Pesel::parse("44051401369")), "invalid_checksum");
        assert_eq!(code(Pesel::parse("44051410359")), "invalid_checksum");
    }

    #[test]
    fn pesel_refuses_wrong_length_and_letters() {
        assert_eq!(code(Pesel::parse("4405140135")), "invalid_length");
        assert_eq!(code(Pesel::parse("440514013590")), "invalid_length");
        assert_eq!(code(Pesel::parse("4405140135X")), "invalid_character");
        assert_eq!(code(Pesel::parse("PL44051401359")), "invalid_character");
    }

    #[test]
    fn pesel_accepts_spaces_and_dashes() {
        assert_eq!(
            Pesel::parse(" 440514-01359 ").unwrap().as_str(),
            "44051401359"
        );
        assert_eq!(
            Pesel::parse("440 514 013 59").unwrap().as_str(),
            "44051401359"
        );
    }

    #[test]
    fn pesel_masked_shows_only_the_last_four_digits() {
        assert_eq!(Pesel::parse("44051401359").unwrap().masked(), "*******1359");
    }

    #[test]
    fn pesel_debug_output_is_masked() {
        let p = Pesel::parse("44051401359").unwrap();
        let dbg = format!("{p:?}");
        assert_eq!(dbg, "Pesel(*******1359)");
        assert!(!dbg.contains("44051401359"));
    }

    #[test]
    fn pesel_error_messages_do_not_quote_the_input() {
        for s in ["44051401358", "81022900002", "4405140135X"] {
            let err = Pesel::parse(s).unwrap_err();
            assert!(!err.message.contains("4405"), "{}", err.message);
            assert!(!err.message.contains("8102"), "{}", err.message);
        }
    }

    // --- REGON ----------------------------------------------------------------

    #[test]
    fn regon_accepts_a_valid_nine_digit_number() {
        let r = Regon::parse("123456785").unwrap();
        assert_eq!(r.as_str(), "123456785");
        assert_eq!(r.entity(), "123456785");
    }

    #[test]
    fn regon_nine_digits_with_remainder_ten_needs_check_digit_zero() {
        assert_eq!(Regon::parse("100000050").unwrap().as_str(), "100000050");
        assert_eq!(code(Regon::parse("100000051")), "invalid_checksum");
    }

    #[test]
    fn regon_refuses_a_changed_or_swapped_nine_digit_number() {
        assert_eq!(code(Regon::parse("123456786")), "invalid_checksum");
        assert_eq!(code(Regon::parse("213456785")), "invalid_checksum");
    }

    #[test]
    fn regon_accepts_a_valid_fourteen_digit_number() {
        let r = Regon::parse("12345678512347").unwrap();
        assert_eq!(r.as_str(), "12345678512347");
        assert_eq!(r.entity(), "123456785");
    }

    #[test]
    fn regon_refuses_a_fourteen_digit_number_with_a_bad_check_digit() {
        assert_eq!(code(Regon::parse("12345678512348")), "invalid_checksum");
    }

    #[test]
    fn regon_refuses_fourteen_digits_whose_first_nine_are_invalid() {
        // The 14-digit check digit is right (2) but 123456786 is not a REGON.
        let err = Regon::parse("12345678612342").unwrap_err();
        assert_eq!(err.code, "invalid_checksum");
        assert!(err.message.contains("first 9"), "{}", err.message);
    }

    #[test]
    fn regon_refuses_other_lengths() {
        for s in ["12345678", "1234567851", "1234567851234", "123456785123470"] {
            assert_eq!(code(Regon::parse(s)), "invalid_length", "{s}");
        }
    }

    #[test]
    fn regon_accepts_spaces_and_dashes_and_refuses_letters() {
        assert_eq!(Regon::parse("123-456-785").unwrap().as_str(), "123456785");
        assert_eq!(
            Regon::parse("123456785 1234 7").unwrap().as_str(),
            "12345678512347"
        );
        assert_eq!(code(Regon::parse("PL123456785")), "invalid_character");
        assert_eq!(code(Regon::parse("12345678S")), "invalid_character");
    }

    // --- serde ----------------------------------------------------------------

    #[test]
    fn serde_writes_the_compact_string_and_reads_any_accepted_form() {
        let n = Nip::parse("PL 526-025-02-74").unwrap();
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"5260250274\"");
        let back: Nip = serde_json::from_str("\"526-025-02-74\"").unwrap();
        assert_eq!(back, n);

        let p: Pesel = serde_json::from_str("\"44051401359\"").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"44051401359\"");

        let r: Regon = serde_json::from_str("\"12345678512347\"").unwrap();
        assert_eq!(r.to_string(), "12345678512347");
    }

    #[test]
    fn serde_refuses_invalid_values() {
        assert!(serde_json::from_str::<Nip>("\"5260250275\"").is_err());
        assert!(serde_json::from_str::<Pesel>("\"81022900002\"").is_err());
        assert!(serde_json::from_str::<Regon>("\"12345678612342\"").is_err());
        assert!(serde_json::from_str::<Nip>("5260250274").is_err());
    }
}
