//! `kartoteka duplicates find|merge|undo`: the duplicate search, the bulk merge (or delete)
//! and undo, run in-process as the `system` actor (a running server's worker may take a
//! job instead; the command then follows it), with the summary and results the API gives.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Subcommand;
use kartoteka_app::auth::system_actor;
use kartoteka_app::duplicates::{GroupQuery, GroupView, SearchView};
use kartoteka_app::jobs::JobView;
use kartoteka_app::{App, AppError};
use kartoteka_domain::filter::Filter;
use serde_json::{Value, json};

#[derive(Subcommand)]
pub enum DuplicatesCommand {
    /// Find groups of duplicates: prints the summary and every group (oldest record first,
    /// the one bulk actions keep).
    Find(FindArgs),
    /// Merge (or delete) every group bulk actions take, after a summary and a confirmation.
    Merge(MergeArgs),
    /// Undo a merge or duplicate delete: the removed records come back.
    Undo {
        /// The operation's ID (printed by `merge`; `GET /api/v1/duplicates/operations`).
        operation: i64,
    },
}

/// `kartoteka duplicates find` options.
#[derive(Debug, clap::Args)]
pub struct FindArgs {
    /// 1 to 7 criteria, comma-separated: phone, email, first_name, last_name, display_name,
    /// city, address, nip, pesel, regon, external_id, custom.<key>.
    #[arg(long, value_delimiter = ',', required = true)]
    pub by: Vec<String>,
    /// Only among the records of this filter (a JSON file, SPEC "Filter model").
    #[arg(long)]
    pub filter: Option<PathBuf>,
    /// Print the search and its groups as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Which groups to list: all, ready (bulk actions take them), held or resolved.
    #[arg(long, default_value = "all")]
    pub show: String,
    /// Order of the groups: size (largest first), value or found; `-` before it reverses.
    #[arg(long, default_value = "size", allow_hyphen_values = true)]
    pub sort: String,
    /// List at most this many groups (default: all).
    #[arg(long)]
    pub limit: Option<usize>,
}

/// `kartoteka duplicates merge` options.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// A finished search (its ID, as `find` prints it) whose ready groups to merge.
    #[arg(long, conflicts_with_all = ["by", "filter"], required_unless_present = "by")]
    pub search: Option<i64>,
    /// Search first by these criteria (as `find --by`).
    #[arg(long, value_delimiter = ',')]
    pub by: Vec<String>,
    /// With --by: only among the records of this filter (a JSON file).
    #[arg(long)]
    pub filter: Option<PathBuf>,
    /// merge (into each group's oldest record) or delete (keeping each group's oldest).
    #[arg(long, default_value = "merge")]
    pub action: String,
    /// Print the summary and stop; nothing changes.
    #[arg(long)]
    pub dry_run: bool,
    /// Apply without asking (required when standard input is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
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
        AppError::Unexpected(m) => anyhow::anyhow!("unexpected error: {m}"),
        e => anyhow::anyhow!("{e}"),
    }
}

pub async fn run(app: &App, command: DuplicatesCommand) -> anyhow::Result<()> {
    match command {
        DuplicatesCommand::Find(a) => find(app, a).await,
        DuplicatesCommand::Merge(a) => merge(app, a).await,
        DuplicatesCommand::Undo { operation } => undo(app, operation).await,
    }
}

fn read_filter(path: Option<&Path>) -> anyhow::Result<Option<Filter>> {
    let Some(p) = path else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(p)
        .with_context(|| format!("reading the filter {}", p.display()))?;
    let f: Filter =
        serde_json::from_str(&text).with_context(|| format!("the filter {}", p.display()))?;
    Ok(Some(f))
}

/// Runs job `id` here (or follows it when a server's worker took it), drawing progress in
/// `unit`s; answers the finished job.
async fn follow(app: &App, id: i64, what: &str, unit: &str) -> anyhow::Result<JobView> {
    let actor = system_actor();
    let runner = {
        let app = app.clone();
        tokio::spawn(async move { app.run_job(id).await })
    };
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{spinner}} {{msg}} [{{bar:30}}] {{pos}}/{{len}} {unit} ({{per_sec}}, {{eta}} left)"
        ))
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
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    bar.finish_and_clear();
    runner.await?.map_err(describe)?;
    Ok(job)
}

/// Runs a search by `by` (within `filter`) to the end; answers its view.
async fn run_search(
    app: &App,
    by: &[String],
    filter: Option<Filter>,
) -> anyhow::Result<SearchView> {
    let actor = system_actor();
    let job = app
        .start_duplicate_search(&actor, by, filter)
        .await
        .map_err(describe)?;
    let job = follow(app, job.id, "searching", "steps").await?;
    if job.state != "done" {
        bail!(
            "the search {}: {}",
            job.state,
            job.error.clone().unwrap_or_default()
        );
    }
    app.duplicate_search(&actor, job.id).await.map_err(describe)
}

fn held_text(view: &SearchView) -> String {
    let by: Vec<String> = view
        .held_by_reason
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{} {v}", k.replace('_', " ")))
                .collect()
        })
        .unwrap_or_default();
    if by.is_empty() {
        String::new()
    } else {
        format!(" ({})", by.join(", "))
    }
}

/// The search's summary, as lines.
fn summary(view: &SearchView) -> Vec<String> {
    let seconds = view.job.result["seconds"].as_f64().unwrap_or(0.0);
    let mut lines = vec![format!(
        "Search {} by {}{}: {} groups, {} records (found in {seconds:.2} s).",
        view.job.id,
        view.criteria.join(", "),
        if view.filter.is_some() {
            " within the filter"
        } else {
            ""
        },
        view.groups,
        view.records,
    )];
    lines.push(format!(
        "  ready for bulk actions: {} groups; merging or deleting them removes {} records (each group keeps its oldest).",
        view.ready, view.ready_removes
    ));
    lines.push(format!(
        "  held for manual resolution: {} groups{}.",
        view.held,
        held_text(view)
    ));
    if view.resolved > 0 {
        lines.push(format!("  resolved already: {} groups.", view.resolved));
    }
    lines
}

/// Every group of a search (as `show` and `sort` choose), up to `limit`.
async fn all_groups(
    app: &App,
    search: i64,
    show: &str,
    sort: &str,
    limit: Option<usize>,
) -> anyhow::Result<Vec<GroupView>> {
    let actor = system_actor();
    let mut out: Vec<GroupView> = Vec::new();
    loop {
        let want = limit.map_or(500, |l| l.saturating_sub(out.len()).min(500));
        if want == 0 {
            break;
        }
        let page = app
            .duplicate_groups(
                &actor,
                search,
                &GroupQuery {
                    show: Some(show.to_string()),
                    sort: Some(sort.to_string()),
                    offset: Some(out.len() as i64),
                    limit: Some(want as i64),
                },
            )
            .await
            .map_err(describe)?;
        let n = page.items.len();
        out.extend(page.items);
        if n < want || out.len() as i64 >= page.total {
            break;
        }
    }
    Ok(out)
}

fn ties_text(ties: &Value) -> String {
    ties.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let vals: Vec<String> = v
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                                .collect()
                        })
                        .unwrap_or_default();
                    format!("{k} {}", vals.join(", "))
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}

fn group_lines(g: &GroupView) -> Vec<String> {
    let mut first = format!(
        "#{}  {} records  {}",
        g.position,
        g.size,
        ties_text(&g.ties)
    );
    if let Some(h) = &g.held {
        first.push_str(&format!("  [held: {}]", h.replace('_', " ")));
    }
    if let Some(op) = g.resolved_by {
        first.push_str(&format!("  [resolved by operation {op}]"));
    }
    let members: Vec<String> = g
        .records
        .iter()
        .map(|m| {
            if m.display_name.is_empty() {
                m.id.clone()
            } else {
                format!("{} ({})", m.id, m.display_name)
            }
        })
        .collect();
    vec![first, format!("    {}", members.join(", "))]
}

fn group_json(g: &GroupView) -> Value {
    json!({
        "position": g.position,
        "size": g.size,
        "records": g.records.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
        "ties": g.ties,
        "held": g.held,
        "resolved_by": g.resolved_by,
    })
}

pub async fn find(app: &App, a: FindArgs) -> anyhow::Result<()> {
    let filter = read_filter(a.filter.as_deref())?;
    let view = run_search(app, &a.by, filter).await?;
    let groups = all_groups(app, view.job.id, &a.show, &a.sort, a.limit).await?;
    if a.json {
        let out = json!({
            "search": view.job.id,
            "criteria": view.criteria,
            "filter": view.filter,
            "total": view.groups,
            "records": view.records,
            "ready": view.ready,
            "ready_removes": view.ready_removes,
            "held": view.held,
            "held_by_reason": view.held_by_reason,
            "resolved": view.resolved,
            "seconds": view.job.result["seconds"],
            "groups": groups.iter().map(group_json).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    for l in summary(&view) {
        println!("{l}");
    }
    if !groups.is_empty() {
        println!(
            "Groups ({}, records oldest first: the first is the one bulk actions keep):",
            if (groups.len() as i64) < view.groups && a.show == "all" {
                format!("{} of {}", groups.len(), view.groups)
            } else {
                groups.len().to_string()
            }
        );
    }
    for g in &groups {
        for l in group_lines(g) {
            println!("  {l}");
        }
    }
    if view.ready > 0 {
        println!(
            "Merge the ready groups with `kartoteka duplicates merge --search {}` (add --dry-run to see the summary only).",
            view.job.id
        );
    }
    Ok(())
}

/// Asks on the terminal; true when the answer is yes.
fn confirm(question: &str) -> anyhow::Result<bool> {
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim().to_lowercase().as_str(), "y" | "yes"))
}

pub async fn merge(app: &App, a: MergeArgs) -> anyhow::Result<()> {
    let actor = system_actor();
    if !["merge", "delete"].contains(&a.action.as_str()) {
        bail!("--action is merge or delete");
    }
    if !a.yes && !a.dry_run && !std::io::stdin().is_terminal() {
        bail!(
            "standard input is not a terminal, so nobody can confirm: pass --yes to {} (or --dry-run to see the summary only)",
            a.action
        );
    }
    let view = match a.search {
        Some(id) => {
            let view = app.duplicate_search(&actor, id).await.map_err(describe)?;
            if view.job.state != "done" {
                bail!("search {id} is {}, not done", view.job.state);
            }
            view
        }
        None => run_search(app, &a.by, read_filter(a.filter.as_deref())?).await?,
    };
    for l in summary(&view) {
        println!("{l}");
    }
    let (verb, past) = if a.action == "merge" {
        ("merge", "merged into")
    } else {
        ("delete", "deleted, keeping")
    };
    if view.ready == 0 {
        println!("Nothing to {verb}: no group is ready for bulk actions.");
        return Ok(());
    }
    println!(
        "{} would {verb} {} groups: {} records {past} each group's oldest record; {} groups stay for manual resolution.",
        if a.dry_run { "Dry run: this" } else { "This" },
        view.ready,
        view.ready_removes,
        view.held,
    );
    if a.dry_run {
        println!(
            "Nothing changed. Apply with `kartoteka duplicates merge --search {}{} --yes`.",
            view.job.id,
            if a.action == "delete" {
                " --action delete"
            } else {
                ""
            }
        );
        return Ok(());
    }
    if !a.yes
        && !confirm(&format!(
            "{} {} groups, removing {} records?",
            if a.action == "merge" {
                "Merge"
            } else {
                "Delete the duplicates of"
            },
            view.ready,
            view.ready_removes
        ))?
    {
        bail!("not confirmed; nothing changed");
    }
    let started = Instant::now();
    let job = app
        .start_duplicate_bulk(&actor, view.job.id, &a.action, Some(view.ready_removes))
        .await
        .map_err(describe)?;
    let job = follow(
        app,
        job.id,
        if a.action == "merge" {
            "merging"
        } else {
            "deleting"
        },
        "groups",
    )
    .await?;
    let secs = started.elapsed().as_secs_f64();
    let r = &job.result;
    let n = |k: &str| r[k].as_i64().unwrap_or(0);
    let failed: Vec<Value> = r["failed"].as_array().cloned().unwrap_or_default();
    println!(
        "{} {} groups, removed {} records in {secs:.1} s ({:.0} groups/s); skipped {} (records gone meanwhile), failed {}.",
        if a.action == "merge" {
            "Merged"
        } else {
            "Resolved by deleting"
        },
        n("groups"),
        n("removed"),
        n("groups") as f64 / secs.max(0.001),
        n("skipped"),
        failed.len(),
    );
    for f in &failed {
        let records: Vec<String> = f["records"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        println!(
            "  group #{} ({}): {}",
            f["group"],
            records.join(", "),
            f["reason"].as_str().unwrap_or_default()
        );
    }
    let mut conn = app.db.pool.acquire().await?;
    let ops = kartoteka_store::merge::operation_ids_of_job(&mut conn, job.id).await?;
    match (ops.first(), ops.last()) {
        (Some(lo), Some(hi)) => println!(
            "Operations {lo}–{hi} ({} operations, job {}); undo one with `kartoteka duplicates undo ID` within the undo window.",
            ops.len(),
            job.id
        ),
        _ => println!("No operation was recorded (job {}).", job.id),
    }
    if job.state != "done" {
        bail!(
            "the bulk {verb} {}: {}",
            job.state,
            job.error.clone().unwrap_or_default()
        );
    }
    Ok(())
}

pub async fn undo(app: &App, operation: i64) -> anyhow::Result<()> {
    let actor = system_actor();
    match app.undo_merge(&actor, operation).await {
        Ok(op) => {
            let what = if op.action == "merge" {
                format!("merge into {}", op.main)
            } else {
                format!("delete of duplicates of {}", op.main)
            };
            println!(
                "Undid operation {} ({what}, {} by {}): {} came back ({}){}.",
                op.id,
                op.at,
                op.by,
                if op.removed.len() == 1 {
                    "1 record".to_string()
                } else {
                    format!("{} records", op.removed.len())
                },
                op.removed.join(", "),
                if op.action == "merge" {
                    format!("; {} is as it was before the merge", op.main)
                } else {
                    String::new()
                }
            );
            Ok(())
        }
        Err(AppError::NotFound(_)) => bail!("there is no operation {operation}"),
        Err(AppError::Conflict { message, .. }) => bail!("{message}"),
        Err(e) => Err(describe(e)),
    }
}
