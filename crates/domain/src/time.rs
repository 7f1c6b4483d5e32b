//! Instants: stored as UTC milliseconds; typed dates without a time mean that day in the
//! configured zone (SPEC.md "Time").

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::Invalid;

pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

pub fn to_rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

pub fn parse_zone(name: &str) -> Result<Tz, Invalid> {
    name.parse::<Tz>()
        .map_err(|_| Invalid::new("invalid_time_zone", format!("unknown time zone `{name}`")))
}

fn local(zone: Tz, naive: NaiveDateTime) -> Result<DateTime<Utc>, Invalid> {
    zone.from_local_datetime(&naive)
        .earliest()
        .map(|d| d.with_timezone(&Utc))
        .ok_or_else(|| {
            Invalid::new(
                "invalid_date",
                "this local time does not exist (clock change)",
            )
        })
}

/// Parses an instant: RFC 3339 (`2026-05-01T10:00:00Z`, with offset), or a local date-time
/// (`2026-05-01 10:00`, `01.05.2026 10:00`), or a date alone (`2026-05-01`, `01.05.2026`),
/// which means midnight of that day in `zone`.
pub fn parse_instant(s: &str, zone: Tz) -> Result<DateTime<Utc>, Invalid> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Ok(d.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%d.%m.%Y %H:%M:%S",
        "%d.%m.%Y %H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, fmt) {
            return local(zone, n);
        }
    }
    for fmt in ["%Y-%m-%d", "%d.%m.%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(s, fmt) {
            return local(zone, d.and_hms_opt(0, 0, 0).unwrap_or_default());
        }
    }
    Err(Invalid::new(
        "invalid_date",
        "expected a date (2026-05-01 or 01.05.2026), optionally with a time, or RFC 3339",
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_date_alone_means_midnight_in_the_configured_zone() {
        let d = parse_instant("01.07.2026", chrono_tz::Europe::Warsaw).unwrap();
        assert_eq!(d.to_rfc3339(), "2026-06-30T22:00:00+00:00");
        let d = parse_instant("2026-01-15", chrono_tz::Europe::Warsaw).unwrap();
        assert_eq!(d.to_rfc3339(), "2026-01-14T23:00:00+00:00");
    }

    #[test]
    fn rfc3339_keeps_its_offset_and_garbage_is_refused() {
        let d = parse_instant("2026-05-01T10:00:00+02:00", chrono_tz::UTC).unwrap();
        assert_eq!(d.to_rfc3339(), "2026-05-01T08:00:00+00:00");
        assert!(parse_instant("yesterday", chrono_tz::UTC).is_err());
        assert!(parse_instant("31.02.2026", chrono_tz::UTC).is_err());
    }
}
