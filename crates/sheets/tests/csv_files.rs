//! CSV files as people save them: encodings, delimiters, quoting, blank lines.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};

use kartoteka_sheets::{Cell, CsvDialect, Encoding, Format, Row, SheetError, inspect, open_rows};

fn text(s: &str) -> Cell {
    Cell::Text(s.to_string())
}

fn file(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn read_all(path: &Path) -> Result<Vec<Row>, SheetError> {
    open_rows(path, Format::Csv, None, None)?.collect()
}

fn dialect(path: &Path, name: &str) -> CsvDialect {
    let found = inspect(path, name).unwrap();
    assert_eq!(found.format, Format::Csv);
    found.csv.unwrap()
}

#[test]
fn windows_1250_with_semicolons_is_decoded_right() {
    let dir = tempfile::tempdir().unwrap();
    let content = "Imię;Nazwisko;Miasto\r\nŁucja;Żółćwińska;Łódź\r\nŚcibor;Ąęźńy;Gdańsk\r\n";
    let (bytes, _, bad) = encoding_rs::WINDOWS_1250.encode(content);
    assert!(!bad);
    let path = file(&dir, "lista.csv", &bytes);
    assert_eq!(
        dialect(&path, "lista.csv"),
        CsvDialect {
            encoding: Encoding::Windows1250,
            delimiter: b';'
        }
    );
    let rows = read_all(&path).unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[0].cells,
        vec![text("Imię"), text("Nazwisko"), text("Miasto")]
    );
    assert_eq!(
        rows[1].cells,
        vec![text("Łucja"), text("Żółćwińska"), text("Łódź")]
    );
    assert_eq!(rows[2].number, 3);
    assert_eq!(rows[2].cells[2], text("Gdańsk"));
}

#[test]
fn utf8_reads_the_same_with_and_without_a_bom() {
    let dir = tempfile::tempdir().unwrap();
    let content = "Imię,Nazwisko\nŻaneta,Ąbc\n";
    let plain = file(&dir, "a.csv", content.as_bytes());
    let with_bom = file(
        &dir,
        "b.csv",
        &[b"\xEF\xBB\xBF", content.as_bytes()].concat(),
    );
    let expected = CsvDialect {
        encoding: Encoding::Utf8,
        delimiter: b',',
    };
    assert_eq!(dialect(&plain, "a.csv"), expected);
    assert_eq!(dialect(&with_bom, "b.csv"), expected);
    let a = read_all(&plain).unwrap();
    let b = read_all(&with_bom).unwrap();
    assert_eq!(a, b);
    assert_eq!(a[0].cells[0], text("Imię"));
}

#[test]
fn tabs_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "x.tsv", b"a\tb,c\tc\n1\t2,5\t3\n4\t5\t6\n");
    assert_eq!(dialect(&path, "x.tsv").delimiter, b'\t');
    let rows = read_all(&path).unwrap();
    assert_eq!(rows[1].cells, vec![text("1"), text("2,5"), text("3")]);
}

#[test]
fn commas_with_quoted_fields_holding_semicolons_are_split_on_commas() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(
        &dir,
        "x.csv",
        b"imie,adres,uwagi\nJan,\"ul. Dluga 5; m. 3\",\"a;b;c;d\"\nEwa,\"Rynek 1\",\"\"\"cytat\"\"; tak\"\n",
    );
    assert_eq!(dialect(&path, "x.csv").delimiter, b',');
    let rows = read_all(&path).unwrap();
    assert_eq!(
        rows[1].cells,
        vec![text("Jan"), text("ul. Dluga 5; m. 3"), text("a;b;c;d")]
    );
    assert_eq!(rows[2].cells[2], text("\"cytat\"; tak"));
}

#[test]
fn blank_lines_in_the_middle_keep_row_numbers_right() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "x.csv", b"a;b\n1;2\n\n\r\n3;4\n;\n5;\n\n");
    let rows = read_all(&path).unwrap();
    let numbers: Vec<u64> = rows.iter().map(|r| r.number).collect();
    assert_eq!(numbers, vec![1, 2, 5, 6, 7]);
    assert_eq!(rows[2].cells, vec![text("3"), text("4")]);
    assert_eq!(rows[3].cells, vec![Cell::Empty, Cell::Empty]);
    assert_eq!(rows[4].cells, vec![text("5"), Cell::Empty]);
}

#[test]
fn a_given_dialect_is_used_as_given() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "x.csv", b"a;b,c\n");
    let comma = CsvDialect {
        encoding: Encoding::Utf8,
        delimiter: b',',
    };
    let rows: Vec<Row> = open_rows(&path, Format::Csv, None, Some(comma))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows[0].cells, vec![text("a;b"), text("c")]);
}

#[test]
fn bytes_undefined_in_windows_1250_are_an_encoding_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "x.csv", b"a;b\nx\x81;\x98y\n");
    let err = inspect(&path, "x.csv").unwrap_err();
    assert_eq!(err.code(), "encoding");
    assert!(err.to_string().contains("row 2"), "{err}");
}

#[test]
fn invalid_utf8_after_the_sample_is_an_error_naming_its_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(f, "imię;nazwisko").unwrap();
    for i in 0..60_000 {
        writeln!(f, "Żaneta {i};Kowalska").unwrap();
    }
    // A Windows-1250 "ł" (0xB3) after the first megabyte.
    f.write_all(b"Pawe\xB3;Nowak\n").unwrap();
    f.write_all(b"Ola;Nowak\n").unwrap();
    drop(f);
    assert_eq!(dialect(&path, "big.csv").encoding, Encoding::Utf8);
    let mut reader = open_rows(&path, Format::Csv, None, None).unwrap();
    let good = reader.by_ref().take(60_001).filter(|r| r.is_ok()).count();
    assert_eq!(good, 60_001);
    let err = reader.next().unwrap().unwrap_err();
    assert_eq!(err.code(), "encoding");
    assert!(err.to_string().contains("row 60002"), "{err}");
    assert!(reader.next().is_none(), "the reader stops after an error");
}

#[test]
fn undefined_windows_1250_bytes_after_the_sample_stop_the_stream() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big1250.csv");
    let mut bytes = b"Imi\xEA;Nazwisko\n".to_vec();
    for _ in 0..80_000 {
        bytes.extend_from_slice(b"\xA3ucja;Kowalska\n");
    }
    bytes.extend_from_slice(b"x\x90y;z\n");
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(
        dialect(&path, "big1250.csv").encoding,
        Encoding::Windows1250
    );
    let rows: Vec<_> = open_rows(&path, Format::Csv, None, None).unwrap().collect();
    assert_eq!(rows.len(), 80_002);
    assert_eq!(rows[1].as_ref().unwrap().cells[0], text("Łucja"));
    let err = rows[80_001].as_ref().unwrap_err();
    assert_eq!(err.code(), "encoding");
    assert!(err.to_string().contains("row 80002"), "{err}");
}

#[test]
fn a_200k_row_csv_streams() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(f, "imie;telefon;miasto").unwrap();
    for i in 0..200_000 {
        writeln!(f, "Jan {i};600{i:06};Łódź").unwrap();
    }
    drop(f);
    let mut count = 0u64;
    let mut last = 0;
    for row in open_rows(&path, Format::Csv, None, None).unwrap() {
        let row = row.unwrap();
        count += 1;
        last = row.number;
    }
    assert_eq!(count, 200_001);
    assert_eq!(last, 200_001);
}

#[test]
fn an_empty_name_stem_gives_the_sheet_csv() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "x.csv", b"a;b\n");
    assert_eq!(
        inspect(&path, "lista.csv").unwrap().sheets,
        vec!["lista".to_string()]
    );
    assert_eq!(
        inspect(&path, " .csv").unwrap().sheets,
        vec!["CSV".to_string()]
    );
}
