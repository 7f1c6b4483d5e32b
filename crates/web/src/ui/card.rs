//! The contact card: view and edit a record (or create one), errors beside the fields, and
//! the field-by-field choice when someone else saved the same fields meanwhile.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use kartoteka_app::views::RecordView;
use kartoteka_app::{App, AppError};
use kartoteka_domain::field::{FieldDefinition, FieldType};
use kartoteka_domain::phone::PhoneType;
use kartoteka_domain::record::{FieldError, RecordKind, Source, TEXT_FIELDS};
use kartoteka_store::groups::GroupKind;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::i18n::Lang;
use super::list::{local_time, shown_time};
use super::{PageCtx, UiSession, error_page, render};

pub struct FieldRow {
    pub key: String,
    pub label: &'static str,
    pub value: String,
    pub error: Option<String>,
    pub readonly: bool,
    pub options: Vec<(String, String)>,
}

pub struct PhoneRow {
    pub number: String,
    pub kind: String,
    pub extension: String,
    pub default: bool,
    pub error: Option<String>,
}

pub struct EmailRow {
    pub address: String,
    pub default: bool,
    pub error: Option<String>,
}

pub struct CustomRow {
    pub key: String,
    pub label: String,
    pub value: String,
    pub input_type: &'static str,
    pub mask: Option<String>,
    pub options: Vec<String>,
    pub readonly: bool,
    pub required: bool,
    pub missing: bool,
    pub error: Option<String>,
}

pub struct ConflictRow {
    pub key: String,
    pub label: String,
    pub theirs: String,
    pub yours: String,
}

pub struct CaseRow {
    pub campaign: String,
    pub status: String,
    pub classifier: String,
    pub attempts: i64,
}

pub struct RelatedRow {
    pub id: String,
    pub name: String,
    pub relation: String,
}

pub struct CardView {
    /// The record's campaigns and segments (ID, name), and the active ones it could join.
    pub campaigns: Vec<(i64, String)>,
    pub segments: Vec<(i64, String)>,
    pub campaign_options: Vec<(i64, String)>,
    pub segment_options: Vec<(i64, String)>,
    /// May add the record to campaigns and segments or remove it.
    pub may_group: bool,
    /// Label and value of the fields the header shows (collapsed to two rows when many).
    pub header: Vec<(String, String)>,
    pub may_delete: bool,
    pub may_audit: bool,
    pub cases: Vec<CaseRow>,
    pub related: Vec<RelatedRow>,
    pub id: String,
    pub kind: String,
    pub kind_label: &'static str,
    pub display_name: String,
    pub action: String,
    pub cancel: String,
    pub version: i64,
    pub original: String,
    pub fields: Vec<FieldRow>,
    pub phones: Vec<PhoneRow>,
    pub emails: Vec<EmailRow>,
    pub phones_error: Option<String>,
    pub emails_error: Option<String>,
    pub phone_types: Vec<(String, &'static str)>,
    pub tags: String,
    pub tags_error: Option<String>,
    pub custom: Vec<CustomRow>,
    pub default_phone: Option<String>,
    pub other_phones: Vec<String>,
    pub default_email: Option<String>,
    pub other_emails: Vec<String>,
    pub notice: Option<&'static str>,
    pub alert: Option<&'static str>,
    pub conflicts: Vec<ConflictRow>,
    pub pending: String,
    pub created: String,
    pub modified: String,
    pub source: String,
}

#[derive(Template)]
#[template(path = "card.html")]
struct CardPage {
    page: PageCtx,
    card: CardView,
}

/// The system fields a record of `kind` shows, in order.
fn system_fields(kind: RecordKind) -> Vec<&'static str> {
    TEXT_FIELDS
        .iter()
        .copied()
        .filter(|f| match kind {
            RecordKind::Person => *f != "organization_name",
            RecordKind::Organization => !matches!(*f, "first_name" | "last_name" | "pesel"),
        })
        .chain((kind == RecordKind::Person).then_some("organization"))
        .collect()
}

/// The form's state: every editable value as the form shows it, keyed by field key.
type State_ = Map<String, Value>;

fn custom_input(def: &FieldDefinition, stored: &str, zone: &str) -> String {
    match def.field_type {
        FieldType::DateTime if !stored.is_empty() => local_time(stored, zone).replace(' ', "T"),
        _ => stored.to_string(),
    }
}

/// The state of a stored record.
fn state_of(r: &RecordView, kind: RecordKind, defs: &[FieldDefinition], zone: &str) -> State_ {
    let v = serde_json::to_value(r).unwrap_or(Value::Null);
    let mut s = Map::new();
    for f in system_fields(kind) {
        s.insert(
            f.into(),
            Value::String(v[f].as_str().unwrap_or_default().to_string()),
        );
    }
    s.insert(
        "phones".into(),
        Value::Array(
            r.phones
                .iter()
                .map(|p| json!({"number": p.raw, "type": p.phone_type, "extension": p.extension.clone().unwrap_or_default(), "default": p.default}))
                .collect(),
        ),
    );
    s.insert(
        "emails".into(),
        Value::Array(
            r.emails
                .iter()
                .map(|e| json!({"address": e.address, "default": e.default}))
                .collect(),
        ),
    );
    s.insert("tags".into(), Value::String(r.tags.join(", ")));
    for d in defs.iter().filter(|d| d.visible) {
        let stored = r.custom.get(&d.key).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        s.insert(
            format!("custom.{}", d.key),
            Value::String(custom_input(d, stored.as_deref().unwrap_or_default(), zone)),
        );
    }
    s
}

/// The state the form sent.
fn state_from_form(
    pairs: &[(String, String)],
    kind: RecordKind,
    defs: &[FieldDefinition],
) -> State_ {
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let all = |k: &str| {
        pairs
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>()
    };
    let mut s = Map::new();
    for f in system_fields(kind) {
        if let Some(v) = get(f) {
            s.insert(f.into(), Value::String(v));
        }
    }
    let (numbers, types, exts) = (all("phone.number"), all("phone.type"), all("phone.ext"));
    let default_phone = get("phone.default").and_then(|d| d.parse::<usize>().ok());
    let phones: Vec<Value> = numbers
        .iter()
        .enumerate()
        .filter(|(_, n)| !n.trim().is_empty())
        .map(|(i, n)| {
            json!({"number": n.trim(), "type": types.get(i).cloned().unwrap_or_else(|| "mobile".into()),
                   "extension": exts.get(i).map(|e| e.trim().to_string()).unwrap_or_default(), "default": default_phone == Some(i)})
        })
        .collect();
    s.insert("phones".into(), Value::Array(phones));
    let default_email = get("email.default").and_then(|d| d.parse::<usize>().ok());
    let emails: Vec<Value> = all("email.address")
        .iter()
        .enumerate()
        .filter(|(_, a)| !a.trim().is_empty())
        .map(|(i, a)| json!({"address": a.trim(), "default": default_email == Some(i)}))
        .collect();
    s.insert("emails".into(), Value::Array(emails));
    s.insert(
        "tags".into(),
        Value::String(get("tags").unwrap_or_default()),
    );
    for d in defs.iter().filter(|d| d.visible) {
        let k = format!("custom.{}", d.key);
        if let Some(v) = get(&k) {
            s.insert(k, Value::String(v));
        }
    }
    s
}

/// The Merge Patch of what the user changed: only keys whose value differs from the
/// original, so a save never touches (or conflicts on) fields the user left alone.
fn patch_of(original: &State_, edited: &State_) -> Map<String, Value> {
    let mut patch = Map::new();
    for (k, v) in edited {
        let unchanged = original.get(k).is_some_and(|o| same(o, v));
        if unchanged {
            continue;
        }
        let value = match (k.as_str(), v) {
            ("tags", Value::String(t)) => Value::Array(
                t.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(|t| Value::String(t.to_string()))
                    .collect(),
            ),
            ("phones", Value::Array(list)) => Value::Array(
                list.iter()
                    .map(|p| {
                        let mut p = p.clone();
                        if p["extension"].as_str().is_some_and(str::is_empty) {
                            p["extension"] = Value::Null;
                        }
                        p
                    })
                    .collect(),
            ),
            (_, Value::String(t)) if t.trim().is_empty() => Value::Null,
            (_, other) => other.clone(),
        };
        patch.insert(k.clone(), value);
    }
    patch
}

/// Equal for the purpose of "did the user change it" (defaults: the first entry when none marked).
fn same(a: &Value, b: &Value) -> bool {
    let norm = |v: &Value| match v {
        Value::Array(items) => {
            let any_default = items.iter().any(|i| i["default"] == Value::Bool(true));
            Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| {
                        let mut x = x.clone();
                        if x.get("default").is_some() {
                            x["default"] = Value::Bool(if any_default {
                                x["default"] == Value::Bool(true)
                            } else {
                                i == 0
                            });
                        }
                        x
                    })
                    .collect(),
            )
        }
        Value::String(s) => Value::String(s.trim().to_string()),
        other => other.clone(),
    };
    norm(a) == norm(b)
}

fn text(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or_default().to_string()
}

struct Ctx<'a> {
    s: &'a UiSession,
    defs: &'a [FieldDefinition],
    dicts: &'a [(String, Vec<(String, String)>)],
}

/// Builds the card from a state (stored or as sent) and the errors of the last save.
fn view(
    ctx: &Ctx<'_>,
    kind: RecordKind,
    record: Option<&RecordView>,
    state: &State_,
    errors: &[FieldError],
) -> CardView {
    let lang = ctx.s.lang;
    let err = |key: &str| {
        errors
            .iter()
            .find(|e| e.field == key)
            .map(|e| lang.error(&e.code, &e.message))
    };
    let mut used: Vec<String> = Vec::new();
    let mut take = |key: &str| {
        let e = err(key);
        if e.is_some() {
            used.push(key.to_string());
        }
        e
    };
    let dict_of = |f: &str| -> Vec<(String, String)> {
        kartoteka_domain::record::DICTIONARY_FIELDS
            .iter()
            .find(|(k, _)| *k == f)
            .and_then(|(_, d)| ctx.dicts.iter().find(|(n, _)| n == d))
            .map(|(_, e)| e.clone())
            .unwrap_or_default()
    };
    let fields: Vec<FieldRow> = system_fields(kind)
        .into_iter()
        .map(|f| FieldRow {
            key: f.to_string(),
            label: lang.t(&format!("f.{f}")),
            value: text(state.get(f)),
            error: take(f),
            readonly: f == "pesel" && !ctx.s.actor.sees_national_ids(),
            options: dict_of(f),
        })
        .collect();
    let rows = |k: &str| {
        state
            .get(k)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let mut phones: Vec<PhoneRow> = rows("phones")
        .iter()
        .enumerate()
        .map(|(i, p)| PhoneRow {
            number: text(p.get("number")),
            kind: text(p.get("type")),
            extension: text(p.get("extension")),
            default: p["default"] == Value::Bool(true),
            error: take(&format!("phones[{i}].number"))
                .or_else(|| take(&format!("phones[{i}].extension")))
                .or_else(|| take(&format!("phones[{i}].type"))),
        })
        .collect();
    phones.push(PhoneRow {
        number: String::new(),
        kind: "mobile".into(),
        extension: String::new(),
        default: phones.is_empty(),
        error: None,
    });
    let mut emails: Vec<EmailRow> = rows("emails")
        .iter()
        .enumerate()
        .map(|(i, e)| EmailRow {
            address: text(e.get("address")),
            default: e["default"] == Value::Bool(true),
            error: take(&format!("emails[{i}].address")),
        })
        .collect();
    emails.push(EmailRow {
        address: String::new(),
        default: emails.is_empty(),
        error: None,
    });
    let custom = ctx
        .defs
        .iter()
        .filter(|d| d.visible)
        .map(|d| {
            let key = format!("custom.{}", d.key);
            let value = text(state.get(&key));
            CustomRow {
                input_type: match d.field_type {
                    FieldType::Number => "number",
                    FieldType::DateTime => "datetime-local",
                    _ => "text",
                },
                mask: (d.field_type == FieldType::Masked)
                    .then(|| d.mask.clone())
                    .flatten(),
                options: if d.field_type == FieldType::Dictionary {
                    d.options.clone()
                } else {
                    Vec::new()
                },
                readonly: !d.editable && ctx.s.actor.bound_by_field_flags()
                    || (d.field_type == FieldType::Pesel && !ctx.s.actor.sees_national_ids()),
                required: d.required,
                missing: d.required && value.is_empty() && record.is_some(),
                error: take(&key),
                label: d.label.clone(),
                key: d.key.clone(),
                value,
            }
        })
        .collect();
    let phones_error = take("phones");
    let emails_error = take("emails");
    let tags_error = take("tags");
    let leftover = errors.iter().any(|e| !used.contains(&e.field));
    let (id, display_name, version, created, modified, source) = match record {
        Some(r) => (
            r.id.clone(),
            r.display_name.clone(),
            r.version,
            shown_time(lang, &r.created_at, &ctx.s.time_zone),
            shown_time(lang, &r.modified_at, &ctx.s.time_zone),
            r.source.clone(),
        ),
        None => (
            String::new(),
            lang.t(&format!("card.new_{}", kind.as_str())).to_string(),
            0,
            String::new(),
            String::new(),
            String::new(),
        ),
    };
    let (default_phone, other_phones) = split_default(record.map(|r| {
        r.phones
            .iter()
            .map(|p| (p.number.clone(), p.default))
            .collect()
    }));
    let (default_email, other_emails) = split_default(record.map(|r| {
        r.emails
            .iter()
            .map(|e| (e.address.clone(), e.default))
            .collect()
    }));
    let header = match record {
        Some(_) => header_fields(ctx, kind, state),
        None => Vec::new(),
    };
    CardView {
        campaigns: Vec::new(),
        segments: Vec::new(),
        campaign_options: Vec::new(),
        segment_options: Vec::new(),
        may_group: ctx.s.actor.may_use_record_base(),
        header,
        may_delete: ctx.s.actor.may_delete_records(),
        may_audit: ctx.s.actor.may_administer(),
        cases: Vec::new(),
        related: Vec::new(),
        action: if id.is_empty() {
            "/records/new".into()
        } else {
            format!("/records/{id}")
        },
        cancel: if id.is_empty() {
            "/records".into()
        } else {
            format!("/records/{id}")
        },
        kind: kind.as_str().into(),
        kind_label: lang.t(&format!("kind.{}", kind.as_str())),
        original: Value::Object(state.clone()).to_string(),
        fields,
        phones,
        emails,
        phones_error,
        emails_error,
        phone_types: PhoneType::ALL
            .iter()
            .map(|t| {
                (
                    t.as_str().to_string(),
                    lang.t(&format!("phone.{}", t.as_str())),
                )
            })
            .collect(),
        tags: text(state.get("tags")),
        tags_error,
        custom,
        default_phone,
        other_phones,
        default_email,
        other_emails,
        notice: None,
        alert: (!errors.is_empty() || leftover).then_some(lang.t("card.errors")),
        conflicts: Vec::new(),
        pending: String::new(),
        id,
        display_name,
        version,
        created,
        modified,
        source,
    }
}

/// The header: the stored system data worth seeing at a glance, then every visible custom
/// field (as SPEC's seed describes: visible fields show in the card's header).
fn header_fields(ctx: &Ctx<'_>, kind: RecordKind, state: &State_) -> Vec<(String, String)> {
    let lang = ctx.s.lang;
    let mut out = Vec::new();
    let system: &[&str] = match kind {
        RecordKind::Person => &["city", "pesel", "language", "stage", "external_id"],
        RecordKind::Organization => &["city", "nip", "regon", "language", "stage", "external_id"],
    };
    for f in system {
        let v = text(state.get(*f));
        if !v.is_empty() {
            out.push((lang.t(&format!("f.{f}")).to_string(), v));
        }
    }
    for d in ctx.defs.iter().filter(|d| d.visible) {
        let v = text(state.get(&format!("custom.{}", d.key)));
        let v = if d.field_type == FieldType::DateTime && !v.is_empty() {
            v.replace('T', " ")
        } else {
            v
        };
        out.push((
            d.label.clone(),
            if v.is_empty() {
                lang.t("none").to_string()
            } else {
                v
            },
        ));
    }
    out
}

fn split_default(items: Option<Vec<(String, bool)>>) -> (Option<String>, Vec<String>) {
    let items = items.unwrap_or_default();
    let default = items.iter().find(|(_, d)| *d).map(|(v, _)| v.clone());
    let others = items
        .into_iter()
        .filter(|(_, d)| !d)
        .map(|(v, _)| v)
        .collect();
    (default, others)
}

async fn load_ctx(
    app: &App,
    s: &UiSession,
) -> Result<(Vec<FieldDefinition>, Vec<(String, Vec<(String, String)>)>), AppError> {
    let defs = app.custom_definitions().await?;
    let dicts = app
        .dictionaries(&s.actor)
        .await?
        .into_iter()
        .map(|d| {
            let entries = d
                .entries
                .into_iter()
                .filter(|e| e.active)
                .map(|e| {
                    let label = s.lang.entry_label(&d.name, &e.code, &e.label);
                    (e.code, label)
                })
                .collect();
            (d.name, entries)
        })
        .collect();
    Ok((defs, dicts))
}

#[derive(Deserialize)]
pub struct CardQuery {
    saved: Option<String>,
    kind: Option<String>,
}

pub async fn page(
    State(app): State<App>,
    s: UiSession,
    Path(id): Path<String>,
    Query(q): Query<CardQuery>,
) -> Response {
    let (record, (defs, dicts)) = match (
        app.get_record(&s.actor, &id).await,
        load_ctx(&app, &s).await,
    ) {
        (Ok(r), Ok(c)) => (r, c),
        (Err(e), _) | (_, Err(e)) => return error_page(&s, &e),
    };
    let kind = RecordKind::parse(&record.kind).unwrap_or(RecordKind::Person);
    let ctx = Ctx {
        s: &s,
        defs: &defs,
        dicts: &dicts,
    };
    let state = state_of(&record, kind, &defs, &s.time_zone);
    let mut card = view(&ctx, kind, Some(&record), &state, &[]);
    if let Ok(links) = app.record_links(&s.actor, &id).await {
        card.cases = links
            .cases
            .into_iter()
            .map(|c| CaseRow {
                campaign: c.campaign,
                status: c.status.unwrap_or_default(),
                classifier: c.last_classifier.unwrap_or_default(),
                attempts: c.attempts,
            })
            .collect();
        card.related = links
            .related
            .into_iter()
            .map(|r| RelatedRow {
                relation: match r.relation.as_str() {
                    "organization" => s.lang.t("card.rel_organization").to_string(),
                    "person" => s.lang.t("card.rel_person").to_string(),
                    other => other.to_string(),
                },
                id: r.public_id,
                name: r.display_name,
            })
            .collect();
    }
    for (kind, mine, options) in [
        (
            GroupKind::Campaign,
            &mut card.campaigns,
            &mut card.campaign_options,
        ),
        (
            GroupKind::Segment,
            &mut card.segments,
            &mut card.segment_options,
        ),
    ] {
        *mine = app
            .record_groups(&s.actor, kind, &id)
            .await
            .unwrap_or_default();
        if card.may_group {
            *options = app
                .list_groups(&s.actor, kind)
                .await
                .unwrap_or_default()
                .into_iter()
                .filter(|g| g.active && !mine.iter().any(|(m, _)| *m == g.id))
                .map(|g| (g.id, g.name))
                .collect();
        }
    }
    card.notice = match q.saved.as_deref() {
        Some("merged") => Some(s.lang.t("card.merged")),
        Some("groups") => Some(s.lang.t("card.groups_saved")),
        Some(_) => Some(s.lang.t("card.saved")),
        None => None,
    };
    render(&CardPage {
        page: s.page("records"),
        card,
    })
}

pub async fn new_page(
    State(app): State<App>,
    s: UiSession,
    Query(q): Query<CardQuery>,
) -> Response {
    let kind =
        RecordKind::parse(q.kind.as_deref().unwrap_or("person")).unwrap_or(RecordKind::Person);
    let (defs, dicts) = match load_ctx(&app, &s).await {
        Ok(c) => c,
        Err(e) => return error_page(&s, &e),
    };
    let ctx = Ctx {
        s: &s,
        defs: &defs,
        dicts: &dicts,
    };
    let mut state = Map::new();
    for f in system_fields(kind) {
        state.insert(f.into(), Value::String(String::new()));
    }
    let card = view(&ctx, kind, None, &state, &[]);
    render(&CardPage {
        page: s.page("records"),
        card,
    })
}

fn form_value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

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
        Ok(r) => Redirect::to(&format!("/records/{}?saved=created", r.id)).into_response(),
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
