//! Streaming the rows of an xlsx sheet.
//!
//! calamine's cell reader borrows the workbook it reads, so the workbook and the
//! reader live on a thread of their own that sends the rows through a bounded
//! channel: the reader owns nothing borrowed, memory stays flat (at most
//! [`CHANNEL_ROWS`] rows wait), and parsing runs beside whatever uses the rows.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use calamine::{DataRef, ExcelDateTime, ExcelDateTimeType, Reader, Xlsx};

use crate::error::from_calamine_xlsx;
use crate::{Cell, Row, SheetError};

const CHANNEL_ROWS: usize = 1024;

enum Msg {
    Row(Row),
    Failed(SheetError),
    End,
}

pub(crate) struct XlsxRows {
    rx: Receiver<Msg>,
    done: bool,
}

impl XlsxRows {
    pub(crate) fn open(path: &Path, sheet: Option<&str>) -> Result<XlsxRows, SheetError> {
        let file = BufReader::with_capacity(64 * 1024, File::open(path)?);
        let mut workbook: Xlsx<_> = Xlsx::new(file).map_err(from_calamine_xlsx)?;
        let name = crate::pick_sheet(workbook.sheet_names(), sheet)?;
        let (tx, rx) = sync_channel(CHANNEL_ROWS);
        let (ready_tx, ready_rx) = sync_channel(1);
        std::thread::Builder::new()
            .name("xlsx-rows".into())
            .spawn(move || match workbook.worksheet_cells_reader(&name) {
                Ok(cells) => {
                    if ready_tx.send(Ok(())).is_ok() {
                        pump(cells, &tx);
                    }
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(from_calamine_xlsx(e)));
                }
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(XlsxRows { rx, done: false }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(SheetError::Corrupt("the sheet could not be opened".into())),
        }
    }
}

/// Reads the cells in order, groups them by row and sends the rows; stops when
/// the receiver is gone.
fn pump(mut cells: calamine::XlsxCellReader<'_, BufReader<File>>, tx: &SyncSender<Msg>) {
    let mut current: Option<Row> = None;
    loop {
        match cells.next_cell() {
            Ok(Some(cell)) => {
                let (row, col) = cell.get_position();
                let number = u64::from(row) + 1;
                if current.as_ref().is_some_and(|r| r.number != number)
                    && let Some(done) = current.take()
                    && tx.send(Msg::Row(done)).is_err()
                {
                    return;
                }
                let r = current.get_or_insert_with(|| Row {
                    number,
                    cells: Vec::new(),
                });
                let col = col as usize;
                if r.cells.len() <= col {
                    r.cells.resize(col + 1, Cell::Empty);
                }
                r.cells[col] = convert(cell.get_value());
            }
            Ok(None) => {
                if let Some(done) = current.take()
                    && tx.send(Msg::Row(done)).is_err()
                {
                    return;
                }
                let _ = tx.send(Msg::End);
                return;
            }
            Err(e) => {
                let _ = tx.send(Msg::Failed(from_calamine_xlsx(e)));
                return;
            }
        }
    }
}

/// Days between the 1900 and the 1904 date systems' epochs.
const DAYS_1900_TO_1904: f64 = 1462.0;

fn convert(value: &DataRef<'_>) -> Cell {
    match value {
        DataRef::Empty => Cell::Empty,
        DataRef::String(s) => Cell::Text(s.clone()),
        DataRef::SharedString(s) => Cell::Text((*s).to_string()),
        DataRef::Float(f) => Cell::Number(*f),
        DataRef::Int(i) => Cell::Number(*i as f64),
        DataRef::Bool(b) => Cell::Bool(*b),
        DataRef::DateTime(dt) => date_time(dt),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Cell::Text(s.clone()),
        DataRef::Error(e) => Cell::Error(e.to_string()),
    }
}

/// A date as a 1900-system serial; a duration as its number of days.
pub(crate) fn date_time(dt: &ExcelDateTime) -> Cell {
    let serial = dt.as_f64();
    if dt.is_duration() {
        return Cell::Number(serial);
    }
    // calamine keeps the workbook's date system inside the value but does not
    // show it: compare with the same value in the 1904 system.
    if *dt == ExcelDateTime::new(serial, ExcelDateTimeType::DateTime, true) {
        Cell::DateTime(serial + DAYS_1900_TO_1904)
    } else {
        Cell::DateTime(serial)
    }
}

impl Iterator for XlsxRows {
    type Item = Result<Row, SheetError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.rx.recv() {
            Ok(Msg::Row(row)) => Some(Ok(row)),
            Ok(Msg::End) => {
                self.done = true;
                None
            }
            Ok(Msg::Failed(e)) => {
                self.done = true;
                Some(Err(e))
            }
            Err(_) => {
                self.done = true;
                Some(Err(SheetError::Corrupt(
                    "reading the sheet stopped unexpectedly".into(),
                )))
            }
        }
    }
}
