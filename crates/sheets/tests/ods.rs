//! An OpenDocument spreadsheet, built by hand as a minimal zip.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::Path;

use kartoteka_sheets::{Cell, Format, Row, inspect, open_rows};
use zip::write::SimpleFileOptions;

const CONTENT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">
<office:body><office:spreadsheet>
<table:table table:name="Lista">
<table:table-row><table:table-cell office:value-type="string"><text:p>Imię</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>Kwota</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>Data</text:p></table:table-cell></table:table-row>
<table:table-row><table:table-cell office:value-type="string"><text:p>Łucja</text:p></table:table-cell><table:table-cell office:value-type="float" office:value="12.5"><text:p>12,5</text:p></table:table-cell><table:table-cell office:value-type="date" office:date-value="2023-06-22"><text:p>22.06.2023</text:p></table:table-cell></table:table-row>
<table:table-row table:number-rows-repeated="2"><table:table-cell/></table:table-row>
<table:table-row><table:table-cell office:value-type="string"><text:p>Żaneta</text:p></table:table-cell><table:table-cell office:value-type="float" office:value="3"><text:p>3</text:p></table:table-cell></table:table-row>
</table:table>
<table:table table:name="Drugi"><table:table-row><table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row></table:table>
</office:spreadsheet></office:body></office:document-content>"#;

fn write_ods(path: &Path) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let stored = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("mimetype", stored).unwrap();
    zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
        .unwrap();
    zip.start_file("content.xml", SimpleFileOptions::default())
        .unwrap();
    zip.write_all(CONTENT.as_bytes()).unwrap();
    zip.start_file("META-INF/manifest.xml", SimpleFileOptions::default())
        .unwrap();
    zip.write_all(br#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"#)
        .unwrap();
    zip.finish().unwrap();
}

#[test]
fn an_ods_is_recognised_and_its_rows_read_with_their_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lista.ods");
    write_ods(&path);
    let found = inspect(&path, "lista.ods").unwrap();
    assert_eq!(found.format, Format::Ods);
    assert_eq!(found.sheets, vec!["Lista".to_string(), "Drugi".to_string()]);

    let rows: Vec<Row> = open_rows(&path, Format::Ods, None, None)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let numbers: Vec<u64> = rows.iter().map(|r| r.number).collect();
    assert_eq!(numbers, vec![1, 2, 5]);
    assert_eq!(rows[0].cells[0], Cell::Text("Imię".into()));
    assert_eq!(rows[1].cells[0], Cell::Text("Łucja".into()));
    assert_eq!(rows[1].cells[1], Cell::Number(12.5));
    assert!(
        matches!(rows[1].cells[2], Cell::DateTime(_) | Cell::Text(_)),
        "{:?}",
        rows[1].cells[2]
    );
    assert_eq!(
        rows[2].cells,
        vec![Cell::Text("Żaneta".into()), Cell::Number(3.0)]
    );

    let second: Vec<Row> = open_rows(&path, Format::Ods, Some("Drugi"), None)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(
        open_rows(&path, Format::Ods, Some("Trzeci"), None)
            .err()
            .unwrap()
            .code(),
        "no_such_sheet"
    );
}

#[test]
fn an_ods_named_xlsx_is_a_format_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lista.xlsx");
    write_ods(&path);
    let err = inspect(&path, "lista.xlsx").unwrap_err();
    assert_eq!(err.code(), "format_mismatch");
    assert!(err.to_string().contains("ods"), "{err}");
}
