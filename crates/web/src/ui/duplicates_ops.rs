//! The journal of merges and duplicate deletes (`/duplicates/operations`, newest first,
//! optionally of one bulk job or one record) with the undo of each within the window
//! (`POST /duplicates/operations/{id}/undo`, after a confirmation). A refused undo (409:
//! the main record changed since, the records exist again, the window ended) is shown
//! beside its row with the reason.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use kartoteka_app::duplicates::OperationView;
use kartoteka_app::{App, AppError};
use serde_json::Value;

use super::duplicates::{error_text, label, may_merge};
use super::i18n::Lang;
use super::imports::{guard, value};
use super::list::shown_time;
use super::list_filter::{Catalog, Needs};
use super::{PageCtx, UiSession, encode, error_page, form_value, render};

pub struct OpRow {
    pub id: i64,
    pub when: String,
    pub who: String,
    pub action: String,
    pub action_class: &'static str,
    pub job: Option<i64>,
    pub main: String,
    pub removed: Vec<String>,
    pub summary: Vec<String>,
    pub undone: Option<String>,
    pub until: String,
    /// The undo's confirmation, for those who may undo an open operation.
    pub undo_ask: Option<String>,
    pub error: Option<String>,
    pub highlight: bool,
}

#[derive(Template)]
#[template(path = "dup_operations.html")]
struct OpsPage {
    page: PageCtx,
    rows: Vec<OpRow>,
    scope: Option<String>,
    notice: Option<String>,
    /// Where an undo comes back to (this listing).
    back: String,
}

/// The listing's filter from the query: a bulk job or a record.
struct Scope {
    job: Option<i64>,
    record: Option<String>,
}

impl Scope {
    fn from_query(q: &[(String, String)]) -> Scope {
        Scope {
            job: value(q, "job").and_then(|j| j.parse().ok()),
            record: value(q, "record").map(|r| r.to_ascii_uppercase()),
        }
    }

    fn href(&self) -> String {
        match (&self.job, &self.record) {
            (Some(j), _) => format!("/duplicates/operations?job={j}"),
            (None, Some(r)) => format!("/duplicates/operations?record={}", encode(r)),
            _ => "/duplicates/operations".to_string(),
        }
    }

    fn text(&self, lang: Lang) -> Option<String> {
        match (&self.job, &self.record) {
            (Some(j), _) => Some(lang.dup("dup.ops.of_job").replace("{job}", &j.to_string())),
            (None, Some(r)) => Some(lang.dup("dup.ops.of_record").replace("{record}", r)),
            _ => None,
        }
    }
}

/// What an operation did, in short lines: merged / deleted records, the fields that took
/// another record's value, the phones and e-mails added.
fn summary_lines(lang: Lang, catalog: &Catalog, summary: &Value) -> Vec<String> {
    let ids = |k: &str| -> Vec<String> {
        summary[k]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    // Fields that took another record's value, by that record; then the lists united.
    let from = &summary["values_from"];
    let mut by_source: Vec<(String, Vec<String>)> = Vec::new();
    let mut united: Vec<String> = Vec::new();
    for f in ids("changed") {
        match from[&f].as_str() {
            Some(src) => match by_source.iter_mut().find(|(s, _)| s == src) {
                Some((_, fields)) => fields.push(label(catalog, lang, &f)),
                None => by_source.push((src.to_string(), vec![label(catalog, lang, &f)])),
            },
            None => united.push(label(catalog, lang, &f)),
        }
    }
    for (src, fields) in by_source {
        out.push(
            lang.dup("dup.ops.from")
                .replace("{record}", &src)
                .replace("{fields}", &fields.join(", ")),
        );
    }
    if !united.is_empty() {
        out.push(format!(
            "{}: {}",
            lang.dup("dup.ops.united"),
            united.join(", ")
        ));
    }
    let added: Vec<String> = [
        ("phones_added", "dup.ops.added_phones"),
        ("emails_added", "dup.ops.added_emails"),
    ]
    .iter()
    .filter_map(|(k, key)| {
        let n = summary[*k].as_i64().unwrap_or(0);
        (n > 0).then(|| lang.dup(key).replace("{n}", &lang.number(n)))
    })
    .collect();
    if !added.is_empty() {
        out.push(added.join(", "));
    }
    out
}

/// The reason of a refused undo in the user's language (the app explains it in English;
/// the known explanations are recognized, anything else is shown as it is).
fn undo_refusal(lang: Lang, catalog: &Catalog, message: &str) -> String {
    let between = |a: &str, b: &str| -> Option<String> {
        let start = message.find(a)? + a.len();
        let end = message[start..].find(b)? + start;
        Some(message[start..end].to_string())
    };
    let key_and = |key: &str, pairs: &[(&str, String)]| {
        let mut t = lang.dup(key).to_string();
        for (k, v) in pairs {
            t = t.replace(k, v);
        }
        t
    };
    if message.contains("was undone already") {
        key_and("dup.undo.err.undone", &[])
    } else if message.contains("older than the undo window") {
        key_and("dup.undo.err.window", &[])
    } else if message.contains("exists again") {
        let r = between("record ", " exists again").unwrap_or_default();
        key_and("dup.undo.err.exists", &[("{record}", r)])
    } else if message.contains("was deleted after the merge") {
        let r = between("record ", " was deleted").unwrap_or_default();
        key_and("dup.undo.err.deleted", &[("{record}", r)])
    } else if message.contains("was changed after the merge") {
        let r = between("record ", " was changed").unwrap_or_default();
        let f = between("after the merge (", ")")
            .unwrap_or_default()
            .split(", ")
            .map(|k| label(catalog, lang, k))
            .collect::<Vec<_>>()
            .join(", ");
        key_and("dup.undo.err.changed", &[("{record}", r), ("{fields}", f)])
    } else if message.starts_with("the ") && message.contains("changed after the merge") {
        let what = between("the ", " of record ").unwrap_or_default();
        let r = between(" of record ", " changed after").unwrap_or_default();
        key_and("dup.undo.err.related", &[("{what}", what), ("{record}", r)])
    } else {
        format!("{} {message}", lang.dup("dup.undo.err.other"))
    }
}

fn row(
    lang: Lang,
    s: &UiSession,
    catalog: &Catalog,
    op: &OperationView,
    highlight: Option<i64>,
) -> OpRow {
    let may = may_merge(s);
    let action = if op.action == "delete" {
        "dup.ops.action.delete"
    } else {
        "dup.ops.action.merge"
    };
    let removed_n = op.removed.len() as i64;
    OpRow {
        id: op.id,
        when: shown_time(lang, &op.at, &s.time_zone),
        who: op.by.clone(),
        action: lang.dup(action).to_string(),
        action_class: if op.action == "delete" {
            "delete"
        } else {
            "merge"
        },
        job: op.job_id,
        main: op.main.clone(),
        removed: op.removed.clone(),
        summary: summary_lines(lang, catalog, &op.summary),
        undone: op.undone_at.as_ref().map(|at| {
            lang.dup("dup.ops.undone")
                .replace("{when}", &shown_time(lang, at, &s.time_zone))
                .replace("{who}", op.undone_by.as_deref().unwrap_or_default())
        }),
        until: op
            .undo_until
            .as_ref()
            .map(|u| shown_time(lang, u, &s.time_zone))
            .unwrap_or_default(),
        undo_ask: (may && op.undo_until.is_some()).then(|| {
            lang.dup(if op.action == "delete" {
                "dup.undo.ask_delete"
            } else {
                "dup.undo.ask_merge"
            })
            .replace("{n}", &lang.number(removed_n))
            .replace("{records}", &op.removed.join(", "))
            .replace("{main}", &op.main)
        }),
        error: None,
        highlight: highlight == Some(op.id),
    }
}

async fn ops_page(
    app: &App,
    s: &UiSession,
    scope: &Scope,
    notice: Option<String>,
    highlight: Option<i64>,
    refused: Option<(i64, String)>,
) -> Response {
    let ops = match app
        .merge_operations(&s.actor, scope.job, scope.record.as_deref())
        .await
    {
        Ok(o) => o,
        Err(e) => return error_page(s, &e),
    };
    let defs = app.custom_definitions().await.unwrap_or_default();
    let catalog = Catalog::load(app, s, defs, Needs::default()).await;
    let mut rows: Vec<OpRow> = ops
        .iter()
        .map(|o| row(s.lang, s, &catalog, o, highlight))
        .collect();
    let mut status = StatusCode::OK;
    if let Some((id, text)) = refused {
        status = StatusCode::CONFLICT;
        if let Some(r) = rows.iter_mut().find(|r| r.id == id) {
            r.error = Some(text);
            r.highlight = true;
        }
    }
    let mut r = render(&OpsPage {
        page: s.page("duplicates"),
        rows,
        scope: scope.text(s.lang),
        notice,
        back: scope.href(),
    });
    *r.status_mut() = status;
    r
}

/// `GET /duplicates/operations[?job=N|record=ID][&done=OP|undone=OP|op=OP]`.
pub async fn page(
    State(app): State<App>,
    s: UiSession,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = guard(&s) {
        return r;
    }
    let scope = Scope::from_query(&q);
    let op = |k: &str| value(&q, k).and_then(|v| v.parse::<i64>().ok());
    let (notice, highlight) = if let Some(id) = op("done") {
        (
            Some(s.lang.dup("dup.ops.done").replace("{op}", &id.to_string())),
            Some(id),
        )
    } else if let Some(id) = op("undone") {
        (
            Some(
                s.lang
                    .dup("dup.ops.undone_notice")
                    .replace("{op}", &id.to_string()),
            ),
            Some(id),
        )
    } else {
        (None, op("op"))
    };
    ops_page(&app, &s, &scope, notice, highlight, None).await
}

/// `POST /duplicates/operations/{id}/undo` (`back`: the listing to return to).
pub async fn undo(
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
    let back = value(&pairs, "back")
        .filter(|b| b.starts_with("/duplicates/operations"))
        .unwrap_or("/duplicates/operations");
    let scope_pairs: Vec<(String, String)> = back
        .split_once('?')
        .map(|(_, q)| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default();
    let scope = Scope::from_query(&scope_pairs);
    match app.undo_merge(&s.actor, id).await {
        Ok(_) => {
            let sep = if back.contains('?') { '&' } else { '?' };
            Redirect::to(&format!("{back}{sep}undone={id}#op-{id}")).into_response()
        }
        Err(AppError::Forbidden(_)) => error_page(&s, &AppError::Forbidden("undo".into())),
        Err(AppError::Conflict { message, .. }) => {
            let defs = app.custom_definitions().await.unwrap_or_default();
            let catalog = Catalog::load(&app, &s, defs, Needs::default()).await;
            let text = undo_refusal(s.lang, &catalog, &message);
            ops_page(&app, &s, &scope, None, Some(id), Some((id, text))).await
        }
        Err(e) => {
            let text = error_text(s.lang, &e);
            let mut r = ops_page(&app, &s, &scope, None, Some(id), Some((id, text))).await;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
    }
}
