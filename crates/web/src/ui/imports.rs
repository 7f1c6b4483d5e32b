//! The import screens: the upload form and the import history (`/imports`), one import's
//! progress and report (`/imports/{id}`, polling `/imports/{id}/panel` every second while
//! it runs), its failed rows as a file and the revert. The mapping and preview screen is
//! `imports_mapping.rs`. Everything goes through the app layer's import functions.

use askama::Template;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use kartoteka_app::imports::{FailedRow, ImportView};
use kartoteka_app::jobs::JobView;
use kartoteka_app::{App, AppError};
use kartoteka_store::groups::GroupKind;
use serde_json::Value;

use super::i18n::Lang;
use super::imports_mapping::target_label;
use super::list::shown_time;
use super::{PageCtx, UiSession, error_page, form_value, render};

/// Failed rows the report lists (the file has them all).
const REPORT_FAILURES: i64 = 200;

/// The import and export screens need the record base; others get the error page.
pub(super) fn guard(s: &UiSession) -> Option<Response> {
    (!s.actor.may_use_record_base())
        .then(|| error_page(s, &AppError::Forbidden("record base".into())))
}

/// A trimmed, non-empty form or query value.
pub(super) fn value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form_value(pairs, name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// An app error in the user's language (validation errors by their code).
pub(super) fn error_text(lang: Lang, e: &AppError) -> String {
    match e {
        AppError::Validation(errors) => errors
            .iter()
            .map(|e| lang.error(&e.code, &e.message))
            .collect::<Vec<_>>()
            .join("; "),
        AppError::Forbidden(_) => lang.t("error.forbidden").to_string(),
        AppError::NotFound(_) => lang.t("imp.not_found").to_string(),
        AppError::TooLarge(m) => format!("{} ({m})", lang.t("imp.too_large")),
        _ => lang.t("error.unexpected").to_string(),
    }
}

/// A file size as people read it.
pub(super) fn size_text(bytes: i64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

pub(super) fn state_label(lang: Lang, state: &str) -> &'static str {
    lang.t(&format!("job.state.{state}"))
}

/// What the revert confirmation names, and where it posts.
pub struct RevertAsk {
    pub action: String,
    pub confirm: i64,
    pub ask: String,
}

/// The revert offered for an import: done, a real import, not reverted yet, something to
/// undo, and a user who may delete records.
async fn revert_ask(app: &App, s: &UiSession, i: &ImportView) -> Option<RevertAsk> {
    let j = &i.job;
    if !s.actor.may_delete_records()
        || j.kind != "import"
        || j.state != "done"
        || j.result.get("reverted_by_job").is_some()
    {
        return None;
    }
    let (created, updated) = kartoteka_store::imports::item_counts(&app.db.pool, j.id)
        .await
        .ok()?;
    (created + updated > 0).then(|| RevertAsk {
        action: format!("/imports/{}/revert", j.id),
        confirm: created + updated,
        ask: s
            .lang
            .t("imp.revert_ask")
            .replace("{created}", &s.lang.number(created))
            .replace("{updated}", &s.lang.number(updated)),
    })
}

pub struct HistoryRow {
    pub href: String,
    pub when: String,
    pub who: String,
    pub file: String,
    pub label: String,
    pub state: String,
    pub state_label: &'static str,
    pub created: String,
    pub updated: String,
    pub skipped: String,
    pub failed: String,
    pub has_failed: bool,
    pub reverted: bool,
    pub revert: Option<RevertAsk>,
}

#[derive(Template)]
#[template(path = "import_page.html")]
struct ImportsPage {
    page: PageCtx,
    rows: Vec<HistoryRow>,
    error: Option<String>,
    upload_action: String,
}

async fn history_page(app: &App, s: &UiSession, error: Option<String>) -> Response {
    let imports = match app.imports(&s.actor).await {
        Ok(i) => i,
        Err(e) => return error_page(s, &e),
    };
    let mut rows = Vec::with_capacity(imports.len());
    for i in &imports {
        let n = |k: &str| s.lang.number(i.job.result[k].as_i64().unwrap_or(0));
        rows.push(HistoryRow {
            href: format!("/imports/{}", i.job.id),
            when: shown_time(s.lang, &i.job.created_at, &s.time_zone),
            who: i.created_by.clone().unwrap_or_default(),
            file: i.file_name.clone(),
            label: i.source_label.clone().unwrap_or_default(),
            state: i.job.state.clone(),
            state_label: state_label(s.lang, &i.job.state),
            created: n("created"),
            updated: n("updated"),
            skipped: n("skipped"),
            failed: n("failed"),
            has_failed: i.job.result["failed"].as_i64().unwrap_or(0) > 0,
            reverted: i.job.result.get("reverted_by_job").is_some(),
            revert: revert_ask(app, s, i).await,
        });
    }
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mut r = render(&ImportsPage {
        page: s.page("imports"),
        rows,
        error,
        // The file streams into the upload, so the token travels in the address.
        upload_action: format!("/imports/uploads?csrf={}", super::encode(&s.csrf)),
    });
    *r.status_mut() = status;
    r
}

/// `GET /imports`: the upload form and the import history.
pub async fn page(State(app): State<App>, s: UiSession) -> Response {
    if let Some(r) = guard(&s) {
        return r;
    }
    history_page(&app, &s, None).await
}

/// `POST /imports/uploads?csrf=…` (multipart): keeps the file and opens its mapping.
pub async fn upload(
    State(app): State<App>,
    s: UiSession,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Some(r) = guard(&s) {
        return r;
    }
    if let Some(r) = s.csrf_rejection(&headers, form_value(&q, "csrf")) {
        return r;
    }
    let received = match crate::upload::receive(&app, &headers, None, body).await {
        Ok(r) => r,
        Err(e) => return history_page(&app, &s, Some(error_text(s.lang, &e))).await,
    };
    match app
        .upload_import_file(&s.actor, &received.file_name, &received.path)
        .await
    {
        Ok(u) => Redirect::to(&format!("/imports/uploads/{}", u.id)).into_response(),
        Err(e) => {
            let _ = tokio::fs::remove_file(&received.path).await;
            history_page(&app, &s, Some(error_text(s.lang, &e))).await
        }
    }
}

/// One count of the report.
pub struct Count {
    pub label: &'static str,
    pub value: String,
    pub class: &'static str,
}

/// One invalid cell of a failed row.
pub struct FailLine {
    pub row: i64,
    /// The first line of its row (the row number shows once).
    pub first: bool,
    pub span: usize,
    pub column: String,
    pub header: String,
    pub value: String,
    pub reason: String,
}

/// An import's progress and report (also the dry run's panel on the mapping screen).
pub struct Report {
    pub id: i64,
    pub compact: bool,
    pub dry_run: bool,
    /// The import or its revert is still queued or running: the panel polls.
    pub polling: bool,
    pub running: bool,
    pub state: String,
    pub state_label: &'static str,
    pub percent: i64,
    pub progress: String,
    pub rate: String,
    pub left: String,
    pub file_name: String,
    pub source_label: String,
    pub who: String,
    pub when: String,
    pub counts: Vec<Count>,
    pub repairs: Vec<(String, String)>,
    pub error: Option<String>,
    pub failures: Vec<FailLine>,
    pub failed_total: i64,
    pub failures_more: bool,
    pub options: Vec<(&'static str, String)>,
    pub revert: Option<RevertAsk>,
    pub revert_error: Option<String>,
    pub revert_job: Option<String>,
    pub poll: String,
}

/// `12 s`, `4 min`, `1 h 5 min`.
fn duration_text(lang: Lang, secs: f64) -> String {
    let s = secs.round() as i64;
    if s < 90 {
        lang.t("imp.secs").replace("{n}", &s.to_string())
    } else if s < 5400 {
        lang.t("imp.mins")
            .replace("{n}", &((s + 30) / 60).to_string())
    } else {
        lang.t("imp.hours")
            .replace("{h}", &(s / 3600).to_string())
            .replace("{m}", &((s % 3600) / 60).to_string())
    }
}

/// Rows per second since the job started, and the time left at that rate.
fn rate_and_left(lang: Lang, j: &JobView) -> (String, String) {
    let Some(started) = j
        .started_at
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
    else {
        return (String::new(), String::new());
    };
    let elapsed = (chrono::Utc::now() - started.with_timezone(&chrono::Utc)).num_milliseconds()
        as f64
        / 1000.0;
    if elapsed <= 0.5 || j.done <= 0 {
        return (String::new(), String::new());
    }
    let rate = j.done as f64 / elapsed;
    let rate_text = lang
        .t("imp.rate")
        .replace("{n}", &lang.number(rate.round() as i64));
    let left = if j.total > j.done {
        lang.t("imp.left").replace(
            "{t}",
            &duration_text(lang, (j.total - j.done) as f64 / rate),
        )
    } else {
        String::new()
    };
    (rate_text, left)
}

async fn group_names(app: &App, kind: GroupKind, ids: &Value) -> String {
    let names = kartoteka_store::groups::names(&app.db.pool, kind)
        .await
        .unwrap_or_default();
    ids.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_i64)
                .map(|id| {
                    names
                        .iter()
                        .find(|(g, _, _)| *g == id)
                        .map(|(_, n, _)| n.clone())
                        .unwrap_or_else(|| format!("#{id}"))
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// The options the import ran with, as the report lists them.
async fn options_shown(app: &App, s: &UiSession, i: &ImportView) -> Vec<(&'static str, String)> {
    let lang = s.lang;
    let o = &i.options;
    let mut out = Vec::new();
    if let Some(sheet) = o["sheet"].as_str() {
        out.push((lang.t("imp.sheet"), sheet.to_string()));
    }
    let custom = app.list_fields(&s.actor).await.unwrap_or_default();
    let headers: Vec<&str> = o["headers"]
        .as_array()
        .map(|a| a.iter().map(|h| h.as_str().unwrap_or_default()).collect())
        .unwrap_or_default();
    let mapping: Vec<String> = o["mapping"]
        .as_array()
        .map(|a| {
            a.iter()
                .enumerate()
                .filter_map(|(n, k)| {
                    let k = k.as_str().unwrap_or_default();
                    (!k.is_empty()).then(|| {
                        let label = k
                            .strip_prefix("custom.")
                            .and_then(|c| custom.iter().find(|f| f.key == c))
                            .map(|f| f.label.as_str());
                        format!(
                            "{} → {}",
                            headers.get(n).copied().unwrap_or_default(),
                            target_label(lang, k, label)
                        )
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    out.push((lang.t("imp.mapping"), mapping.join(" · ")));
    out.push((
        lang.t("imp.kind"),
        lang.t(&format!(
            "imp.kind.{}",
            o["kind"].as_str().unwrap_or("auto")
        ))
        .to_string(),
    ));
    let keys: Vec<&str> = o["match"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(|k| lang.t(&format!("imp.match.{k}")))
                .collect()
        })
        .unwrap_or_default();
    out.push((
        lang.t("imp.match_keys"),
        if keys.is_empty() {
            lang.t("imp.match_none").to_string()
        } else {
            keys.join(" → ")
        },
    ));
    out.push((
        lang.t("imp.on_match"),
        lang.t(&format!(
            "imp.on_match.{}",
            o["on_match"].as_str().unwrap_or("skip")
        ))
        .to_string(),
    ));
    for (label, kind, key) in [
        ("imp.campaigns", GroupKind::Campaign, "campaigns"),
        ("imp.segments", GroupKind::Segment, "segments"),
    ] {
        let names = group_names(app, kind, &o[key]).await;
        if !names.is_empty() {
            out.push((lang.t(label), names));
        }
    }
    if let Some(l) = &i.source_label {
        out.push((lang.t("imp.source_label"), l.clone()));
    }
    out
}

fn fail_lines(lang: Lang, rows: &[FailedRow]) -> Vec<FailLine> {
    let mut out = Vec::new();
    for f in rows {
        let span = f.errors.len().max(1);
        for (n, e) in f.errors.iter().enumerate() {
            let text = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            out.push(FailLine {
                row: f.row,
                first: n == 0,
                span,
                column: text("column"),
                header: text("header"),
                value: text("value"),
                reason: lang.error(&text("code"), &text("message")),
            });
        }
    }
    out
}

/// Builds the report of import `id` (`compact`: the dry run's panel on the mapping screen).
pub(super) async fn build_report(
    app: &App,
    s: &UiSession,
    id: i64,
    compact: bool,
) -> Result<Report, AppError> {
    let lang = s.lang;
    let i = app.import(&s.actor, id).await?;
    let j = &i.job;
    let running = matches!(j.state.as_str(), "queued" | "running");
    let int = |k: &str| j.result[k].as_i64().unwrap_or(0);
    let dry_run = j.kind == "import_dry_run";
    let mut counts = vec![
        Count {
            label: lang.t("imp.c.rows"),
            value: lang.number(int("rows")),
            class: "",
        },
        Count {
            label: lang.t("imp.c.created"),
            value: lang.number(int("created")),
            class: "ok",
        },
        Count {
            label: lang.t("imp.c.updated"),
            value: lang.number(int("updated")),
            class: "ok",
        },
        Count {
            label: lang.t("imp.c.unchanged"),
            value: lang.number(int("unchanged")),
            class: "",
        },
        Count {
            label: lang.t("imp.c.skipped"),
            value: lang.number(int("skipped")),
            class: "",
        },
        Count {
            label: lang.t("imp.c.failed"),
            value: lang.number(int("failed")),
            class: if int("failed") > 0 { "bad" } else { "" },
        },
        Count {
            label: lang.t("imp.c.blank"),
            value: lang.number(int("blank")),
            class: "",
        },
    ];
    if int("invalid_cells") > 0 {
        counts.push(Count {
            label: lang.t("imp.c.invalid_cells"),
            value: lang.number(int("invalid_cells")),
            class: "bad",
        });
    }
    let repairs = j.result["repairs"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(code, n)| {
                    let label = match lang.t(&format!("imp.repair.{code}")) {
                        "?" => code.clone(),
                        l => l.to_string(),
                    };
                    (label, lang.number(n.as_i64().unwrap_or(0)))
                })
                .collect()
        })
        .unwrap_or_default();
    let failed_total = int("failed");
    let failures = if !compact && !running && failed_total > 0 {
        app.import_failures(&s.actor, id, 0, REPORT_FAILURES)
            .await
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let (rate, left) = if running {
        rate_and_left(lang, j)
    } else {
        (String::new(), String::new())
    };
    let percent = if j.total > 0 {
        (j.done * 100 / j.total).clamp(0, 100)
    } else if j.state == "done" {
        100
    } else {
        0
    };
    let progress = if j.total > 0 {
        lang.t("imp.progress")
            .replace("{done}", &lang.number(j.done))
            .replace("{total}", &lang.number(j.total))
    } else {
        lang.t("imp.progress_open")
            .replace("{done}", &lang.number(j.done))
    };
    let (mut revert_job, mut revert_running) = (None, false);
    if let Some(r) = j.result.get("reverted_by_job").and_then(Value::as_i64)
        && let Ok(rj) = app.job(&s.actor, r).await
    {
        revert_running = matches!(rj.state.as_str(), "queued" | "running");
        let n = |k: &str| lang.number(rj.result[k].as_i64().unwrap_or(0));
        revert_job = Some(
            lang.t("imp.reverted")
                .replace("{state}", state_label(lang, &rj.state))
                .replace("{deleted}", &n("deleted"))
                .replace("{restored}", &n("restored"))
                .replace("{left}", &n("left_alone")),
        );
    }
    let options = if compact {
        Vec::new()
    } else {
        options_shown(app, s, &i).await
    };
    Ok(Report {
        id,
        compact,
        dry_run,
        polling: running || revert_running,
        running,
        state: j.state.clone(),
        state_label: state_label(lang, &j.state),
        percent,
        progress,
        rate,
        left,
        file_name: i.file_name.clone(),
        source_label: i.source_label.clone().unwrap_or_default(),
        who: i.created_by.clone().unwrap_or_default(),
        when: shown_time(lang, &j.created_at, &s.time_zone),
        counts,
        repairs,
        error: j.error.clone(),
        failures_more: failed_total > REPORT_FAILURES,
        failures: fail_lines(lang, &failures),
        failed_total,
        options,
        revert: if compact {
            None
        } else {
            revert_ask(app, s, &i).await
        },
        revert_error: None,
        revert_job,
        poll: format!(
            "/imports/{id}/panel{}",
            if compact { "?compact=1" } else { "" }
        ),
    })
}

#[derive(Template)]
#[template(path = "import_report.html")]
struct ReportPage {
    page: PageCtx,
    r: Report,
}

#[derive(Template)]
#[template(path = "import_report_part.html")]
pub(super) struct ReportPart {
    pub page: PageCtx,
    pub r: Report,
}

/// `GET /imports/{id}`: the import's progress while it runs, then its report.
pub async fn report(State(app): State<App>, s: UiSession, Path(id): Path<i64>) -> Response {
    if let Some(r) = guard(&s) {
        return r;
    }
    match build_report(&app, &s, id, false).await {
        Ok(r) => render(&ReportPage {
            page: s.page("imports"),
            r,
        }),
        Err(e) => error_page(&s, &e),
    }
}

/// `GET /imports/{id}/panel[?compact=1]`: the report's part that polls while it runs.
pub async fn panel(
    State(app): State<App>,
    s: UiSession,
    Path(id): Path<i64>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = guard(&s) {
        return r;
    }
    let compact = value(&q, "compact").is_some();
    match build_report(&app, &s, id, compact).await {
        Ok(r) => render(&ReportPart {
            page: s.page("imports"),
            r,
        }),
        Err(e) => error_page(&s, &e),
    }
}

/// `POST /imports/{id}/revert` (`confirm` = created + updated): queues the revert.
pub async fn revert(
    State(app): State<App>,
    s: UiSession,
    headers: HeaderMap,
    Path(id): Path<i64>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = guard(&s) {
        return r;
    }
    if let Some(r) = s.csrf_rejection(&headers, form_value(&pairs, "csrf")) {
        return r;
    }
    let confirm = value(&pairs, "confirm").and_then(|c| c.parse::<i64>().ok());
    match app.revert_import(&s.actor, id, confirm).await {
        Ok(_) => Redirect::to(&format!("/imports/{id}")).into_response(),
        Err(e) => match build_report(&app, &s, id, false).await {
            Ok(mut r) => {
                r.revert_error = Some(error_text(s.lang, &e));
                let mut resp = render(&ReportPage {
                    page: s.page("imports"),
                    r,
                });
                *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                resp
            }
            Err(e) => error_page(&s, &e),
        },
    }
}

async fn failures_file(app: App, s: UiSession, id: i64, format: &str, req: Request) -> Response {
    if let Some(r) = guard(&s) {
        return r;
    }
    let d = match app.failed_rows_file(&s.actor, id, format).await {
        Ok(d) => d,
        Err(e) => return error_page(&s, &e),
    };
    match crate::api::downloads::serve(&d.path, &d.file_name, req).await {
        Ok(r) => r,
        Err(e) => error_page(&s, &e),
    }
}

/// `GET /imports/{id}/failures.csv`: the failed rows with a reason column.
pub async fn failures_csv(
    State(app): State<App>,
    s: UiSession,
    Path(id): Path<i64>,
    req: Request,
) -> Response {
    failures_file(app, s, id, "csv", req).await
}

/// `GET /imports/{id}/failures.xlsx`.
pub async fn failures_xlsx(
    State(app): State<App>,
    s: UiSession,
    Path(id): Path<i64>,
    req: Request,
) -> Response {
    failures_file(app, s, id, "xlsx", req).await
}
