//! Selection and bulk actions on the record list, and the progress of the job they start.
//!
//! The list's bulk form posts the selected IDs (`ids`), or `scope=filter` with the list's
//! filter (`f`) for "select all N found", and the action; the answer is the job's progress
//! panel, which polls `GET /jobs/{id}/progress` every second until the job ends.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use kartoteka_app::jobs::{BulkAction, BulkTarget, JobView};
use kartoteka_app::{Actor, App, AppError};
use kartoteka_store::groups::GroupKind;

use super::i18n::Lang;
use super::list_filter::{self, Catalog, CritRow, Opt};
use super::{PageCtx, UiSession, encode, render};

/// What the list's bulk bar needs.
pub struct BulkBar {
    /// Records the filter finds (what "select all" selects).
    pub total: i64,
    /// "Select all 1,234 found", when the page is not all there is.
    pub select_all: Option<String>,
    pub all_selected: String,
    pub campaigns: Vec<Opt>,
    pub segments: Vec<Opt>,
    pub may_delete: bool,
    /// The filter's JSON, sent for "all found".
    pub f: String,
    /// The search box's text, sent with the filter: "all found" and an export with nothing
    /// selected take what the searched list shows.
    pub q: String,
    /// The list's URL, for the result's "refresh the list".
    pub back: String,
    /// The export menu (columns to choose).
    pub export: super::exports::ExportMenu,
    /// "Find duplicates" among the records of the list's filter.
    pub duplicates: String,
}

#[allow(clippy::too_many_arguments)]
pub fn bulk_bar(
    lang: Lang,
    actor: &Actor,
    catalog: &Catalog,
    total: i64,
    on_page: usize,
    text: &str,
    f: &str,
    back: &str,
) -> BulkBar {
    let n = lang.number(total);
    let groups = |g: &[(i64, String, bool)], inactive: &str| {
        g.iter()
            .map(|(id, name, active)| Opt {
                value: id.to_string(),
                label: if *active {
                    name.clone()
                } else {
                    format!("{name} ({})", lang.t(inactive))
                },
                selected: false,
            })
            .collect()
    };
    BulkBar {
        total,
        select_all: (total > on_page as i64).then(|| lang.t("bulk.select_all").replace("{n}", &n)),
        all_selected: lang.t("bulk.all_selected").replace("{n}", &n),
        campaigns: groups(&catalog.campaigns, "filter.inactive_campaign"),
        segments: groups(&catalog.segments, "filter.inactive_segment"),
        may_delete: actor.may_delete_records(),
        f: f.to_string(),
        q: text.to_string(),
        back: back.to_string(),
        export: super::exports::menu(lang, &catalog.defs, actor),
        duplicates: super::duplicates::search_link(f),
    }
}

/// A criterion in a few words, for the closed filter panel.
pub fn criterion_summary(r: &CritRow) -> String {
    let op = r
        .ops
        .iter()
        .find(|o| o.selected)
        .map(|o| o.label.as_str())
        .unwrap_or_default();
    let at = |d: &str, t: &str| {
        if t.is_empty() {
            d.to_string()
        } else {
            format!("{d} {t}")
        }
    };
    let value = match (r.input, r.op.as_str()) {
        ("flag", _) => return r.label.clone(),
        (_, "empty" | "not_empty") => String::new(),
        ("date", "between") => format!("{} – {}", at(&r.v, &r.vt), at(&r.v2, &r.v2t)),
        ("date", _) => at(&r.v, &r.vt),
        ("number", "between") => format!("{} – {}", r.v, r.v2),
        ("kind", _) => r
            .choices
            .iter()
            .find(|o| o.selected)
            .map(|o| o.label.clone())
            .unwrap_or_default(),
        _ if r.multi() => r.picked.clone(),
        _ => r.v.clone(),
    };
    format!("{} {op} {value}", r.label).trim().to_string()
}

/// A job's progress, or why a bulk action did not start.
pub struct JobPanel {
    pub id: i64,
    /// Still queued or running: the panel polls.
    pub running: bool,
    pub title: String,
    pub state: String,
    pub state_label: String,
    pub percent: i64,
    pub progress: String,
    pub changed: String,
    pub unchanged: String,
    pub failed: String,
    pub failed_count: i64,
    pub failures: Vec<(String, String)>,
    pub error: Option<String>,
    pub poll: String,
    pub back: String,
    /// A bulk action refused before it started.
    pub alert: Option<String>,
}

/// Only the list's own URLs go back into the page.
fn safe_back(back: &str) -> String {
    if back.starts_with("/records") && !back.starts_with("//") {
        back.to_string()
    } else {
        "/records".to_string()
    }
}

pub fn job_panel(lang: Lang, j: &JobView, back: &str) -> JobPanel {
    let back = safe_back(back);
    let int = |k: &str| j.result[k].as_i64().unwrap_or(0);
    let failures = j.result["failed"]
        .as_array()
        .map(|a| {
            a.iter()
                .take(10)
                .map(|f| {
                    (
                        f["id"].as_str().unwrap_or_default().to_string(),
                        match f["reason"].as_str().unwrap_or_default() {
                            "no such record" => lang.t("job.reason.missing").to_string(),
                            "not a record ID" => lang.t("job.reason.bad_id").to_string(),
                            r => r.to_string(),
                        },
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let percent = if j.total > 0 {
        (j.done * 100 / j.total).clamp(0, 100)
    } else {
        0
    };
    let running = matches!(j.state.as_str(), "queued" | "running");
    JobPanel {
        id: j.id,
        running,
        title: match lang.t(&format!("job.kind.{}", j.kind)) {
            "?" => lang.t("job.kind.other").to_string(),
            t => t.to_string(),
        },
        state: j.state.clone(),
        state_label: lang.t(&format!("job.state.{}", j.state)).to_string(),
        percent,
        progress: lang
            .t("job.progress")
            .replace("{done}", &lang.number(j.done))
            .replace("{total}", &lang.number(j.total)),
        changed: lang
            .t("job.changed")
            .replace("{n}", &lang.number(int("changed"))),
        unchanged: lang
            .t("job.unchanged")
            .replace("{n}", &lang.number(int("unchanged"))),
        failed: lang
            .t("job.failed")
            .replace("{n}", &lang.number(int("failed_count"))),
        failed_count: int("failed_count"),
        failures,
        error: j.error.clone(),
        poll: format!("/jobs/{}/progress?back={}", j.id, encode(&back)),
        back,
        alert: None,
    }
}

fn alert(text: String, back: &str) -> JobPanel {
    JobPanel {
        id: 0,
        running: false,
        title: String::new(),
        state: String::new(),
        state_label: String::new(),
        percent: 0,
        progress: String::new(),
        changed: String::new(),
        unchanged: String::new(),
        failed: String::new(),
        failed_count: 0,
        failures: Vec::new(),
        error: None,
        poll: String::new(),
        back: safe_back(back),
        alert: Some(text),
    }
}

#[derive(Template)]
#[template(path = "records_job.html")]
struct JobTemplate {
    page: PageCtx,
    job: JobPanel,
}

/// A form value, trimmed; None when missing or blank.
fn form_value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    super::form_value(pairs, name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn app_error_text(lang: Lang, e: &AppError) -> String {
    match e {
        AppError::Validation(errors) => errors
            .iter()
            .map(|e| list_filter::message(lang, &e.code, &e.message))
            .collect::<Vec<_>>()
            .join("; "),
        AppError::Forbidden(_) => lang.t("error.forbidden").to_string(),
        AppError::NotFound(_) => lang.t("bulk.not_found").to_string(),
        _ => lang.t("error.unexpected").to_string(),
    }
}

/// `POST /records/bulk`: starts a bulk action on the selection or on all found.
pub async fn submit(
    State(app): State<App>,
    s: UiSession,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = s.csrf_rejection(&headers, form_value(&pairs, "csrf")) {
        return r;
    }
    let hx = headers.contains_key("hx-request");
    let back = safe_back(form_value(&pairs, "back").unwrap_or("/records"));
    let answer = |job: JobPanel| -> Response {
        if hx || job.alert.is_some() {
            render(&JobTemplate {
                page: s.page("records"),
                job,
            })
        } else {
            let sep = if back.contains('?') { '&' } else { '?' };
            Redirect::to(&format!("{back}{sep}job={}", job.id)).into_response()
        }
    };
    let target = if form_value(&pairs, "scope") == Some("filter") {
        match list_filter::parse_f(form_value(&pairs, "f")) {
            Ok(f) => BulkTarget::found(f, form_value(&pairs, "q").unwrap_or_default()),
            Err(()) => return answer(alert(s.lang.t("filter.unreadable").into(), &back)),
        }
    } else {
        BulkTarget::Ids(
            pairs
                .iter()
                .filter(|(k, v)| k == "ids" && !v.trim().is_empty())
                .map(|(_, v)| v.trim().to_string())
                .collect(),
        )
    };
    let group = |name: &str| form_value(&pairs, name).and_then(|v| v.parse::<i64>().ok());
    let tags = || -> Vec<String> {
        form_value(&pairs, "tags")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect()
    };
    let action = match form_value(&pairs, "action").unwrap_or_default() {
        a @ ("campaign_add" | "campaign_remove" | "segment_add" | "segment_remove") => {
            let (kind, name) = if a.starts_with("campaign") {
                (GroupKind::Campaign, "campaign")
            } else {
                (GroupKind::Segment, "segment")
            };
            let Some(group) = group(name) else {
                return answer(alert(
                    s.lang.t(&format!("bulk.choose_{name}")).into(),
                    &back,
                ));
            };
            BulkAction::Membership {
                kind,
                group,
                add: a.ends_with("_add"),
            }
        }
        a @ ("tags_add" | "tags_remove") => {
            let tags = tags();
            if tags.is_empty() {
                return answer(alert(s.lang.t("bulk.give_tags").into(), &back));
            }
            BulkAction::Tags {
                add: a == "tags_add",
                tags,
            }
        }
        "delete" => BulkAction::Delete {
            confirm: form_value(&pairs, "confirm").and_then(|c| c.parse::<i64>().ok()),
        },
        _ => return answer(alert(s.lang.t("bulk.choose_action").into(), &back)),
    };
    match app.submit_bulk(&s.actor, target, action).await {
        Ok(job) => answer(job_panel(s.lang, &job, &back)),
        Err(e) => answer(alert(app_error_text(s.lang, &e), &back)),
    }
}

/// `GET /jobs/{id}/progress?back=…`: the job's panel (polling while it runs).
pub async fn progress(
    State(app): State<App>,
    s: UiSession,
    Path(id): Path<i64>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let back = q
        .iter()
        .find(|(k, _)| k == "back")
        .map(|(_, v)| v.as_str())
        .unwrap_or("/records");
    let job = match app.job(&s.actor, id).await {
        Ok(j) => job_panel(s.lang, &j, back),
        Err(e) => alert(app_error_text(s.lang, &e), back),
    };
    render(&JobTemplate {
        page: s.page("records"),
        job,
    })
}

/// `POST /jobs/{id}/cancel`: asks the job to stop after its current chunk.
pub async fn cancel(
    State(app): State<App>,
    s: UiSession,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = s.csrf_rejection(&headers, form_value(&pairs, "csrf")) {
        return r;
    }
    let back = form_value(&pairs, "back").unwrap_or("/records");
    let job = match app.cancel_job(&s.actor, id).await {
        Ok(j) => job_panel(s.lang, &j, back),
        Err(e) => alert(app_error_text(s.lang, &e), back),
    };
    render(&JobTemplate {
        page: s.page("records"),
        job,
    })
}
