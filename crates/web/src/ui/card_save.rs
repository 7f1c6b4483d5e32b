//! Saving from the card: create, save (with the conflict view), delete, memberships.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use kartoteka_app::{App, AppError};
use kartoteka_domain::record::{RecordKind, Source};
use kartoteka_store::groups::GroupKind;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::card::{CardPage, ConflictRow, Ctx, load_ctx, view};
use super::card_form::{State_, patch_of, state_from_form};
use super::i18n::Lang;
use super::{UiSession, error_page, form_value, render};

pub async fn create(
    State(app): State<App>,
    s: UiSession,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = s.csrf_rejection(&headers, form_value(&pairs, "csrf")) {
        return r;
    }
    let kind = RecordKind::parse(form_value(&pairs, "kind").unwrap_or("person"))
        .unwrap_or(RecordKind::Person);
    let (defs, dicts) = match load_ctx(&app, &s).await {
        Ok(c) => c,
        Err(e) => return error_page(&s, &e),
    };
    let edited = state_from_form(&pairs, kind, &defs);
    let mut body = patch_of(&Map::new(), &edited);
    body.insert("kind".into(), Value::String(kind.as_str().into()));
    match app.create_record(&s.actor, &body, Source::Manual).await {
        Ok(c) => {
            // The card looks the possible duplicates up again to name them.
            let flag = if c.warnings.is_empty() {
                ""
            } else {
                "&duplicates=1"
            };
            Redirect::to(&format!("/records/{}?saved=created{flag}", c.record.id)).into_response()
        }
        Err(AppError::Validation(errors)) => {
            let ctx = Ctx {
                s: &s,
                defs: &defs,
                dicts: &dicts,
            };
            let mut card = view(&ctx, kind, None, &edited, &errors);
            card.original = "{}".into();
            let mut r = render(&CardPage {
                page: s.page("records"),
                card,
            });
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
        Err(e) => error_page(&s, &e),
    }
}

/// A value as the conflict view shows it.
fn shown(v: &Value, lang: Lang) -> String {
    match v {
        Value::Null => lang.t("none").to_string(),
        Value::String(s) if s.is_empty() => lang.t("none").to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::Object(o) => o
                    .get("number")
                    .or_else(|| o.get("address"))
                    .map(|x| shown(x, lang))
                    .unwrap_or_default(),
                other => shown(other, lang),
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

pub async fn save(
    State(app): State<App>,
    s: UiSession,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = s.csrf_rejection(&headers, form_value(&pairs, "csrf")) {
        return r;
    }
    let (record, (defs, dicts)) = match (
        app.get_record(&s.actor, &id).await,
        load_ctx(&app, &s).await,
    ) {
        (Ok(r), Ok(c)) => (r, c),
        (Err(e), _) | (_, Err(e)) => return error_page(&s, &e),
    };
    let kind = RecordKind::parse(&record.kind).unwrap_or(RecordKind::Person);
    let version = form_value(&pairs, "version").and_then(|v| v.parse::<i64>().ok());
    let edited = state_from_form(&pairs, kind, &defs);
    let patch = if form_value(&pairs, "resolve").is_some() {
        // The field-by-field choice: keep "yours" from the pending patch, drop "theirs".
        let mut pending: Map<String, Value> = form_value(&pairs, "pending")
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or_default();
        pending.retain(|k, _| form_value(&pairs, &format!("choose.{k}")) != Some("theirs"));
        pending
    } else {
        let original: State_ = form_value(&pairs, "original")
            .and_then(|o| serde_json::from_str(o).ok())
            .unwrap_or_default();
        patch_of(&original, &edited)
    };
    let ctx = Ctx {
        s: &s,
        defs: &defs,
        dicts: &dicts,
    };
    match app.update_record(&s.actor, &id, &patch, version).await {
        Ok(saved) => {
            let tag = if saved.merged { "merged" } else { "1" };
            Redirect::to(&format!("/records/{}?saved={tag}", saved.record.id)).into_response()
        }
        Err(AppError::Validation(errors)) => {
            let mut card = view(&ctx, kind, Some(&record), &edited, &errors);
            card.version = version.unwrap_or(record.version);
            card.original = form_value(&pairs, "original").unwrap_or("{}").to_string();
            let mut r = render(&CardPage {
                page: s.page("records"),
                card,
            });
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
        Err(AppError::PreconditionFailed {
            current_version,
            current,
            ..
        }) => {
            let mut card = view(&ctx, kind, Some(&record), &edited, &[]);
            card.version = current_version;
            card.original = form_value(&pairs, "original").unwrap_or("{}").to_string();
            card.conflicts = current
                .iter()
                .map(|(k, theirs)| ConflictRow {
                    key: k.clone(),
                    label: match k.strip_prefix("custom.") {
                        Some(c) => defs
                            .iter()
                            .find(|d| d.key == c)
                            .map(|d| d.label.clone())
                            .unwrap_or_else(|| c.to_string()),
                        None => s.lang.t(&format!("f.{k}")).to_string(),
                    },
                    theirs: shown(theirs, s.lang),
                    yours: shown(patch.get(k).unwrap_or(&Value::Null), s.lang),
                })
                .collect();
            card.pending = Value::Object(patch).to_string();
            let mut r = render(&CardPage {
                page: s.page("records"),
                card,
            });
            *r.status_mut() = StatusCode::CONFLICT;
            r
        }
        Err(e) => error_page(&s, &e),
    }
}

#[derive(Deserialize)]
pub struct DeleteForm {
    csrf: Option<String>,
}

/// Deletes the record (those who may; the audit log keeps its snapshot).
pub async fn delete(
    State(app): State<App>,
    s: UiSession,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<DeleteForm>,
) -> Response {
    if let Some(r) = s.csrf_rejection(&headers, f.csrf.as_deref()) {
        return r;
    }
    match app.delete_record(&s.actor, &id).await {
        Ok(()) => Redirect::to("/records").into_response(),
        Err(e) => error_page(&s, &e),
    }
}

/// Adds the record to a campaign or segment, or removes it, from the card.
pub async fn memberships(
    State(app): State<App>,
    s: UiSession,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = s.csrf_rejection(&headers, form_value(&pairs, "csrf")) {
        return r;
    }
    let op = form_value(&pairs, "op").unwrap_or_default();
    let (action, target) = op.split_once(':').unwrap_or((op, ""));
    let (kind, member) = match action {
        "add_campaign" => (GroupKind::Campaign, true),
        "remove_campaign" => (GroupKind::Campaign, false),
        "add_segment" => (GroupKind::Segment, true),
        "remove_segment" => (GroupKind::Segment, false),
        _ => return (StatusCode::BAD_REQUEST, "unknown action").into_response(),
    };
    let field = if kind == GroupKind::Campaign {
        "campaign"
    } else {
        "segment"
    };
    let group = if target.is_empty() {
        form_value(&pairs, field).unwrap_or_default()
    } else {
        target
    };
    let Ok(group) = group.parse::<i64>() else {
        return Redirect::to(&format!("/records/{id}")).into_response();
    };
    match app.set_membership(&s.actor, kind, &id, group, member).await {
        Ok(_) => Redirect::to(&format!("/records/{id}?saved=groups")).into_response(),
        Err(e) => error_page(&s, &e),
    }
}
