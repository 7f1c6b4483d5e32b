//! What a file is, told by its bytes (magic numbers) and compared with its name.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::format::{self, CsvDialect, Encoding, Format};
use crate::{SheetError, decode};

/// What [`inspect`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspected {
    pub format: Format,
    /// The detected dialect, for CSV.
    pub csv: Option<CsvDialect>,
    /// The sheet names; for CSV one, the file's stem (or `CSV`).
    pub sheets: Vec<String>,
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const EMPTY_ZIP_MAGIC: &[u8] = b"PK\x05\x06";
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
/// How much of a file is looked at for binary content.
const HEAD: usize = 64 * 1024;
/// How much of a CSV file decides its encoding and delimiter.
const CSV_SAMPLE: usize = 1024 * 1024;
/// How many lines decide the delimiter.
const SNIFF_LINES: usize = 20;

/// Tells what the file at `path` is by its bytes and checks that its name
/// (`file_name`, as uploaded) says the same.
pub fn inspect(path: &Path, file_name: &str) -> Result<Inspected, SheetError> {
    let named = Format::from_extension(file_name).ok_or_else(|| {
        let what = match format::extension(file_name) {
            Some(ext) => format!("files ending in .{ext} are not read"),
            None => "the file name has no extension".to_string(),
        };
        SheetError::UnknownFormat(format!(
            "{what}: upload a CSV (.csv, .txt, .tsv), Excel (.xlsx, .xls) or OpenDocument (.ods) file"
        ))
    })?;
    let mut file = File::open(path)?;
    let head = read_up_to(&mut file, HEAD)?;
    if head.is_empty() {
        return Err(SheetError::EmptyFile);
    }
    let found = if head.starts_with(ZIP_MAGIC) {
        zip_format(path)?
    } else if head.starts_with(EMPTY_ZIP_MAGIC) {
        return Err(SheetError::Corrupt("an empty zip archive".into()));
    } else if head.starts_with(OLE_MAGIC) {
        if ole_is_encrypted(path)? {
            return Err(SheetError::PasswordProtected);
        }
        Format::Xls
    } else {
        text_check(&head)?;
        Format::Csv
    };
    if found != named {
        let ext = format::extension(file_name).unwrap_or_default();
        return Err(SheetError::FormatMismatch(format!(
            "the file is {} but its name ends in .{ext}",
            found.describe()
        )));
    }
    match found {
        Format::Csv => {
            let dialect = detect_csv_dialect(path)?;
            let stem = format::stem(file_name);
            let sheet = if stem.trim().is_empty() { "CSV" } else { stem };
            Ok(Inspected {
                format: found,
                csv: Some(dialect),
                sheets: vec![sheet.to_string()],
            })
        }
        _ => Ok(Inspected {
            format: found,
            csv: None,
            sheets: sheet_names(path, found)?,
        }),
    }
}

fn read_up_to(file: &mut File, limit: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(limit.min(1 << 20));
    file.take(limit as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// A zip archive: xlsx, ods, or something else.
fn zip_format(path: &Path) -> Result<Format, SheetError> {
    let file = BufReader::new(File::open(path)?);
    let mut zip = zip::ZipArchive::new(file).map_err(zip_error)?;
    if zip.index_for_name("xl/workbook.xml").is_some() {
        return Ok(Format::Xlsx);
    }
    if let Ok(mut entry) = zip.by_name("mimetype") {
        let mut mime = String::new();
        entry
            .by_ref()
            .take(200)
            .read_to_string(&mut mime)
            .map_err(|e| SheetError::Corrupt(e.to_string()))?;
        if mime.trim() == "application/vnd.oasis.opendocument.spreadsheet" {
            return Ok(Format::Ods);
        }
        return Err(SheetError::FormatMismatch(format!(
            "the file is an OpenDocument file ({}), not a spreadsheet",
            mime.trim()
        )));
    }
    if let Ok(entry) = zip.by_name("[Content_Types].xml") {
        let mut types = String::new();
        entry
            .take(64 * 1024)
            .read_to_string(&mut types)
            .map_err(|e| SheetError::Corrupt(e.to_string()))?;
        if types.contains("spreadsheetml") {
            return Ok(Format::Xlsx);
        }
        if types.contains("ms-excel.sheet.binary") {
            return Err(SheetError::FormatMismatch(
                "the file is an xlsb (binary Excel) workbook, which is not read: save it as xlsx"
                    .into(),
            ));
        }
        return Err(SheetError::FormatMismatch(
            "the file is an Office document but not a spreadsheet".into(),
        ));
    }
    Err(SheetError::FormatMismatch(
        "the file is a zip archive, not a spreadsheet".into(),
    ))
}

fn zip_error(e: zip::result::ZipError) -> SheetError {
    match e {
        zip::result::ZipError::Io(io) if io.kind() != std::io::ErrorKind::UnexpectedEof => {
            SheetError::Io(io)
        }
        other => SheetError::Corrupt(other.to_string()),
    }
}

/// Whether an OLE compound file holds an encrypted OOXML package: a directory
/// entry named `EncryptedPackage` or `EncryptionInfo`. Directory entries are 128
/// bytes, aligned to 128 bytes in the file, and begin with their UTF-16LE name.
fn ole_is_encrypted(path: &Path) -> Result<bool, SheetError> {
    let names = [utf16le("EncryptedPackage"), utf16le("EncryptionInfo")];
    let mut file = BufReader::with_capacity(HEAD, File::open(path)?);
    let mut entry = [0u8; 128];
    loop {
        match file.read_exact(&mut entry) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(false),
            Err(e) => return Err(SheetError::Io(e)),
        }
        if names.iter().any(|n| entry.starts_with(n)) {
            return Ok(true);
        }
    }
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// Rejects text that is not a CSV file in a supported encoding: binary content
/// (NUL bytes) and UTF-16.
fn text_check(head: &[u8]) -> Result<(), SheetError> {
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return Err(SheetError::Encoding {
            row: None,
            detail: "the file is UTF-16 text".into(),
        });
    }
    if head.contains(&0) {
        return Err(SheetError::FormatMismatch(
            "the file is binary, not a CSV text file nor a spreadsheet read here".into(),
        ));
    }
    Ok(())
}

/// The sheet names of a workbook.
fn sheet_names(path: &Path, format: Format) -> Result<Vec<String>, SheetError> {
    use calamine::Reader;
    let file = BufReader::new(File::open(path)?);
    Ok(match format {
        Format::Xlsx => calamine::Xlsx::new(file)
            .map_err(crate::error::from_calamine_xlsx)?
            .sheet_names(),
        Format::Xls => calamine::Xls::new(file)
            .map_err(crate::error::from_calamine_xls)?
            .sheet_names(),
        Format::Ods => calamine::Ods::new(file)
            .map_err(crate::error::from_calamine_ods)?
            .sheet_names(),
        Format::Csv => Vec::new(),
    })
}

/// The encoding and delimiter of a CSV file, from its first megabyte.
pub fn detect_csv_dialect(path: &Path) -> Result<CsvDialect, SheetError> {
    let mut file = File::open(path)?;
    let sample = read_up_to(&mut file, CSV_SAMPLE + 1)?;
    let truncated = sample.len() > CSV_SAMPLE;
    let sample = &sample[..sample.len().min(CSV_SAMPLE)];
    sniff_dialect(sample, truncated)
}

/// The dialect of a CSV sample; `truncated` when the file goes on after it.
pub(crate) fn sniff_dialect(sample: &[u8], truncated: bool) -> Result<CsvDialect, SheetError> {
    let sample = sample.strip_prefix(decode::UTF8_BOM).unwrap_or(sample);
    let (encoding, text) = match std::str::from_utf8(sample) {
        Ok(text) => (Encoding::Utf8, text.to_string()),
        // Cut in the middle of a character at the end of the sample.
        Err(e) if truncated && e.error_len().is_none() => {
            let valid = &sample[..e.valid_up_to()];
            (Encoding::Utf8, String::from_utf8_lossy(valid).into_owned())
        }
        Err(_) => {
            if let Some(pos) = sample.iter().position(|b| decode::undefined_in_1250(*b)) {
                return Err(SheetError::Encoding {
                    row: Some(line_of(sample, pos)),
                    detail: format!(
                        "byte 0x{:02X} is not UTF-8 and means nothing in Windows-1250",
                        sample[pos]
                    ),
                });
            }
            let (text, _) = encoding_rs::WINDOWS_1250.decode_without_bom_handling(sample);
            (Encoding::Windows1250, text.into_owned())
        }
    };
    Ok(CsvDialect {
        encoding,
        delimiter: sniff_delimiter(&text, truncated),
    })
}

/// The 1-based line of a byte offset.
fn line_of(bytes: &[u8], pos: usize) -> u64 {
    bytes[..pos].iter().filter(|b| **b == b'\n').count() as u64 + 1
}

/// Among `;` `,` and tab, the delimiter found the same non-zero number of times
/// (outside quotes) on the most of the first lines; ties go to `;`, then `,`, then
/// tab. With none found, `;`.
fn sniff_delimiter(text: &str, truncated: bool) -> u8 {
    const CANDIDATES: [u8; 3] = [b';', b',', b'\t'];
    let mut lines = split_lines(text, SNIFF_LINES + 1);
    // The last line of a cut sample may be cut too.
    if truncated && lines.len() > 1 {
        lines.pop();
    }
    lines.truncate(SNIFF_LINES);
    let mut best = (b';', 0usize);
    for d in CANDIDATES {
        let counts: Vec<usize> = lines.iter().map(|l| count_outside_quotes(l, d)).collect();
        let Some(mode) = mode_non_zero(&counts) else {
            continue;
        };
        let agreeing = counts.iter().filter(|c| **c == mode).count();
        if agreeing > best.1 {
            best = (d, agreeing);
        }
    }
    best.0
}

/// The first `max` non-blank lines, a quoted field's line breaks kept inside its line.
fn split_lines(text: &str, max: usize) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut in_quotes = false;
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'"' => in_quotes = !in_quotes,
            b'\n' if !in_quotes => {
                let line = text[start..i].trim_end_matches('\r');
                if !line.trim().is_empty() {
                    lines.push(line);
                    if lines.len() == max {
                        return lines;
                    }
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = &text[start..];
    if !last.trim().is_empty() {
        lines.push(last);
    }
    lines
}

fn count_outside_quotes(line: &str, delimiter: u8) -> usize {
    let mut in_quotes = false;
    let mut n = 0;
    for b in line.bytes() {
        if b == b'"' {
            in_quotes = !in_quotes;
        } else if b == delimiter && !in_quotes {
            n += 1;
        }
    }
    n
}

/// The most frequent non-zero count (the larger on a tie).
fn mode_non_zero(counts: &[usize]) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    for &c in counts.iter().filter(|c| **c > 0) {
        let freq = counts.iter().filter(|x| **x == c).count();
        if best.is_none_or(|(bc, bf)| freq > bf || (freq == bf && c > bc)) {
            best = Some((c, freq));
        }
    }
    best.map(|(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delim(text: &str) -> u8 {
        sniff_delimiter(text, false)
    }

    #[test]
    fn semicolons_win_over_decimal_commas() {
        assert_eq!(delim("a;b;c\n1;2,5;x\n3;4;y\n5;6,1;z\n"), b';');
    }

    #[test]
    fn commas_with_quoted_semicolons_are_commas() {
        assert_eq!(
            delim("imie,adres\nJan,\"ul. Długa 5; m. 3\"\nEwa,\"a;b;c\"\n"),
            b','
        );
    }

    #[test]
    fn tabs_are_found() {
        assert_eq!(delim("a\tb\tc\n1\t2\t3\n"), b'\t');
    }

    #[test]
    fn a_tie_goes_to_the_semicolon() {
        assert_eq!(delim("a;b,c\n1;2,3\n"), b';');
        assert_eq!(delim("a,b\tc\n1,2\t3\n"), b',');
        assert_eq!(delim("just one column\n"), b';');
    }

    #[test]
    fn a_sample_cut_inside_a_character_is_still_utf8() {
        let text = "a;b\nżółw;ą\n".repeat(10);
        let bytes = text.as_bytes();
        // Cut inside the two bytes of "ą".
        let cut = text.rfind('ą').unwrap_or(0) + 1;
        let d = sniff_dialect(&bytes[..cut], true).map_err(|e| e.to_string());
        assert_eq!(
            d,
            Ok(CsvDialect {
                encoding: Encoding::Utf8,
                delimiter: b';'
            })
        );
    }

    #[test]
    fn ole_names_are_utf16le() {
        assert_eq!(&utf16le("Ab")[..], &[b'A', 0, b'b', 0]);
    }
}
