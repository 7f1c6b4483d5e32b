//! `kartoteka bench duplicates`: finding duplicate groups by phone, by e-mail, by first +
//! last name + city and by seven criteria; the bulk merge of every phone group; undo of
//! single merges. The base is the demo's (about 3 % of its phones and e-mails are shared
//! by design) plus copies the benchmark adds: `--copies` percent of the records are copies
//! of demo persons typed differently (phone formats, letter case) with some data of their
//! own (an extra phone or e-mail, other fields, cases, segments), a third of them as pairs
//! of a sole trader with a NIP and its copy, so that all seven criteria find something.
//!
//! A merge changes the base, so every run starts from a pristine copy: on SQLite the file
//! `bench-duplicates-N.db` (built once) is copied to `bench-duplicates-run.db`; on
//! PostgreSQL the database `<configured>_dupbench_N` (built once) is the template of
//! `<configured>_dupbench_run`, created anew each run.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use kartoteka_app::App;
use kartoteka_app::auth::system_actor;
use kartoteka_app::duplicates::{GroupQuery, MergeRequest};
use kartoteka_domain::ids::PublicId;
use kartoteka_domain::phone::parse_phone;
use kartoteka_domain::record::{EmailAddress, Phone, RecordKind};
use kartoteka_domain::time::now_ms;
use kartoteka_store::Backend;
use kartoteka_store::bulk::{self, NewCase, NewRecord};
use kartoteka_store::cards::{self, Card};
use kartoteka_store::groups::{self, GroupKind};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::Row;

use crate::bench::percentile;
use crate::config::{Config, Secret};
use crate::demo::names::CLASSIFIERS;

fn app_err(e: kartoteka_app::AppError) -> anyhow::Error {
    match e {
        kartoteka_app::AppError::Unexpected(m) => anyhow::anyhow!("unexpected error: {m}"),
        e => anyhow::anyhow!("{e:?}"),
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// A PostgreSQL URL with another database name.
fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let (base, rest) = url
        .rsplit_once('/')
        .context("a PostgreSQL URL ends with /database")?;
    let query = rest.split_once('?').map(|(_, q)| format!("?{q}"));
    Ok(format!("{base}/{name}{}", query.unwrap_or_default()))
}

fn database_name(url: &str) -> String {
    url.rsplit_once('/')
        .map(|(_, r)| r.split('?').next().unwrap_or(r).to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "postgres".into())
}

async fn pg_exists(pool: &sqlx::AnyPool, name: &str) -> anyhow::Result<bool> {
    Ok(sqlx::query("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(pool)
        .await?
        .is_some())
}

async fn pg_exec(pool: &sqlx::AnyPool, sql: String) -> anyhow::Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(pool).await?;
    Ok(())
}

/// Opens the run's database, a pristine copy of the base (built first when missing).
async fn run_database(config: &Config, records: u64, copies: f64) -> anyhow::Result<App> {
    let url = config.database_url();
    let mut run_config = config.clone();
    if url.starts_with("sqlite:") {
        let dir = &config.data_dir;
        std::fs::create_dir_all(dir)?;
        let base = dir.join(format!("bench-duplicates-{records}.db"));
        let run = dir.join("bench-duplicates-run.db");
        if !base.exists() {
            let building = dir.join(format!("bench-duplicates-{records}.building.db"));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", building.display()));
            }
            let mut c = config.clone();
            c.database_url = Some(Secret(format!("sqlite:{}", building.display())));
            let app = crate::startup::open(&c).await?;
            build_base(&app, records, copies).await?;
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&app.db.pool)
                .await?;
            app.db.pool.close().await;
            std::fs::rename(&building, &base)?;
            for suffix in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", building.display()));
            }
        }
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", run.display()));
        }
        let started = Instant::now();
        std::fs::copy(&base, &run).context("copying the base")?;
        // Written to disk now: otherwise the first search's commit checkpoints into a file
        // whose 1.6 GB are still dirty in the page cache, and its fsync waits for them all
        // (0.65 s on the first phone search).
        std::fs::File::open(&run)
            .and_then(|f| f.sync_all())
            .context("syncing the copy")?;
        println!(
            "(copied the pristine base {} in {})",
            base.display(),
            secs(started.elapsed())
        );
        run_config.database_url = Some(Secret(format!("sqlite:{}", run.display())));
    } else {
        sqlx::any::install_default_drivers();
        let admin = sqlx::AnyPool::connect(&url).await?;
        let stem = format!("{}_dupbench", database_name(&url));
        let base = format!("{stem}_{records}");
        let run = format!("{stem}_run");
        if !pg_exists(&admin, &base).await? {
            let building = format!("{base}_building");
            pg_exec(
                &admin,
                format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"),
            )
            .await?;
            pg_exec(&admin, format!("CREATE DATABASE {building}")).await?;
            let mut c = config.clone();
            c.database_url = Some(Secret(with_database(&url, &building)?));
            let app = crate::startup::open(&c).await?;
            build_base(&app, records, copies).await?;
            app.db.pool.close().await;
            pg_exec(
                &admin,
                format!("ALTER DATABASE {building} RENAME TO {base}"),
            )
            .await?;
        }
        pg_exec(
            &admin,
            format!("DROP DATABASE IF EXISTS {run} WITH (FORCE)"),
        )
        .await?;
        let started = Instant::now();
        pg_exec(&admin, format!("CREATE DATABASE {run} TEMPLATE {base}")).await?;
        println!(
            "(copied the pristine base {base} to {run} in {})",
            secs(started.elapsed())
        );
        admin.close().await;
        run_config.database_url = Some(Secret(with_database(&url, &run)?));
    }
    crate::startup::open(&run_config).await
}

/// The demo records, then the copies.
async fn build_base(app: &App, records: u64, copies: f64) -> anyhow::Result<()> {
    let extra = ((records as f64) * copies / 100.0).round() as u64;
    let demo = records.saturating_sub(extra);
    println!("Building the base: {demo} demo records, then {extra} copies…");
    println!("{}", crate::demo::fill(app, demo, 42, true).await?);
    let started = Instant::now();
    let added = add_copies(app, extra).await?;
    println!("Added {added} copies in {}.", secs(started.elapsed()));
    if app.db.backend == Backend::Sqlite {
        sqlx::query("PRAGMA optimize").execute(&app.db.pool).await?;
    } else {
        sqlx::query("VACUUM (ANALYZE)")
            .execute(&app.db.pool)
            .await?;
    }
    Ok(())
}

/// A number in E.164 typed another way.
fn retyped(rng: &mut StdRng, e164: &str) -> String {
    let n = e164.strip_prefix("+48").unwrap_or(e164);
    if n.len() != 9 || !e164.starts_with("+48") {
        return e164.to_string();
    }
    match rng.random_range(0..4) {
        0 => format!("{} {} {}", &n[0..3], &n[3..6], &n[6..9]),
        1 => format!("0048 {}-{}-{}", &n[0..3], &n[3..6], &n[6..9]),
        2 => format!("+48 {n}"),
        _ => n.to_string(),
    }
}

struct Copier {
    rng: StdRng,
    now: i64,
    campaigns: Vec<i64>,
    segments: Vec<i64>,
}

impl Copier {
    /// A copy of `src` typed differently, with some data of its own.
    fn copy(&mut self, src: &NewRecord) -> NewRecord {
        let rng = &mut self.rng;
        let mut data = src.data.clone();
        for p in &mut data.phones {
            p.raw = retyped(rng, &p.number);
        }
        if data.phones.len() > 1 && rng.random_bool(0.3) {
            data.phones.pop();
        }
        if rng.random_bool(0.3) {
            let (raw, phone_type) = crate::demo::phone_raw(rng);
            if let Ok(p) = parse_phone(&raw, "PL")
                && !data.phones.iter().any(|q| q.number == p.e164)
            {
                data.phones.push(Phone {
                    number: p.e164,
                    raw,
                    phone_type,
                    extension: p.extension,
                    default: false,
                });
            }
        }
        for e in &mut data.emails {
            if rng.random_bool(0.5) {
                e.address = e.address.to_uppercase();
            }
        }
        if rng.random_bool(0.2) {
            let local = format!("kontakt{}", rng.random_range(0..1_000_000));
            data.emails.push(EmailAddress {
                address: format!("{local}@example.pl"),
                default: false,
            });
        }
        for (i, p) in data.phones.iter_mut().enumerate() {
            p.default = i == 0;
        }
        for (i, e) in data.emails.iter_mut().enumerate() {
            e.default = i == 0;
        }
        if rng.random_bool(0.3)
            && let Some(l) = data.fields.get_mut("last_name")
        {
            *l = l.to_uppercase();
        }
        if rng.random_bool(0.5) {
            data.fields.insert(
                "stage".into(),
                crate::demo::pick(rng, &["lead", "prospect", "customer", "former"]).into(),
            );
        }
        if rng.random_bool(0.3) {
            data.custom.insert(
                "tier".into(),
                crate::demo::pick(rng, &["Gold", "Silver", "Bronze"]).into(),
            );
        }
        if rng.random_bool(0.3) {
            data.tags.push("kopia".into());
            data.tags.sort();
            data.tags.dedup();
        }
        let created_at =
            (src.created_at + rng.random_range(3_600_000..90 * 86_400_000i64)).min(self.now);
        let cases = if !self.campaigns.is_empty() && rng.random_bool(0.4) {
            let campaign_id = self.campaigns[rng.random_range(0..self.campaigns.len())];
            let given = rng.random_range(0..3);
            let classifiers = (0..given)
                .map(|i| {
                    (
                        CLASSIFIERS[rng.random_range(0..CLASSIFIERS.len())]
                            .0
                            .to_string(),
                        (created_at + (i as i64 + 1) * 3_600_000).min(self.now),
                    )
                })
                .collect();
            vec![NewCase {
                campaign_id,
                assigned_to: None,
                status: Some("in_progress".into()),
                classifiers,
                attempts: given as i64,
                last_call_type: None,
                last_call_status: None,
                recontact_at: None,
            }]
        } else {
            Vec::new()
        };
        let segments = if !self.segments.is_empty() && rng.random_bool(0.25) {
            vec![self.segments[rng.random_range(0..self.segments.len())]]
        } else {
            Vec::new()
        };
        NewRecord {
            public_id: PublicId::generate().as_str().to_string(),
            kind: src.kind,
            data,
            organization_in_batch: None,
            organization_id: None,
            created_at,
            created_by: None,
            source: "import".into(),
            cases,
            segments,
        }
    }
}

/// The stored card as a record to load (without its cases and segments).
fn as_new(card: &Card) -> NewRecord {
    let mut data = card.data.clone();
    data.organization = None;
    data.managers.clear();
    NewRecord {
        public_id: card.public_id.clone(),
        kind: card.kind,
        data,
        organization_in_batch: None,
        organization_id: None,
        created_at: card.created_at,
        created_by: None,
        source: "import".into(),
        cases: Vec::new(),
        segments: Vec::new(),
    }
}

/// Adds `extra` copies of random demo persons (a third as a sole trader with a NIP plus
/// its copy); answers how many records it added.
async fn add_copies(app: &App, extra: u64) -> anyhow::Result<u64> {
    let pool = &app.db.pool;
    let field_ids: HashMap<String, i64> = kartoteka_store::fields::list(pool)
        .await?
        .into_iter()
        .map(|f| (f.def.key, f.id))
        .collect();
    let max_id: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) FROM records")
        .fetch_one(pool)
        .await?
        .try_get(0)?;
    let campaigns = groups::list(pool, GroupKind::Campaign)
        .await?
        .iter()
        .map(|g| g.id)
        .collect();
    let segments = groups::list(pool, GroupKind::Segment)
        .await?
        .iter()
        .map(|g| g.id)
        .collect();
    let mut copier = Copier {
        rng: StdRng::seed_from_u64(4242),
        now: now_ms(),
        campaigns,
        segments,
    };
    let mut loader = match &app.db.sqlite_path {
        Some(path) => Some(bulk::SqliteLoader::open(path)?),
        None => None,
    };
    let mut added = 0u64;
    while added < extra && max_id > 0 {
        let ids: Vec<i64> = (0..2_000)
            .map(|_| copier.rng.random_range(1..=max_id))
            .collect();
        let sources = cards::by_ids(pool, app.db.backend, &ids).await?;
        let mut batch: Vec<NewRecord> = Vec::new();
        for card in sources.iter().filter(|c| c.kind == RecordKind::Person) {
            if added >= extra {
                break;
            }
            let src = as_new(card);
            if extra - added >= 2 && copier.rng.random_bool(1.0 / 3.0) {
                // A sole trader: the person again with a NIP, and a copy of that.
                let mut trader = copier.copy(&src);
                trader
                    .data
                    .fields
                    .insert("nip".into(), crate::demo::nip(&mut copier.rng));
                for p in &mut trader.data.phones {
                    p.raw = p.number.clone();
                }
                let copy = copier.copy(&trader);
                batch.push(trader);
                batch.push(copy);
                added += 2;
            } else {
                batch.push(copier.copy(&src));
                added += 1;
            }
        }
        if batch.is_empty() {
            continue;
        }
        loader = match loader {
            Some(mut l) => {
                let ids = field_ids.clone();
                let (l, r) = tokio::task::spawn_blocking(move || {
                    let r = l.insert(&mut batch, &ids);
                    (l, r)
                })
                .await?;
                r.context("inserting copies")?;
                Some(l)
            }
            None => {
                let mut t = app.db.begin_write().await?;
                let first = bulk::next_record_id(&mut t).await?;
                bulk::insert_records(&mut t, first, &mut batch, &field_ids)
                    .await
                    .context("inserting copies")?;
                t.commit().await?;
                None
            }
        };
    }
    let mut t = app.db.begin_write().await?;
    bulk::sync_sequences(&mut t, app.db.backend).await?;
    t.commit().await?;
    Ok(added)
}

async fn count(app: &App, sql: &str) -> anyhow::Result<i64> {
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&app.db.pool)
        .await?
        .try_get(0)?)
}

/// One timed search: (search ID, wall time, the job's result, the counts).
struct Searched {
    id: i64,
    wall: Duration,
    find: f64,
    job: f64,
    view: kartoteka_app::duplicates::SearchView,
}

async fn search(app: &App, criteria: &[&str]) -> anyhow::Result<Searched> {
    let actor = system_actor();
    let keys: Vec<String> = criteria.iter().map(|c| c.to_string()).collect();
    let started = Instant::now();
    let job = app
        .start_duplicate_search(&actor, &keys, None)
        .await
        .map_err(app_err)?;
    app.run_job(job.id).await.map_err(app_err)?;
    let wall = started.elapsed();
    let view = app
        .duplicate_search(&actor, job.id)
        .await
        .map_err(app_err)?;
    anyhow::ensure!(
        view.job.state == "done",
        "search {}: {} {:?}",
        job.id,
        view.job.state,
        view.job.error
    );
    Ok(Searched {
        id: job.id,
        wall,
        find: view.job.result["seconds_to_find"].as_f64().unwrap_or(0.0),
        job: view.job.result["seconds"].as_f64().unwrap_or(0.0),
        view,
    })
}

/// The statement the store runs to bucket a many-valued criterion, alone.
async fn raw_buckets(app: &App, table: &str, column: &str) -> anyhow::Result<(Duration, usize)> {
    let sql = format!(
        "SELECT {column}, record_id FROM {table} WHERE {column} IN \
         (SELECT {column} FROM {table} GROUP BY {column} HAVING COUNT(*) > 1) ORDER BY {column}"
    );
    let started = Instant::now();
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&app.db.pool)
        .await?;
    Ok((started.elapsed(), rows.len()))
}

pub async fn duplicates(
    config: &Config,
    records: u64,
    copies: f64,
    rounds: usize,
    undos: Option<usize>,
) -> anyhow::Result<()> {
    let app = run_database(config, records, copies).await?;
    let actor = system_actor();
    let total = count(&app, "SELECT COUNT(*) FROM records").await?;
    let phones = count(&app, "SELECT COUNT(*) FROM phones").await?;
    let emails = count(&app, "SELECT COUNT(*) FROM emails").await?;
    let engine = match app.db.backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    };
    println!(
        "bench duplicates: {total} records ({copies} % added as copies), {phones} phones, {emails} e-mails, {engine}, database {:.0} MiB",
        app.db.size_bytes().await? as f64 / 1048576.0
    );

    // Finding groups.
    let (t, n) = raw_buckets(&app, "phones", "number").await?;
    println!(
        "  raw statement: phones sharing a number, with their records: {n} rows in {}",
        secs(t)
    );
    let (t, n) = raw_buckets(&app, "emails", "address_norm").await?;
    println!(
        "  raw statement: e-mails sharing an address, with their records: {n} rows in {}",
        secs(t)
    );
    let searches: [(&str, &[&str], &str); 4] = [
        ("phone", &["phone"], "< 1 s"),
        ("e-mail", &["email"], "< 1 s"),
        (
            "first + last name + city",
            &["first_name", "last_name", "city"],
            "< 1 s",
        ),
        (
            "seven: phone, e-mail, first, last, city, PESEL, NIP",
            &[
                "phone",
                "email",
                "first_name",
                "last_name",
                "city",
                "pesel",
                "nip",
            ],
            "< 3 s",
        ),
    ];
    let mut phone_search = None;
    for (label, criteria, target) in searches {
        let mut runs = Vec::new();
        let mut best: Option<Searched> = None;
        for _ in 0..rounds.max(1) {
            let s = search(&app, criteria).await?;
            runs.push((s.wall, s.find));
            if best.as_ref().is_none_or(|b| s.wall < b.wall) {
                best = Some(s);
            }
        }
        let s = best.context("no search ran")?;
        println!(
            "  find by {label}: {} groups, {} records (ready {}, removing {}; held {}{}): {} best of {} [{}] (target {target}); that run: finding {:.2} s, building and storing the groups {:.2} s, job bookkeeping {:.2} s",
            s.view.groups,
            s.view.records,
            s.view.ready,
            s.view.ready_removes,
            s.view.held,
            if s.view.held > 0 {
                format!(" {}", s.view.held_by_reason)
            } else {
                String::new()
            },
            secs(s.wall),
            runs.len(),
            runs.iter()
                .map(|(d, find)| format!("{:.2} (finding {find:.2})", d.as_secs_f64()))
                .collect::<Vec<_>>()
                .join(", "),
            s.find,
            s.job - s.find,
            (s.wall.as_secs_f64() - s.job).max(0.0),
        );
        if label == "phone" {
            phone_search = Some(s);
        }
    }
    let phone_search = phone_search.context("no phone search")?;
    let Some(undos) = undos else {
        return Ok(());
    };

    // Where a merge's time goes, read-only: the cards and the snapshots of 200 groups.
    let sample = app
        .duplicate_groups(
            &actor,
            phone_search.id,
            &GroupQuery {
                show: Some("ready".into()),
                sort: Some("found".into()),
                offset: Some(0),
                limit: Some(200),
            },
        )
        .await
        .map_err(app_err)?;
    let pids: Vec<String> = sample
        .items
        .iter()
        .flat_map(|g| g.records.iter().map(|m| m.id.clone()))
        .collect();
    let mut conn = app.db.pool.acquire().await?;
    let resolved = kartoteka_store::bulk_ops::resolve(&mut conn, &pids).await?;
    let ids: Vec<i64> = pids
        .iter()
        .filter_map(|p| resolved.get(p).copied())
        .collect();
    // As the bulk job reads a chunk: every snapshot at once, then the cards from them.
    let started = Instant::now();
    let images =
        kartoteka_store::merge::images(&mut conn, app.db.backend, app.db.reader.as_ref(), &ids)
            .await?;
    let t_images = started.elapsed();
    let started = Instant::now();
    kartoteka_store::merge::cards_of_images(&mut conn, app.db.backend, &images).await?;
    let t_cards = started.elapsed();
    let snapshot_bytes: usize = images
        .values()
        .map(|i| serde_json::to_string(i).map(|s| s.len()).unwrap_or(0))
        .sum();
    drop(conn);
    let groups_n = sample.items.len().max(1) as f64;

    // The bulk merge of every ready phone group.
    let started = Instant::now();
    let job = app
        .start_duplicate_bulk(
            &actor,
            phone_search.id,
            "merge",
            Some(phone_search.view.ready_removes),
        )
        .await
        .map_err(app_err)?;
    app.run_job(job.id).await.map_err(app_err)?;
    let wall = started.elapsed();
    let done = app.job(&actor, job.id).await.map_err(app_err)?;
    anyhow::ensure!(
        done.state == "done",
        "the bulk merge {}: {:?}",
        done.state,
        done.error
    );
    let merged = done.result["groups"].as_i64().unwrap_or(0);
    let per_group = wall.as_secs_f64() / merged.max(1) as f64;
    println!(
        "  bulk merge of every ready phone group: {merged} groups, {} records removed, {} skipped, {} failed in {} = {:.0} groups/s (target < 60 s at 1M)",
        done.result["removed"],
        done.result["skipped"],
        done.result["failed"].as_array().map_or(0, Vec::len),
        secs(wall),
        merged as f64 / wall.as_secs_f64().max(1e-9),
    );
    if let Some(phases) = done.result["seconds_by_phase"].as_object() {
        let list: Vec<String> = phases.iter().map(|(p, s)| format!("{p} {s} s")).collect();
        println!(
            "    by phase (all chunks but the last one's commit): {}",
            list.join(", ")
        );
    }
    let snap: (i64, i64) = {
        let row = sqlx::query(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(snapshot)), 0) FROM merge_operations WHERE job_id = $1",
        )
        .bind(job.id)
        .fetch_one(&app.db.pool)
        .await?;
        (row.try_get(0)?, row.try_get(1)?)
    };
    println!(
        "    per group {:.2} ms: its cards from the snapshots {:.2} ms, snapshotting its records ({} tables) {:.2} ms (read-only, one chunk of 200 groups as the job reads it), the rest (merged data, writes, moving links, deleting, journal with snapshot) {:.2} ms; {} operations journaled, snapshots {:.1} MiB ({:.1} KiB an operation; sample {:.1} KiB a group)",
        per_group * 1e3,
        t_cards.as_secs_f64() * 1e3 / groups_n,
        kartoteka_store::merge::RELATED.len() + 1,
        t_images.as_secs_f64() * 1e3 / groups_n,
        (per_group - (t_cards + t_images).as_secs_f64() / groups_n) * 1e3,
        snap.0,
        snap.1 as f64 / 1048576.0,
        snap.1 as f64 / 1024.0 / snap.0.max(1) as f64,
        snapshot_bytes as f64 / 1024.0 / groups_n,
    );

    // Undo of single merges: operations of the bulk job, spread over it.
    let mut conn = app.db.pool.acquire().await?;
    let ops = kartoteka_store::merge::operation_ids_of_job(&mut conn, job.id).await?;
    drop(conn);
    let step = (ops.len() / undos.max(1)).max(1);
    let chosen: Vec<i64> = ops.iter().step_by(step).take(undos).copied().collect();
    let mut undo_times = Vec::new();
    let mut restored: Vec<(String, Vec<String>)> = Vec::new();
    for op in &chosen {
        let started = Instant::now();
        let v = app.undo_merge(&actor, *op).await.map_err(app_err)?;
        undo_times.push(started.elapsed());
        restored.push((v.main.clone(), v.removed.clone()));
    }
    // The same groups merged again by hand, one request each, then undone again.
    let mut merge_times = Vec::new();
    let mut again = Vec::new();
    for (main, removed) in &restored {
        let mut records = vec![main.clone()];
        records.extend(removed.iter().cloned());
        let started = Instant::now();
        let op = app
            .merge_records(
                &actor,
                &MergeRequest {
                    records,
                    main: Some(main.clone()),
                    ..MergeRequest::default()
                },
            )
            .await
            .map_err(app_err)?;
        merge_times.push(started.elapsed());
        again.push(op.id);
    }
    let mut undo2 = Vec::new();
    for op in &again {
        let started = Instant::now();
        app.undo_merge(&actor, *op).await.map_err(app_err)?;
        undo2.push(started.elapsed());
    }
    let n = undo_times.len();
    println!(
        "  undo of one merge (operations of the bulk job): median {}, p90 {}, max {} over {n} (target < 100 ms)",
        ms(percentile(&mut undo_times, 0.5)),
        ms(percentile(&mut undo_times, 0.9)),
        ms(percentile(&mut undo_times, 1.0)),
    );
    println!(
        "  the same groups merged by hand (one request each): median {}, max {}; undone again: median {}, max {}",
        ms(percentile(&mut merge_times, 0.5)),
        ms(percentile(&mut merge_times, 1.0)),
        ms(percentile(&mut undo2, 0.5)),
        ms(percentile(&mut undo2, 1.0)),
    );
    Ok(())
}
