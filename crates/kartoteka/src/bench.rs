//! `kartoteka bench …`: benchmarks that print figures with the data size. Each runs on a
//! database of its own (a file beside the configured one on SQLite, or the configured
//! PostgreSQL database), filled with demo records up to the size asked for.

use anyhow::Context;
use clap::Subcommand;
use kartoteka_app::App;
use kartoteka_app::auth::system_actor;
use kartoteka_store::Backend;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::Row;
use std::time::{Duration, Instant};

use crate::config::{Config, Secret};
use crate::startup::{self, Application};

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Identification latency (in-process and over HTTP) beside the raw engine.
    Identify {
        #[arg(long, default_value_t = 1_000_000)]
        records: u64,
        /// Concurrent HTTP clients.
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Seconds of HTTP load.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Filters at scale: first page + count per criterion over HTTP beside the raw engine,
    /// and a bulk add by filter.
    Filter {
        #[arg(long, default_value_t = 1_000_000)]
        records: u64,
        /// Requests per criterion.
        #[arg(long, default_value_t = 20)]
        requests: usize,
    },
    /// Imports of generated CSV and xlsx files (into an empty base, then a full one):
    /// time, rows per second, peak memory.
    Import {
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
        /// Rows of the small xlsx.
        #[arg(long, default_value_t = 20_000)]
        xlsx_rows: u64,
        /// Only the two CSV imports (the workbooks are neither made nor imported).
        #[arg(long)]
        csv_only: bool,
    },
    /// Exports of every record to csv and xlsx: time, rows per second, peak memory.
    Export {
        #[arg(long, default_value_t = 1_000_000)]
        records: u64,
    },
    /// Duplicates: finding groups by phone, e-mail, names + city and seven criteria, the
    /// bulk merge of every phone group, undo of single merges. Runs on a copy of a base of
    /// its own (SQLite: bench-duplicates-N.db; PostgreSQL: <database>_dupbench_N).
    Duplicates {
        #[arg(long, default_value_t = 1_000_000)]
        records: u64,
        /// Percent of the records added as copies of demo persons (besides the demo's own
        /// shared phones and e-mails); used when the base is built.
        #[arg(long, default_value_t = 2.0)]
        copies: f64,
        /// Runs of each search (the best is reported).
        #[arg(long, default_value_t = 2)]
        rounds: usize,
        /// Single merges undone.
        #[arg(long, default_value_t = 20)]
        undos: usize,
        /// Only the searches: no bulk merge, no undo (the base stays as it was).
        #[arg(long)]
        searches_only: bool,
    },
    /// Server time of the web UI's pages (list, search, card) over HTTP.
    Ui {
        #[arg(long, default_value_t = 1_000_000)]
        records: u64,
        /// Requests per page.
        #[arg(long, default_value_t = 50)]
        requests: usize,
    },
}

pub async fn run(config: &Config, command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Identify {
            records,
            clients,
            seconds,
        } => identify(config, records, clients, seconds).await,
        BenchCommand::Ui { records, requests } => ui(config, records, requests).await,
        BenchCommand::Import {
            rows,
            xlsx_rows,
            csv_only,
        } => crate::bench_import::import(config, rows, xlsx_rows, csv_only).await,
        BenchCommand::Export { records } => crate::bench_import::export(config, records).await,
        BenchCommand::Duplicates {
            records,
            copies,
            rounds,
            undos,
            searches_only,
        } => {
            let merges = (!searches_only).then_some(undos);
            crate::bench_duplicates::duplicates(config, records, copies, rounds, merges).await
        }
        BenchCommand::Filter { records, requests } => {
            crate::bench_filter::filter(config, records, requests).await
        }
    }
}

/// The benchmark's own database, filled to `records` demo records.
pub(crate) async fn bench_database(config: &Config, records: u64) -> anyhow::Result<(Config, App)> {
    let mut config = config.clone();
    if config.database_url().starts_with("sqlite:") {
        let file = config.data_dir.join(format!("bench-{records}.db"));
        config.database_url = Some(Secret(format!("sqlite:{}", file.display())));
    }
    let app = startup::open(&config).await?;
    let have: i64 = sqlx::query("SELECT COUNT(*) FROM records")
        .fetch_one(&app.db.pool)
        .await?
        .try_get(0)?;
    if (have as u64) < records {
        let missing = records - have as u64;
        println!("Filling the benchmark database with {missing} demo records…");
        println!(
            "{}",
            crate::demo::fill(&app, missing, 42 + have as u64, true).await?
        );
    }
    Ok((config, app))
}

pub struct Stats {
    pub p50: Duration,
    pub p99: Duration,
    pub count: usize,
}

pub fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let at = |q: f64| {
        samples
            .get(((samples.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    Stats {
        p50: at(0.5),
        p99: at(0.99),
        count: samples.len(),
    }
}

/// The `q` quantile of `samples` (sorts them).
pub(crate) fn percentile(samples: &mut [Duration], q: f64) -> Duration {
    samples.sort();
    samples
        .get(((samples.len() as f64 - 1.0) * q).round() as usize)
        .copied()
        .unwrap_or_default()
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

/// Numbers as people type them, from the stored raw inputs.
async fn sample_numbers(app: &App, n: i64) -> anyhow::Result<Vec<(String, String)>> {
    let total: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) FROM phones")
        .fetch_one(&app.db.pool)
        .await?
        .try_get(0)?;
    let mut rng = StdRng::seed_from_u64(7);
    let mut out = Vec::new();
    while (out.len() as i64) < n && total > 0 {
        let id = rng.random_range(1..=total);
        if let Some(row) = sqlx::query("SELECT raw, number FROM phones WHERE id = $1")
            .bind(id)
            .fetch_optional(&app.db.pool)
            .await?
        {
            out.push((row.try_get(0)?, row.try_get(1)?));
        }
    }
    Ok(out)
}

/// The same lookup done on the engine alone: the number's records, then the card in five
/// statements (record, phones, e-mails, custom values), as PERFORMANCE.md measured it.
fn raw_sqlite(path: &std::path::Path, numbers: &[(String, String)]) -> anyhow::Result<Stats> {
    let conn = rusqlite::Connection::open(path)?;
    let mut samples = Vec::with_capacity(numbers.len());
    for round in 0..2 {
        for (_, e164) in numbers {
            let t = Instant::now();
            let mut find = conn.prepare_cached("SELECT record_id FROM phones WHERE number = ?")?;
            let ids: Vec<i64> = find
                .query_map([e164], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            for id in ids {
                let mut rec = conn.prepare_cached("SELECT * FROM records WHERE id = ?")?;
                let _n: usize = rec.query_map([id], |r| r.get::<_, String>(1))?.count();
                for sql in [
                    "SELECT number, raw, phone_type, extension, is_default FROM phones WHERE record_id = ? ORDER BY position",
                    "SELECT address, is_default FROM emails WHERE record_id = ? ORDER BY position",
                    "SELECT f.key, v.value FROM custom_values v JOIN custom_fields f ON f.id = v.field_id WHERE v.record_id = ?",
                    "SELECT tag FROM record_tags WHERE record_id = ?",
                ] {
                    let mut s = conn.prepare_cached(sql)?;
                    let _n: usize = s.query_map([id], |r| r.get::<_, String>(0))?.count();
                }
            }
            if round == 1 {
                samples.push(t.elapsed());
            }
        }
    }
    Ok(stats(samples))
}

async fn raw_postgres(app: &App, numbers: &[(String, String)]) -> anyhow::Result<Stats> {
    let mut samples = Vec::with_capacity(numbers.len());
    let mut conn = app.db.pool.acquire().await?;
    for round in 0..2 {
        for (_, e164) in numbers {
            let t = Instant::now();
            kartoteka_store::cards::by_contact(&mut *conn, Backend::Postgres, Some(e164), None, 50)
                .await?;
            if round == 1 {
                samples.push(t.elapsed());
            }
        }
    }
    Ok(stats(samples))
}

async fn identify(
    config: &Config,
    records: u64,
    clients: usize,
    seconds: u64,
) -> anyhow::Result<()> {
    let (config, app) = bench_database(config, records).await?;
    let numbers = sample_numbers(&app, 2000).await?;
    anyhow::ensure!(!numbers.is_empty(), "the benchmark database has no phones");
    let count: i64 = sqlx::query("SELECT COUNT(*) FROM records")
        .fetch_one(&app.db.pool)
        .await?
        .try_get(0)?;
    let phones: i64 = sqlx::query("SELECT COUNT(*) FROM phones")
        .fetch_one(&app.db.pool)
        .await?
        .try_get(0)?;
    let size = app.db.size_bytes().await?;
    let engine = match app.db.backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    };
    println!(
        "bench identify: {count} records, {phones} phones, {engine}, database {:.0} MiB, {} sample numbers typed as stored (mixed formats)",
        size as f64 / 1048576.0,
        numbers.len()
    );

    let raw = match (&app.db.backend, &app.db.sqlite_path) {
        (Backend::Sqlite, Some(path)) => raw_sqlite(path, &numbers)?,
        _ => raw_postgres(&app, &numbers).await?,
    };
    println!(
        "  raw engine   lookup + card ({}):  p50 {}  p99 {}",
        if app.db.backend == Backend::Sqlite {
            "rusqlite, 5 statements"
        } else {
            "same SQL, one round trip"
        },
        us(raw.p50),
        us(raw.p99)
    );

    let admin = system_actor();
    let mut samples = Vec::with_capacity(numbers.len());
    for round in 0..2 {
        for (typed, _) in &numbers {
            let t = Instant::now();
            let found = app
                .identify(&admin, Some(typed), None)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if round == 1 {
                samples.push(t.elapsed());
            }
            anyhow::ensure!(!found.matches.is_empty(), "{typed} was not identified");
        }
    }
    let inproc = stats(samples);
    println!(
        "  in-process   app.identify (normalize + records + cards): p50 {}  p99 {}  ({:.1}× raw at p50)",
        us(inproc.p50),
        us(inproc.p99),
        inproc.p50.as_secs_f64() / raw.p50.as_secs_f64().max(1e-9)
    );

    // In-process again, from `clients` concurrent tasks.
    let deadline = Instant::now() + Duration::from_secs(seconds.min(3));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (app, numbers) = (app.clone(), numbers.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0usize;
            let mut i = c * 97;
            while Instant::now() < deadline {
                app.identify(&system_actor(), Some(&numbers[i % numbers.len()].0), None)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                n += 1;
                i += 1;
            }
            Ok::<_, anyhow::Error>(n)
        }));
    }
    let mut done = 0;
    for t in tasks {
        done += t.await.context("a task")??;
    }
    println!(
        "  in-process   {clients} concurrent tasks: {:.0} identifications/s",
        done as f64 / started.elapsed().as_secs_f64()
    );

    // Over HTTP: the real server on a free port, `clients` concurrent clients.
    let mut server_config = config.clone();
    server_config.listen = "127.0.0.1:0".into();
    server_config.max_connections = server_config.max_connections.max(clients as u32);
    let server = Application::build(&server_config).await?;
    let base = format!("http://{}", server.addr);
    let token = server
        .app
        .create_token(&system_actor(), "admin", "bench")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .secret;
    tokio::spawn(server.run());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let urls: Vec<String> = numbers
        .iter()
        .map(|(typed, _)| {
            format!(
                "{base}/api/v1/identify?phone={}",
                typed.replace('+', "%2B").replace(' ', "%20")
            )
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (client, urls, token) = (client.clone(), urls.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = c * 97;
            while Instant::now() < deadline {
                let t = Instant::now();
                let r = client
                    .get(&urls[i % urls.len()])
                    .bearer_auth(&token)
                    .send()
                    .await?;
                anyhow::ensure!(r.status().is_success(), "HTTP {}", r.status());
                r.bytes().await?;
                lat.push(t.elapsed());
                i += 1;
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.context("a client task")??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let http = stats(all);
    println!(
        "  HTTP         GET /api/v1/identify, {clients} clients, {seconds} s: p50 {}  p99 {}  {:.0} identifications/s ({} requests)",
        us(http.p50),
        us(http.p99),
        http.count as f64 / elapsed,
        http.count
    );
    Ok(())
}

/// Each UI page requested `requests` times, one after another, over HTTP on loopback.
async fn ui(config: &Config, records: u64, requests: usize) -> anyhow::Result<()> {
    let (config, app) = bench_database(config, records).await?;
    let count: i64 = sqlx::query("SELECT COUNT(*) FROM records")
        .fetch_one(&app.db.pool)
        .await?
        .try_get(0)?;
    let numbers = sample_numbers(&app, 1).await?;
    let some_id: String =
        sqlx::query("SELECT public_id FROM records ORDER BY id LIMIT 1 OFFSET 1000")
            .fetch_one(&app.db.pool)
            .await?
            .try_get(0)?;
    let mut server_config = config.clone();
    server_config.listen = "127.0.0.1:0".into();
    let password = "bench-password-1";
    let _ = app
        .create_user(
            &system_actor(),
            kartoteka_app::users::NewUser {
                username: "bench-ui".into(),
                display_name: None,
                email: None,
                role: "administrator".into(),
                permissions: vec![],
                password: Some(password.into()),
                locale: None,
                time_zone: None,
            },
        )
        .await;
    let server = Application::build(&server_config).await?;
    let base = format!("http://{}", server.addr);
    tokio::spawn(server.run());
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let r = client
        .post(format!("{base}/login"))
        .form(&[("username", "bench-ui"), ("password", password)])
        .send()
        .await?;
    anyhow::ensure!(r.status().is_redirection(), "log-in failed: {}", r.status());
    let phone = numbers
        .first()
        .map(|(raw, _)| raw.replace('+', "%2B").replace(' ', "%20"))
        .unwrap_or_default();
    println!(
        "bench ui: {count} records, {requests} requests a page, one client, over HTTP (server time + loopback)"
    );
    let pages: Vec<(&str, String, bool)> = vec![
        (
            "list, first page (default sort, with count)",
            "/records".into(),
            false,
        ),
        ("list, page 200", "/records?page=200".into(), false),
        (
            "list sorted by modified, newest first",
            "/records?sort=-modified_at".into(),
            false,
        ),
        (
            "search by last name prefix `Kowal` (partial)",
            "/records?q=Kowal".into(),
            true,
        ),
        (
            "search by phone (partial)",
            format!("/records?q={phone}"),
            true,
        ),
        ("contact card", format!("/records/{some_id}"), false),
        ("new person form", "/records/new?kind=person".into(), false),
    ];
    for (name, path, partial) in pages {
        let mut samples = Vec::with_capacity(requests);
        for i in 0..requests + 3 {
            let mut req = client.get(format!("{base}{path}"));
            if partial {
                req = req.header("hx-request", "true");
            }
            let t = Instant::now();
            let r = req.send().await?;
            anyhow::ensure!(r.status().is_success(), "{path}: HTTP {}", r.status());
            r.bytes().await?;
            if i >= 3 {
                samples.push(t.elapsed());
            }
        }
        let s = stats(samples);
        println!(
            "  {name:<48} p50 {:>7.2} ms  p99 {:>7.2} ms",
            s.p50.as_secs_f64() * 1e3,
            s.p99.as_secs_f64() * 1e3
        );
    }
    Ok(())
}
