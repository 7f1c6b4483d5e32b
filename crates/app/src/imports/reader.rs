//! The import's reader: its own thread streams the file's rows, turns each into a record
//! (`domain::import`) and sends them to the job in chunks.

use kartoteka_domain::cell::Cell;
use kartoteka_domain::import::{self, ConvertedRow, Target};
use kartoteka_sheets::Format;

use crate::AppError;

/// Rows per chunk: the reader's batches, matched and written together (each statement
/// flushes the trigram tables' pending terms: fewer, larger ones are faster).
const CHUNK: usize = 10_000;
/// A row read and converted by the reader thread.
pub(super) struct ReadRow {
    pub number: u64,
    pub cells: Vec<Cell>,
    pub row: ConvertedRow,
}

pub(super) enum Batch {
    Rows(Vec<ReadRow>),
    Failed(AppError),
}

/// Reads the rows after the header, and after row `after` (a resumed job), converting
/// them, and sends them in chunks; stops when the receiver is gone.
#[allow(clippy::too_many_arguments)]
pub(super) fn read_rows(
    path: &std::path::Path,
    format: Format,
    sheet: Option<&str>,
    csv: Option<kartoteka_sheets::CsvDialect>,
    after: u64,
    mapping: &[Target],
    ctx: &import::RowContext<'_>,
    tx: &tokio::sync::mpsc::Sender<Batch>,
) {
    let send_error = |e: AppError| {
        let _ = tx.blocking_send(Batch::Failed(e));
    };
    let rows = match kartoteka_sheets::open_rows(path, format, sheet, csv) {
        Ok(r) => r,
        Err(e) => return send_error(super::sheet_error(e)),
    };
    let mut header_seen = false;
    let mut batch = Vec::with_capacity(CHUNK);
    for row in rows {
        let row = match row {
            Ok(r) => r,
            Err(e) => return send_error(super::sheet_error(e)),
        };
        if !header_seen {
            header_seen = !row.cells.iter().all(Cell::is_blank);
            continue;
        }
        if row.number <= after {
            continue;
        }
        let converted = import::convert_row(&row.cells, mapping, ctx);
        batch.push(ReadRow {
            number: row.number,
            cells: row.cells,
            row: converted,
        });
        if batch.len() >= CHUNK {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(CHUNK));
            if tx.blocking_send(Batch::Rows(full)).is_err() {
                return;
            }
        }
    }
    if !batch.is_empty() {
        let _ = tx.blocking_send(Batch::Rows(batch));
    }
}

/// How many data rows a file holds, when that is cheap to tell (CSV: its line count).
pub(super) fn estimate_rows(path: &str, format: Format) -> Option<i64> {
    use std::io::Read;
    if format != Format::Csv {
        return None;
    }
    let mut f = std::fs::File::open(path).ok()?;
    let mut buf = vec![0u8; 1 << 20];
    let mut lines: i64 = 0;
    let mut last = b'\n';
    loop {
        let n = f.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        lines += buf[..n].iter().filter(|b| **b == b'\n').count() as i64;
        last = buf[n - 1];
    }
    if last != b'\n' {
        lines += 1;
    }
    Some((lines - 1).max(0))
}
