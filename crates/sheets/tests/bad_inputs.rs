//! Files that are not what their names say, broken, empty or locked.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use kartoteka_sheets::{Cell, Format, OutFormat, SheetError, SheetWriter, inspect, open_rows};

fn file(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn small_xlsx(dir: &tempfile::TempDir) -> Vec<u8> {
    let path = dir.path().join("valid.xlsx");
    let mut w = SheetWriter::create(&path, OutFormat::Xlsx, "Arkusz1").unwrap();
    for i in 0..200 {
        w.write_row(&[
            Cell::Text(format!("wiersz {i}")),
            Cell::Number(f64::from(i)),
        ])
        .unwrap();
    }
    w.finish().unwrap();
    std::fs::read(path).unwrap()
}

fn code(result: Result<impl std::fmt::Debug, SheetError>) -> (&'static str, String) {
    let err = result.unwrap_err();
    (err.code(), err.to_string())
}

/// An OLE compound file as an encrypted xlsx is: the magic number, and a
/// directory entry named `EncryptedPackage` (UTF-16LE) at a 128-byte boundary.
fn fake_encrypted_ole() -> Vec<u8> {
    let mut bytes = vec![0u8; 2048];
    bytes[..8].copy_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    let name: Vec<u8> = "EncryptedPackage"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    bytes[1024 + 128..1024 + 128 + name.len()].copy_from_slice(&name);
    bytes
}

#[test]
fn a_truncated_xlsx_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = small_xlsx(&dir);
    let path = file(&dir, "half.xlsx", &bytes[..bytes.len() / 2]);
    let (code, message) = code(inspect(&path, "half.xlsx"));
    assert_eq!(code, "corrupt", "{message}");
    assert_eq!(
        open_rows(&path, Format::Xlsx, None, None)
            .err()
            .unwrap()
            .code(),
        "corrupt"
    );
}

#[test]
fn an_xlsx_named_csv_is_a_format_mismatch_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "kontakty.csv", &small_xlsx(&dir));
    let (code, message) = code(inspect(&path, "kontakty.csv"));
    assert_eq!(code, "format_mismatch");
    assert!(
        message.contains("xlsx") && message.contains(".csv"),
        "{message}"
    );
}

#[test]
fn an_xlsx_named_xls_is_a_format_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "stary.xls", &small_xlsx(&dir));
    let (code, message) = code(inspect(&path, "stary.xls"));
    assert_eq!(code, "format_mismatch");
    assert!(
        message.contains("xlsx workbook") && message.ends_with(".xls"),
        "{message}"
    );
}

#[test]
fn a_csv_named_xlsx_is_a_format_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "x.xlsx", b"a;b\n1;2\n");
    let (code, message) = code(inspect(&path, "x.xlsx"));
    assert_eq!(code, "format_mismatch");
    assert!(
        message.contains("CSV") && message.contains(".xlsx"),
        "{message}"
    );
}

#[test]
fn an_empty_file_is_said_to_be_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "pusty.csv", b"");
    assert_eq!(code(inspect(&path, "pusty.csv")).0, "empty_file");
    let path = file(&dir, "pusty.xlsx", b"");
    assert_eq!(code(inspect(&path, "pusty.xlsx")).0, "empty_file");
}

#[test]
fn an_encrypted_workbook_is_password_protected() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "tajne.xlsx", &fake_encrypted_ole());
    let (code, message) = code(inspect(&path, "tajne.xlsx"));
    assert_eq!(code, "password_protected");
    assert!(message.contains("password"), "{message}");
    // Whatever the name says.
    let path = file(&dir, "tajne.xls", &fake_encrypted_ole());
    assert_eq!(
        super_code(inspect(&path, "tajne.xls")),
        "password_protected"
    );
}

fn super_code(result: Result<impl std::fmt::Debug, SheetError>) -> &'static str {
    code(result).0
}

#[test]
fn an_ole_file_without_a_workbook_is_corrupt_xls() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = vec![0u8; 2048];
    bytes[..8].copy_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    let path = file(&dir, "zly.xls", &bytes);
    assert_eq!(super_code(inspect(&path, "zly.xls")), "corrupt");
    // An OLE file named xlsx is an old workbook under a new name.
    let path = file(&dir, "zly.xlsx", &bytes);
    let (code, message) = code(inspect(&path, "zly.xlsx"));
    assert_eq!(code, "format_mismatch");
    assert!(
        message.contains("xls workbook") && message.contains(".xlsx"),
        "{message}"
    );
}

#[test]
fn bytes_valid_in_no_supported_encoding_are_an_encoding_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "x.csv", b"Imie;Nazwisko\nJan\x81;Kowal\x98ski\n");
    let (code, message) = code(inspect(&path, "x.csv"));
    assert_eq!(code, "encoding", "{message}");
}

#[test]
fn utf16_text_is_an_encoding_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "x.txt", b"\xFF\xFEa\0;\0b\0");
    assert_eq!(super_code(inspect(&path, "x.txt")), "encoding");
}

#[test]
fn binary_content_is_not_a_csv() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "x.csv", b"%PDF-1.4\n\0\0\x01binary");
    assert_eq!(super_code(inspect(&path, "x.csv")), "format_mismatch");
}

#[test]
fn a_pdf_name_is_an_unknown_format() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "umowa.pdf", b"%PDF-1.4\n");
    let (code, message) = code(inspect(&path, "umowa.pdf"));
    assert_eq!(code, "unknown_format");
    assert!(message.contains(".pdf"), "{message}");
    assert_eq!(
        super_code(inspect(&path, "bez_rozszerzenia")),
        "unknown_format"
    );
}

#[test]
fn a_zip_that_is_no_spreadsheet_is_a_format_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.xlsx");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    zip.start_file("readme.txt", zip::write::SimpleFileOptions::default())
        .unwrap();
    std::io::Write::write_all(&mut zip, b"hello").unwrap();
    zip.finish().unwrap();
    assert_eq!(super_code(inspect(&path, "x.xlsx")), "format_mismatch");
}

#[test]
fn every_error_has_a_code_and_a_message() {
    let errors = [
        SheetError::EmptyFile,
        SheetError::Corrupt("x".into()),
        SheetError::PasswordProtected,
        SheetError::Encoding {
            row: Some(3),
            detail: "x".into(),
        },
        SheetError::NoSuchSheet {
            name: "A".into(),
            available: vec!["B".into()],
        },
        SheetError::Io(std::io::Error::other("x")),
    ];
    for e in errors {
        assert!(!e.code().is_empty());
        assert!(!e.to_string().is_empty());
    }
}
