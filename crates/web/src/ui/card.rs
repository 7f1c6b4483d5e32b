//! The contact card: view and edit a record (or create one), errors beside the fields, and
//! the field-by-field choice when someone else saved the same fields meanwhile.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use kartoteka_app::views::RecordView;
use kartoteka_app::{App, AppError};
use kartoteka_domain::field::{FieldDefinition, FieldType};
use kartoteka_domain::phone::PhoneType;
use kartoteka_domain::record::{FieldError, RecordKind};
use kartoteka_store::groups::GroupKind;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::card_cases::CaseRow;
use super::card_form::{State_, state_of, system_fields, text};
use super::list::shown_time;
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

/// Another record sharing a value with this one, shown after a create.
pub struct DuplicateRow {
    /// "Possible duplicate: this record shares phone +48… with" in the user's language.
    pub text: String,
    pub id: String,
    pub name: String,
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
    /// Possible duplicates (after creating the record).
    pub duplicates: Vec<DuplicateRow>,
    pub conflicts: Vec<ConflictRow>,
    pub pending: String,
    pub created: String,
    pub modified: String,
    pub source: String,
}

#[derive(Template)]
#[template(path = "card.html")]
pub(super) struct CardPage {
    pub(super) page: PageCtx,
    pub(super) card: CardView,
}

pub(super) struct Ctx<'a> {
    pub(super) s: &'a UiSession,
    pub(super) defs: &'a [FieldDefinition],
    pub(super) dicts: &'a [(String, Vec<(String, String)>)],
}

/// Builds the card from a state (stored or as sent) and the errors of the last save.
pub(super) fn view(
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
        duplicates: Vec::new(),
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

pub(super) async fn load_ctx(
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
    /// Set by a create that found possible duplicates.
    duplicates: Option<String>,
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
        card.cases = super::card_cases::rows(&app, &s, &id).await;
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
                .group_names(&s.actor, kind)
                .await
                .unwrap_or_default()
                .into_iter()
                .filter(|(id, _, active)| *active && !mine.iter().any(|(m, _)| m == id))
                .map(|(id, name, _)| (id, name))
                .collect();
        }
    }
    card.notice = match q.saved.as_deref() {
        Some("merged") => Some(s.lang.t("card.merged")),
        Some("groups") => Some(s.lang.t("card.groups_saved")),
        Some(_) => Some(s.lang.t("card.saved")),
        None => None,
    };
    if q.duplicates.is_some() {
        card.duplicates = app
            .possible_duplicates_of(&s.actor, &id)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|w| DuplicateRow {
                text: s
                    .lang
                    .t("card.duplicate")
                    .replace("{field}", s.lang.t(&format!("card.duplicate.{}", w.field)))
                    .replace("{value}", &w.value),
                id: w.record.id,
                name: w.record.display_name,
            })
            .collect();
    }
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
