//! `kartoteka import` and `kartoteka export`: the same jobs the server runs, run in-process
//! (unless a running server's worker takes them first) with a progress bar.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use kartoteka_app::auth::system_actor;
use kartoteka_app::imports::ImportOptions;
use kartoteka_app::jobs::{BulkTarget, JobView};
use kartoteka_app::{App, AppError};
use kartoteka_store::groups::{self, GroupKind};
use serde_json::{Value, json};

/// `kartoteka import` options.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The file: xlsx, xls, ods or csv.
    pub file: PathBuf,
    /// The sheet (default: the first).
    #[arg(long)]
    pub sheet: Option<String>,
    /// A TOML file mapping headers to fields: `[columns]` then `"Header" = "first_name"`
    /// (`phone.mobile`, `email`, `tags`, `custom.<key>`, "" to ignore). Headers it does not
    /// name are ignored.
    #[arg(long, conflicts_with = "auto")]
    pub mapping: Option<PathBuf>,
    /// Map columns as their headers suggest (the default without --mapping).
    #[arg(long)]
    pub auto: bool,
    /// Match keys tried in order: phone, email, external_id, pesel, nip.
    #[arg(long = "match", value_delimiter = ',')]
    pub match_keys: Vec<String>,
    /// What a row matching a record does: create, skip or update.
    #[arg(long, default_value = "skip")]
    pub on_match: String,
    /// Campaigns (name or ID) to add the records to.
    #[arg(long)]
    pub campaign: Vec<String>,
    /// Segments (name or ID) to add the records to.
    #[arg(long)]
    pub segment: Vec<String>,
    /// person, organization or auto.
    #[arg(long)]
    pub kind: Option<String>,
    /// CSV: utf-8 or windows-1250 (default: detected).
    #[arg(long)]
    pub encoding: Option<String>,
    /// CSV: `,`, `;` or `tab` (default: detected).
    #[arg(long)]
    pub delimiter: Option<String>,
    /// The import's source label in the history.
    #[arg(long)]
    pub source_label: Option<String>,
    /// Count what the import would do; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write the report as JSON: counts and every invalid cell.
    #[arg(long)]
    pub report: Option<PathBuf>,
}

/// `kartoteka export` options.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// A filter as JSON (SPEC "Filter model"); default: every record.
    #[arg(long)]
    pub filter: Option<PathBuf>,
    /// Columns, comma-separated field keys (default: ID, kind, names, phones, e-mails, address).
    #[arg(long, value_delimiter = ',')]
    pub columns: Vec<String>,
    /// csv or xlsx.
    #[arg(long, default_value = "csv")]
    pub format: String,
    /// CSV delimiter: `,` or `;`.
    #[arg(long)]
    pub delimiter: Option<String>,
    /// Where to write the file.
    #[arg(short = 'o', long)]
    pub output: PathBuf,
}

fn describe(e: AppError) -> anyhow::Error {
    match e {
        AppError::Validation(errors) => anyhow::anyhow!(
            "{}",
            errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("\n")
        ),
        e => anyhow::anyhow!("{e}"),
    }
}

async fn group_ids(app: &App, kind: GroupKind, names: &[String]) -> anyhow::Result<Vec<i64>> {
    let all = groups::names(&app.db.pool, kind).await?;
    names
        .iter()
        .map(|n| {
            all.iter()
                .find(|(id, name, _)| name == n || id.to_string() == *n)
                .map(|(id, _, _)| *id)
                .with_context(|| {
                    let what = if kind == GroupKind::Campaign {
                        "campaign"
                    } else {
                        "segment"
                    };
                    format!("no {what} named {n}")
                })
        })
        .collect()
}

/// The mapping of a TOML file, by the file's headers.
fn mapping_from_toml(path: &Path, headers: &[String]) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the mapping {}", path.display()))?;
    #[derive(serde::Deserialize)]
    struct MapFile {
        columns: BTreeMap<String, String>,
    }
    let map: MapFile =
        toml::from_str(&text).with_context(|| format!("the mapping {}", path.display()))?;
    for h in map.columns.keys() {
        if !headers.contains(h) {
            bail!(
                "the mapping names the header `{h}`, which the file does not have (its headers: {})",
                headers.join(", ")
            );
        }
    }
    Ok(headers
        .iter()
        .map(|h| map.columns.get(h).cloned().unwrap_or_default())
        .collect())
}

/// Runs job `id` here (or follows it when a server's worker took it), drawing progress.
async fn follow(app: &App, id: i64, what: &str) -> anyhow::Result<JobView> {
    let actor = system_actor();
    let runner = {
        let app = app.clone();
        tokio::spawn(async move { app.run_job(id).await })
    };
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {msg} [{bar:30}] {pos}/{len} rows ({per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    let job = loop {
        let job = app.job(&actor, id).await.map_err(describe)?;
        bar.set_length(job.total.max(job.done) as u64);
        bar.set_position(job.done as u64);
        if ["done", "failed", "cancelled"].contains(&job.state.as_str()) {
            break job;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    bar.finish_and_clear();
    runner.await?.map_err(describe)?;
    Ok(job)
}

pub async fn import(app: &App, a: ImportArgs) -> anyhow::Result<()> {
    let actor = system_actor();
    if !a.file.exists() {
        bail!("{} does not exist", a.file.display());
    }
    let upload = app
        .register_import_file(&actor, &a.file)
        .await
        .map_err(describe)?;
    let mut options = ImportOptions {
        upload: upload.id,
        sheet: a.sheet.clone(),
        encoding: a.encoding.clone(),
        delimiter: a.delimiter.clone(),
        mapping: None,
        kind: a.kind.clone(),
        match_keys: a.match_keys.clone(),
        on_match: Some(a.on_match.clone()),
        campaigns: group_ids(app, GroupKind::Campaign, &a.campaign).await?,
        segments: group_ids(app, GroupKind::Segment, &a.segment).await?,
        source_label: a.source_label.clone(),
        dry_run: a.dry_run,
    };
    let preview = app
        .preview_import(&actor, &options)
        .await
        .map_err(describe)?;
    if let Some(m) = &a.mapping {
        options.mapping = Some(mapping_from_toml(m, &preview.headers)?);
    }
    eprintln!(
        "{} ({}{}): columns {}",
        upload.file_name,
        upload.format,
        preview
            .encoding
            .as_ref()
            .map(|e| format!(
                ", {e}, delimiter {:?}",
                preview.delimiter.clone().unwrap_or_default()
            ))
            .unwrap_or_default(),
        preview
            .headers
            .iter()
            .zip(options.mapping.as_ref().unwrap_or(&preview.mapping))
            .map(|(h, t)| format!("{h} → {}", if t.is_empty() { "(ignored)" } else { t }))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let started = std::time::Instant::now();
    let job = app.start_import(&actor, &options).await.map_err(describe)?;
    let job = follow(app, job.id, if a.dry_run { "dry run" } else { "importing" }).await?;
    let secs = started.elapsed().as_secs_f64();
    let r = &job.result;
    let n = |k: &str| r[k].as_i64().unwrap_or(0);
    println!(
        "{}{}: {} rows in {:.1} s ({:.0} rows/s): created {}, updated {}, unchanged {}, skipped {}, failed {} ({} invalid cells), blank {}",
        if a.dry_run {
            "Dry run of import "
        } else {
            "Import "
        },
        job.id,
        n("rows"),
        secs,
        n("rows") as f64 / secs.max(0.001),
        n("created"),
        n("updated"),
        n("unchanged"),
        n("skipped"),
        n("failed"),
        n("invalid_cells"),
        n("blank"),
    );
    if let Some(repairs) = r["repairs"].as_object().filter(|m| !m.is_empty()) {
        for (code, count) in repairs {
            println!("  {code}: {count}");
        }
    }
    if job.state != "done" {
        bail!(
            "the import {}: {}",
            job.state,
            job.error.clone().unwrap_or_default()
        );
    }
    if let Some(path) = &a.report {
        let mut invalid: Vec<Value> = Vec::new();
        let mut after = 0;
        loop {
            let page = app
                .import_failures(&actor, job.id, after, 10_000)
                .await
                .map_err(describe)?;
            let Some(last) = page.last().map(|f| f.row) else {
                break;
            };
            for f in &page {
                for e in &f.errors {
                    invalid.push(json!({
                        "row": f.row,
                        "column": e["column"],
                        "header": e["header"],
                        "value": e["value"],
                        "code": e["code"],
                        "reason": e["message"],
                    }));
                }
            }
            after = last;
        }
        let report = json!({
            "import": job.id,
            "file": upload.file_name,
            "dry_run": a.dry_run,
            "counts": r,
            "invalid_cells": invalid,
        });
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("Report written to {}", path.display());
    }
    Ok(())
}

pub async fn export(app: &App, a: ExportArgs) -> anyhow::Result<()> {
    let actor = system_actor();
    let filter = match &a.filter {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading the filter {}", p.display()))?;
            serde_json::from_str(&text).with_context(|| format!("the filter {}", p.display()))?
        }
        None => kartoteka_domain::filter::Filter::default(),
    };
    let started = std::time::Instant::now();
    let job = app
        .start_export(
            &actor,
            BulkTarget::Filter(filter),
            a.columns.clone(),
            &a.format,
            a.delimiter.as_deref(),
        )
        .await
        .map_err(describe)?;
    let job = follow(app, job.id, "exporting").await?;
    if job.state != "done" {
        bail!(
            "the export {}: {}",
            job.state,
            job.error.clone().unwrap_or_default()
        );
    }
    let download = job.result["download"]
        .as_i64()
        .context("the export made no file")?;
    let d = app.download(&actor, download).await.map_err(describe)?;
    if std::fs::rename(&d.path, &a.output).is_err() {
        std::fs::copy(&d.path, &a.output)
            .with_context(|| format!("writing {}", a.output.display()))?;
        let _ = std::fs::remove_file(&d.path);
    }
    println!(
        "Exported {} records to {} in {:.1} s",
        d.rows,
        a.output.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
