//! Streaming the rows of a CSV file (UTF-8 or Windows-1250).

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use crate::decode::{self, DecodingReader};
use crate::format::{CsvDialect, Encoding};
use crate::{Cell, Row, SheetError};

pub(crate) struct CsvRows {
    reader: csv::Reader<Box<dyn Read + Send>>,
    record: csv::ByteRecord,
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
                BufReader::with_capacity(64 * 1024, file),
                encoding_rs::WINDOWS_1250,
            )),
        };
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(dialect.delimiter)
            .buffer_capacity(64 * 1024)
            .from_reader(source);
        Ok(CsvRows {
            reader,
            record: csv::ByteRecord::new(),
            encoding: dialect.encoding,
            done: false,
        })
    }

    fn row(&self) -> Result<Row, SheetError> {
        let number = self.record.position().map_or(0, |p| p.line());
        let mut cells = Vec::with_capacity(self.record.len());
        for (col, field) in self.record.iter().enumerate() {
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

fn read_full(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
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
        let result = match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => {
                self.done = true;
                return None;
            }
            Ok(true) => self.row(),
            Err(e) => Err(SheetError::from(e)),
        };
        if result.is_err() {
            self.done = true;
        }
        Some(result)
    }
}
