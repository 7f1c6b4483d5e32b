//! The sample files in shared/samples, as contact centers send them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use kartoteka_sheets::{Cell, CsvDialect, Encoding, Format, Row, inspect, open_rows};

fn sample(name: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/samples")
        .join(name);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("skipped: {} is not there", path.display());
        None
    }
}

fn non_blank(rows: &[Row]) -> usize {
    rows.iter()
        .filter(|r| !r.cells.iter().all(Cell::is_blank))
        .count()
}

#[test]
fn the_sample_workbook_has_its_headers_rows_and_error_cells() {
    let Some(path) = sample("kontakty.xlsx") else {
        return;
    };
    let found = inspect(&path, "kontakty.xlsx").unwrap();
    assert_eq!(found.format, Format::Xlsx);
    assert!(
        found.sheets.contains(&"Kontakty".to_string()),
        "{:?}",
        found.sheets
    );

    let rows: Vec<Row> = open_rows(&path, Format::Xlsx, Some("Kontakty"), None)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let header = &rows[0];
    assert_eq!(header.number, 1);
    assert_eq!(header.cells[0], Cell::Text("Imię".into()));
    assert_eq!(header.cells[1], Cell::Text("Nazwisko".into()));
    assert_eq!(header.cells[2], Cell::Text("Telefon".into()));
    let data = non_blank(&rows) - 1;
    assert!((19_500..=20_000).contains(&data), "{data} data rows");
    assert!(rows.windows(2).all(|w| w[0].number < w[1].number));
    assert!(
        rows.iter()
            .flat_map(|r| &r.cells)
            .any(|c| *c == Cell::Error("#N/A".into()))
    );
    assert!(
        rows.iter()
            .flat_map(|r| &r.cells)
            .any(|c| matches!(c, Cell::Number(_)))
    );
    assert!(
        rows.iter()
            .flat_map(|r| &r.cells)
            .any(|c| matches!(c, Cell::DateTime(_)))
    );
}

#[test]
fn the_sample_windows_1250_csv_reads_with_semicolons() {
    let Some(path) = sample("kontakty-cp1250.csv") else {
        return;
    };
    let found = inspect(&path, "kontakty-cp1250.csv").unwrap();
    assert_eq!(
        found.csv,
        Some(CsvDialect {
            encoding: Encoding::Windows1250,
            delimiter: b';'
        })
    );
    let rows: Vec<Row> = open_rows(&path, Format::Csv, None, found.csv)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows[0].cells[0], Cell::Text("Imię".into()));
    assert!(rows[0].cells.len() >= 10);
    let data = non_blank(&rows) - 1;
    assert!((4_800..=5_000).contains(&data), "{data} data rows");
}
