//! Reading and writing spreadsheets and CSV files (filled in by the sheets work).
