//! The file formats, CSV encodings and CSV dialects, by name.

/// A tabular file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
    Xls,
    Ods,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Xls => "xls",
            Format::Ods => "ods",
        }
    }

    /// The inverse of [`Format::as_str`].
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "csv" => Some(Format::Csv),
            "xlsx" => Some(Format::Xlsx),
            "xls" => Some(Format::Xls),
            "ods" => Some(Format::Ods),
            _ => None,
        }
    }

    /// The format a file name's extension promises (case-insensitive; `.txt` and
    /// `.tsv` count as CSV).
    pub fn from_extension(file_name: &str) -> Option<Format> {
        let ext = extension(file_name)?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "txt" | "tsv" => Some(Format::Csv),
            "xlsx" => Some(Format::Xlsx),
            "xls" => Some(Format::Xls),
            "ods" => Some(Format::Ods),
            _ => None,
        }
    }

    /// Whether rows are read as a stream (memory flat whatever the size) rather
    /// than the whole sheet at once.
    pub fn streamed(self) -> bool {
        matches!(self, Format::Csv | Format::Xlsx)
    }

    /// How a person calls a file of this format, in messages.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Format::Csv => "a text (CSV) file",
            Format::Xlsx => "an xlsx workbook",
            Format::Xls => "an xls workbook (Excel 97-2003)",
            Format::Ods => "an ods spreadsheet (OpenDocument)",
        }
    }
}

/// The extension of a file name, without the dot (`None` if it has none).
pub(crate) fn extension(file_name: &str) -> Option<&str> {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    match base.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && !ext.is_empty() => Some(ext),
        _ => None,
    }
}

/// A file name without its folder and extension.
pub(crate) fn stem(file_name: &str) -> &str {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    match base.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => base,
    }
}

/// The text encoding of a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Windows1250,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Windows1250 => "windows-1250",
        }
    }

    /// The inverse of [`Encoding::as_str`] (case-insensitive; also `utf8`, `cp1250`).
    pub fn parse(s: &str) -> Option<Encoding> {
        match s.to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Some(Encoding::Utf8),
            "windows-1250" | "cp1250" => Some(Encoding::Windows1250),
            _ => None,
        }
    }
}

/// How a CSV file is written: its encoding and field delimiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvDialect {
    pub encoding: Encoding,
    /// `b','`, `b';'` or `b'\t'`.
    pub delimiter: u8,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_are_read_whatever_their_case() {
        assert_eq!(Format::from_extension("Kontakty.XLSX"), Some(Format::Xlsx));
        assert_eq!(Format::from_extension("a.b.tsv"), Some(Format::Csv));
        assert_eq!(Format::from_extension("lista.txt"), Some(Format::Csv));
        assert_eq!(Format::from_extension("stare.xls"), Some(Format::Xls));
        assert_eq!(Format::from_extension("x.ods"), Some(Format::Ods));
        assert_eq!(Format::from_extension("raport.pdf"), None);
        assert_eq!(Format::from_extension("csv"), None);
        assert_eq!(Format::from_extension(".csv"), None);
    }

    #[test]
    fn names_round_trip() {
        for f in [Format::Csv, Format::Xlsx, Format::Xls, Format::Ods] {
            assert_eq!(Format::parse(f.as_str()), Some(f));
        }
        for e in [Encoding::Utf8, Encoding::Windows1250] {
            assert_eq!(Encoding::parse(e.as_str()), Some(e));
        }
        assert!(Format::Csv.streamed() && Format::Xlsx.streamed());
        assert!(!Format::Xls.streamed() && !Format::Ods.streamed());
    }

    #[test]
    fn the_stem_drops_folder_and_extension() {
        assert_eq!(stem("dir/Kontakty maj.csv"), "Kontakty maj");
        assert_eq!(stem("C:\\x\\lista.txt"), "lista");
        assert_eq!(stem("noext"), "noext");
    }
}
