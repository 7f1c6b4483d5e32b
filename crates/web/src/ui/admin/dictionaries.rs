//! The six dictionaries with their entries: add, rename, reorder, deactivate, delete unused.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kartoteka_app::dictionaries::EntryInput;
use kartoteka_app::{App, AppError};
use kartoteka_domain::record::FieldError;
use serde::Deserialize;

use super::{
    AdminNav, Errors, Need, checked, fail, guard, notice, post_guard, redirect, render, seg, text,
    with_status,
};
use crate::ui::i18n::Lang;
use crate::ui::{PageCtx, UiSession};

pub struct EntryRow {
    pub code: String,
    pub label: String,
    pub position: String,
    pub active: bool,
    /// The id of the row's form (its inputs sit in table cells and name it).
    pub form_id: String,
    pub action: String,
    pub delete_action: String,
    pub error: Option<String>,
}

pub struct NewEntry {
    pub code: String,
    pub label: String,
    pub position: String,
}

pub struct DictView {
    pub name: String,
    pub title: &'static str,
    pub about: &'static str,
    /// What record field it feeds, if any.
    pub entries: Vec<EntryRow>,
    pub add_action: String,
    pub add: NewEntry,
    pub add_errors: Errors,
}

#[derive(Template)]
#[template(path = "admin_dictionaries.html")]
struct DictPage {
    page: PageCtx,
    nav: AdminNav,
    dicts: Vec<DictView>,
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct DictQuery {
    saved: Option<String>,
}

/// What failed, to be shown where it happened.
enum Failure {
    Add {
        dictionary: String,
        code: String,
        label: String,
        position: String,
        errors: Vec<FieldError>,
    },
    Entry {
        dictionary: String,
        code: String,
        label: String,
        position: String,
        active: bool,
        message: String,
    },
}

fn title(lang: Lang, name: &str) -> &'static str {
    lang.t(&format!("admin.dict.{name}"))
}

async fn build(app: &App, s: &UiSession, failure: Option<&Failure>) -> Result<DictPage, AppError> {
    let dicts = app.dictionaries(&s.actor).await?;
    let views = dicts
        .into_iter()
        .map(|d| {
            let base = format!("/admin/dictionaries/{}/entries", seg(&d.name));
            let next = d
                .entries
                .iter()
                .map(|e| e.position)
                .max()
                .map_or(1, |p| p + 1);
            let entries = d
                .entries
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let mut row = EntryRow {
                        code: e.code.clone(),
                        label: e.label.clone(),
                        position: e.position.to_string(),
                        active: e.active,
                        form_id: format!("e-{}-{i}", d.name),
                        action: format!("{base}/{}", seg(&e.code)),
                        delete_action: format!("{base}/{}/delete", seg(&e.code)),
                        error: None,
                    };
                    if let Some(Failure::Entry {
                        dictionary,
                        code,
                        label,
                        position,
                        active,
                        message,
                    }) = failure
                        && *dictionary == d.name
                        && *code == e.code
                    {
                        row.label = label.clone();
                        row.position = position.clone();
                        row.active = *active;
                        row.error = Some(message.clone());
                    }
                    row
                })
                .collect();
            let (add, add_errors) = match failure {
                Some(Failure::Add {
                    dictionary,
                    code,
                    label,
                    position,
                    errors,
                }) if *dictionary == d.name => (
                    NewEntry {
                        code: code.clone(),
                        label: label.clone(),
                        position: position.clone(),
                    },
                    Errors::new(s.lang, errors, &["code", "label", "position"]),
                ),
                _ => (
                    NewEntry {
                        code: String::new(),
                        label: String::new(),
                        position: next.to_string(),
                    },
                    Errors::default(),
                ),
            };
            DictView {
                title: title(s.lang, &d.name),
                about: s.lang.t(&format!("admin.dict.{}_about", d.name)),
                name: d.name,
                entries,
                add_action: base,
                add,
                add_errors,
            }
        })
        .collect();
    Ok(DictPage {
        page: s.page("admin"),
        nav: AdminNav::of(s, "dictionaries"),
        dicts: views,
        notice: None,
    })
}

async fn show_failure(app: &App, s: &UiSession, failure: Failure, status: StatusCode) -> Response {
    match build(app, s, Some(&failure)).await {
        Ok(p) => with_status(render(&p), status),
        Err(e) => fail(s, &e),
    }
}

pub async fn page(State(app): State<App>, s: UiSession, Query(q): Query<DictQuery>) -> Response {
    if let Some(r) = guard(&s, Need::Configure) {
        return r;
    }
    match build(&app, &s, None).await {
        Ok(mut p) => {
            p.notice = notice(s.lang, q.saved.as_deref());
            render(&p)
        }
        Err(e) => fail(&s, &e),
    }
}

fn position(raw: &str) -> Result<Option<i64>, FieldError> {
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse::<i64>()
        .map(Some)
        .map_err(|_| Errors::one("position", "invalid_number", "a position is a whole number"))
}

async fn exists(app: &App, s: &UiSession, name: &str, code: &str) -> bool {
    app.dictionaries(&s.actor)
        .await
        .ok()
        .and_then(|all| all.into_iter().find(|d| d.name == name))
        .is_some_and(|d| d.entries.iter().any(|e| e.code == code))
}

fn back(name: &str, saved: &str) -> Response {
    redirect(&format!(
        "/admin/dictionaries?saved={saved}#d-{}",
        seg(name)
    ))
}

pub async fn add(
    State(app): State<App>,
    s: UiSession,
    Path(name): Path<String>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = post_guard(&s, &headers, &pairs, Need::Configure) {
        return r;
    }
    let (code, label, pos) = (
        text(&pairs, "code"),
        text(&pairs, "label"),
        text(&pairs, "position"),
    );
    let mut errors = Vec::new();
    let p = position(&pos).unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    if code.is_empty() {
        errors.push(Errors::one("code", "required", "a code is required"));
    } else if exists(&app, &s, &name, &code).await {
        // Adding never overwrites an entry: that is what its row's Save is for.
        errors.push(Errors::one(
            "code",
            "taken",
            "this code is already in the dictionary",
        ));
    }
    if errors.is_empty() {
        let input = EntryInput {
            code: None,
            label: Some(label.clone()).filter(|l| !l.is_empty()),
            position: p,
            active: Some(true),
        };
        match app.put_entry(&s.actor, &name, &code, input).await {
            Ok(_) => return back(&name, "created"),
            Err(AppError::Validation(e)) => errors = e,
            Err(e) => return fail(&s, &e),
        }
    }
    show_failure(
        &app,
        &s,
        Failure::Add {
            dictionary: name,
            code,
            label,
            position: pos,
            errors,
        },
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

pub async fn update(
    State(app): State<App>,
    s: UiSession,
    Path((name, code)): Path<(String, String)>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = post_guard(&s, &headers, &pairs, Need::Configure) {
        return r;
    }
    let (label, pos, active) = (
        text(&pairs, "label"),
        text(&pairs, "position"),
        checked(&pairs, "active"),
    );
    let message = match position(&pos) {
        Err(e) => s.lang.error(&e.code, &e.message),
        Ok(p) => {
            let input = EntryInput {
                code: None,
                label: Some(label.clone()),
                position: p,
                active: Some(active),
            };
            match app.put_entry(&s.actor, &name, &code, input).await {
                Ok(_) => return back(&name, "1"),
                Err(AppError::Validation(e)) => e
                    .iter()
                    .map(|e| s.lang.error(&e.code, &e.message))
                    .collect::<Vec<_>>()
                    .join("; "),
                Err(e) => return fail(&s, &e),
            }
        }
    };
    show_failure(
        &app,
        &s,
        Failure::Entry {
            dictionary: name,
            code,
            label,
            position: pos,
            active,
            message,
        },
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

pub async fn delete(
    State(app): State<App>,
    s: UiSession,
    Path((name, code)): Path<(String, String)>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = post_guard(&s, &headers, &pairs, Need::Configure) {
        return r;
    }
    match app.delete_entry(&s.actor, &name, &code).await {
        Ok(()) => back(&name, "deleted"),
        Err(AppError::Conflict { details, message }) => {
            let message = match details.get("records").and_then(serde_json::Value::as_i64) {
                Some(n) => s.lang.count(
                    n,
                    "admin.dict.in_use_one",
                    "admin.dict.in_use_few",
                    "admin.dict.in_use_many",
                ),
                None => message,
            };
            let stored = app
                .dictionaries(&s.actor)
                .await
                .ok()
                .and_then(|all| all.into_iter().find(|d| d.name == name))
                .and_then(|d| d.entries.into_iter().find(|e| e.code == code));
            let Some(e) = stored else {
                return fail(&s, &AppError::NotFound(code));
            };
            show_failure(
                &app,
                &s,
                Failure::Entry {
                    dictionary: name,
                    code,
                    label: e.label,
                    position: e.position.to_string(),
                    active: e.active,
                    message,
                },
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => fail(&s, &e),
    }
}
