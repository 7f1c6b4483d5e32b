//! Files written by `SheetWriter` read back by `inspect` and `open_rows`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use kartoteka_sheets::{
    Cell, CsvDialect, Encoding, Format, OutFormat, Row, SheetWriter, inspect, open_rows,
};

const POLISH: &str = "ąęłńóśźż ĄĘŁŃÓŚŹŻ";

fn text(s: &str) -> Cell {
    Cell::Text(s.to_string())
}

fn read_all(path: &Path, format: Format, sheet: Option<&str>) -> Vec<Row> {
    open_rows(path, format, sheet, None)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

fn write(path: &Path, format: OutFormat, rows: &[Vec<Cell>]) -> u64 {
    let mut w = SheetWriter::create(path, format, "Kontakty").unwrap();
    for r in rows {
        w.write_row(r).unwrap();
    }
    w.finish().unwrap()
}

fn sample_rows() -> Vec<Vec<Cell>> {
    vec![
        vec![
            text("Imię"),
            text("Kwota"),
            text("Data"),
            text("Zgoda"),
            text("Błąd"),
        ],
        vec![
            text(POLISH),
            Cell::Number(1234.5),
            Cell::DateTime(45099.0),
            Cell::Bool(true),
            Cell::Error("#N/A".into()),
        ],
        vec![
            text("Żaneta; \"cytat\", przecinek\nnowa linia"),
            Cell::Number(48601234567.0),
            Cell::DateTime(45099.5),
            Cell::Bool(false),
            Cell::Empty,
        ],
    ]
}

#[test]
fn an_xlsx_written_here_reads_back_with_its_types_and_polish_letters() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.xlsx");
    assert_eq!(write(&path, OutFormat::Xlsx, &sample_rows()), 3);

    let found = inspect(&path, "Eksport.XLSX").unwrap();
    assert_eq!(found.format, Format::Xlsx);
    assert_eq!(found.sheets, vec!["Kontakty".to_string()]);
    assert_eq!(found.csv, None);

    let rows = read_all(&path, Format::Xlsx, None);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].number, 1);
    assert_eq!(rows[0].cells, sample_rows()[0]);
    // Error cells are written as their text.
    let mut expected = sample_rows()[1].clone();
    expected[4] = text("#N/A");
    assert_eq!(rows[1].cells, expected);
    assert_eq!(rows[2].number, 3);
    assert_eq!(rows[2].cells[..4], sample_rows()[2][..4]);
}

#[test]
fn a_csv_written_here_has_a_bom_and_reads_back_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.csv");
    write(&path, OutFormat::Csv { delimiter: b';' }, &sample_rows());
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBFImi\xC4\x99;Kwota;"));

    let found = inspect(&path, "eksport.csv").unwrap();
    assert_eq!(found.format, Format::Csv);
    assert_eq!(
        found.csv,
        Some(CsvDialect {
            encoding: Encoding::Utf8,
            delimiter: b';'
        })
    );
    assert_eq!(found.sheets, vec!["eksport".to_string()]);

    let rows = read_all(&path, Format::Csv, None);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].cells[0], text("Imię"));
    assert_eq!(
        rows[1].cells,
        vec![
            text(POLISH),
            text("1234.5"),
            text("2023-06-22"),
            text("TRUE"),
            text("#N/A")
        ]
    );
    // The quoted field spans two lines: the next row would be numbered 4.
    assert_eq!(rows[2].number, 3);
    assert_eq!(
        rows[2].cells[0],
        text("Żaneta; \"cytat\", przecinek\nnowa linia")
    );
    assert_eq!(rows[2].cells[1], text("48601234567"));
    assert_eq!(rows[2].cells[2], text("2023-06-22 12:00"));
    assert_eq!(rows[2].cells[4], Cell::Empty);
}

#[test]
fn rows_skipped_in_an_xlsx_keep_the_numbers_of_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gaps.xlsx");
    let rows = vec![
        vec![text("Imię"), text("Telefon")],
        vec![],
        vec![Cell::Empty, Cell::Empty],
        vec![text("Jan"), Cell::Empty, Cell::Empty, text("D")],
        vec![Cell::Empty, text("600100200")],
    ];
    write(&path, OutFormat::Xlsx, &rows);
    let read = read_all(&path, Format::Xlsx, Some("Kontakty"));
    let numbers: Vec<u64> = read.iter().map(|r| r.number).collect();
    assert_eq!(numbers, vec![1, 4, 5]);
    assert_eq!(
        read[1].cells,
        vec![text("Jan"), Cell::Empty, Cell::Empty, text("D")]
    );
    assert_eq!(read[2].cells, vec![Cell::Empty, text("600100200")]);
}

#[test]
fn a_missing_sheet_is_named_with_the_ones_there() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.xlsx");
    write(&path, OutFormat::Xlsx, &sample_rows());
    let err = open_rows(&path, Format::Xlsx, Some("Arkusz2"), None)
        .err()
        .unwrap();
    assert_eq!(err.code(), "no_such_sheet");
    let message = err.to_string();
    assert!(
        message.contains("Arkusz2") && message.contains("Kontakty"),
        "{message}"
    );
}

#[test]
fn text_longer_than_excel_allows_is_cut_in_xlsx() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.xlsx");
    write(&path, OutFormat::Xlsx, &[vec![text(&"ż".repeat(40_000))]]);
    let rows = read_all(&path, Format::Xlsx, None);
    let Cell::Text(t) = &rows[0].cells[0] else {
        panic!("not text: {:?}", rows[0].cells[0]);
    };
    assert_eq!(t.chars().count(), 32_767);
}

#[test]
fn a_reader_dropped_early_does_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.xlsx");
    let rows: Vec<Vec<Cell>> = (0..5000)
        .map(|i| vec![Cell::Number(f64::from(i)), text("x")])
        .collect();
    write(&path, OutFormat::Xlsx, &rows);
    let mut reader = open_rows(&path, Format::Xlsx, None, None).unwrap();
    let first = reader.next().unwrap().unwrap();
    assert_eq!(first.cells[0], Cell::Number(0.0));
    drop(reader);
}

#[test]
fn the_reader_runs_on_another_thread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.xlsx");
    write(&path, OutFormat::Xlsx, &sample_rows());
    let reader = open_rows(&path, Format::Xlsx, None, None).unwrap();
    let count = std::thread::spawn(move || reader.count()).join().unwrap();
    assert_eq!(count, 3);
}
