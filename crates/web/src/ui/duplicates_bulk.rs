//! The bulk merge or delete of every ready group of a search (`POST /duplicates/{id}/bulk`
//! with `confirm` = the records it removes, asked in a dialog first) and its job's panel
//! (`/duplicates/{id}/bulk/{job}`, polling while it runs; once it ends, the search's
//! results come along to replace the stale ones).

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use kartoteka_app::jobs::JobView;
use kartoteka_app::{App, AppError};
use serde_json::Value;

use super::duplicates::error_text;
use super::duplicates_results::{Count, Listing, Results, ResultsPage, build_results};
use super::i18n::Lang;
use super::imports::{guard, state_label, value};
use super::{PageCtx, UiSession, error_page, form_value, render};

/// What a bulk merge or delete job did, or why it did not start.
pub struct BulkPanel {
    pub id: i64,
    pub search: i64,
    pub running: bool,
    pub title: String,
    pub state: String,
    pub state_label: &'static str,
    pub percent: i64,
    pub progress: String,
    pub counts: Vec<Count>,
    pub failures: Vec<(String, String, String)>,
    pub failures_more: bool,
    pub error: Option<String>,
    pub poll: String,
    pub operations: String,
    pub alert: Option<String>,
}

pub(super) fn bulk_panel(lang: Lang, search: i64, j: &JobView) -> BulkPanel {
    let running = matches!(j.state.as_str(), "queued" | "running");
    let int = |k: &str| j.result[k].as_i64().unwrap_or(0);
    let failed = j.result["failed"].as_array().cloned().unwrap_or_default();
    let failures = failed
        .iter()
        .take(50)
        .map(|f| {
            (
                f["group"].as_i64().unwrap_or(0).to_string(),
                f["records"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default(),
                f["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let n = |x: i64| lang.number(x);
    let count = |key: &str, x: i64, class: &'static str| Count {
        label: lang.dup(key).into(),
        value: n(x),
        class,
    };
    let mut counts = vec![
        count("dup.bulk.c.groups", int("groups"), "ok"),
        count("dup.bulk.c.removed", int("removed"), "ok"),
        count("dup.bulk.c.skipped", int("skipped"), ""),
    ];
    counts.push(count(
        "dup.bulk.c.failed",
        failed.len() as i64,
        if failed.is_empty() { "" } else { "bad" },
    ));
    BulkPanel {
        id: j.id,
        search,
        running,
        title: lang
            .dup(if j.kind == "duplicates_delete" {
                "dup.bulk.delete_title"
            } else {
                "dup.bulk.merge_title"
            })
            .into(),
        state: j.state.clone(),
        state_label: state_label(lang, &j.state),
        percent: if j.total > 0 {
            (j.done * 100 / j.total).clamp(0, 100)
        } else if j.state == "done" {
            100
        } else {
            0
        },
        progress: lang
            .dup("dup.bulk.progress")
            .replace("{done}", &n(j.done))
            .replace("{total}", &n(j.total)),
        counts,
        failures_more: failed.len() > 50,
        failures,
        error: j.error.clone(),
        poll: format!("/duplicates/{search}/bulk/{}", j.id),
        operations: format!("/duplicates/operations?job={}", j.id),
        alert: None,
    }
}

fn bulk_alert(search: i64, text: String) -> BulkPanel {
    BulkPanel {
        id: 0,
        search,
        running: false,
        title: String::new(),
        state: String::new(),
        state_label: "",
        percent: 0,
        progress: String::new(),
        counts: Vec::new(),
        failures: Vec::new(),
        failures_more: false,
        error: None,
        poll: String::new(),
        operations: String::new(),
        alert: Some(text),
    }
}

#[derive(Template)]
#[template(path = "dup_bulk_part.html")]
struct BulkPart {
    page: PageCtx,
    b: BulkPanel,
    /// The search's results again once the job has ended.
    results: Option<Results>,
}

/// `POST /duplicates/{id}/bulk` (`action` = merge | delete, `confirm` = the records that
/// will be removed): starts the bulk job and answers its panel (htmx) or the page with it.
pub async fn bulk(
    State(app): State<App>,
    s: UiSession,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = guard(&s) {
        return r;
    }
    if let Some(r) = s.csrf_rejection(&headers, form_value(&pairs, "csrf")) {
        return r;
    }
    let hx = headers.contains_key("hx-request");
    let action = value(&pairs, "action").unwrap_or_default();
    let confirm = value(&pairs, "confirm").and_then(|c| c.parse::<i64>().ok());
    let panel = match app
        .start_duplicate_bulk(&s.actor, id, action, confirm)
        .await
    {
        Ok(job) => {
            if !hx {
                return Redirect::to(&format!("/duplicates/{id}?bulk={}", job.id)).into_response();
            }
            bulk_panel(s.lang, id, &job)
        }
        Err(AppError::Forbidden(_)) if !hx => {
            return error_page(&s, &AppError::Forbidden("merge".into()));
        }
        Err(e) => bulk_alert(id, bulk_error(s.lang, &e)),
    };
    if hx {
        return render(&BulkPart {
            page: s.page("duplicates"),
            b: panel,
            results: None,
        });
    }
    let l = Listing::from_query(&[]);
    match build_results(&app, &s, id, &l).await {
        Ok(r) => {
            let mut resp = render(&ResultsPage {
                page: s.page("duplicates"),
                r,
                bulk_job: Some(panel),
                notice: None,
            });
            *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            resp
        }
        Err(e) => error_page(&s, &e),
    }
}

/// A refused bulk start: the confirmation no longer matches (someone resolved groups
/// meanwhile), the search is not done, or the role does not allow it.
fn bulk_error(lang: Lang, e: &AppError) -> String {
    match e {
        AppError::Validation(errors)
            if errors.iter().any(|e| e.code == "confirmation_required") =>
        {
            lang.dup("dup.bulk.stale").to_string()
        }
        AppError::Conflict { .. } => lang.dup("dup.bulk.not_done").to_string(),
        e => error_text(lang, e),
    }
}

/// `GET /duplicates/{id}/bulk/{job}`: a bulk job's panel (polling while it runs).
pub async fn bulk_progress(
    State(app): State<App>,
    s: UiSession,
    Path((id, job)): Path<(i64, i64)>,
) -> Response {
    if let Some(r) = guard(&s) {
        return r;
    }
    let b = match app.job(&s.actor, job).await {
        Ok(j) if j.kind.starts_with("duplicates_") => bulk_panel(s.lang, id, &j),
        Ok(_) => bulk_alert(id, s.lang.dup("dup.not_found").into()),
        Err(e) => bulk_alert(id, error_text(s.lang, &e)),
    };
    let results = if b.alert.is_none() && !b.running {
        build_results(&app, &s, id, &Listing::from_query(&[]))
            .await
            .ok()
            .map(|r| Results { oob: true, ..r })
    } else {
        None
    };
    render(&BulkPart {
        page: s.page("duplicates"),
        b,
        results,
    })
}
