//! Resolving duplicates by hand: one group of a search (`/duplicates/{id}/groups/{n}`) or
//! records selected in the list (`/duplicates/merge?ids=A,B,C`). One column per record
//! with its role (main / merge / delete / leave), the default phone and e-mail among the
//! merged ones, a choice of value for each field whose values differ, and a summary of what
//! applying will do. Any change posts the form to `/duplicates/merge/preview`, which
//! answers the form's content again (htmx); "Apply" posts it to `/duplicates/merge`.
//! The versions shown travel with the form: a record changed since is refused (409) and
//! the screen comes back with its current data.

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use kartoteka_app::duplicates::{MergePreview, MergeRequest};
use kartoteka_app::{App, AppError};
use kartoteka_domain::duplicates::Choices;
use serde_json::Value;

use super::duplicates::{error_text, label, may_merge};
use super::i18n::Lang;
use super::imports::{guard, value};
use super::list::shown_time;
use super::list_filter::{Catalog, Needs};
use super::{PageCtx, UiSession, error_page, form_value, render};

/// More records than this do not fit one screen.
pub const MAX_RECORDS: usize = 20;

const ROLES: [&str; 4] = ["main", "merge", "delete", "leave"];

/// What the form says: the records shown, each one's role and version, and the choices.
#[derive(Debug, Clone, Default)]
pub struct Chosen {
    pub ids: Vec<String>,
    pub roles: BTreeMap<String, String>,
    pub versions: BTreeMap<String, i64>,
    pub fields: BTreeMap<String, String>,
    pub default_phone: Option<String>,
    pub default_email: Option<String>,
    pub search: Option<i64>,
    pub group: Option<i64>,
}

/// Public IDs from `A,B C` or repeated values, each once, in their order.
fn id_list<'a>(values: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        for id in v.split([',', ' ', ';', '\n']) {
            let id = id.trim().to_ascii_uppercase();
            if !id.is_empty() && !out.contains(&id) {
                out.push(id);
            }
        }
    }
    out
}

impl Chosen {
    fn from_form(pairs: &[(String, String)]) -> Chosen {
        let ids = id_list(
            pairs
                .iter()
                .filter(|(k, _)| k == "ids")
                .map(|(_, v)| v.as_str()),
        );
        let mut c = Chosen {
            ids,
            search: value(pairs, "search").and_then(|v| v.parse().ok()),
            group: value(pairs, "group").and_then(|v| v.parse().ok()),
            default_phone: value(pairs, "default_phone").map(str::to_string),
            default_email: value(pairs, "default_email").map(str::to_string),
            ..Chosen::default()
        };
        for (k, v) in pairs {
            if let Some(id) = k.strip_prefix("role.") {
                if ROLES.contains(&v.as_str()) {
                    c.roles.insert(id.to_string(), v.clone());
                }
            } else if let Some(id) = k.strip_prefix("v.") {
                if let Ok(n) = v.parse() {
                    c.versions.insert(id.to_string(), n);
                }
            } else if let Some(f) = k.strip_prefix("field.")
                && !v.is_empty()
            {
                c.fields.insert(f.to_string(), v.clone());
            }
        }
        c
    }

    fn role(&self, id: &str) -> &str {
        self.roles.get(id).map(String::as_str).unwrap_or("merge")
    }

    /// The records with a role: (main, merged, deleted), or why there is no merge to make.
    fn request(&self) -> Result<MergeRequest, &'static str> {
        let mains: Vec<&String> = self.ids.iter().filter(|i| self.role(i) == "main").collect();
        let main = match mains.as_slice() {
            [] => return Err("dup.m.err.no_main"),
            [m] => (*m).clone(),
            _ => return Err("dup.m.err.two_mains"),
        };
        let merge: Vec<String> = self
            .ids
            .iter()
            .filter(|i| self.role(i) == "merge")
            .cloned()
            .collect();
        let delete: Vec<String> = self
            .ids
            .iter()
            .filter(|i| self.role(i) == "delete")
            .cloned()
            .collect();
        if merge.is_empty() && delete.is_empty() {
            return Err("dup.m.err.nothing");
        }
        let mut records = vec![main.clone()];
        records.extend(merge);
        Ok(MergeRequest {
            records,
            main: Some(main),
            delete,
            choices: Choices {
                fields: self.fields.clone(),
                default_phone: self.default_phone.clone(),
                default_email: self.default_email.clone(),
            },
            versions: self.versions.clone(),
            search: self.search,
            group: self.group,
        })
    }
}

/// A record's column.
pub struct Column {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub kind_label: &'static str,
    pub created: String,
    pub version: i64,
    pub oldest: bool,
    pub role: String,
    pub phones: Vec<String>,
    pub emails: Vec<String>,
    pub campaigns: Vec<String>,
    pub segments: Vec<String>,
}

/// One record's value of a differing field, and whether the merge takes it.
pub struct Cell {
    pub record: String,
    pub value: Option<String>,
    pub checked: bool,
    /// The record takes part in the merge (its value can be chosen).
    pub choosable: bool,
}

pub struct FieldRow {
    pub key: String,
    pub label: String,
    pub cells: Vec<Cell>,
}

/// A phone or e-mail of the merged record, offered as the default.
pub struct Contact {
    pub value: String,
    pub checked: bool,
}

/// What applying will do, in sentences.
pub struct Summary {
    pub main: String,
    pub merged: Option<String>,
    pub deleted: Option<String>,
    pub left: Option<String>,
    pub taken: Vec<String>,
    pub kept_note: bool,
    pub phones: String,
    pub emails: String,
    pub tags: String,
    pub campaigns: String,
    pub segments: String,
}

/// The form's content (the part htmx swaps).
pub struct Screen {
    pub ids: String,
    pub search: Option<i64>,
    pub group: Option<i64>,
    pub columns: Vec<Column>,
    pub fields: Vec<FieldRow>,
    pub phones: Vec<Contact>,
    pub emails: Vec<Contact>,
    pub summary: Option<Summary>,
    /// Why the current choices make no merge (shown in place of the summary).
    pub problem: Option<String>,
    pub mixed_kinds: bool,
    pub error: Option<String>,
    pub notices: Vec<String>,
    pub missing: Vec<String>,
}

fn names(cols: &[Column], ids: &[&String]) -> Option<String> {
    (!ids.is_empty()).then(|| {
        ids.iter()
            .map(|id| {
                cols.iter()
                    .find(|c| &&c.id == id)
                    .map(|c| format!("{} ({})", c.name, c.id))
                    .unwrap_or_else(|| id.to_string())
            })
            .collect::<Vec<_>>()
            .join(", ")
    })
}

fn list_text(lang: Lang, items: &[String]) -> String {
    if items.is_empty() {
        lang.t("none").to_string()
    } else {
        items.join(", ")
    }
}

/// A field's value for people: dictionary codes stay codes, the rest as stored.
fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn summary(
    lang: Lang,
    catalog: &Catalog,
    cols: &[Column],
    c: &Chosen,
    p: &MergePreview,
) -> Summary {
    let name_of = |id: &str| {
        cols.iter()
            .find(|c| c.id == id)
            .map(|c| format!("{} ({})", c.name, c.id))
            .unwrap_or_else(|| id.to_string())
    };
    let taken: Vec<String> = p
        .fields
        .iter()
        .filter_map(|f| {
            let src = f.chosen.as_deref()?;
            if src == p.main {
                return None;
            }
            let value_of = |record: &str| {
                f.values
                    .iter()
                    .find(|v| v["record"].as_str() == Some(record))
                    .map(|v| value_text(&v["value"]))
            };
            let v = value_of(src).unwrap_or_default();
            // The main record's own value, only held by another too, is no change.
            if value_of(&p.main).as_deref() == Some(v.as_str()) {
                return None;
            }
            Some(
                lang.dup("dup.m.taken_one")
                    .replace("{field}", &label(catalog, lang, &f.field))
                    .replace("{value}", &v)
                    .replace("{from}", &name_of(src)),
            )
        })
        .collect();
    let default_of = |items: &Value, key: &str| -> String {
        let all: Vec<String> = items
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| {
                        let v = x[key].as_str().unwrap_or_default().to_string();
                        if x["default"].as_bool() == Some(true) {
                            format!("{v} ({})", lang.dup("dup.m.default"))
                        } else {
                            v
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        list_text(lang, &all)
    };
    let merging: Vec<&Column> = cols
        .iter()
        .filter(|col| col.id == p.main || p.merged.contains(&col.id))
        .collect();
    let union = |pick: fn(&Column) -> &Vec<String>| {
        let mut all: Vec<String> = Vec::new();
        for col in &merging {
            for x in pick(col) {
                if !all.contains(x) {
                    all.push(x.clone());
                }
            }
        }
        list_text(lang, &all)
    };
    let left: Vec<&String> = c.ids.iter().filter(|i| c.role(i) == "leave").collect();
    Summary {
        main: lang
            .dup("dup.m.stays")
            .replace("{record}", &name_of(&p.main)),
        merged: names(cols, &p.merged.iter().collect::<Vec<_>>())
            .map(|n| lang.dup("dup.m.merged_into").replace("{records}", &n)),
        deleted: names(cols, &p.deleted.iter().collect::<Vec<_>>())
            .map(|n| lang.dup("dup.m.deleted").replace("{records}", &n)),
        left: names(cols, &left).map(|n| lang.dup("dup.m.left").replace("{records}", &n)),
        kept_note: !p.merged.is_empty(),
        taken,
        phones: default_of(&p.result["phones"], "number"),
        emails: default_of(&p.result["emails"], "address"),
        tags: list_text(
            lang,
            &p.result["tags"]
                .as_array()
                .map(|a| a.iter().map(value_text).collect::<Vec<_>>())
                .unwrap_or_default(),
        ),
        campaigns: union(|c| &c.campaigns),
        segments: union(|c| &c.segments),
    }
}

/// Builds the screen for what the form (or the link) chose, with the records' current data.
async fn build(app: &App, s: &UiSession, mut c: Chosen) -> Result<(Screen, Chosen), AppError> {
    let lang = s.lang;
    // Records that no longer exist (merged or deleted meanwhile) are named and left out.
    let found = {
        let mut conn = app.db.pool.acquire().await?;
        kartoteka_store::bulk_ops::resolve(&mut conn, &c.ids).await?
    };
    let missing: Vec<String> = c
        .ids
        .iter()
        .filter(|i| !found.contains_key(*i))
        .cloned()
        .collect();
    c.ids.retain(|i| found.contains_key(i));
    if c.ids.len() < 2 {
        return Err(AppError::invalid(
            "records",
            "too_few",
            "choose at least two records",
        ));
    }
    // Every record's data: a preview of all of them (roles do not change the data).
    let all = app
        .merge_preview(
            &s.actor,
            &MergeRequest {
                records: c.ids.clone(),
                ..MergeRequest::default()
            },
        )
        .await?;
    // The oldest is the main record unless the form chose.
    if !c.ids.iter().any(|i| c.roles.contains_key(i)) {
        for i in &c.ids {
            let role = if *i == all.main { "main" } else { "merge" };
            c.roles.insert(i.clone(), role.to_string());
        }
    }
    let mut notices = Vec::new();
    for m in &all.members {
        match c.versions.get(&m.id) {
            Some(v) if *v != m.version => notices.push(
                lang.dup("dup.m.changed_meanwhile")
                    .replace("{record}", &format!("{} ({})", m.display_name, m.id)),
            ),
            _ => {}
        }
        c.versions.insert(m.id.clone(), m.version);
    }
    let columns: Vec<Column> = c
        .ids
        .iter()
        .filter_map(|id| all.members.iter().find(|m| &m.id == id))
        .map(|m| Column {
            id: m.id.clone(),
            name: if m.display_name.is_empty() {
                m.id.clone()
            } else {
                m.display_name.clone()
            },
            kind_label: lang.t(&format!("kind.{}", m.kind)),
            kind: m.kind.clone(),
            created: shown_time(lang, &m.created_at, &s.time_zone),
            version: m.version,
            oldest: m.id == all.main,
            role: c.role(&m.id).to_string(),
            phones: m.phones.clone(),
            emails: m.emails.clone(),
            campaigns: m.campaigns.clone(),
            segments: m.segments.clone(),
        })
        .collect();
    let defs = app.custom_definitions().await.unwrap_or_default();
    let catalog = Catalog::load(app, s, defs, Needs::default()).await;
    let mut screen = Screen {
        ids: c.ids.join(","),
        search: c.search,
        group: c.group,
        fields: Vec::new(),
        phones: Vec::new(),
        emails: Vec::new(),
        summary: None,
        problem: None,
        mixed_kinds: false,
        error: None,
        notices,
        missing,
        columns,
    };
    let req = match c.request() {
        Ok(r) => r,
        Err(key) => {
            screen.problem = Some(lang.dup(key).to_string());
            return Ok((screen, c));
        }
    };
    let p = match app.merge_preview(&s.actor, &req).await {
        Ok(p) => p,
        Err(AppError::Validation(e)) => {
            screen.problem = Some(error_text(lang, &AppError::Validation(e)));
            return Ok((screen, c));
        }
        Err(e) => return Err(e),
    };
    let merging = |id: &str| id == p.main || p.merged.iter().any(|m| m == id);
    let kinds: Vec<&str> = screen
        .columns
        .iter()
        .filter(|col| merging(&col.id))
        .map(|col| col.kind.as_str())
        .collect();
    screen.mixed_kinds = kinds.windows(2).any(|w| w[0] != w[1]);
    screen.fields = p
        .fields
        .iter()
        .map(|f| FieldRow {
            key: f.field.clone(),
            label: label(&catalog, lang, &f.field),
            cells: screen
                .columns
                .iter()
                .map(|col| {
                    let v = f
                        .values
                        .iter()
                        .find(|v| v["record"].as_str() == Some(col.id.as_str()))
                        .map(|v| value_text(&v["value"]));
                    Cell {
                        checked: f.chosen.as_deref() == Some(col.id.as_str()),
                        choosable: v.is_some() && merging(&col.id),
                        value: v,
                        record: col.id.clone(),
                    }
                })
                .collect(),
        })
        .collect();
    let contacts = |items: &Value, key: &str| -> Vec<Contact> {
        items
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| Contact {
                        value: x[key].as_str().unwrap_or_default().to_string(),
                        checked: x["default"].as_bool() == Some(true),
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    screen.phones = contacts(&p.result["phones"], "number");
    screen.emails = contacts(&p.result["emails"], "address");
    screen.summary = Some(summary(lang, &catalog, &screen.columns, &c, &p));
    Ok((screen, c))
}

#[derive(Template)]
#[template(path = "dup_merge.html")]
struct MergePage {
    page: PageCtx,
    title: String,
    back: String,
    back_label: String,
    m: Screen,
}

#[derive(Template)]
#[template(path = "dup_merge_form.html")]
struct MergePart {
    page: PageCtx,
    m: Screen,
}

fn back_of(lang: Lang, c: &Chosen) -> (String, String) {
    match (c.search, c.group) {
        (Some(s), Some(g)) => (
            format!("/duplicates/{s}#group-{g}"),
            lang.dup("dup.m.back_search").to_string(),
        ),
        _ => ("/records".to_string(), lang.t("nav.records").to_string()),
    }
}

fn title_of(lang: Lang, c: &Chosen) -> String {
    match c.group {
        Some(g) => lang.dup("dup.m.title_group").replace("{n}", &g.to_string()),
        None => lang.dup("dup.m.title").to_string(),
    }
}

/// A screen with nothing but why it cannot be shown.
fn empty_screen(error: String) -> Screen {
    Screen {
        ids: String::new(),
        search: None,
        group: None,
        columns: Vec::new(),
        fields: Vec::new(),
        phones: Vec::new(),
        emails: Vec::new(),
        summary: None,
        problem: None,
        mixed_kinds: false,
        error: Some(error),
        notices: Vec::new(),
        missing: Vec::new(),
    }
}

/// The whole screen; when it cannot be built, the reason in its place (with the way back).
async fn screen_page(
    app: &App,
    s: &UiSession,
    c: Chosen,
    error: Option<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let (back, back_label) = back_of(s.lang, &c);
    let title = title_of(s.lang, &c);
    let (m, status) = match build(app, s, c).await {
        Ok((mut m, _)) => {
            m.error = error;
            m.notices.extend(notice);
            (m, status)
        }
        Err(e @ (AppError::Validation(_) | AppError::Conflict { .. })) => {
            let text = error_text(s.lang, &e);
            let text = match error {
                Some(first) => format!("{first} {text}"),
                None => text,
            };
            (empty_screen(text), StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => return error_page(s, &e),
    };
    let mut r = render(&MergePage {
        page: s.page("duplicates"),
        title,
        back,
        back_label,
        m,
    });
    *r.status_mut() = status;
    r
}

fn merge_guard(s: &UiSession) -> Option<Response> {
    guard(s)
        .or_else(|| (!may_merge(s)).then(|| error_page(s, &AppError::Forbidden("merge".into()))))
}

/// `GET /duplicates/{id}/groups/{position}`: the resolution screen of one group.
pub async fn group_page(
    State(app): State<App>,
    s: UiSession,
    Path((id, position)): Path<(i64, i64)>,
) -> Response {
    if let Some(r) = merge_guard(&s) {
        return r;
    }
    let g = match app.duplicate_group(&s.actor, id, position).await {
        Ok(g) => g,
        Err(e) => return error_page(&s, &e),
    };
    let c = Chosen {
        ids: g.records.iter().map(|r| r.id.clone()).collect(),
        search: Some(id),
        group: Some(position),
        ..Chosen::default()
    };
    let notice = g.resolved_by.map(|op| {
        s.lang
            .dup("dup.m.already_resolved")
            .replace("{op}", &op.to_string())
    });
    screen_page(&app, &s, c, None, notice, StatusCode::OK).await
}

/// `GET /duplicates/merge?ids=A,B,C`: the same screen for records selected in the list.
pub async fn selection_page(
    State(app): State<App>,
    s: UiSession,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = merge_guard(&s) {
        return r;
    }
    let c = Chosen {
        ids: id_list(
            q.iter()
                .filter(|(k, _)| k == "ids")
                .map(|(_, v)| v.as_str()),
        ),
        ..Chosen::default()
    };
    if c.ids.len() > MAX_RECORDS {
        let (back, back_label) = back_of(s.lang, &c);
        let mut r = render(&MergePage {
            page: s.page("duplicates"),
            title: title_of(s.lang, &c),
            back,
            back_label,
            m: empty_screen(
                s.lang
                    .dup("dup.m.err.too_many")
                    .replace("{n}", &MAX_RECORDS.to_string()),
            ),
        });
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return r;
    }
    screen_page(&app, &s, c, None, None, StatusCode::OK).await
}

/// `POST /duplicates/merge/preview`: the form's content for its current choices (htmx).
pub async fn preview(
    State(app): State<App>,
    s: UiSession,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = merge_guard(&s) {
        return r;
    }
    if let Some(r) = s.csrf_rejection(&headers, form_value(&pairs, "csrf")) {
        return r;
    }
    let c = Chosen::from_form(&pairs);
    // Errors stay inside the form's content (htmx swaps only successful answers).
    match build(&app, &s, c).await {
        Ok((m, _)) => render(&MergePart {
            page: s.page("duplicates"),
            m,
        }),
        Err(e) => render(&MergePart {
            page: s.page("duplicates"),
            m: empty_screen(error_text(s.lang, &e)),
        }),
    }
}

/// A refused merge in the user's language: a record changed since the screen showed it
/// (the screen comes back with its current data), or what the validation says.
fn apply_error(lang: Lang, e: &AppError) -> String {
    match e {
        AppError::Conflict { details, .. } if details.contains_key("record") => lang
            .dup("dup.m.err.changed")
            .replace("{record}", details["record"].as_str().unwrap_or_default()),
        AppError::Conflict { .. } => lang.dup("dup.m.err.gone").to_string(),
        e => error_text(lang, e),
    }
}

/// `POST /duplicates/merge`: applies the merge (or, with `preview`, shows the screen for
/// the choices without applying: the button's answer without JavaScript).
pub async fn apply(
    State(app): State<App>,
    s: UiSession,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = merge_guard(&s) {
        return r;
    }
    if let Some(r) = s.csrf_rejection(&headers, form_value(&pairs, "csrf")) {
        return r;
    }
    let c = Chosen::from_form(&pairs);
    if value(&pairs, "preview").is_some() {
        return screen_page(&app, &s, c, None, None, StatusCode::OK).await;
    }
    let req = match c.request() {
        Ok(r) => r,
        Err(key) => {
            let msg = s.lang.dup(key).to_string();
            return screen_page(
                &app,
                &s,
                c,
                Some(msg),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    match app.merge_records(&s.actor, &req).await {
        Ok(op) => {
            let to = match (c.search, c.group) {
                (Some(search), Some(g)) => {
                    format!("/duplicates/{search}?merged={}#group-{g}", op.id)
                }
                _ => format!("/duplicates/operations?done={}#op-{}", op.id, op.id),
            };
            Redirect::to(&to).into_response()
        }
        Err(e) => {
            let status = match &e {
                AppError::Conflict { .. } => StatusCode::CONFLICT,
                AppError::Forbidden(_) => StatusCode::FORBIDDEN,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let msg = apply_error(s.lang, &e);
            screen_page(&app, &s, c, Some(msg), None, status).await
        }
    }
}
