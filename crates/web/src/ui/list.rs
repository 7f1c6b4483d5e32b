//! The record list: search, count, pages.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use kartoteka_app::App;
use kartoteka_app::views::RecordView;
use serde::Deserialize;

use super::{PageCtx, UiSession, encode, error_page, render};

pub const PER_PAGE: i64 = 50;

pub struct Row {
    pub id: String,
    pub kind: String,
    pub kind_label: &'static str,
    pub name: String,
    pub phone: String,
    pub email: String,
    pub city: String,
    pub modified: String,
}

pub struct ListView {
    pub q: String,
    pub rows: Vec<Row>,
    pub count_text: String,
    pub page: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

#[derive(Template)]
#[template(path = "records.html")]
struct ListPage {
    page: PageCtx,
    list: ListView,
}

#[derive(Template)]
#[template(path = "records_rows.html")]
struct ListRows {
    page: PageCtx,
    list: ListView,
}

#[derive(Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    page: Option<i64>,
}

/// An instant as the user reads it: `2026-11-23 14:05` in their zone.
pub fn local_time(rfc3339: &str, zone: &str) -> String {
    let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::Europe::Warsaw);
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|d| d.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

fn row(r: &RecordView, s: &UiSession) -> Row {
    Row {
        id: r.id.clone(),
        kind_label: s.lang.t(&format!("kind.{}", r.kind)),
        kind: r.kind.clone(),
        name: r.display_name.clone(),
        phone: r
            .phones
            .iter()
            .find(|p| p.default)
            .map(|p| p.number.clone())
            .unwrap_or_default(),
        email: r
            .emails
            .iter()
            .find(|e| e.default)
            .map(|e| e.address.clone())
            .unwrap_or_default(),
        city: r.city.clone().unwrap_or_default(),
        modified: local_time(&r.modified_at, &s.time_zone),
    }
}

pub async fn page(
    State(app): State<App>,
    s: UiSession,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    let text = q.q.unwrap_or_default();
    let page = q.page.unwrap_or(1).max(1);
    let found = match app.browse(&s.actor, &text, page, PER_PAGE).await {
        Ok(f) => f,
        Err(e) => return error_page(&s, &e),
    };
    let link = |p: i64| {
        if text.is_empty() {
            format!("/records?page={p}")
        } else {
            format!("/records?q={}&page={p}", encode(&text))
        }
    };
    let list = ListView {
        rows: found.items.iter().map(|r| row(r, &s)).collect(),
        count_text: s.lang.count(
            found.total,
            "list.found_one",
            "list.found_few",
            "list.found_many",
        ),
        prev: (page > 1).then(|| link(page - 1)),
        next: (page * PER_PAGE < found.total).then(|| link(page + 1)),
        page,
        q: text,
    };
    if headers.contains_key("hx-request") && !headers.contains_key("hx-boosted") {
        render(&ListRows {
            page: s.page("records"),
            list,
        })
    } else {
        render(&ListPage {
            page: s.page("records"),
            list,
        })
    }
}
