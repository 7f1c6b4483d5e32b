//! What can go wrong reading or writing a file, with a stable code for each kind.

/// An error reading or writing a tabular file. [`SheetError::code`] is stable for
/// callers; the message (Display) is for people.
#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error("the file is empty")]
    EmptyFile,
    /// The bytes say one format and the name another (the message names both), or
    /// the bytes are no format read here.
    #[error("{0}")]
    FormatMismatch(String),
    /// The name ends in an extension that is not csv, txt, tsv, xlsx, xls or ods.
    #[error("{0}")]
    UnknownFormat(String),
    #[error("the file is damaged or incomplete ({0})")]
    Corrupt(String),
    #[error("the file is password-protected: save it without a password and try again")]
    PasswordProtected,
    /// Text in no supported encoding (UTF-8, Windows-1250); `row` when known.
    #[error("{}", encoding_message(*.row, .detail))]
    Encoding { row: Option<u64>, detail: String },
    #[error("there is no sheet named \"{name}\"; the sheets are: {}", sheet_list(.available))]
    NoSuchSheet {
        name: String,
        available: Vec<String>,
    },
    #[error("could not read or write the file: {0}")]
    Io(#[from] std::io::Error),
    /// The xlsx writer refused something (too many columns, a bad sheet name, …).
    #[error("could not write the spreadsheet: {0}")]
    Write(String),
}

impl SheetError {
    /// A short stable code: `empty_file`, `format_mismatch`, `unknown_format`,
    /// `corrupt`, `password_protected`, `encoding`, `no_such_sheet`, `io`, `write`.
    pub fn code(&self) -> &'static str {
        match self {
            SheetError::EmptyFile => "empty_file",
            SheetError::FormatMismatch(_) => "format_mismatch",
            SheetError::UnknownFormat(_) => "unknown_format",
            SheetError::Corrupt(_) => "corrupt",
            SheetError::PasswordProtected => "password_protected",
            SheetError::Encoding { .. } => "encoding",
            SheetError::NoSuchSheet { .. } => "no_such_sheet",
            SheetError::Io(_) => "io",
            SheetError::Write(_) => "write",
        }
    }
}

fn encoding_message(row: Option<u64>, detail: &str) -> String {
    let head = "the text is neither UTF-8 nor Windows-1250";
    match row {
        Some(r) => format!("{head} (row {r}: {detail}); save the file as UTF-8 CSV"),
        None => format!("{head} ({detail}); save the file as UTF-8 CSV"),
    }
}

fn sheet_list(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names
            .iter()
            .map(|n| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// An error from calamine, by its kind.
pub(crate) fn from_calamine_xlsx(e: calamine::XlsxError) -> SheetError {
    use calamine::XlsxError as E;
    match e {
        E::Io(io) => SheetError::Io(io),
        E::Password => SheetError::PasswordProtected,
        E::WorksheetNotFound(name) => SheetError::NoSuchSheet {
            name,
            available: Vec::new(),
        },
        other => SheetError::Corrupt(other.to_string()),
    }
}

pub(crate) fn from_calamine_xls(e: calamine::XlsError) -> SheetError {
    use calamine::XlsError as E;
    match e {
        E::Io(io) => SheetError::Io(io),
        E::Password => SheetError::PasswordProtected,
        other => SheetError::Corrupt(other.to_string()),
    }
}

pub(crate) fn from_calamine_ods(e: calamine::OdsError) -> SheetError {
    use calamine::OdsError as E;
    match e {
        E::Io(io) => SheetError::Io(io),
        E::Password => SheetError::PasswordProtected,
        other => SheetError::Corrupt(other.to_string()),
    }
}

impl From<csv::Error> for SheetError {
    fn from(e: csv::Error) -> Self {
        let line = e.position().map(|p| p.line());
        match e.into_kind() {
            csv::ErrorKind::Io(io) => SheetError::Io(io),
            csv::ErrorKind::Utf8 { err, .. } => SheetError::Encoding {
                row: line,
                detail: err.to_string(),
            },
            other => SheetError::Corrupt(format!("{other:?}")),
        }
    }
}

impl From<rust_xlsxwriter::XlsxError> for SheetError {
    fn from(e: rust_xlsxwriter::XlsxError) -> Self {
        match e {
            rust_xlsxwriter::XlsxError::IoError(io) => SheetError::Io(io),
            other => SheetError::Write(other.to_string()),
        }
    }
}
