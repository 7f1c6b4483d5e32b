//! Reading and writing tabular files for imports and exports: CSV (UTF-8 or
//! Windows-1250, `,` `;` or tab), xlsx, xls and ods.
//!
//! [`inspect`] tells what a file is by its bytes and checks that against its name;
//! [`open_rows`] streams the rows of one sheet; [`SheetWriter`] writes CSV or xlsx.

mod csv_read;
mod decode;
mod detect;
mod error;
mod format;
mod whole_read;
mod write;
mod xlsx_read;

use std::path::Path;

pub use detect::{Inspected, detect_csv_dialect, inspect};
pub use error::SheetError;
pub use format::{CsvDialect, Encoding, Format};
pub use kartoteka_domain::cell::Cell;
pub use write::{OutFormat, SheetWriter};

/// One row of a sheet as read.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The row number as the spreadsheet shows it: the first row is 1.
    pub number: u64,
    /// The cells from column A on; a gap in the row is filled with [`Cell::Empty`].
    pub cells: Vec<Cell>,
}

/// The rows of one sheet, in order. Rows a file leaves out (blank lines of a CSV,
/// rows an xlsx does not store) are not returned, but the numbers of the others stay
/// those the spreadsheet shows. After an error the reader returns nothing more.
pub struct RowReader {
    inner: Inner,
}

enum Inner {
    Csv(Box<csv_read::CsvRows>),
    Xlsx(xlsx_read::XlsxRows),
    Whole(whole_read::WholeRows),
}

impl Iterator for RowReader {
    type Item = Result<Row, SheetError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            Inner::Csv(r) => r.next(),
            Inner::Xlsx(r) => r.next(),
            Inner::Whole(r) => r.next(),
        }
    }
}

/// Streams the rows of one sheet (`None`: the first). CSV and xlsx are streamed, so
/// memory stays flat whatever the size; xls and ods are read whole. For CSV, `sheet`
/// is ignored and `csv` is the dialect (`None`: detected from the file).
pub fn open_rows(
    path: &Path,
    format: Format,
    sheet: Option<&str>,
    csv: Option<CsvDialect>,
) -> Result<RowReader, SheetError> {
    let inner = match format {
        Format::Csv => {
            let dialect = match csv {
                Some(d) => d,
                None => detect_csv_dialect(path)?,
            };
            Inner::Csv(Box::new(csv_read::CsvRows::open(path, dialect)?))
        }
        Format::Xlsx => Inner::Xlsx(xlsx_read::XlsxRows::open(path, sheet)?),
        Format::Xls | Format::Ods => {
            Inner::Whole(whole_read::WholeRows::open(path, format, sheet)?)
        }
    };
    Ok(RowReader { inner })
}

/// The sheet to read: the one named, or the first.
pub(crate) fn pick_sheet(names: Vec<String>, wanted: Option<&str>) -> Result<String, SheetError> {
    match wanted {
        Some(name) => {
            if names.iter().any(|n| n == name) {
                Ok(name.to_string())
            } else {
                Err(SheetError::NoSuchSheet {
                    name: name.to_string(),
                    available: names,
                })
            }
        }
        None => names
            .into_iter()
            .next()
            .ok_or_else(|| SheetError::Corrupt("the workbook has no sheets".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>() {}

    #[test]
    fn a_row_reader_can_move_to_another_thread() {
        assert_send::<RowReader>();
        assert_send::<SheetWriter>();
    }
}
