//! One cell of a spreadsheet or CSV file as read, before any mapping. The file readers
//! (`kartoteka-sheets`) produce these; the import rules (`import`) turn them into values.

/// A cell's content as the file stores it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    /// A number cell (Excel stores every number, integers included, as a float).
    Number(f64),
    Bool(bool),
    /// A date or date-time cell as an Excel serial: days since 1899-12-30, the fraction
    /// being the time of day (local time, no zone).
    DateTime(f64),
    /// An error cell such as `#N/A` or `#DIV/0!`, with its text.
    Error(String),
}

impl Cell {
    /// Empty, or text of nothing but whitespace.
    pub fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as a spreadsheet shows it: integers without a fraction, dates as
    /// `yyyy-mm-dd` (with ` hh:mm[:ss]` when there is a time), booleans `TRUE`/`FALSE`,
    /// error cells their text.
    pub fn display(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => t.clone(),
            Cell::Number(n) => number_text(*n),
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
            Cell::DateTime(serial) => match excel_date_time(*serial) {
                Some(dt) => {
                    use chrono::Timelike;
                    if dt.time() == chrono::NaiveTime::MIN {
                        dt.format("%Y-%m-%d").to_string()
                    } else if dt.second() == 0 {
                        dt.format("%Y-%m-%d %H:%M").to_string()
                    } else {
                        dt.format("%Y-%m-%d %H:%M:%S").to_string()
                    }
                }
                None => number_text(*serial),
            },
            Cell::Error(e) => e.clone(),
        }
    }
}

/// A number as text: integers (up to 2^53) without a fraction or exponent.
pub fn number_text(n: f64) -> String {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// The local date-time of an Excel serial (1900 date system), to the second.
pub fn excel_date_time(serial: f64) -> Option<chrono::NaiveDateTime> {
    if !serial.is_finite() || !(0.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30)?.and_hms_opt(0, 0, 0)?;
    let secs = (serial * 86_400.0).round() as i64;
    epoch.checked_add_signed(chrono::TimeDelta::try_seconds(secs)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_show_without_a_fraction() {
        assert_eq!(Cell::Number(48601234567.0).display(), "48601234567");
        assert_eq!(Cell::Number(1.5).display(), "1.5");
    }

    #[test]
    fn excel_serials_become_dates() {
        assert_eq!(Cell::DateTime(45099.0).display(), "2023-06-22");
        assert_eq!(Cell::DateTime(45099.5).display(), "2023-06-22 12:00");
    }
}
