//! Shows what a file is and its first rows, as the import would see them:
//! `cargo run -p kartoteka-sheets --example dump -- FILE [SHEET] [ROWS]`.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(args.next().ok_or("usage: dump FILE [SHEET] [ROWS]")?);
    let sheet = args.next().filter(|s| !s.is_empty());
    let limit: usize = args.next().map_or(Ok(10), |n| n.parse())?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();

    let found =
        kartoteka_sheets::inspect(&path, &name).map_err(|e| format!("{}: {e}", e.code()))?;
    println!("format: {}", found.format.as_str());
    if let Some(d) = found.csv {
        println!(
            "encoding: {}, delimiter: {:?}",
            d.encoding.as_str(),
            d.delimiter as char
        );
    }
    println!("sheets: {}", found.sheets.join(", "));

    let rows = kartoteka_sheets::open_rows(&path, found.format, sheet.as_deref(), found.csv)?;
    let mut total = 0u64;
    for row in rows {
        let row = row.map_err(|e| format!("{}: {e}", e.code()))?;
        if (total as usize) < limit {
            let cells: Vec<String> = row.cells.iter().map(|c| format!("{c:?}")).collect();
            println!("{:>7}: {}", row.number, cells.join(" | "));
        }
        total += 1;
    }
    println!("{total} rows");
    Ok(())
}
