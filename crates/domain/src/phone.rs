//! Phone numbers: types, regions, parsing to E.164 with rlibphonenumber.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;

use rlibphonenumber::{
    PHONE_NUMBER_UTIL, ParseError, PhoneNumber, PhoneNumberFormat, ValidationError,
};
use serde::{Deserialize, Serialize};

use crate::Invalid;

pub use rlibphonenumber::Region;

/// A region (ISO 3166-1 alpha-2 country) as rlibphonenumber knows it.
pub type RegionCode = Region;

/// What a number is for.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum PhoneType {
    #[default]
    Mobile,
    Landline,
    Work,
    Main,
    HomeFax,
    OfficeFax,
    Other,
}

impl PhoneType {
    pub const ALL: [PhoneType; 7] = [
        PhoneType::Mobile,
        PhoneType::Landline,
        PhoneType::Work,
        PhoneType::Main,
        PhoneType::HomeFax,
        PhoneType::OfficeFax,
        PhoneType::Other,
    ];

    /// The stable name used in JSON, storage and import (`home_fax`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            PhoneType::Mobile => "mobile",
            PhoneType::Landline => "landline",
            PhoneType::Work => "work",
            PhoneType::Main => "main",
            PhoneType::HomeFax => "home_fax",
            PhoneType::OfficeFax => "office_fax",
            PhoneType::Other => "other",
        }
    }

    /// Parses a type name. Forgiving about case, surrounding whitespace and
    /// the separator (`home_fax`, `Home Fax`, `home-fax` all work).
    /// Error code `invalid_phone_type`.
    pub fn parse(s: &str) -> Result<PhoneType, Invalid> {
        let key: String = s
            .trim()
            .chars()
            .map(|c| match c {
                ' ' | '-' => '_',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        PhoneType::ALL
            .into_iter()
            .find(|t| t.as_str() == key)
            .ok_or_else(|| {
                Invalid::new(
                    "invalid_phone_type",
                    format!(
                        "unknown phone type; expected one of: {}",
                        PhoneType::ALL.map(PhoneType::as_str).join(", ")
                    ),
                )
            })
    }
}

impl fmt::Display for PhoneType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for PhoneType {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PhoneType::parse(s)
    }
}

/// Parses a region code such as `PL` or `de` (trimmed, any case) into a region
/// rlibphonenumber has metadata for. Error code `invalid_region`.
pub fn parse_region(code: &str) -> Result<RegionCode, Invalid> {
    let code = code.trim();
    Region::from_code(code)
        .ok()
        .filter(|r| {
            *r != Region::World && PHONE_NUMBER_UTIL.get_country_code_for_region(*r).is_some()
        })
        .ok_or_else(|| {
            Invalid::new(
                "invalid_region",
                format!("{code:?} is not a known region code (two letters, e.g. PL, DE)"),
            )
        })
}

/// A valid number: E.164 (`+48600700800`) and the extension, if one was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedPhone {
    pub e164: String,
    pub extension: Option<String>,
}

/// Longest raw input considered (libphonenumber's own limit is 250).
const MAX_INPUT: usize = 250;

fn invalid_phone(why: impl Into<String>) -> Invalid {
    Invalid::new("invalid_phone", why)
}

/// Parses a phone number typed or imported by a person, in the default
/// region given as a code (`"PL"`). See [`parse_phone_in`].
pub fn parse_phone(raw: &str, default_region: &str) -> Result<ParsedPhone, Invalid> {
    parse_phone_in(raw, parse_region(default_region)?)
}

/// Strips a leading `tel`, `tel.` or `tel ` word (any case) and the spaces
/// after it. A `tel:` URI is left alone: rlibphonenumber reads RFC 3966
/// (`tel:+48221234567;ext=12`) itself.
fn strip_tel_prefix(s: &str) -> &str {
    if let (Some(word), Some(rest)) = (s.get(..3), s.get(3..))
        && word.eq_ignore_ascii_case("tel")
        && !rest.starts_with(':')
        && rest.starts_with(|c: char| {
            c == '.' || c.is_whitespace() || c.is_ascii_digit() || c == '+' || c == '('
        })
    {
        return rest.trim_start_matches(|c: char| c == '.' || c.is_whitespace());
    }
    s
}

/// Polish extension markers (`wew. 12`, `wewn. 12`, `w. 12` after the number),
/// rewritten to ` ext. 12`, which rlibphonenumber understands.
fn polish_extension(s: &str) -> Option<String> {
    // ASCII lower-casing keeps byte offsets.
    let lower = s.to_ascii_lowercase();
    for marker in ["wewn.", "wew.", "wewn", "wew", "w."] {
        let Some(at) = lower.rfind(marker) else {
            continue;
        };
        let (Some(before), Some(after)) = (s.get(..at), s.get(at + marker.len()..)) else {
            continue;
        };
        let ext = after.trim();
        let before = before.trim_end();
        if !ext.is_empty()
            && ext.len() <= 10
            && ext.bytes().all(|b| b.is_ascii_digit())
            && before.ends_with(|c: char| c.is_ascii_digit())
        {
            return Some(format!("{before} ext. {ext}"));
        }
    }
    None
}

/// Why a parse failed, for people.
fn parse_error_reason(e: &ParseError) -> String {
    match e {
        ParseError::InvalidCountryCode => "unknown country calling code",
        ParseError::NotANumber(_) => "this is not a phone number",
        ParseError::TooShortAfterIdd | ParseError::TooShortNsn => "the number is too short",
        ParseError::TooLongNsn => "the number is too long",
    }
    .to_string()
}

/// Why a parsed number is not valid, for people.
fn invalid_reason(number: &PhoneNumber) -> String {
    let country = PHONE_NUMBER_UTIL
        .get_region_for_country_code(number.country_code)
        .filter(|r| *r != Region::World)
        .map(|r| r.to_string())
        .unwrap_or_else(|| format!("+{}", number.country_code));
    match PHONE_NUMBER_UTIL.is_possible_number_with_reason(number) {
        Err(ValidationError::InvalidCountryCode) => "unknown country calling code".to_string(),
        Err(ValidationError::TooShort) => format!("the number is too short for {country}"),
        Err(ValidationError::TooLong) => format!("the number is too long for {country}"),
        _ => format!("not a valid number for {country}"),
    }
}

/// Parses and validates; `Err` carries the reason.
fn parse_valid(s: &str, region: RegionCode) -> Result<PhoneNumber, String> {
    let number = PHONE_NUMBER_UTIL
        .parse(s, Some(region))
        .map_err(|e| parse_error_reason(&e))?;
    if PHONE_NUMBER_UTIL.is_valid_number(&number) {
        Ok(number)
    } else {
        Err(invalid_reason(&number))
    }
}

/// Parses a phone number in `region` (used when it has no country code):
/// national (`600 700 800`, `22 123 45 67`, `tel. 600 700 800`), international
/// (`+48 600-700-800`, `0048600700800`, `+48 (0) 22 123 45 67`), `tel:` URIs,
/// with extensions (`ext. 12`, `x12`, `;ext=12`, Polish `wew. 12`). The number
/// must be valid (right length and prefix for its country), not merely
/// possible. Error code `invalid_phone`, with the reason.
///
/// Only when the input as given is not a valid number are two repairs tried:
/// dropping a `(0)` (a trunk prefix written after the country code, which
/// rlibphonenumber drops itself only for countries with a national prefix,
/// not Poland), and reading a Polish `wew.`/`w.` suffix as an extension.
pub fn parse_phone_in(raw: &str, region: RegionCode) -> Result<ParsedPhone, Invalid> {
    /// A parse: the region, the input and its result.
    type Parse = (RegionCode, String, Result<ParsedPhone, Invalid>);
    /// How many of the thread's last parses are remembered.
    const RECENT: usize = 4;
    thread_local! {
        /// The last numbers parsed on this thread: an import checks each cell's number,
        /// then the record's write rules parse the same number again (parsing is ~5 % of
        /// an import's CPU, through rlibphonenumber's regexes).
        static LAST: RefCell<VecDeque<Parse>> = const { RefCell::new(VecDeque::new()) };
    }
    if let Some(hit) = LAST.with_borrow(|last| {
        last.iter()
            .find(|(r, s, _)| *r == region && s == raw)
            .map(|(_, _, parsed)| parsed.clone())
    }) {
        return hit;
    }
    let parsed = parse_phone_uncached(raw, region);
    LAST.with_borrow_mut(|last| {
        if last.len() == RECENT {
            last.pop_front();
        }
        last.push_back((region, raw.to_string(), parsed.clone()));
    });
    parsed
}

fn parse_phone_uncached(raw: &str, region: RegionCode) -> Result<ParsedPhone, Invalid> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(invalid_phone("the number is empty"));
    }
    if s.chars().count() > MAX_INPUT {
        return Err(invalid_phone("the number is too long"));
    }
    let s = strip_tel_prefix(s);
    let number = match parse_valid(s, region) {
        Ok(n) => n,
        Err(why) => {
            let mut repaired = s.to_string();
            if let Some(at) = repaired.find("(0)") {
                repaired.replace_range(at..at + 3, " ");
            }
            if let Some(r) = polish_extension(&repaired) {
                repaired = r;
            }
            if repaired == s {
                return Err(invalid_phone(why));
            }
            // Report the reason for the input as given.
            parse_valid(&repaired, region).map_err(|_| invalid_phone(why))?
        }
    };
    let e164 = PHONE_NUMBER_UTIL
        .format(&number, PhoneNumberFormat::E164)
        .into_owned();
    let extension = number.extension.filter(|e| !e.is_empty());
    Ok(ParsedPhone { e164, extension })
}

/// The E.164 form of a search or identification query, or `None` when it is
/// not a valid number (or the region code is unknown).
pub fn normalize_phone_query(raw: &str, region: &str) -> Option<String> {
    parse_phone(raw, region).ok().map(|p| p.e164)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn e164(raw: &str) -> String {
        parse_phone(raw, "PL")
            .unwrap_or_else(|e| panic!("{raw:?}: {e}"))
            .e164
    }

    fn refused(raw: &str) -> Invalid {
        let err = parse_phone(raw, "PL").unwrap_err();
        assert_eq!(err.code, "invalid_phone", "{raw:?}");
        err
    }

    // --- PhoneType ------------------------------------------------------------

    #[test]
    fn phone_types_serialize_as_snake_case() {
        let names: Vec<String> = PhoneType::ALL
            .iter()
            .map(|t| serde_json::to_string(t).unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "\"mobile\"",
                "\"landline\"",
                "\"work\"",
                "\"main\"",
                "\"home_fax\"",
                "\"office_fax\"",
                "\"other\""
            ]
        );
        let t: PhoneType = serde_json::from_str("\"office_fax\"").unwrap();
        assert_eq!(t, PhoneType::OfficeFax);
    }

    #[test]
    fn phone_type_as_str_and_parse_round_trip() {
        for t in PhoneType::ALL {
            assert_eq!(PhoneType::parse(t.as_str()).unwrap(), t);
            assert_eq!(t.to_string(), t.as_str());
        }
    }

    #[test]
    fn phone_type_parse_forgives_case_spaces_and_dashes() {
        assert_eq!(PhoneType::parse(" Home Fax ").unwrap(), PhoneType::HomeFax);
        assert_eq!(
            PhoneType::parse("OFFICE-FAX").unwrap(),
            PhoneType::OfficeFax
        );
        assert_eq!(PhoneType::parse("Mobile").unwrap(), PhoneType::Mobile);
    }

    #[test]
    fn phone_type_parse_refuses_unknown_names() {
        for s in ["", "cell", "fax", "home__fax"] {
            assert_eq!(
                PhoneType::parse(s).unwrap_err().code,
                "invalid_phone_type",
                "{s}"
            );
        }
    }

    #[test]
    fn phone_type_defaults_to_mobile() {
        assert_eq!(PhoneType::default(), PhoneType::Mobile);
    }

    // --- regions ----------------------------------------------------------------

    #[test]
    fn known_regions_parse_in_any_case() {
        assert_eq!(parse_region("PL").unwrap(), Region::PL);
        assert_eq!(parse_region(" de ").unwrap(), Region::DE);
        assert_eq!(parse_region("Gb").unwrap(), Region::GB);
    }

    #[test]
    fn unknown_regions_are_refused() {
        for r in ["", "P", "POL", "XX", "UK", "001", "P1"] {
            assert_eq!(parse_region(r).unwrap_err().code, "invalid_region", "{r}");
        }
        assert_eq!(
            parse_phone("600 700 800", "XX").unwrap_err().code,
            "invalid_region"
        );
    }

    // --- Polish numbers -----------------------------------------------------------

    #[test]
    fn polish_mobile_numbers_in_common_formats() {
        for raw in [
            "600 700 800",
            "600700800",
            "600-700-800",
            "+48 600-700-800",
            "+48600700800",
            "0048600700800",
            "0048 600 700 800",
            "+48 (0) 600 700 800",
            "tel. 600 700 800",
            "Tel: 600 700 800",
            "TEL.600700800",
            "tel 600700800",
            "tel. kom. 600-700-800",
            "  600 700 800  ",
        ] {
            assert_eq!(e164(raw), "+48600700800", "{raw:?}");
        }
    }

    #[test]
    fn polish_landline_numbers() {
        for raw in [
            "22 123 45 67",
            "(22) 123 45 67",
            "+48 22 123 45 67",
            "+48 (0) 22 123 45 67",
            "+48(0)221234567",
        ] {
            assert_eq!(e164(raw), "+48221234567", "{raw:?}");
        }
    }

    #[test]
    fn radom_numbers_starting_with_48_stay_national() {
        assert_eq!(e164("485623244"), "+48485623244");
        assert_eq!(e164("48 562 32 44"), "+48485623244");
        assert_eq!(e164("+48 48 562 32 44"), "+48485623244");
    }

    #[test]
    fn extensions_are_split_off() {
        for raw in [
            "+48 22 123 45 67 ext. 12",
            "+48 22 123 45 67 x12",
            "22 123 45 67 ext 12",
            "tel:+48221234567;ext=12",
            "+48221234567;ext=12",
            "+48 22 123 45 67 wew. 12",
            "22 123 45 67 wewn. 12",
            "22 123 45 67 w. 12",
            "+48 (0) 22 123 45 67 wew. 12",
        ] {
            let p = parse_phone(raw, "PL").unwrap_or_else(|e| panic!("{raw:?}: {e}"));
            assert_eq!(p.e164, "+48221234567", "{raw:?}");
            assert_eq!(p.extension.as_deref(), Some("12"), "{raw:?}");
        }
    }

    #[test]
    fn numbers_without_extension_have_none() {
        assert_eq!(parse_phone("600 700 800", "PL").unwrap().extension, None);
    }

    // --- foreign numbers ----------------------------------------------------------

    #[test]
    fn foreign_numbers_with_a_country_code() {
        assert_eq!(e164("+49 30 123456"), "+4930123456");
        assert_eq!(e164("+49 (0)30 123456"), "+4930123456");
        assert_eq!(e164("0049 30 123456"), "+4930123456");
        assert_eq!(e164("+420 601 123 456"), "+420601123456");
    }

    #[test]
    fn italian_leading_zero_in_brackets_is_kept_when_it_is_part_of_the_number() {
        assert_eq!(e164("+39 06 1234 5678"), "+390612345678");
        assert_eq!(e164("+39 (0)6 1234 5678"), "+390612345678");
    }

    #[test]
    fn the_default_region_applies_to_national_numbers() {
        assert_eq!(parse_phone("030 123456", "DE").unwrap().e164, "+4930123456");
        assert_eq!(
            parse_phone("+48 600 700 800", "DE").unwrap().e164,
            "+48600700800"
        );
    }

    // --- refusals -------------------------------------------------------------------

    #[test]
    fn garbage_is_not_a_phone_number() {
        let err = refused("abc");
        assert!(
            err.message.contains("not a phone number"),
            "{}",
            err.message
        );
        refused("tel.");
    }

    #[test]
    fn empty_input_is_refused() {
        assert!(refused("").message.contains("empty"));
        assert!(refused("   ").message.contains("empty"));
    }

    #[test]
    fn too_short_numbers_are_refused_with_that_reason() {
        let err = refused("123");
        assert!(err.message.contains("too short"), "{}", err.message);
    }

    #[test]
    fn too_long_numbers_are_refused_with_that_reason() {
        assert!(refused("600700800600700800").message.contains("too long"));
        assert!(refused(&"6".repeat(300)).message.contains("too long"));
    }

    #[test]
    fn numbers_of_a_possible_length_but_invalid_for_the_region_are_refused() {
        let err = refused("600 700 80");
        assert!(
            err.message.contains("not a valid number for PL"),
            "{}",
            err.message
        );
        // The old trunk prefix is not part of a Polish number.
        refused("0 22 123 45 67");
    }

    #[test]
    fn unknown_country_codes_are_refused() {
        let err = refused("+999 123456");
        assert!(
            err.message.contains("country calling code"),
            "{}",
            err.message
        );
    }

    // --- normalize_phone_query --------------------------------------------------------

    #[test]
    fn normalize_phone_query_gives_e164_or_none() {
        assert_eq!(
            normalize_phone_query("600-700-800", "PL").as_deref(),
            Some("+48600700800")
        );
        assert_eq!(
            normalize_phone_query("+48 22 123 45 67 ext. 12", "PL").as_deref(),
            Some("+48221234567")
        );
        assert_eq!(normalize_phone_query("Kowalski", "PL"), None);
        assert_eq!(normalize_phone_query("123", "PL"), None);
        assert_eq!(normalize_phone_query("600700800", "XX"), None);
    }

    #[test]
    fn parsing_is_fast_enough_for_bulk_imports() {
        // Warm up the shared util, then a loose bound that catches per-call
        // rebuilding (which costs milliseconds) even in debug builds.
        let _ = parse_phone("600 700 800", "PL");
        let start = std::time::Instant::now();
        for _ in 0..200 {
            parse_phone("+48 600-700-800", "PL").unwrap();
            parse_phone("+49 30 123456", "PL").unwrap();
        }
        let per_call = start.elapsed() / 400;
        assert!(per_call.as_millis() < 2, "{per_call:?} a call");
    }
}
