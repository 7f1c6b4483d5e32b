//! The duplicates screens (SPEC C7): the search form and the history of searches
//! (`/duplicates`), one search's progress, counts and groups with the bulk merge / delete
//! of every ready group (`/duplicates/{id}`, polling `…/panel` while the search runs and
//! `…/bulk/{job}` while a bulk job runs). The resolution of one group or of records
//! selected in the list is `duplicates_merge.rs`; the operations journal with undo is
//! `duplicates_ops.rs`. Everything goes through the app layer's duplicate functions.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use kartoteka_app::duplicates::{GroupQuery, GroupView, SearchView};
use kartoteka_app::jobs::JobView;
use kartoteka_app::{App, AppError};
use kartoteka_domain::duplicates::{FIELD_CRITERIA, MAX_CRITERIA};
use kartoteka_domain::filter::Filter;
use serde_json::Value;

use super::i18n::Lang;
use super::imports::{guard, state_label, value};
use super::list::shown_time;
use super::list_filter::{self, Catalog, Needs};
use super::{PageCtx, UiSession, encode, error_page, form_value, render};

/// Groups a page of the results shows.
pub const GROUPS_PER_PAGE: i64 = 50;

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
        AppError::Conflict { message, .. } => message.clone(),
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
fn criteria_text(catalog: &Catalog, lang: Lang, keys: &[String]) -> String {
    keys.iter()
        .map(|k| label(catalog, lang, k))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// A filter in a few words (as the list's closed filter panel shows it).
fn filter_text(catalog: &Catalog, lang: Lang, f: &Filter) -> String {
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
            state_label: state_label(lang, &j.state),
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

/// One count of the results.
pub struct Count {
    pub label: String,
    pub value: String,
    pub class: &'static str,
}

pub struct Tab {
    pub label: String,
    pub count: String,
    pub href: String,
    pub current: bool,
}

pub struct Member {
    pub id: String,
    pub name: String,
    /// Merged or deleted since the search.
    pub gone: bool,
    pub kind: String,
    pub kind_label: &'static str,
    /// The oldest: bulk actions keep it.
    pub kept: bool,
}

pub struct GroupRow {
    pub position: i64,
    pub size: i64,
    /// (criterion label, the values that tie the group).
    pub ties: Vec<(String, String)>,
    pub members: Vec<Member>,
    pub held: Option<(String, String)>,
    /// The operation that resolved it (link to the journal).
    pub resolved: Option<String>,
    pub resolve_href: String,
}

pub struct PageLink {
    pub label: String,
    pub href: String,
    pub current: bool,
    /// An ellipsis between page numbers.
    pub gap: bool,
}

/// A sortable header: its link and ▲ / ▼ when the list is sorted by it.
pub struct SortLink {
    pub href: String,
    pub arrow: &'static str,
}

/// The bulk bar's two confirmations.
pub struct BulkAsk {
    pub action: String,
    pub confirm: i64,
    pub merge_ask: String,
    pub delete_ask: String,
    pub hint: String,
}

/// A search's progress, then its counts, groups and bulk bar.
pub struct Results {
    pub id: i64,
    pub running: bool,
    pub state: String,
    pub state_label: &'static str,
    pub error: Option<String>,
    pub criteria: String,
    pub filter: String,
    pub when: String,
    pub seconds: String,
    pub counts: Vec<Count>,
    pub tabs: Vec<Tab>,
    pub groups: Vec<GroupRow>,
    pub empty_text: String,
    pub size_sort: SortLink,
    pub value_sort: SortLink,
    pub pages: Vec<PageLink>,
    pub range: String,
    pub bulk: Option<BulkAsk>,
    pub may_merge: bool,
    pub poll: String,
    /// Sent beside a finished bulk job's panel, replacing the stale results (htmx).
    pub oob: bool,
}

/// How the results are listed: which groups, sorted how, which page.
#[derive(Clone)]
pub struct Listing {
    pub show: String,
    pub sort: String,
    pub page: i64,
}

impl Listing {
    fn from_query(q: &[(String, String)]) -> Listing {
        let show = match value(q, "show") {
            Some(s @ ("ready" | "held" | "resolved")) => s.to_string(),
            _ => "all".to_string(),
        };
        let sort = match value(q, "sort") {
            Some(s @ ("size" | "-size" | "value" | "-value")) => s.to_string(),
            _ => "size".to_string(),
        };
        let page = value(q, "page")
            .and_then(|p| p.parse::<i64>().ok())
            .unwrap_or(1)
            .max(1);
        Listing { show, sort, page }
    }

    fn href(&self, id: i64) -> String {
        let mut h = format!("/duplicates/{id}?show={}&sort={}", self.show, self.sort);
        if self.page > 1 {
            h.push_str(&format!("&page={}", self.page));
        }
        h
    }

    fn with(&self, show: Option<&str>, sort: Option<&str>, page: Option<i64>) -> Listing {
        Listing {
            show: show.unwrap_or(&self.show).to_string(),
            sort: sort.unwrap_or(&self.sort).to_string(),
            page: page.unwrap_or(self.page),
        }
    }
}

/// Page numbers around the current one, with the first and the last.
fn page_links(id: i64, l: &Listing, total: i64) -> Vec<PageLink> {
    let pages = ((total + GROUPS_PER_PAGE - 1) / GROUPS_PER_PAGE).max(1);
    if pages <= 1 {
        return Vec::new();
    }
    let mut shown: Vec<i64> = vec![1, pages];
    for p in (l.page - 2)..=(l.page + 2) {
        if (1..=pages).contains(&p) {
            shown.push(p);
        }
    }
    shown.sort_unstable();
    shown.dedup();
    let mut out = Vec::new();
    let mut last = 0;
    for p in shown {
        if p > last + 1 {
            out.push(PageLink {
                label: "…".into(),
                href: String::new(),
                current: false,
                gap: true,
            });
        }
        out.push(PageLink {
            label: p.to_string(),
            href: l.with(None, None, Some(p)).href(id),
            current: p == l.page,
            gap: false,
        });
        last = p;
    }
    out
}

fn held_label(lang: Lang, code: &str) -> String {
    match lang.dup_opt(&format!("dup.held.{code}")) {
        Some(t) => t.to_string(),
        None => code.to_string(),
    }
}

fn group_row(lang: Lang, catalog: &Catalog, id: i64, g: &GroupView) -> GroupRow {
    let ties = g
        .ties
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let values = v
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .map(|x| x.as_str().map(str::to_string).unwrap_or(x.to_string()))
                                .collect::<Vec<_>>()
                                .join(", ")
                        })
                        .unwrap_or_else(|| v.as_str().unwrap_or_default().to_string());
                    (label(catalog, lang, k), values)
                })
                .collect()
        })
        .unwrap_or_default();
    GroupRow {
        position: g.position,
        size: g.size,
        ties,
        members: g
            .records
            .iter()
            .enumerate()
            .map(|(i, m)| Member {
                id: m.id.clone(),
                gone: m.kind.is_empty(),
                name: if m.display_name.is_empty() {
                    m.id.clone()
                } else {
                    m.display_name.clone()
                },
                kind_label: lang.t(&format!("kind.{}", m.kind)),
                kind: m.kind.clone(),
                kept: i == 0,
            })
            .collect(),
        held: g.held.as_ref().map(|h| (h.clone(), held_label(lang, h))),
        resolved: g
            .resolved_by
            .map(|op| format!("/duplicates/operations?op={op}#op-{op}")),
        resolve_href: format!("/duplicates/{id}/groups/{}", g.position),
    }
}

/// Builds the results of search `id` as `l` lists them.
pub(super) async fn build_results(
    app: &App,
    s: &UiSession,
    id: i64,
    l: &Listing,
) -> Result<Results, AppError> {
    let lang = s.lang;
    let v: SearchView = app.duplicate_search(&s.actor, id).await?;
    let j = &v.job;
    let running = matches!(j.state.as_str(), "queued" | "running");
    let done = j.state == "done";
    let filter: Filter = v
        .filter
        .clone()
        .and_then(|f| serde_json::from_value(f).ok())
        .unwrap_or_default();
    let defs = app.custom_definitions().await.unwrap_or_default();
    let catalog = Catalog::load(app, s, defs, Needs::of(&filter, &[])).await;
    let n = |x: i64| lang.number(x);
    let mut counts = Vec::new();
    let mut tabs = Vec::new();
    let mut groups = Vec::new();
    let mut total = 0;
    if done {
        counts.push(Count {
            label: lang.dup("dup.c.groups").into(),
            value: n(v.groups),
            class: "",
        });
        counts.push(Count {
            label: lang.dup("dup.c.records").into(),
            value: n(v.records),
            class: "",
        });
        counts.push(Count {
            label: lang.dup("dup.c.ready").into(),
            value: n(v.ready),
            class: "ok",
        });
        counts.push(Count {
            label: lang.dup("dup.c.ready_removes").into(),
            value: n(v.ready_removes),
            class: "ok",
        });
        counts.push(Count {
            label: lang.dup("dup.c.held").into(),
            value: n(v.held),
            class: if v.held > 0 { "warn" } else { "" },
        });
        // The reasons, when some group is held for them.
        for reason in ["too_large", "excluded", "mixed_kinds"] {
            let k = v.held_by_reason[reason].as_i64().unwrap_or(0);
            if k > 0 {
                counts.push(Count {
                    label: format!(
                        "{}: {}",
                        lang.dup("dup.c.held_for"),
                        held_label(lang, reason)
                    ),
                    value: n(k),
                    class: "warn",
                });
            }
        }
        counts.push(Count {
            label: lang.dup("dup.c.resolved").into(),
            value: n(v.resolved),
            class: "",
        });
        for (show, count) in [
            ("all", v.groups),
            ("ready", v.ready),
            ("held", v.held),
            ("resolved", v.resolved),
        ] {
            tabs.push(Tab {
                label: lang.dup(&format!("dup.tab.{show}")).into(),
                count: n(count),
                href: l.with(Some(show), None, Some(1)).href(id),
                current: l.show == show,
            });
        }
        let q = GroupQuery {
            show: Some(l.show.clone()),
            sort: Some(l.sort.clone()),
            offset: Some((l.page - 1) * GROUPS_PER_PAGE),
            limit: Some(GROUPS_PER_PAGE),
        };
        let page = app.duplicate_groups(&s.actor, id, &q).await?;
        total = page.total;
        groups = page
            .items
            .iter()
            .map(|g| group_row(lang, &catalog, id, g))
            .collect();
    }
    let sort_link = |key: &str, first: &str| {
        let current = l.sort.trim_start_matches('-') == key;
        // The first click sorts the natural way (largest, A–Z); the next reverses.
        let next = if current {
            if l.sort.starts_with('-') {
                key.to_string()
            } else {
                format!("-{key}")
            }
        } else {
            first.to_string()
        };
        SortLink {
            href: l.with(None, Some(&next), Some(1)).href(id),
            arrow: match (current, l.sort.starts_with('-')) {
                (false, _) => "",
                (true, desc) => {
                    // `size` lists the largest first, `value` A–Z.
                    if (key == "size") != desc {
                        "▼"
                    } else {
                        "▲"
                    }
                }
            },
        }
    };
    let first = (l.page - 1) * GROUPS_PER_PAGE + 1;
    let range = if total == 0 {
        String::new()
    } else {
        lang.dup("dup.range")
            .replace("{from}", &n(first))
            .replace("{to}", &n((first + GROUPS_PER_PAGE - 1).min(total)))
            .replace("{total}", &n(total))
    };
    let may = may_merge(s);
    let bulk = (may && done && v.ready > 0).then(|| BulkAsk {
        action: format!("/duplicates/{id}/bulk"),
        confirm: v.ready_removes,
        merge_ask: lang
            .dup("dup.bulk.merge_ask")
            .replace("{groups}", &n(v.ready))
            .replace("{removed}", &n(v.ready_removes)),
        delete_ask: lang
            .dup("dup.bulk.delete_ask")
            .replace("{groups}", &n(v.ready))
            .replace("{removed}", &n(v.ready_removes)),
        hint: lang.dup("dup.bulk.held_hint").replace("{held}", &n(v.held)),
    });
    let seconds = j.result["seconds"]
        .as_f64()
        .map(|x| lang.dup("dup.seconds").replace("{n}", &format!("{x:.2}")))
        .unwrap_or_default();
    Ok(Results {
        id,
        running,
        state: j.state.clone(),
        state_label: state_label(lang, &j.state),
        error: j.error.clone(),
        criteria: criteria_text(&catalog, lang, &v.criteria),
        filter: filter_text(&catalog, lang, &filter),
        when: shown_time(lang, &j.created_at, &s.time_zone),
        seconds,
        counts,
        tabs,
        groups,
        empty_text: lang.dup(&format!("dup.empty.{}", l.show)).to_string(),
        size_sort: sort_link("size", "size"),
        value_sort: sort_link("value", "value"),
        pages: page_links(id, l, total),
        range,
        bulk,
        may_merge: may,
        poll: format!("{}&part=1", l.href(id)),
        oob: false,
    })
}

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
#[template(path = "dup_search.html")]
struct ResultsPage {
    page: PageCtx,
    r: Results,
    bulk_job: Option<BulkPanel>,
    notice: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "dup_results.html")]
struct ResultsPart {
    page: PageCtx,
    r: Results,
}

#[derive(Template)]
#[template(path = "dup_bulk_part.html")]
struct BulkPart {
    page: PageCtx,
    b: BulkPanel,
    /// The search's results again once the job has ended.
    results: Option<Results>,
}

/// `GET /duplicates/{id}[?show=&sort=&page=][&part=1][&bulk=JOB][&merged=OP]`: the
/// search's progress while it runs, then its counts and groups (`part=1`: only that part,
/// which the page polls).
pub async fn results(
    State(app): State<App>,
    s: UiSession,
    Path(id): Path<i64>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = guard(&s) {
        return r;
    }
    let l = Listing::from_query(&q);
    let r = match build_results(&app, &s, id, &l).await {
        Ok(r) => r,
        Err(e) => return error_page(&s, &e),
    };
    if value(&q, "part").is_some() {
        return render(&ResultsPart {
            page: s.page("duplicates"),
            r,
        });
    }
    let bulk_job = match value(&q, "bulk").and_then(|b| b.parse::<i64>().ok()) {
        Some(job) => match app.job(&s.actor, job).await {
            Ok(j) if j.kind.starts_with("duplicates_") => Some(bulk_panel(s.lang, id, &j)),
            _ => None,
        },
        None => None,
    };
    let notice = value(&q, "merged")
        .and_then(|op| op.parse::<i64>().ok())
        .map(|op| {
            (
                s.lang
                    .dup("dup.resolved_notice")
                    .replace("{op}", &op.to_string()),
                format!("/duplicates/operations?op={op}#op-{op}"),
            )
        });
    render(&ResultsPage {
        page: s.page("duplicates"),
        r,
        bulk_job,
        notice,
    })
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

/// The list's "Find duplicates" link: the search form limited to the list's filter.
pub fn search_link(f: &str) -> String {
    if f.is_empty() {
        "/duplicates".to_string()
    } else {
        format!("/duplicates?f={}", encode(f))
    }
}
