//! The record list: search, the filter builder (`list_filter`), chosen columns (order,
//! width), density, sorting, count, pages, selection and bulk actions (`list_bulk`).
//! Column choices persist per user (setting `list.columns`).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use kartoteka_app::browse::Browse;
use kartoteka_app::views::RecordView;
use kartoteka_app::{App, AppError};
use kartoteka_domain::field::FieldDefinition;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::i18n::Lang;
use super::list_bulk::{self, BulkBar, JobPanel};
use super::list_filter::{self, CritRow, OptGroup};
use super::list_views::{self, ViewsBar};
use super::{PageCtx, UiSession, encode, error_page, form_value, render};

pub const PER_PAGE: i64 = 50;
const SETTING: &str = "list.columns";
const DEFAULT_COLUMNS: [&str; 6] = ["id", "name", "phone", "email", "city", "modified_at"];
/// System columns a user can choose, besides the custom fields.
const SYSTEM_COLUMNS: [&str; 26] = [
    "id",
    "name",
    "kind",
    "first_name",
    "last_name",
    "organization_name",
    "phone",
    "phones",
    "email",
    "city",
    "address_line1",
    "postal_code",
    "province",
    "country",
    "nip",
    "pesel",
    "regon",
    "language",
    "external_id",
    "position",
    "stage",
    "acquisition_source",
    "tags",
    "source",
    "created_at",
    "modified_at",
];

/// What the user chose, as stored.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct ColumnSettings {
    pub columns: Vec<ColumnChoice>,
    #[serde(default)]
    pub density: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColumnChoice {
    pub key: String,
    #[serde(default)]
    pub width: Option<u32>,
}

pub struct Column {
    pub key: String,
    pub label: String,
    /// Inline style of the header (its width), empty when automatic.
    pub style: String,
    /// The sort this header's link applies, when the column sorts.
    pub sort_link: Option<String>,
    /// ▲ or ▼ when the list is sorted by this column.
    pub arrow: &'static str,
}

pub struct Cell {
    pub text: String,
    /// The cell links to the card (ID and name columns).
    pub link: bool,
    pub mono: bool,
}

pub struct Row {
    pub id: String,
    pub kind: String,
    pub kind_label: &'static str,
    pub cells: Vec<Cell>,
}

pub struct Choice {
    pub key: String,
    pub label: String,
    pub chosen: bool,
}

pub struct ListView {
    pub q: String,
    pub sort: String,
    /// The filter's JSON as the URL carries it (empty without criteria).
    pub f: String,
    pub columns: Vec<Column>,
    pub choices: Vec<Choice>,
    pub compact: bool,
    pub rows: Vec<Row>,
    pub count_text: String,
    pub page: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
    /// Why the list did not run (the filter has errors).
    pub blocked: Option<String>,
    /// Selection and bulk actions, for those who may.
    pub bulk: Option<BulkBar>,
}

/// The filter builder as the page shows it.
pub struct FilterPanel {
    pub rows: Vec<CritRow>,
    pub add: Vec<OptGroup>,
    pub errors: Vec<String>,
    /// A short line of the criteria for the closed panel.
    pub summary: String,
    pub open: bool,
    pub clear: String,
}

#[derive(Template)]
#[template(path = "records.html")]
struct ListPage {
    page: PageCtx,
    list: ListView,
    filter: FilterPanel,
    views: ViewsBar,
    job: Option<JobPanel>,
}

#[derive(Template)]
#[template(path = "records_rows.html")]
struct ListRows {
    page: PageCtx,
    list: ListView,
}

/// An instant as the user reads it: `2026-11-23 14:05` in their zone.
pub fn local_time(rfc3339: &str, zone: &str) -> String {
    let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::Europe::Warsaw);
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|d| d.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// An instant as the user's language writes it: `2026-11-23 14:05` or `23.11.2026 14:05`.
pub fn shown_time(lang: Lang, rfc3339: &str, zone: &str) -> String {
    let iso = local_time(rfc3339, zone);
    match (
        lang,
        iso.get(0..4),
        iso.get(5..7),
        iso.get(8..10),
        iso.get(11..),
    ) {
        (Lang::Pl, Some(y), Some(m), Some(d), Some(t)) => format!("{d}.{m}.{y} {t}"),
        _ => iso,
    }
}

fn label(lang: Lang, key: &str, defs: &[FieldDefinition]) -> String {
    if let Some(k) = key.strip_prefix("custom.") {
        return defs
            .iter()
            .find(|d| d.key == k)
            .map(|d| d.label.clone())
            .unwrap_or_else(|| k.to_string());
    }
    let l = lang.t(&format!("col.{key}"));
    if l != "?" {
        l.to_string()
    } else {
        lang.t(&format!("f.{key}")).to_string()
    }
}

/// The sort key a column's header applies.
/// The sort a column header offers (None: the column does not sort).
fn sort_of(key: &str) -> Option<&'static str> {
    kartoteka_store::list::SortKey::parse(key).map(|k| k.name())
}

fn cell(r: &RecordView, key: &str, s: &UiSession) -> Cell {
    let v = serde_json::to_value(r).unwrap_or(Value::Null);
    let plain = |t: String| Cell {
        text: t,
        link: false,
        mono: false,
    };
    match key {
        "id" => Cell {
            text: r.id.clone(),
            link: true,
            mono: true,
        },
        "name" => Cell {
            text: r.display_name.clone(),
            link: true,
            mono: false,
        },
        "kind" => plain(s.lang.t(&format!("kind.{}", r.kind)).to_string()),
        "phone" => Cell {
            text: r
                .phones
                .iter()
                .find(|p| p.default)
                .map(|p| p.number.clone())
                .unwrap_or_default(),
            link: false,
            mono: true,
        },
        "phones" => Cell {
            text: r
                .phones
                .iter()
                .map(|p| p.number.clone())
                .collect::<Vec<_>>()
                .join(", "),
            link: false,
            mono: true,
        },
        "email" => plain(
            r.emails
                .iter()
                .find(|e| e.default)
                .map(|e| e.address.clone())
                .unwrap_or_default(),
        ),
        "tags" => plain(r.tags.join(", ")),
        "created_at" | "modified_at" => Cell {
            text: shown_time(s.lang, v[key].as_str().unwrap_or_default(), &s.time_zone),
            link: false,
            mono: true,
        },
        k => match k.strip_prefix("custom.") {
            Some(c) => plain(match r.custom.get(c) {
                Some(Value::String(t)) => t.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            }),
            None => plain(v[k].as_str().map(str::to_string).unwrap_or_default()),
        },
    }
}

async fn settings(app: &App, s: &UiSession) -> ColumnSettings {
    let stored = app.user_setting(&s.actor, SETTING).await.ok().flatten();
    let mut cs: ColumnSettings = stored
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    if cs.columns.is_empty() {
        cs.columns = DEFAULT_COLUMNS
            .iter()
            .map(|k| ColumnChoice {
                key: k.to_string(),
                width: None,
            })
            .collect();
    }
    cs
}

fn available(defs: &[FieldDefinition]) -> Vec<String> {
    SYSTEM_COLUMNS
        .iter()
        .map(|k| k.to_string())
        .chain(
            defs.iter()
                .filter(|d| d.visible)
                .map(|d| format!("custom.{}", d.key)),
        )
        .collect()
}

/// The list's URL with these parts (empty ones left out).
/// The user setting holding the last filter and sort of the list.
const LAST_FILTER: &str = "list.filter";

/// Keeps the filter (empty once cleared) and sort as the user's last, when they changed.
async fn remember_filter(app: &App, s: &UiSession, f: &str, sort: &str) {
    let now = serde_json::json!({ "f": f, "sort": sort });
    if app.user_setting(&s.actor, LAST_FILTER).await.ok().flatten() != Some(now.clone()) {
        let _ = app.put_user_setting(&s.actor, LAST_FILTER, &now).await;
    }
}

pub fn list_url(f: &str, q: &str, sort: &str, page: i64) -> String {
    let mut l = format!("/records?page={page}&sort={}", encode(sort));
    if !q.is_empty() {
        l.push_str(&format!("&q={}", encode(q)));
    }
    if !f.is_empty() {
        l.push_str(&format!("&f={}", encode(f)));
    }
    l
}

pub async fn page(
    State(app): State<App>,
    s: UiSession,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let text = form_value(&pairs, "q").unwrap_or_default().to_string();
    let page = form_value(&pairs, "page")
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(1)
        .max(1);
    let sort = form_value(&pairs, "sort")
        .filter(|s| !s.is_empty())
        .unwrap_or("last_name")
        .to_string();
    // The list opened bare (the menu, after log-in) comes back with the user's last filter.
    if pairs.is_empty()
        && let Ok(Some(last)) = app.user_setting(&s.actor, LAST_FILTER).await
        && let Some(f) = last["f"].as_str().filter(|f| !f.is_empty())
    {
        let sort = last["sort"].as_str().unwrap_or("last_name");
        return Redirect::to(&list_url(f, "", sort, 1)).into_response();
    }
    let defs = app.custom_definitions().await.unwrap_or_default();
    // The builder's form: turned into the filter's JSON in the URL.
    if form_value(&pairs, "fb").is_some() {
        let filter = list_filter::filter_from_form(&pairs, &defs);
        let f = serde_json::to_string(&filter).unwrap_or_default();
        let f = if filter.all.is_empty() { "" } else { &f };
        return Redirect::to(&list_url(f, &text, &sort, 1)).into_response();
    }
    let open_view = form_value(&pairs, "view").and_then(|v| v.parse::<i64>().ok());
    if let Some(id) = open_view
        && form_value(&pairs, "f").is_none()
    {
        return match list_views::view_url(&app, &s, id).await {
            Some(url) => Redirect::to(&url).into_response(),
            None => Redirect::to("/records").into_response(),
        };
    }
    let f_raw = form_value(&pairs, "f")
        .unwrap_or_default()
        .trim()
        .to_string();
    let parsed = list_filter::parse_f(Some(&f_raw));
    let filter = parsed.clone().unwrap_or_default();
    let f = if filter.all.is_empty() {
        String::new()
    } else {
        serde_json::to_string(&filter).unwrap_or_default()
    };
    if parsed.is_ok() {
        remember_filter(&app, &s, &f, &sort).await;
    }
    let mut blocked = None;
    let mut filter_errors = Vec::new();
    let conds = match &parsed {
        Err(()) => {
            blocked = Some(s.lang.t("filter.unreadable").to_string());
            Vec::new()
        }
        Ok(filter) => match app.check_filter(filter).await {
            Ok(c) => c,
            Err(AppError::Validation(errors)) => {
                blocked = Some(s.lang.t("filter.fix").to_string());
                filter_errors = errors;
                Vec::new()
            }
            Err(e) => return error_page(&s, &e),
        },
    };
    let found = if blocked.is_some() {
        Browse {
            items: Vec::new(),
            total: 0,
        }
    } else {
        match app
            .browse(&s.actor, &text, &conds, Some(&sort), page, PER_PAGE)
            .await
        {
            Ok(f) => f,
            Err(AppError::Validation(errors)) => {
                blocked = Some(
                    errors
                        .iter()
                        .map(|e| list_filter::message(s.lang, &e.code, &e.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                );
                Browse {
                    items: Vec::new(),
                    total: 0,
                }
            }
            Err(e) => return error_page(&s, &e),
        }
    };
    let all = available(&defs);
    let cs = settings(&app, &s).await;
    let chosen: Vec<&ColumnChoice> = cs.columns.iter().filter(|c| all.contains(&c.key)).collect();
    let link = |p: i64, sort: &str| list_url(&f, &text, sort, p);
    let columns = chosen
        .iter()
        .map(|c| {
            let by = sort_of(&c.key);
            let current = by.is_some_and(|b| sort.trim_start_matches('-') == b);
            Column {
                label: label(s.lang, &c.key, &defs),
                style: c
                    .width
                    .map(|w| format!("width:{}px", w.clamp(40, 800)))
                    .unwrap_or_default(),
                sort_link: by.map(|b| {
                    let next = if current && !sort.starts_with('-') {
                        format!("-{b}")
                    } else {
                        b.to_string()
                    };
                    link(1, &next)
                }),
                arrow: match (current, sort.starts_with('-')) {
                    (true, false) => "▲",
                    (true, true) => "▼",
                    _ => "",
                },
                key: c.key.clone(),
            }
        })
        .collect();
    let mut choices: Vec<Choice> = chosen
        .iter()
        .map(|c| Choice {
            key: c.key.clone(),
            label: label(s.lang, &c.key, &defs),
            chosen: true,
        })
        .collect();
    for k in all.iter().filter(|k| !chosen.iter().any(|c| &c.key == *k)) {
        choices.push(Choice {
            key: k.clone(),
            label: label(s.lang, k, &defs),
            chosen: false,
        });
    }
    let hx = headers.contains_key("hx-request") && !headers.contains_key("hx-boosted");
    let may_bulk = s.actor.may_use_record_base();
    let mut needs = list_filter::Needs::of(&filter, &defs);
    needs.groups |= may_bulk;
    let catalog = list_filter::Catalog::load(&app, &s, defs, needs).await;
    let here = link(page, &sort);
    let bulk = (may_bulk && blocked.is_none()).then(|| {
        list_bulk::bulk_bar(
            s.lang,
            &s.actor,
            &catalog,
            found.total,
            found.items.len(),
            &text,
            &f,
            &here,
        )
    });
    let list = ListView {
        rows: found
            .items
            .iter()
            .map(|r| Row {
                id: r.id.clone(),
                kind_label: s.lang.t(&format!("kind.{}", r.kind)),
                kind: r.kind.clone(),
                cells: chosen.iter().map(|c| cell(r, &c.key, &s)).collect(),
            })
            .collect(),
        count_text: s.lang.count(
            found.total,
            "list.found_one",
            "list.found_few",
            "list.found_many",
        ),
        prev: (page > 1).then(|| link(page - 1, &sort)),
        next: (page * PER_PAGE < found.total).then(|| link(page + 1, &sort)),
        page,
        columns,
        choices,
        compact: cs.density != "comfortable",
        sort: sort.clone(),
        q: text.clone(),
        f: f.clone(),
        blocked,
        bulk,
    };
    if hx {
        return render(&ListRows {
            page: s.page("records"),
            list,
        });
    }
    let mut rows: Vec<CritRow> = filter
        .all
        .iter()
        .enumerate()
        .map(|(i, c)| catalog.row(s.lang, i, c))
        .collect();
    let errors = list_filter::place_errors(&mut rows, &filter_errors, s.lang);
    let summary = rows
        .iter()
        .map(list_bulk::criterion_summary)
        .collect::<Vec<_>>()
        .join(" · ");
    let panel = FilterPanel {
        open: !rows.is_empty() || parsed.is_err(),
        add: catalog.add_options(s.lang),
        clear: list_url("", &text, &sort, 1),
        rows,
        errors,
        summary,
    };
    let views = list_views::views_bar(&app, &s, open_view, form_value(&pairs, "view_error")).await;
    let job = match form_value(&pairs, "job").and_then(|j| j.parse::<i64>().ok()) {
        Some(id) => app
            .job(&s.actor, id)
            .await
            .ok()
            .map(|j| list_bulk::job_panel(s.lang, &j, &here)),
        None => None,
    };
    render(&ListPage {
        page: s.page("records"),
        list,
        filter: panel,
        views,
        job,
    })
}

/// The column chooser's form: the ticked columns in their order, and the density.
pub async fn save_columns_form(
    State(app): State<App>,
    s: UiSession,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let csrf = pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str());
    if let Some(r) = s.csrf_rejection(&headers, csrf) {
        return r;
    }
    let old = settings(&app, &s).await;
    let columns = pairs
        .iter()
        .filter(|(k, _)| k == "column")
        .map(|(_, key)| ColumnChoice {
            key: key.clone(),
            width: old
                .columns
                .iter()
                .find(|c| &c.key == key)
                .and_then(|c| c.width),
        })
        .collect();
    let density = pairs
        .iter()
        .find(|(k, _)| k == "density")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    store(&app, &s, ColumnSettings { columns, density }).await;
    Redirect::to("/records").into_response()
}

/// Dragged order and widths, sent by the page's script.
pub async fn save_columns_json(
    State(app): State<App>,
    s: UiSession,
    headers: HeaderMap,
    Json(cs): Json<ColumnSettings>,
) -> Response {
    if let Some(r) = s.csrf_rejection(&headers, None) {
        return r;
    }
    let old = settings(&app, &s).await;
    let density = if cs.density.is_empty() {
        old.density
    } else {
        cs.density
    };
    store(
        &app,
        &s,
        ColumnSettings {
            columns: cs.columns,
            density,
        },
    )
    .await;
    StatusCode::NO_CONTENT.into_response()
}

async fn store(app: &App, s: &UiSession, mut cs: ColumnSettings) {
    let defs = app.custom_definitions().await.unwrap_or_default();
    let all = available(&defs);
    cs.columns.retain(|c| all.contains(&c.key));
    cs.columns.dedup_by(|a, b| a.key == b.key);
    if cs.density != "comfortable" {
        cs.density = "compact".into();
    }
    if let Ok(v) = serde_json::to_value(&cs)
        && let Err(e) = app.put_user_setting(&s.actor, SETTING, &v).await
    {
        tracing::warn!(error = %e, "column settings not saved");
    }
}
