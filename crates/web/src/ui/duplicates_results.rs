//! One duplicate search (`/duplicates/{id}`): its progress while it runs (the part
//! `?part=1` polls every second), then its counts, the groups (tabs all / ready / held /
//! resolved, sorted by size or tying value, 50 a page) and the bulk bar for those who may
//! merge.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use kartoteka_app::duplicates::{GroupQuery, GroupView, SearchView};
use kartoteka_app::{App, AppError};
use kartoteka_domain::filter::Filter;
use serde_json::Value;

use super::duplicates::{criteria_text, filter_text, label, may_merge};
use super::duplicates_bulk::{BulkPanel, bulk_panel};
use super::i18n::Lang;
use super::imports::{guard, state_label, value};
use super::list::shown_time;
use super::list_filter::{Catalog, Needs};
use super::{PageCtx, UiSession, error_page, render};

/// Groups a page of the results shows.
pub const GROUPS_PER_PAGE: i64 = 50;

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
    /// The search's groups were removed after the keep time: why, and how to run it again.
    pub purged: Option<Purged>,
    pub may_merge: bool,
    pub poll: String,
    /// Sent beside a finished bulk job's panel, replacing the stale results (htmx).
    pub oob: bool,
}

/// A search whose groups were removed: the notice, and the same search to run again.
pub struct Purged {
    pub text: String,
    pub criteria: Vec<String>,
    /// The filter it was limited to (JSON), empty for none.
    pub f: String,
}

/// How the results are listed: which groups, sorted how, which page.
#[derive(Clone)]
pub struct Listing {
    pub show: String,
    pub sort: String,
    pub page: i64,
}

impl Listing {
    pub(super) fn from_query(q: &[(String, String)]) -> Listing {
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
    let purged = v.purged_at.as_deref().map(|at| Purged {
        text: lang
            .dup("dup.purged")
            .replace("{date}", &shown_time(lang, at, &s.time_zone))
            .replace("{groups}", &n(j.result["groups"].as_i64().unwrap_or(0)))
            .replace("{records}", &n(j.result["records"].as_i64().unwrap_or(0))),
        criteria: v.criteria.clone(),
        f: v.filter.as_ref().map(Value::to_string).unwrap_or_default(),
    });
    if done && purged.is_none() {
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
        purged,
        may_merge: may,
        poll: format!("{}&part=1", l.href(id)),
        oob: false,
    })
}

#[derive(Template)]
#[template(path = "dup_search.html")]
pub(super) struct ResultsPage {
    pub page: PageCtx,
    pub r: Results,
    pub bulk_job: Option<BulkPanel>,
    pub notice: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "dup_results.html")]
struct ResultsPart {
    page: PageCtx,
    r: Results,
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
