//! `kartoteka bench import` and `kartoteka bench export`: generate their own files (the
//! sample's 12 columns plus REGON, postal code, external ID and a dictionary custom field),
//! run the real import and export jobs in-process, and print time, rows per second and
//! peak memory.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use kartoteka_app::App;
use kartoteka_app::auth::system_actor;
use kartoteka_app::fields::FieldInput;
use kartoteka_app::imports::ImportOptions;
use kartoteka_app::jobs::BulkTarget;
use kartoteka_domain::cell::Cell;
use kartoteka_sheets::{OutFormat, SheetWriter};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::Row;

use crate::config::{Config, Secret};
use crate::demo::names::{CITIES, EMAIL_DOMAINS, FEMALE, MALE, SKI_STEMS, STREETS, SURNAMES_PLAIN};
use crate::demo::{pesel, phone_raw, pick, regon};

const HEADERS: [&str; 16] = [
    "Imię",
    "Nazwisko",
    "Telefon",
    "Telefon 2",
    "E-mail",
    "Miasto",
    "Adres",
    "NIP",
    "PESEL",
    "Język",
    "Data ostatniego kontaktu",
    "Wartość umowy (zł)",
    "REGON",
    "Kod pocztowy",
    "ID zewnętrzne",
    "Poziom",
];

/// Peak resident memory since the last reset, in MB (Linux; 0 elsewhere).
fn peak_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Resets the peak-memory mark to the current use.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// One generated contact as the 16 cells of a row (numbers where spreadsheets keep them).
fn row(rng: &mut StdRng, n: u64) -> Vec<Cell> {
    let female = rng.random_bool(0.5);
    let first = pick(rng, if female { FEMALE } else { MALE }).to_string();
    let last = if rng.random_bool(0.45) {
        let stem = pick(rng, SKI_STEMS);
        format!("{stem}{}", if female { "ska" } else { "ski" })
    } else {
        pick(rng, SURNAMES_PLAIN).to_string()
    };
    let (city, postal, _) = CITIES[rng.random_range(0..CITIES.len())];
    let text = |s: String| Cell::Text(s);
    let fold = kartoteka_domain::text::fold;
    let phone2 = if rng.random_bool(0.3) {
        text(phone_raw(rng).0)
    } else {
        Cell::Empty
    };
    let email = if rng.random_bool(0.9) {
        text(format!(
            "{}.{}{n}@{}",
            fold(&first),
            fold(&last),
            pick(rng, EMAIL_DOMAINS)
        ))
    } else {
        Cell::Empty
    };
    vec![
        text(first),
        text(last),
        text(phone_raw(rng).0),
        phone2,
        email,
        text(city.to_string()),
        text(format!(
            "ul. {} {}/{}",
            pick(rng, STREETS),
            rng.random_range(1..200),
            rng.random_range(1..80)
        )),
        if rng.random_bool(0.1) {
            text(crate::demo::nip(rng))
        } else {
            Cell::Empty
        },
        text(pesel(rng, female)),
        text(pick(rng, &["polski", "pl", "angielski", "Polish", "niemiecki"]).to_string()),
        Cell::DateTime(rng.random_range(44_000.0..46_000.0_f64).floor()),
        if rng.random_bool(0.5) {
            Cell::Number((rng.random_range(100..100_000) as f64) / 100.0)
        } else {
            Cell::Empty
        },
        if rng.random_bool(0.1) {
            text(regon(rng))
        } else {
            Cell::Empty
        },
        text(format!("{postal}-{:03}", rng.random_range(0..1000))),
        text(format!("EXT-{n:08}")),
        text(pick(rng, &["Gold", "Silver", "Bronze"]).to_string()),
    ]
}

/// Writes `rows` generated contacts (numbered from `first`) to `path` unless it exists.
fn generate(path: &Path, format: OutFormat, rows: u64, first: u64) -> anyhow::Result<()> {
    if path.exists() {
        return Ok(());
    }
    let started = Instant::now();
    let tmp = path.with_extension("part");
    let mut w = SheetWriter::create(&tmp, format, "Kontakty")?;
    w.write_row(&HEADERS.map(|h| Cell::Text(h.into())))?;
    let mut rng = StdRng::seed_from_u64(first);
    for n in first..first + rows {
        w.write_row(&row(&mut rng, n))?;
    }
    w.finish()?;
    std::fs::rename(&tmp, path)?;
    println!(
        "Generated {} ({rows} rows, {:.0} MB) in {:.1} s",
        path.display(),
        std::fs::metadata(path)?.len() as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A fresh benchmark database (SQLite: a file of its own; PostgreSQL: the configured one,
/// emptied of records).
async fn fresh_database(config: &Config) -> anyhow::Result<App> {
    let mut config = config.clone();
    if config.database_url().starts_with("sqlite:") {
        let file = config.data_dir.join("bench-import.db");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
        }
        config.database_url = Some(Secret(format!("sqlite:{}", file.display())));
    }
    let app = crate::startup::open(&config).await?;
    sqlx::query("DELETE FROM records")
        .execute(&app.db.pool)
        .await?;
    let actor = system_actor();
    if kartoteka_store::fields::by_key(&app.db.pool, "tier")
        .await
        .is_err()
    {
        app.create_field(
            &actor,
            FieldInput {
                key: Some("tier".into()),
                label: Some("Poziom".into()),
                field_type: Some("dictionary".into()),
                options: Some(vec!["Gold".into(), "Silver".into(), "Bronze".into()]),
                ..FieldInput::default()
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("creating the custom field: {e}"))?;
    }
    Ok(app)
}

async fn records(app: &App) -> anyhow::Result<i64> {
    Ok(sqlx::query("SELECT COUNT(*) FROM records")
        .fetch_one(&app.db.pool)
        .await?
        .try_get(0)?)
}

/// Imports `path` through the real job and prints the figures.
async fn import_file(app: &App, path: &Path, label: &str) -> anyhow::Result<()> {
    let actor = system_actor();
    let before = records(app).await?;
    reset_peak();
    let started = Instant::now();
    let upload = app
        .register_import_file(&actor, path)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let job = app
        .start_import(
            &actor,
            &ImportOptions {
                upload: upload.id,
                ..ImportOptions::default()
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    app.run_job(job.id)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let secs = started.elapsed().as_secs_f64();
    let job = app
        .job(&actor, job.id)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let r = &job.result;
    let rows = r["rows"].as_i64().unwrap_or(0);
    println!(
        "{label}: {rows} rows in {secs:.1} s = {:.0} rows/s; created {}, failed {}, state {}{}; peak memory {:.0} MB; base {before} → {} records",
        rows as f64 / secs,
        r["created"],
        r["failed"],
        job.state,
        job.error.map(|e| format!(" ({e})")).unwrap_or_default(),
        peak_mb(),
        records(app).await?,
    );
    Ok(())
}

pub async fn import(
    config: &Config,
    rows: u64,
    xlsx_rows: u64,
    csv_only: bool,
) -> anyhow::Result<()> {
    let dir = config.data_dir.join("bench-files");
    std::fs::create_dir_all(&dir).context("the benchmark's files folder")?;
    let csv1: PathBuf = dir.join(format!("contacts-{rows}-a.csv"));
    let csv2: PathBuf = dir.join(format!("contacts-{rows}-b.csv"));
    let xlsx_small: PathBuf = dir.join(format!("contacts-{xlsx_rows}.xlsx"));
    let xlsx_large: PathBuf = dir.join(format!("contacts-{rows}.xlsx"));
    generate(&csv1, OutFormat::Csv { delimiter: b';' }, rows, 1)?;
    generate(&csv2, OutFormat::Csv { delimiter: b';' }, rows, 10_000_001)?;
    if !csv_only {
        generate(&xlsx_small, OutFormat::Xlsx, xlsx_rows, 20_000_001)?;
        generate(&xlsx_large, OutFormat::Xlsx, rows, 30_000_001)?;
    }
    let app = fresh_database(config).await?;
    println!(
        "Import benchmark on {} ({} rows a file, 16 columns)",
        if app.db.backend == kartoteka_store::Backend::Sqlite {
            "SQLite"
        } else {
            "PostgreSQL"
        },
        rows
    );
    import_file(&app, &csv1, "CSV into an empty base").await?;
    import_file(&app, &csv2, "CSV into a base holding records").await?;
    drop(app);
    if csv_only {
        return Ok(());
    }
    // The workbooks each into an empty base (comparable with the CSV's first figure).
    for (file, label) in [(&xlsx_small, "small xlsx"), (&xlsx_large, "large xlsx")] {
        let app = fresh_database(config).await?;
        import_file(&app, file, &format!("{label} into an empty base")).await?;
    }
    Ok(())
}

pub async fn export(config: &Config, records_wanted: u64) -> anyhow::Result<()> {
    let (_, app) = crate::bench::bench_database(config, records_wanted).await?;
    let actor = system_actor();
    let n = records(&app).await?;
    println!("Export benchmark: {n} records");
    for (format, columns) in [
        ("csv", vec![]),
        ("xlsx", vec![]),
        (
            "csv",
            [
                "id",
                "kind",
                "first_name",
                "last_name",
                "phones",
                "emails",
                "city",
                "address_line1",
                "postal_code",
                "pesel",
                "nip",
                "tags",
                "campaigns",
                "segments",
                "custom.tier",
                "created_at",
            ]
            .map(String::from)
            .to_vec(),
        ),
    ] {
        reset_peak();
        let started = Instant::now();
        let width = if columns.is_empty() {
            10
        } else {
            columns.len()
        };
        let job = app
            .start_export(
                &actor,
                BulkTarget::Filter(Default::default()),
                columns,
                format,
                None,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        app.run_job(job.id)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let secs = started.elapsed().as_secs_f64();
        let job = app
            .job(&actor, job.id)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let rows = job.result["rows"].as_i64().unwrap_or(0);
        println!(
            "{format}, {width} columns: {rows} rows in {secs:.1} s = {:.0} rows/s, {:.0} MB file; state {}; peak memory {:.0} MB",
            rows as f64 / secs,
            job.result["size"].as_f64().unwrap_or(0.0) / 1e6,
            job.state,
            peak_mb()
        );
        if let Some(id) = job.result["download"].as_i64()
            && let Ok(d) = app.download(&actor, id).await
        {
            let _ = std::fs::remove_file(&d.path);
        }
    }
    Ok(())
}
