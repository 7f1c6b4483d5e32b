//! xls and ods sheets, which calamine reads whole.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use calamine::{Data, Range, Reader};

use crate::error::{from_calamine_ods, from_calamine_xls};
use crate::format::Format;
use crate::{Cell, Row, SheetError};

pub(crate) struct WholeRows {
    range: Range<Data>,
    /// The next row of the range to give, from 0.
    next: usize,
}

impl WholeRows {
    pub(crate) fn open(
        path: &Path,
        format: Format,
        sheet: Option<&str>,
    ) -> Result<WholeRows, SheetError> {
        let file = BufReader::new(File::open(path)?);
        let range = match format {
            Format::Ods => {
                let mut book: calamine::Ods<_> =
                    calamine::Ods::new(file).map_err(from_calamine_ods)?;
                let name = crate::pick_sheet(book.sheet_names(), sheet)?;
                book.worksheet_range(&name).map_err(from_calamine_ods)?
            }
            _ => {
                let mut book: calamine::Xls<_> =
                    calamine::Xls::new(file).map_err(from_calamine_xls)?;
                let name = crate::pick_sheet(book.sheet_names(), sheet)?;
                book.worksheet_range(&name).map_err(from_calamine_xls)?
            }
        };
        Ok(WholeRows { range, next: 0 })
    }
}

fn convert(value: &Data) -> Cell {
    match value {
        Data::Empty => Cell::Empty,
        Data::String(s) => Cell::Text(s.clone()),
        Data::Float(f) => Cell::Number(*f),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) => crate::xlsx_read::date_time(dt),
        Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(e) => Cell::Error(e.to_string()),
    }
}

impl Iterator for WholeRows {
    type Item = Result<Row, SheetError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (start_row, start_col) = self.range.start()?;
        let (height, width) = self.range.get_size();
        while self.next < height {
            let i = self.next;
            self.next += 1;
            let mut cells = vec![Cell::Empty; start_col as usize];
            cells.extend((0..width).map(|c| self.range.get((i, c)).map_or(Cell::Empty, convert)));
            // Trailing empties of this row are not part of it.
            while cells.last() == Some(&Cell::Empty) {
                cells.pop();
            }
            if cells.is_empty() {
                continue;
            }
            return Some(Ok(Row {
                number: u64::from(start_row) + i as u64 + 1,
                cells,
            }));
        }
        None
    }
}
