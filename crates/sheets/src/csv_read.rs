//! Streaming the rows of a CSV file (UTF-8 or Windows-1250).
//!
//! csv-core is driven directly rather than through the csv crate's reader, which
//! skips blank lines without telling: here they are skipped and counted, so every
//! row keeps the line number a spreadsheet would show.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use csv_core::ReadRecordResult;

use crate::decode::{self, DecodingReader};
use crate::format::{CsvDialect, Encoding};
use crate::{Cell, Row, SheetError};

const BUF: usize = 64 * 1024;

pub(crate) struct CsvRows {
    source: Box<dyn Read + Send>,
    parser: csv_core::Reader,
    /// Input not yet parsed: `input[pos..end]`.
    input: Vec<u8>,
    pos: usize,
    end: usize,
    eof: bool,
    /// The fields of the record being read and where each ends.
    fields: Vec<u8>,
    ends: Vec<usize>,
    /// The line the parser is at: 1 + the line feeds consumed so far.
    line: u64,
    encoding: Encoding,
    done: bool,
}

impl CsvRows {
    pub(crate) fn open(path: &Path, dialect: CsvDialect) -> Result<CsvRows, SheetError> {
        let mut file = File::open(path)?;
        let mut start = [0u8; 3];
        let n = read_full(&mut file, &mut start)?;
        let skip = if start[..n] == *decode::UTF8_BOM && dialect.encoding == Encoding::Utf8 {
            3
        } else {
            0
        };
        file.seek(SeekFrom::Start(skip))?;
        let source: Box<dyn Read + Send> = match dialect.encoding {
            Encoding::Utf8 => Box::new(file),
            Encoding::Windows1250 => Box::new(DecodingReader::new(
                BufReader::with_capacity(BUF, file),
                encoding_rs::WINDOWS_1250,
            )),
        };
        Ok(CsvRows {
            source,
            parser: csv_core::ReaderBuilder::new()
                .delimiter(dialect.delimiter)
                .build(),
            input: vec![0; BUF],
            pos: 0,
            end: 0,
            eof: false,
            fields: vec![0; 4096],
            ends: vec![0; 64],
            line: 1,
            encoding: dialect.encoding,
            done: false,
        })
    }

    /// Reads more input once all is parsed; false at the end of the file.
    fn refill(&mut self) -> io::Result<bool> {
        if self.pos < self.end {
            return Ok(true);
        }
        if self.eof {
            return Ok(false);
        }
        self.pos = 0;
        self.end = read_full(&mut self.source, &mut self.input)?;
        self.eof = self.end == 0;
        Ok(!self.eof)
    }

    /// Reads the next record into `fields`/`ends`: its line and number of fields,
    /// or `None` at the end.
    fn read_record(&mut self) -> io::Result<Option<(u64, usize)>> {
        // Blank lines before the record: skipped, counted.
        loop {
            if !self.refill()? {
                return Ok(None);
            }
            match self.input[self.pos] {
                b'\n' => self.line += 1,
                b'\r' => {}
                _ => break,
            }
            self.pos += 1;
        }
        let start = self.line;
        let (mut out_len, mut ends_len) = (0, 0);
        loop {
            let input = &self.input[self.pos..self.end];
            let (result, read, written, ended) = self.parser.read_record(
                input,
                &mut self.fields[out_len..],
                &mut self.ends[ends_len..],
            );
            self.line += input[..read].iter().filter(|b| **b == b'\n').count() as u64;
            self.pos += read;
            out_len += written;
            ends_len += ended;
            match result {
                ReadRecordResult::InputEmpty => {
                    self.refill()?;
                }
                ReadRecordResult::OutputFull => {
                    let len = self.fields.len();
                    self.fields.resize(len * 2, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let len = self.ends.len();
                    self.ends.resize(len * 2, 0);
                }
                ReadRecordResult::Record => return Ok(Some((start, ends_len))),
                ReadRecordResult::End => return Ok(None),
            }
        }
    }

    fn row(&self, number: u64, count: usize) -> Result<Row, SheetError> {
        let mut cells = Vec::with_capacity(count);
        let mut from = 0;
        for (col, &to) in self.ends[..count].iter().enumerate() {
            let field = &self.fields[from..to];
            from = to;
            if field.is_empty() {
                cells.push(Cell::Empty);
                continue;
            }
            let text = std::str::from_utf8(field).map_err(|_| SheetError::Encoding {
                row: Some(number),
                detail: format!("column {} is not valid UTF-8", col + 1),
            })?;
            if self.encoding == Encoding::Windows1250 && has_undefined_1250(field) {
                return Err(SheetError::Encoding {
                    row: Some(number),
                    detail: format!(
                        "column {} holds a byte that means nothing in Windows-1250",
                        col + 1
                    ),
                });
            }
            cells.push(Cell::Text(text.to_string()));
        }
        Ok(Row { number, cells })
    }
}

/// Whether decoded Windows-1250 text holds a character an undefined byte became
/// (a C1 control, `C2 xx` in UTF-8).
fn has_undefined_1250(utf8: &[u8]) -> bool {
    utf8.windows(2)
        .any(|w| w[0] == 0xC2 && decode::undefined_in_1250(w[1]))
}

/// Fills `buf` as far as the source goes; fewer bytes only at its end.
fn read_full<R: Read + ?Sized>(source: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match source.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

impl Iterator for CsvRows {
    type Item = Result<Row, SheetError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let result = match self.read_record() {
            Ok(None) => {
                self.done = true;
                return None;
            }
            Ok(Some((number, count))) => self.row(number, count),
            Err(e) => Err(SheetError::Io(e)),
        };
        if result.is_err() {
            self.done = true;
        }
        Some(result)
    }
}
