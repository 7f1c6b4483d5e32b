//! The duplicates screens (SPEC C7). This module: the search form and the history of
//! searches (`/duplicates`) and what the other screens share (labels, errors, who may
//! merge). One search's progress, counts and groups are `duplicates_results.rs`; the bulk
//! merge / delete of its ready groups `duplicates_bulk.rs`; the resolution of one group or
//! of records selected in the list `duplicates_merge.rs`; the operations journal with undo
//! `duplicates_ops.rs`. Everything goes through the app layer's duplicate functions.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use kartoteka_app::{App, AppError};
use kartoteka_domain::duplicates::{FIELD_CRITERIA, MAX_CRITERIA};
use kartoteka_domain::filter::Filter;
use serde_json::Value;

use super::i18n::Lang;
use super::imports::{guard, state_label, value};
use super::list::shown_time;
use super::list_filter::{self, Catalog, Needs};
use super::{PageCtx, UiSession, encode, error_page, form_value, render};

/// The criteria offered before the custom fields, in this order.
pub fn system_criteria() -> Vec<&'static str> {
    let mut keys = vec!["phone", "email"];
    keys.extend(FIELD_CRITERIA);
    keys
}

/// Merging, deleting and undoing need the "delete records" grant.
pub(super) fn may_merge(s: &UiSession) -> bool {
    s.actor.may_delete_records()
}

/// An app error in the user's language: validation errors by their code (this screen's
/// table first), conflicts by what they name.
pub(super) fn error_text(lang: Lang, e: &AppError) -> String {
    match e {
        AppError::Validation(errors) => errors
            .iter()
            .map(
                |e| match lang.dup_opt(&format!("dup.err.{}.{}", e.field, e.code)) {
                    Some(t) => t.to_string(),
                    None => list_filter::message(lang, &e.code, &e.message),
                },
            )
            .collect::<Vec<_>>()
            .join("; "),
        AppError::Forbidden(_) => lang.t("error.forbidden").to_string(),
        AppError::NotFound(_) => lang.dup("dup.not_found").to_string(),
        AppError::Conflict { message, details } => details
            .get("code")
            .and_then(Value::as_str)
            .and_then(|code| lang.dup_opt(&format!("dup.err.{code}")))
            .map_or_else(|| message.clone(), str::to_string),
        _ => lang.t("error.unexpected").to_string(),
    }
}

/// A criterion's or field's label: the custom field's, else the filter's, card's or list's.
pub(super) fn label(catalog: &Catalog, lang: Lang, key: &str) -> String {
    match key {
        "phone" => lang.t("col.phone").to_string(),
        "email" => lang.t("col.email").to_string(),
        k => catalog.label(lang, k),
    }
}

/// The criteria of a search in words: `Phone + Last name`.
pub(super) fn criteria_text(catalog: &Catalog, lang: Lang, keys: &[String]) -> String {
    keys.iter()
        .map(|k| label(catalog, lang, k))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// A filter in a few words (as the list's closed filter panel shows it).
pub(super) fn filter_text(catalog: &Catalog, lang: Lang, f: &Filter) -> String {
    f.all
        .iter()
        .enumerate()
        .map(|(i, c)| super::list_bulk::criterion_summary(&catalog.row(lang, i, c)))
        .collect::<Vec<_>>()
        .join(" · ")
}

pub struct CriterionOpt {
    pub key: String,
    pub label: String,
    pub checked: bool,
}

pub struct SearchRow {
    pub href: String,
    pub when: String,
    pub who: String,
    pub criteria: String,
    pub filter: String,
    pub state: String,
    pub state_label: &'static str,
    pub groups: String,
    pub records: String,
}

#[derive(Template)]
#[template(path = "dup_page.html")]
struct SearchPage {
    page: PageCtx,
    system: Vec<CriterionOpt>,
    custom: Vec<CriterionOpt>,
    max: usize,
    /// The list's filter the search is limited to (JSON, empty for none), and in words.
    f: String,
    filter_text: String,
    list_href: String,
    error: Option<String>,
    rows: Vec<SearchRow>,
}

/// The search form (with `chosen` criteria ticked) and the history.
async fn search_page(
    app: &App,
    s: &UiSession,
    chosen: &[String],
    f: &str,
    error: Option<String>,
) -> Response {
    let lang = s.lang;
    let defs = app.custom_definitions().await.unwrap_or_default();
    let filter = list_filter::parse_f(Some(f)).unwrap_or_default();
    let catalog = Catalog::load(app, s, defs, Needs::of(&filter, &[])).await;
    let opt = |key: String| CriterionOpt {
        label: label(&catalog, lang, &key),
        checked: chosen.contains(&key),
        key,
    };
    let system = system_criteria()
        .into_iter()
        .map(|k| opt(k.to_string()))
        .collect();
    let custom = catalog
        .defs
        .iter()
        .filter(|d| d.visible)
        .map(|d| opt(format!("custom.{}", d.key)))
        .collect();
    let searches = match app.duplicate_searches(&s.actor).await {
        Ok(l) => l,
        Err(e) => return error_page(s, &e),
    };
    let users = app.user_choices(&s.actor).await.unwrap_or_default();
    let mut rows = Vec::with_capacity(searches.len());
    for j in &searches {
        let full = kartoteka_store::jobs::get_with_params(&app.db.pool, j.id).await;
        let (params, by) = match &full {
            Ok(job) => (
                serde_json::from_str::<Value>(&job.params).unwrap_or(Value::Null),
                job.created_by,
            ),
            Err(_) => (Value::Null, None),
        };
        let keys: Vec<String> = params["criteria"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let filter: Option<Filter> = serde_json::from_value(params["filter"].clone()).ok();
        let n = |k: &str| lang.number(j.result[k].as_i64().unwrap_or(0));
        let done = j.state == "done";
        let purged = j.result.get("purged_at").is_some();
        rows.push(SearchRow {
            href: format!("/duplicates/{}", j.id),
            when: shown_time(lang, &j.created_at, &s.time_zone),
            who: by
                .and_then(|b| users.iter().find(|(u, _)| *u == b))
                .map(|(_, l)| l.clone())
                .unwrap_or_default(),
            criteria: criteria_text(&catalog, lang, &keys),
            filter: filter
                .filter(|f| !f.all.is_empty())
                .map(|f| filter_text(&catalog, lang, &f))
                .unwrap_or_default(),
            state: j.state.clone(),
            state_label: if purged {
                lang.dup("dup.purged_state")
            } else {
                state_label(lang, &j.state)
            },
            groups: if done { n("groups") } else { String::new() },
            records: if done { n("records") } else { String::new() },
        });
    }
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let f = if filter.all.is_empty() {
        String::new()
    } else {
        serde_json::to_string(&filter).unwrap_or_default()
    };
    let mut r = render(&SearchPage {
        page: s.page("duplicates"),
        system,
        custom,
        max: MAX_CRITERIA,
        filter_text: filter_text(&catalog, lang, &filter),
        list_href: super::list::list_url(&f, "", "last_name", 1),
        f,
        error,
        rows,
    });
    *r.status_mut() = status;
    r
}

/// `GET /duplicates[?f=FILTER]`: the search form (limited to the list's filter when given)
/// and the history of searches.
pub async fn page(
    State(app): State<App>,
    s: UiSession,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = guard(&s) {
        return r;
    }
    let f = value(&q, "f").or(value(&q, "filter")).unwrap_or_default();
    if list_filter::parse_f(Some(f)).is_err() {
        let msg = s.lang.t("filter.unreadable").to_string();
        return search_page(&app, &s, &[], "", Some(msg)).await;
    }
    search_page(&app, &s, &["phone".to_string()], f, None).await
}

/// `POST /duplicates` (`criteria` repeated, `f` optional): starts the search and opens it.
pub async fn start(
    State(app): State<App>,
    s: UiSession,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = guard(&s) {
        return r;
    }
    if let Some(r) = s.csrf_rejection(&headers, form_value(&pairs, "csrf")) {
        return r;
    }
    let criteria: Vec<String> = pairs
        .iter()
        .filter(|(k, v)| k == "criteria" && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_string())
        .collect();
    let f = value(&pairs, "f").unwrap_or_default();
    let Ok(filter) = list_filter::parse_f(Some(f)) else {
        let msg = s.lang.t("filter.unreadable").to_string();
        return search_page(&app, &s, &criteria, "", Some(msg)).await;
    };
    let filter = (!filter.all.is_empty()).then_some(filter);
    match app
        .start_duplicate_search(&s.actor, &criteria, filter)
        .await
    {
        Ok(job) => Redirect::to(&format!("/duplicates/{}", job.id)).into_response(),
        Err(e) => {
            let msg = error_text(s.lang, &e);
            search_page(&app, &s, &criteria, f, Some(msg)).await
        }
    }
}

/// The list's "Find duplicates" link: the search form limited to the list's filter.
pub fn search_link(f: &str) -> String {
    if f.is_empty() {
        "/duplicates".to_string()
    } else {
        format!("/duplicates?f={}", encode(f))
    }
}
