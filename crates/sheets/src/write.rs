//! Writing rows to a CSV (UTF-8 with BOM) or xlsx file, for exports and the
//! failed-rows file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rust_xlsxwriter::{Format as CellFormat, Workbook};

use crate::{Cell, SheetError};

/// The format to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutFormat {
    /// UTF-8 with a BOM (so Excel reads the Polish letters right), this delimiter.
    Csv {
        delimiter: u8,
    },
    Xlsx,
}

/// Rows an xlsx sheet holds.
const XLSX_MAX_ROWS: u32 = 1_048_576;
/// The longest text an xlsx cell holds, in UTF-16 units.
const XLSX_MAX_TEXT: usize = 32_767;
/// The longest sheet name Excel accepts.
const SHEET_NAME_MAX: usize = 31;

/// Writes rows one after another; [`SheetWriter::finish`] completes the file.
pub struct SheetWriter {
    inner: Out,
    rows: u64,
}

enum Out {
    Csv(Box<csv::Writer<BufWriter<File>>>),
    Xlsx(Box<XlsxOut>),
}

impl SheetWriter {
    /// Creates the file at `path` (replacing one there). For xlsx, `sheet_name` names
    /// the sheet (made acceptable to Excel); CSV has no sheets.
    pub fn create(
        path: &Path,
        format: OutFormat,
        sheet_name: &str,
    ) -> Result<SheetWriter, SheetError> {
        let inner = match format {
            OutFormat::Csv { delimiter } => {
                let mut out = BufWriter::with_capacity(64 * 1024, File::create(path)?);
                out.write_all(crate::decode::UTF8_BOM)?;
                Out::Csv(Box::new(
                    csv::WriterBuilder::new()
                        .delimiter(delimiter)
                        .flexible(true)
                        .from_writer(out),
                ))
            }
            OutFormat::Xlsx => Out::Xlsx(Box::new(XlsxOut::new(path, sheet_name)?)),
        };
        Ok(SheetWriter { inner, rows: 0 })
    }

    /// Writes one row: text as text, numbers as numbers, dates as dates (xlsx) or
    /// as a spreadsheet shows them (CSV), error cells as their text.
    pub fn write_row(&mut self, cells: &[Cell]) -> Result<(), SheetError> {
        match &mut self.inner {
            Out::Csv(w) => w.write_record(cells.iter().map(Cell::display))?,
            Out::Xlsx(x) => x.write_row(cells, self.rows == 0)?,
        }
        self.rows += 1;
        Ok(())
    }

    /// Completes the file; returns the number of rows written.
    pub fn finish(self) -> Result<u64, SheetError> {
        match self.inner {
            Out::Csv(mut w) => {
                w.flush()?;
                let out = w
                    .into_inner()
                    .map_err(|e| SheetError::Io(std::io::Error::other(e.to_string())))?;
                out.into_inner()
                    .map_err(|e| SheetError::Io(e.into_error()))?;
            }
            Out::Xlsx(mut x) => x.workbook.save(&x.path)?,
        }
        Ok(self.rows)
    }
}

struct XlsxOut {
    workbook: Workbook,
    path: PathBuf,
    base_name: String,
    /// The sheet being written (from 0) and its next row.
    sheet: usize,
    row: u32,
    /// Rows a sheet holds ([`XLSX_MAX_ROWS`]; fewer in tests).
    max_rows: u32,
    /// The first row written, repeated at the top of each further sheet.
    header: Option<Vec<Cell>>,
    bold: CellFormat,
    date: CellFormat,
    date_time: CellFormat,
}

impl XlsxOut {
    fn new(path: &Path, sheet_name: &str) -> Result<XlsxOut, SheetError> {
        let mut workbook = Workbook::new();
        let base_name = sheet_name_for(sheet_name);
        workbook
            .add_worksheet_with_constant_memory()?
            .set_name(&base_name)?;
        Ok(XlsxOut {
            workbook,
            path: path.to_path_buf(),
            base_name,
            sheet: 0,
            row: 0,
            max_rows: XLSX_MAX_ROWS,
            header: None,
            bold: CellFormat::new().set_bold(),
            date: CellFormat::new().set_num_format("yyyy-mm-dd"),
            date_time: CellFormat::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
        })
    }

    fn write_row(&mut self, cells: &[Cell], first: bool) -> Result<(), SheetError> {
        if first {
            self.header = Some(cells.to_vec());
        }
        if self.row >= self.max_rows {
            self.next_sheet()?;
        }
        let bold = first || (self.row == 0 && self.sheet > 0);
        self.put(cells, bold)
    }

    /// Continues on a new sheet, "<name> 2" and so on, headed by the first row.
    fn next_sheet(&mut self) -> Result<(), SheetError> {
        self.sheet += 1;
        let suffix = format!(" {}", self.sheet + 1);
        let keep = SHEET_NAME_MAX - suffix.chars().count();
        let name: String = self.base_name.chars().take(keep).collect::<String>() + &suffix;
        self.workbook
            .add_worksheet_with_constant_memory()?
            .set_name(name)?;
        self.row = 0;
        if let Some(header) = self.header.clone() {
            self.put(&header, true)?;
        }
        Ok(())
    }

    fn put(&mut self, cells: &[Cell], bold: bool) -> Result<(), SheetError> {
        let row = self.row;
        let sheet = self.workbook.worksheet_from_index(self.sheet)?;
        for (col, cell) in cells.iter().enumerate() {
            let col = u16::try_from(col)
                .map_err(|_| SheetError::Write("too many columns for an xlsx sheet".into()))?;
            let text_format = if bold { Some(&self.bold) } else { None };
            match cell {
                Cell::Empty => {}
                Cell::Text(t) | Cell::Error(t) => {
                    let t = truncate_utf16(t, XLSX_MAX_TEXT);
                    match text_format {
                        Some(f) => sheet.write_string_with_format(row, col, t, f)?,
                        None => sheet.write_string(row, col, t)?,
                    };
                }
                Cell::Number(n) if n.is_finite() => {
                    match text_format {
                        Some(f) => sheet.write_number_with_format(row, col, *n, f)?,
                        None => sheet.write_number(row, col, *n)?,
                    };
                }
                Cell::DateTime(d) if d.is_finite() => {
                    let f = if d.fract() == 0.0 {
                        &self.date
                    } else {
                        &self.date_time
                    };
                    sheet.write_number_with_format(row, col, *d, f)?;
                }
                Cell::Number(_) | Cell::DateTime(_) => {
                    sheet.write_string(row, col, cell.display())?;
                }
                Cell::Bool(b) => {
                    match text_format {
                        Some(f) => sheet.write_boolean_with_format(row, col, *b, f)?,
                        None => sheet.write_boolean(row, col, *b)?,
                    };
                }
            }
        }
        self.row += 1;
        Ok(())
    }
}

/// A sheet name Excel accepts: no `[]:*?/\`, not quoted, at most 31 characters.
fn sheet_name_for(wanted: &str) -> String {
    let cleaned: String = wanted
        .chars()
        .map(|c| {
            if "[]:*?/\\".contains(c) || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .take(SHEET_NAME_MAX)
        .collect();
    let cleaned = cleaned.trim_matches('\'').trim();
    if cleaned.is_empty() {
        "Sheet1".to_string()
    } else {
        cleaned.to_string()
    }
}

/// The longest prefix of `s` at most `max` UTF-16 units long.
fn truncate_utf16(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut units = 0;
    for (i, c) in s.char_indices() {
        units += c.len_utf16();
        if units > max {
            return &s[..i];
        }
    }
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use calamine::Reader;

    #[test]
    fn a_full_xlsx_sheet_goes_on_in_a_new_one_headed_like_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("many.xlsx");
        let mut w = SheetWriter::create(&path, OutFormat::Xlsx, "Kontakty").unwrap();
        let Out::Xlsx(x) = &mut w.inner else {
            panic!("not xlsx");
        };
        x.max_rows = 4;
        w.write_row(&[Cell::Text("Imię".into())]).unwrap();
        for i in 0..7 {
            w.write_row(&[Cell::Number(f64::from(i))]).unwrap();
        }
        assert_eq!(w.finish().unwrap(), 8);

        let mut book: calamine::Xlsx<_> = calamine::open_workbook(&path).unwrap();
        assert_eq!(book.sheet_names(), ["Kontakty", "Kontakty 2", "Kontakty 3"]);
        let second = book.worksheet_range("Kontakty 2").unwrap();
        let column: Vec<String> = second.rows().map(|r| r[0].to_string()).collect();
        assert_eq!(column, ["Imię", "3", "4", "5"]);
        let third = book.worksheet_range("Kontakty 3").unwrap();
        assert_eq!(third.height(), 2);
    }

    #[test]
    fn sheet_names_are_made_acceptable_to_excel() {
        assert_eq!(sheet_name_for("Kontakty"), "Kontakty");
        assert_eq!(sheet_name_for("a/b:c"), "a_b_c");
        assert_eq!(sheet_name_for("  "), "Sheet1");
        assert_eq!(sheet_name_for(&"x".repeat(40)).len(), 31);
    }

    #[test]
    fn long_text_is_cut_at_a_character() {
        assert_eq!(truncate_utf16("abc", 2), "ab");
        assert_eq!(truncate_utf16("aż", 2), "aż");
        // An emoji is two UTF-16 units: it does not fit in the last one.
        assert_eq!(truncate_utf16("a😀", 2), "a");
        assert_eq!(
            truncate_utf16(&"ą".repeat(40_000), XLSX_MAX_TEXT)
                .chars()
                .count(),
            XLSX_MAX_TEXT
        );
    }
}
