//! Reading a file's columns for an import: CSV dialect and option parsing, the mapping,
//! header names and column letters, the first rows, and the targets a column can take.

use std::path::Path;

use kartoteka_domain::cell::Cell;
use kartoteka_domain::field::FieldDefinition;
use kartoteka_domain::import::{ConvertedRow, RowContext, Target};
use kartoteka_domain::record::{RecordKind, WriteContext};
use kartoteka_sheets::{CsvDialect, Encoding, Format};

use super::{CellProblem, PreviewCell, PreviewRow, TargetChoice};
use crate::records::Definitions;
use crate::{Actor, App, AppError, AppResult};

pub(crate) fn sheet_error(e: kartoteka_sheets::SheetError) -> AppError {
    AppError::invalid("file", e.code(), e.to_string())
}

pub(crate) fn parse_encoding(s: &str) -> AppResult<Encoding> {
    Encoding::parse(s).ok_or_else(|| {
        AppError::invalid(
            "encoding",
            "unknown_encoding",
            "the encoding is utf-8 or windows-1250",
        )
    })
}

pub(crate) fn parse_delimiter(s: &str) -> AppResult<u8> {
    match s {
        "," => Ok(b','),
        ";" => Ok(b';'),
        "\t" | "tab" | "\\t" => Ok(b'\t'),
        _ => Err(AppError::invalid(
            "delimiter",
            "unknown_delimiter",
            "the delimiter is `,`, `;` or a tab",
        )),
    }
}

pub(crate) fn delimiter_text(d: u8) -> String {
    if d == b'\t' {
        "\t".into()
    } else {
        (d as char).to_string()
    }
}

/// The CSV dialect of `upload` with the caller's overrides.
pub(crate) fn dialect(
    upload_encoding: Option<&str>,
    upload_delimiter: Option<&str>,
    encoding: Option<&str>,
    delimiter: Option<&str>,
) -> AppResult<Option<CsvDialect>> {
    let Some(detected_encoding) = upload_encoding else {
        return Ok(None);
    };
    let encoding = parse_encoding(encoding.unwrap_or(detected_encoding))?;
    let delimiter = parse_delimiter(delimiter.or(upload_delimiter).unwrap_or(","))?;
    Ok(Some(CsvDialect {
        encoding,
        delimiter,
    }))
}

/// The kind every row takes (`None`: decided per row).
pub(crate) fn parse_kind(kind: Option<&str>) -> AppResult<Option<RecordKind>> {
    match kind.unwrap_or("auto") {
        "auto" | "" => Ok(None),
        k => RecordKind::parse(k)
            .map(Some)
            .map_err(|e| AppError::field("kind", e)),
    }
}

/// Parses a mapping; a single-value target named twice is refused.
pub(crate) fn parse_mapping(keys: &[String], custom: &[FieldDefinition]) -> AppResult<Vec<Target>> {
    let mut errors = Vec::new();
    let mut targets = Vec::with_capacity(keys.len());
    for (i, k) in keys.iter().enumerate() {
        match Target::parse(k.trim(), custom) {
            Ok(t) => {
                if !t.repeatable()
                    && t != Target::Ignore
                    && targets.iter().any(|o: &Target| o == &t)
                {
                    errors.push(kartoteka_domain::record::FieldError {
                        field: format!("mapping[{i}]"),
                        code: "duplicate_target".into(),
                        message: format!("`{k}` is already the target of another column"),
                    });
                }
                targets.push(t);
            }
            Err(e) => errors.push(kartoteka_domain::record::FieldError::new(
                format!("mapping[{i}]"),
                e,
            )),
        }
    }
    if errors.is_empty() {
        Ok(targets)
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Data rows as read: the row number and its cells.
pub(crate) type NumberedRows = Vec<(u64, Vec<Cell>)>;

/// The header row and up to `limit` data rows of a sheet (blocking: call off the runtime).
pub(crate) fn read_head(
    path: &Path,
    format: Format,
    sheet: Option<&str>,
    csv: Option<CsvDialect>,
    limit: usize,
) -> AppResult<(Vec<String>, NumberedRows)> {
    let mut rows = kartoteka_sheets::open_rows(path, format, sheet, csv).map_err(sheet_error)?;
    let mut headers = None;
    let mut data = Vec::new();
    for row in rows.by_ref() {
        let row = row.map_err(sheet_error)?;
        if headers.is_none() {
            if row.cells.iter().all(Cell::is_blank) {
                continue;
            }
            headers = Some(header_names(&row.cells));
            continue;
        }
        data.push((row.number, row.cells));
        if data.len() >= limit {
            break;
        }
    }
    let Some(headers) = headers else {
        return Err(AppError::invalid(
            "file",
            "empty_sheet",
            "the sheet is empty: no header row and no data",
        ));
    };
    if !data.iter().any(|(_, c)| !c.iter().all(Cell::is_blank)) {
        return Err(AppError::invalid(
            "file",
            "no_data",
            "the sheet has a header row but no data rows",
        ));
    }
    Ok((headers, data))
}

/// Header texts; an empty header is named by its column letter, a repeated one gets ` (2)`.
pub(crate) fn header_names(cells: &[Cell]) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(cells.len());
    for (i, c) in cells.iter().enumerate() {
        let base = match c.display().trim() {
            "" => column_letter(i),
            t => t.to_string(),
        };
        let mut name = base.clone();
        let mut n = 2;
        while names.contains(&name) {
            name = format!("{base} ({n})");
            n += 1;
        }
        names.push(name);
    }
    names
}

/// `A`, `B`, … `Z`, `AA` …: the spreadsheet's name of column `i` (from 0).
pub fn column_letter(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8_lossy(&s).into_owned()
}

pub(crate) fn row_context<'a>(
    app: &'a App,
    actor: &Actor,
    defs: &'a Definitions,
    kind: Option<RecordKind>,
) -> RowContext<'a> {
    RowContext {
        write: WriteContext {
            kind: kind.unwrap_or(RecordKind::Person),
            default_region: &app.settings.default_region,
            zone: app.settings.zone,
            custom_fields: &defs.custom,
            dictionaries: &defs.dictionaries,
            bound_by_flags: actor.bound_by_field_flags(),
            creating: true,
        },
        kind,
    }
}

pub(crate) fn preview_row(
    number: u64,
    cells: &[Cell],
    converted: &ConvertedRow,
    width: usize,
) -> PreviewRow {
    let mut out: Vec<PreviewCell> = (0..width.max(cells.len()))
        .map(|i| PreviewCell {
            value: cells.get(i).map(Cell::display).unwrap_or_default(),
            error: None,
            note: None,
        })
        .collect();
    let mut row_error = None;
    for e in &converted.errors {
        let problem = CellProblem {
            code: e.code.clone(),
            message: e.message.clone(),
        };
        match out.get_mut(e.column) {
            Some(c) => c.error = Some(problem),
            None => row_error = Some(problem),
        }
    }
    for r in &converted.repairs {
        if let Some(c) = out.get_mut(r.column) {
            c.note = Some(CellProblem {
                code: r.code.to_string(),
                message: r.message.clone(),
            });
        }
    }
    PreviewRow {
        row: number,
        cells: out,
        error: row_error,
    }
}

/// Every target a column can take.
pub fn target_choices(custom: &[FieldDefinition]) -> Vec<TargetChoice> {
    let mut out = vec![TargetChoice {
        key: String::new(),
        group: "other".into(),
        label: None,
    }];
    let system = |k: &str| TargetChoice {
        key: k.to_string(),
        group: "system".into(),
        label: None,
    };
    out.push(system("kind"));
    out.extend(
        kartoteka_domain::record::TEXT_FIELDS
            .iter()
            .map(|k| system(k)),
    );
    out.extend(
        kartoteka_domain::phone::PhoneType::ALL
            .iter()
            .map(|t| TargetChoice {
                key: Target::Phone(*t).key(),
                group: "phone".into(),
                label: None,
            }),
    );
    out.push(TargetChoice {
        key: "email".into(),
        group: "email".into(),
        label: None,
    });
    out.push(TargetChoice {
        key: "tags".into(),
        group: "other".into(),
        label: None,
    });
    out.extend(custom.iter().map(|f| TargetChoice {
        key: format!("custom.{}", f.key),
        group: "custom".into(),
        label: Some(f.label.clone()),
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_named_by_letters_like_a_spreadsheet() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }

    #[test]
    fn repeated_and_empty_headers_get_names_of_their_own() {
        let cells = vec![
            Cell::Text("Telefon".into()),
            Cell::Empty,
            Cell::Text("Telefon".into()),
        ];
        assert_eq!(header_names(&cells), vec!["Telefon", "B", "Telefon (2)"]);
    }
}
