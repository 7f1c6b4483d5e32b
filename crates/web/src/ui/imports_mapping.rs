//! The mapping and preview screen of an uploaded file (`/imports/uploads/{id}`): the
//! detected format (encoding, delimiter, sheet; overridable), per column a target select
//! pre-filled with the suggestion and a "new custom field" form, the first rows with every
//! invalid cell marked, the import's options, and the dry run and import buttons. Changing a
//! select posts the whole form to `…/preview`, which answers the `#preview` part.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use kartoteka_app::fields::FieldInput;
use kartoteka_app::imports::{ImportOptions, Preview, column_letter};
use kartoteka_app::{App, AppError};
use kartoteka_store::groups::GroupKind;

use super::i18n::Lang;
use super::imports::{ReportPart, build_report, error_text, guard, size_text, value};
use super::{PageCtx, UiSession, render};

/// Match keys in the order they are offered (and tried).
const MATCH_KEYS: [&str; 5] = ["phone", "email", "external_id", "pesel", "nip"];
/// Field types the inline form creates (dictionaries and masks need more: the admin screen).
const FIELD_TYPES: [&str; 6] = ["text", "number", "date_time", "nip", "pesel", "regon"];

pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct Group {
    pub label: &'static str,
    pub opts: Vec<Opt>,
}

/// A column's header cell: its name, its target and the new-field form.
pub struct Column {
    pub index: usize,
    pub letter: String,
    pub header: String,
    pub ignored: bool,
    pub groups: Vec<Group>,
    pub suggested: bool,
    pub error: Option<String>,
    pub nf_label: String,
    pub nf_key: String,
    pub nf_type: String,
    pub nf_error: Option<String>,
}

pub struct CellView {
    pub value: String,
    pub error: Option<String>,
    pub note: Option<String>,
    pub ignored: bool,
}

pub struct RowView {
    pub row: u64,
    pub cells: Vec<CellView>,
    pub error: Option<String>,
    pub invalid: bool,
}

/// The part the selects re-render.
pub struct PreviewPart {
    pub upload: i64,
    pub shape: String,
    pub columns: Vec<Column>,
    pub rows: Vec<RowView>,
    pub counts: String,
    pub invalid: usize,
    pub alert: Option<String>,
    pub may_create_field: bool,
    pub field_types: Vec<Opt>,
}

pub struct Check {
    pub value: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

/// The whole screen.
pub struct Mapping {
    pub upload: i64,
    pub file_name: String,
    pub about: String,
    pub csv: bool,
    pub encodings: Vec<Opt>,
    pub delimiters: Vec<Opt>,
    pub sheets: Vec<Opt>,
    pub kinds: Vec<Opt>,
    pub match_keys: Vec<Check>,
    pub on_match: Vec<Check>,
    pub campaigns: Vec<Opt>,
    pub segments: Vec<Opt>,
    pub source_label: String,
    pub alert: Option<String>,
    pub label_error: Option<String>,
    pub groups_error: Option<String>,
}

#[derive(Template)]
#[template(path = "import_mapping.html")]
struct MappingPage {
    page: PageCtx,
    m: Mapping,
    p: PreviewPart,
}

#[derive(Template)]
#[template(path = "import_preview.html")]
struct PreviewTemplate {
    page: PageCtx,
    p: PreviewPart,
}

/// A target's label: the card's field labels, phones by type, custom fields by their label.
pub fn target_label(lang: Lang, key: &str, custom_label: Option<&str>) -> String {
    if key.is_empty() {
        return lang.t("imp.ignore").to_string();
    }
    if let Some(t) = key.strip_prefix("phone.") {
        return format!(
            "{} ({})",
            lang.t("imp.phone"),
            lang.t(&format!("phone.{t}"))
        );
    }
    if let Some(k) = key.strip_prefix("custom.") {
        return custom_label.unwrap_or(k).to_string();
    }
    match key {
        "kind" => lang.t("imp.target.kind").to_string(),
        "email" => lang.t("col.email").to_string(),
        "tags" => lang.t("fk.tags").to_string(),
        k => match lang.t(&format!("f.{k}")) {
            "?" => k.to_string(),
            l => l.to_string(),
        },
    }
}

/// A key for a new custom field from a column's header: `Wartość umowy (zł)` →
/// `wartosc_umowy_zl`.
pub fn slug(header: &str) -> String {
    let mut out = String::new();
    for c in header.to_lowercase().chars() {
        let c = match c {
            'ą' => 'a',
            'ć' => 'c',
            'ę' => 'e',
            'ł' => 'l',
            'ń' => 'n',
            'ó' => 'o',
            'ś' => 's',
            'ź' | 'ż' => 'z',
            c if c.is_ascii_alphanumeric() => c,
            _ => '_',
        };
        if c != '_' || !(out.is_empty() || out.ends_with('_')) {
            out.push(c);
        }
    }
    let out: String = out.trim_end_matches('_').chars().take(64).collect();
    if out.is_empty() { "field".into() } else { out }
}

fn delimiter_value(d: &str) -> &str {
    if d == "\t" { "tab" } else { d }
}

/// The import options the form holds. The column mapping counts only while the file is
/// read the way it was when the columns were shown (same sheet, encoding and delimiter).
fn options_of(upload: i64, pairs: &[(String, String)]) -> ImportOptions {
    let sheet = value(pairs, "sheet").map(str::to_string);
    let encoding = value(pairs, "encoding").map(str::to_string);
    let delimiter = value(pairs, "delimiter").map(str::to_string);
    let shape = format!(
        "{}|{}|{}",
        sheet.as_deref().unwrap_or_default(),
        encoding.as_deref().unwrap_or_default(),
        delimiter.as_deref().unwrap_or_default()
    );
    let cols = value(pairs, "cols").and_then(|c| c.parse::<usize>().ok());
    let mapping = match cols {
        Some(n) if value(pairs, "shape") == Some(shape.as_str()) => Some(
            (0..n)
                .map(|i| {
                    super::form_value(pairs, &format!("map{i}"))
                        .unwrap_or_default()
                        .to_string()
                })
                .collect(),
        ),
        _ => None,
    };
    let all = |name: &str| -> Vec<i64> {
        pairs
            .iter()
            .filter(|(k, _)| k == name)
            .filter_map(|(_, v)| v.parse().ok())
            .collect()
    };
    ImportOptions {
        upload,
        sheet,
        encoding,
        delimiter,
        mapping,
        kind: value(pairs, "kind").map(str::to_string),
        match_keys: MATCH_KEYS
            .iter()
            .filter(|k| pairs.iter().any(|(n, v)| n == "match" && v == *k))
            .map(|k| k.to_string())
            .collect(),
        on_match: value(pairs, "on_match").map(str::to_string),
        campaigns: all("campaigns"),
        segments: all("segments"),
        source_label: value(pairs, "source_label").map(str::to_string),
        dry_run: false,
    }
}

/// The preview; a target named twice is shown beside its column while the preview runs
/// without it.
async fn run_preview(
    app: &App,
    s: &UiSession,
    o: &ImportOptions,
) -> (Result<Preview, AppError>, Vec<(usize, String)>) {
    let first = app.preview_import(&s.actor, o).await;
    let Err(AppError::Validation(errors)) = &first else {
        return (first, Vec::new());
    };
    let columns: Vec<(usize, String)> = errors
        .iter()
        .filter_map(|e| {
            let i = e
                .field
                .strip_prefix("mapping[")?
                .strip_suffix(']')?
                .parse()
                .ok()?;
            Some((i, s.lang.error(&e.code, &e.message)))
        })
        .collect();
    if columns.len() != errors.len() {
        return (first, Vec::new());
    }
    let mut retry = o.clone();
    if let Some(m) = retry.mapping.as_mut() {
        for (i, _) in &columns {
            if let Some(k) = m.get_mut(*i) {
                k.clear();
            }
        }
    }
    (app.preview_import(&s.actor, &retry).await, columns)
}

fn preview_part(
    s: &UiSession,
    o: &ImportOptions,
    result: Result<Preview, AppError>,
    column_errors: Vec<(usize, String)>,
    pairs: &[(String, String)],
) -> PreviewPart {
    let lang = s.lang;
    let field_types = |chosen: &str| -> Vec<Opt> {
        FIELD_TYPES
            .iter()
            .map(|t| Opt {
                value: t.to_string(),
                label: lang.t(&format!("admin.type.{t}")).to_string(),
                selected: *t == chosen,
            })
            .collect()
    };
    let p = match result {
        Ok(p) => p,
        Err(e) => {
            return PreviewPart {
                upload: o.upload,
                shape: String::new(),
                columns: Vec::new(),
                rows: Vec::new(),
                counts: String::new(),
                invalid: 0,
                alert: Some(error_text(lang, &e)),
                may_create_field: false,
                field_types: field_types("text"),
            };
        }
    };
    // The user's choice stays in the select even where it was refused (named twice).
    let chosen: Vec<String> = (0..p.headers.len())
        .map(|i| {
            o.mapping
                .as_ref()
                .and_then(|m| m.get(i).cloned())
                .unwrap_or_else(|| p.mapping.get(i).cloned().unwrap_or_default())
        })
        .collect();
    let group_of = |g: &str| match g {
        "system" => 0,
        "phone" => 1,
        "email" => 2,
        "other" => 3,
        _ => 4,
    };
    let columns = p
        .headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let mut groups = vec![
                Group {
                    label: lang.t("imp.group.system"),
                    opts: Vec::new(),
                },
                Group {
                    label: lang.t("imp.group.phone"),
                    opts: Vec::new(),
                },
                Group {
                    label: lang.t("imp.group.email"),
                    opts: Vec::new(),
                },
                Group {
                    label: lang.t("imp.group.other"),
                    opts: Vec::new(),
                },
                Group {
                    label: lang.t("imp.group.custom"),
                    opts: Vec::new(),
                },
            ];
            for t in p.targets.iter().filter(|t| !t.key.is_empty()) {
                groups[group_of(&t.group)].opts.push(Opt {
                    value: t.key.clone(),
                    label: target_label(lang, &t.key, t.label.as_deref()),
                    selected: chosen[i] == t.key,
                });
            }
            groups.retain(|g| !g.opts.is_empty());
            let nf = |k: &str| super::form_value(pairs, &format!("nf{i}.{k}")).map(str::to_string);
            Column {
                index: i,
                letter: column_letter(i),
                header: h.clone(),
                ignored: chosen[i].is_empty(),
                groups,
                suggested: !chosen[i].is_empty() && p.suggested.get(i) == Some(&chosen[i]),
                error: column_errors
                    .iter()
                    .find(|(c, _)| *c == i)
                    .map(|(_, e)| e.clone()),
                nf_label: nf("label").unwrap_or_else(|| h.clone()),
                nf_key: nf("key").unwrap_or_else(|| slug(h)),
                nf_type: nf("type").unwrap_or_else(|| "text".into()),
                nf_error: None,
            }
        })
        .collect::<Vec<_>>();
    let rows = p
        .rows
        .iter()
        .map(|r| RowView {
            row: r.row,
            invalid: r.error.is_some() || r.cells.iter().any(|c| c.error.is_some()),
            error: r.error.as_ref().map(|e| lang.error(&e.code, &e.message)),
            cells: r
                .cells
                .iter()
                .enumerate()
                .map(|(i, c)| CellView {
                    value: c.value.clone(),
                    error: c.error.as_ref().map(|e| lang.error(&e.code, &e.message)),
                    note: c.note.as_ref().map(|n| {
                        match lang.t(&format!("imp.repair.{}", n.code)) {
                            "?" => n.message.clone(),
                            l => l.to_string(),
                        }
                    }),
                    ignored: chosen.get(i).is_none_or(|k| k.is_empty()),
                })
                .collect(),
        })
        .collect();
    let n = |v: usize| lang.number(v as i64);
    PreviewPart {
        upload: o.upload,
        shape: format!(
            "{}|{}|{}",
            if p.upload.format == "csv" {
                ""
            } else {
                p.sheet.as_str()
            },
            p.encoding.as_deref().unwrap_or_default(),
            p.delimiter
                .as_deref()
                .map(delimiter_value)
                .unwrap_or_default()
        ),
        columns,
        rows,
        counts: lang
            .t("imp.preview_counts")
            .replace("{shown}", &n(p.valid + p.invalid + p.blank))
            .replace("{valid}", &n(p.valid))
            .replace("{invalid}", &n(p.invalid))
            .replace("{blank}", &n(p.blank)),
        invalid: p.invalid,
        alert: None,
        may_create_field: s.actor.may_configure(),
        field_types: field_types("text"),
    }
}

async fn group_opts(app: &App, kind: GroupKind, chosen: &[i64]) -> Vec<Opt> {
    kartoteka_store::groups::names(&app.db.pool, kind)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, _, active)| *active)
        .map(|(id, name, _)| Opt {
            value: id.to_string(),
            label: name,
            selected: chosen.contains(&id),
        })
        .collect()
}

/// The whole screen for `o`, with the upload's detected format.
async fn mapping_page(
    app: &App,
    s: &UiSession,
    o: &ImportOptions,
    pairs: &[(String, String)],
    refused: Option<&AppError>,
) -> Response {
    let lang = s.lang;
    let (result, column_errors) = run_preview(app, s, o).await;
    let upload = match &result {
        Ok(p) => p.upload.clone(),
        Err(e) => {
            // Without a preview the upload itself may be missing: then the error page.
            let probe = app
                .preview_import(
                    &s.actor,
                    &ImportOptions {
                        upload: o.upload,
                        ..Default::default()
                    },
                )
                .await;
            match probe {
                Ok(p) => p.upload,
                Err(AppError::Validation(v)) if v.iter().any(|e| e.field == "upload") => {
                    return super::error_page(s, &AppError::NotFound("upload".into()));
                }
                Err(_) => return super::error_page(s, e),
            }
        }
    };
    let (sheet, encoding, delimiter) = match &result {
        Ok(p) => (
            p.sheet.clone(),
            p.encoding.clone().unwrap_or_default(),
            p.delimiter
                .as_deref()
                .map(delimiter_value)
                .unwrap_or_default()
                .to_string(),
        ),
        Err(_) => (
            o.sheet.clone().unwrap_or_default(),
            o.encoding.clone().unwrap_or_default(),
            o.delimiter.clone().unwrap_or_default(),
        ),
    };
    let detected = lang.t("imp.detected");
    let mark = |v: &str, d: Option<&str>, label: &str| {
        if Some(v) == d {
            format!("{label} ({detected})")
        } else {
            label.to_string()
        }
    };
    let det_delim = upload.delimiter.as_deref().map(delimiter_value);
    let csv = upload.format == "csv";
    let mut about = format!(
        "{} · {}",
        upload.format.to_uppercase(),
        size_text(upload.size)
    );
    if csv {
        about.push_str(&format!(
            " · {}: {}, {}",
            detected,
            upload.encoding.as_deref().unwrap_or_default(),
            lang.t(&format!(
                "imp.delim.{}",
                det_delim
                    .map(|d| if d == "," {
                        "comma"
                    } else if d == ";" {
                        "semicolon"
                    } else {
                        "tab"
                    })
                    .unwrap_or("comma")
            ))
        ));
    }
    let kind = o.kind.clone().unwrap_or_else(|| "auto".into());
    let on_match = o.on_match.clone().unwrap_or_else(|| "skip".into());
    let m = Mapping {
        upload: o.upload,
        file_name: upload.file_name.clone(),
        about,
        csv,
        encodings: [("utf-8", "UTF-8"), ("windows-1250", "Windows-1250")]
            .iter()
            .map(|(v, l)| Opt {
                value: v.to_string(),
                label: mark(v, upload.encoding.as_deref(), l),
                selected: encoding == *v,
            })
            .collect(),
        delimiters: [(",", "comma"), (";", "semicolon"), ("tab", "tab")]
            .iter()
            .map(|(v, k)| Opt {
                value: v.to_string(),
                label: mark(v, det_delim, lang.t(&format!("imp.delim.{k}"))),
                selected: delimiter == *v,
            })
            .collect(),
        sheets: upload
            .sheets
            .iter()
            .map(|n| Opt {
                value: n.clone(),
                label: n.clone(),
                selected: *n == sheet,
            })
            .collect(),
        kinds: ["auto", "person", "organization"]
            .iter()
            .map(|k| Opt {
                value: k.to_string(),
                label: lang.t(&format!("imp.kind.{k}")).to_string(),
                selected: kind == *k,
            })
            .collect(),
        match_keys: MATCH_KEYS
            .iter()
            .map(|k| Check {
                value: k,
                label: lang.t(&format!("imp.match.{k}")),
                checked: o.match_keys.iter().any(|m| m == k),
            })
            .collect(),
        on_match: ["create", "skip", "update"]
            .iter()
            .map(|k| Check {
                value: k,
                label: lang.t(&format!("imp.on_match.{k}")),
                checked: on_match == *k,
            })
            .collect(),
        campaigns: group_opts(app, GroupKind::Campaign, &o.campaigns).await,
        segments: group_opts(app, GroupKind::Segment, &o.segments).await,
        source_label: o.source_label.clone().unwrap_or_default(),
        alert: None,
        label_error: None,
        groups_error: None,
    };
    let mut m = m;
    match refused {
        Some(AppError::Validation(errors)) => {
            let mut rest = Vec::new();
            for e in errors {
                let text = lang.error(&e.code, &e.message);
                match e.field.as_str() {
                    "source_label" => m.label_error = Some(text),
                    "campaigns" | "segments" => m.groups_error = Some(text),
                    _ => rest.push(text),
                }
            }
            if !rest.is_empty() {
                m.alert = Some(rest.join("; "));
            }
        }
        Some(e) => m.alert = Some(error_text(lang, e)),
        None => {}
    }
    let p = preview_part(s, o, result, column_errors, pairs);
    render(&MappingPage {
        page: s.page("imports"),
        m,
        p,
    })
}

/// `GET /imports/uploads/{id}`: the mapping the headers suggest, and the first rows.
pub async fn page(State(app): State<App>, s: UiSession, Path(id): Path<i64>) -> Response {
    if let Some(r) = guard(&s) {
        return r;
    }
    let o = ImportOptions {
        upload: id,
        ..Default::default()
    };
    mapping_page(&app, &s, &o, &[], None).await
}

fn csrf_check(s: &UiSession, headers: &HeaderMap, pairs: &[(String, String)]) -> Option<Response> {
    guard(s).or_else(|| s.csrf_rejection(headers, super::form_value(pairs, "csrf")))
}

/// `POST /imports/uploads/{id}/preview`: the `#preview` part for the form as it is.
pub async fn preview(
    State(app): State<App>,
    s: UiSession,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = csrf_check(&s, &headers, &pairs) {
        return r;
    }
    let o = options_of(id, &pairs);
    let (result, errors) = run_preview(&app, &s, &o).await;
    render(&PreviewTemplate {
        page: s.page("imports"),
        p: preview_part(&s, &o, result, errors, &pairs),
    })
}

/// `POST /imports/uploads/{id}/field?col=N`: creates a custom field from column N's form
/// (`nfN.label`, `nfN.key`, `nfN.type`) and maps the column to it.
pub async fn new_field(
    State(app): State<App>,
    s: UiSession,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<Vec<(String, String)>>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = csrf_check(&s, &headers, &pairs) {
        return r;
    }
    let Some(col) = value(&q, "col").and_then(|c| c.parse::<usize>().ok()) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let nf = |k: &str| value(&pairs, &format!("nf{col}.{k}")).map(str::to_string);
    let created = app
        .create_field(
            &s.actor,
            FieldInput {
                key: nf("key"),
                label: nf("label"),
                field_type: nf("type"),
                visible: Some(true),
                ..Default::default()
            },
        )
        .await;
    let mut o = options_of(id, &pairs);
    let error = match &created {
        Ok(f) => {
            if let Some(m) = o.mapping.as_mut()
                && let Some(k) = m.get_mut(col)
            {
                *k = format!("custom.{}", f.key);
            }
            None
        }
        Err(e) => Some(error_text(s.lang, e)),
    };
    let (result, errors) = run_preview(&app, &s, &o).await;
    let mut p = preview_part(&s, &o, result, errors, &pairs);
    if let Some(c) = p.columns.get_mut(col) {
        c.nf_error = error;
    }
    render(&PreviewTemplate {
        page: s.page("imports"),
        p,
    })
}

/// `POST /imports/uploads/{id}/start[?dry_run=1]`: starts the import (to its report) or
/// its dry run (the panel on this screen, htmx).
pub async fn start(
    State(app): State<App>,
    s: UiSession,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<Vec<(String, String)>>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = csrf_check(&s, &headers, &pairs) {
        return r;
    }
    let dry_run = value(&q, "dry_run").is_some();
    let mut o = options_of(id, &pairs);
    o.dry_run = dry_run;
    let started = app.start_import(&s.actor, &o).await;
    if dry_run {
        let part = match started {
            Ok(job) => build_report(&app, &s, job.id, true).await,
            Err(e) => Err(e),
        };
        return match part {
            Ok(r) => render(&ReportPart {
                page: s.page("imports"),
                r,
            }),
            Err(e) => render(&DryRunAlert {
                message: error_text(s.lang, &e),
            }),
        };
    }
    match started {
        Ok(job) => Redirect::to(&format!("/imports/{}", job.id)).into_response(),
        Err(e) => {
            let mut resp = mapping_page(&app, &s, &o, &pairs, Some(&e)).await;
            *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            resp
        }
    }
}

#[derive(Template)]
#[template(
    source = r#"<div id="dry-run" class="dry-run alert" role="alert">{{ message }}</div>"#,
    ext = "html"
)]
struct DryRunAlert {
    message: String,
}
