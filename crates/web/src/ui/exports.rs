//! Exports from the record list and the downloads area. The list's bulk form carries an
//! "Export" menu (format, CSV delimiter, columns); its button posts the form to `/exports`
//! (the selection's IDs, `scope=filter` for "all found", and with nothing selected the
//! list's filter and search text, `f` and `q`), which starts the job and answers its panel. The panel polls
//! `/exports/{id}/panel` every second and ends with the row count and the download link.
//! `/downloads` lists the user's files until they expire; `/downloads/{id}` streams one.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Request, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use kartoteka_app::exports::{DEFAULT_COLUMNS, EXPORT_COLUMNS};
use kartoteka_app::jobs::{BulkTarget, JobView};
use kartoteka_app::{Actor, App};
use kartoteka_domain::field::{FieldDefinition, FieldType};
use kartoteka_domain::record::TEXT_FIELDS;

use super::i18n::Lang;
use super::imports::{error_text, guard, size_text, state_label, value};
use super::list::shown_time;
use super::list_filter;
use super::{PageCtx, UiSession, error_page, form_value, render};

pub struct ExportColumn {
    pub key: String,
    pub label: String,
    pub checked: bool,
}

/// The list's export menu: the columns to choose from, the default ones ticked first.
pub struct ExportMenu {
    pub columns: Vec<ExportColumn>,
}

fn column_label(lang: Lang, key: &str, defs: &[FieldDefinition]) -> String {
    if let Some(k) = key.strip_prefix("custom.") {
        return defs
            .iter()
            .find(|f| f.key == k)
            .map(|f| f.label.clone())
            .unwrap_or_else(|| k.to_string());
    }
    let t = match key {
        "id" => "col.id",
        "kind" => "col.kind",
        "display_name" => "fk.display_name",
        "phones" => "f.phones",
        "emails" => "f.emails",
        "tags" => "col.tags",
        "managers" => "fk.managers",
        "organization" => "exp.col.organization",
        "campaigns" => "fk.campaigns",
        "segments" => "fk.segments",
        "created_at" => "fk.created_at",
        "created_by" => "fk.created_by",
        "source" => "col.source",
        "modified_at" => "fk.modified_at",
        "last_contact_at" => "fk.last_contact_at",
        k => {
            return match lang.t(&format!("f.{k}")) {
                "?" => k.to_string(),
                l => l.to_string(),
            };
        }
    };
    lang.t(t).to_string()
}

fn national(key: &str, defs: &[FieldDefinition]) -> bool {
    matches!(key, "nip" | "pesel" | "regon")
        || key.strip_prefix("custom.").is_some_and(|k| {
            defs.iter().any(|f| {
                f.key == k
                    && matches!(
                        f.field_type,
                        FieldType::Nip | FieldType::Pesel | FieldType::Regon
                    )
            })
        })
}

/// The export menu for the list (national IDs only for those who see them).
pub fn menu(lang: Lang, defs: &[FieldDefinition], actor: &Actor) -> ExportMenu {
    let mut keys: Vec<String> = DEFAULT_COLUMNS.iter().map(|c| c.to_string()).collect();
    let rest = EXPORT_COLUMNS
        .iter()
        .chain(TEXT_FIELDS.iter())
        .map(|c| c.to_string())
        .chain(defs.iter().map(|f| format!("custom.{}", f.key)));
    for k in rest {
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    ExportMenu {
        columns: keys
            .into_iter()
            .filter(|k| actor.sees_national_ids() || !national(k, defs))
            .map(|k| ExportColumn {
                label: column_label(lang, &k, defs),
                checked: DEFAULT_COLUMNS.contains(&k.as_str()),
                key: k,
            })
            .collect(),
    }
}

/// An export job's panel (or why it did not start).
pub struct ExportPanel {
    pub id: i64,
    pub running: bool,
    pub state: String,
    pub state_label: &'static str,
    pub percent: i64,
    pub progress: String,
    pub rows: String,
    pub download: Option<String>,
    pub file_name: String,
    pub error: Option<String>,
    pub poll: String,
    pub alert: Option<String>,
}

fn panel_of(lang: Lang, j: &JobView) -> ExportPanel {
    let running = matches!(j.state.as_str(), "queued" | "running");
    let rows = j.result["rows"].as_i64();
    ExportPanel {
        id: j.id,
        running,
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
            .t("job.progress")
            .replace("{done}", &lang.number(j.done))
            .replace("{total}", &lang.number(j.total)),
        rows: rows
            .map(|n| lang.count(n, "exp.rows_one", "exp.rows_few", "exp.rows_many"))
            .unwrap_or_default(),
        download: j.result["download"]
            .as_i64()
            .map(|d| format!("/downloads/{d}")),
        file_name: j.result["file_name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        error: j.error.clone(),
        poll: format!("/exports/{}/panel", j.id),
        alert: None,
    }
}

fn alert(text: String) -> ExportPanel {
    ExportPanel {
        id: 0,
        running: false,
        state: String::new(),
        state_label: "",
        percent: 0,
        progress: String::new(),
        rows: String::new(),
        download: None,
        file_name: String::new(),
        error: None,
        poll: String::new(),
        alert: Some(text),
    }
}

#[derive(Template)]
#[template(path = "export_job.html")]
struct PanelTemplate {
    page: PageCtx,
    x: ExportPanel,
}

#[derive(Template)]
#[template(path = "export_page.html")]
struct ExportPage {
    page: PageCtx,
    x: ExportPanel,
}

/// `POST /exports`: starts an export of the selection, of all found (`scope=filter`), or
/// with nothing selected of the list's filter and search text (`f`, `q`; none: every record).
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
    let hx = headers.contains_key("hx-request");
    let answer = |x: ExportPanel| -> Response {
        if hx || x.alert.is_some() {
            render(&PanelTemplate {
                page: s.page("records"),
                x,
            })
        } else {
            Redirect::to(&format!("/exports/{}", x.id)).into_response()
        }
    };
    let ids: Vec<String> = pairs
        .iter()
        .filter(|(k, v)| k == "ids" && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_string())
        .collect();
    let target = if value(&pairs, "scope") != Some("filter") && !ids.is_empty() {
        BulkTarget::Ids(ids)
    } else {
        match list_filter::parse_f(value(&pairs, "f")) {
            Ok(f) => BulkTarget::found(f, value(&pairs, "q").unwrap_or_default()),
            Err(()) => return answer(alert(s.lang.t("filter.unreadable").into())),
        }
    };
    let columns: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "columns")
        .map(|(_, v)| v.clone())
        .collect();
    if columns.is_empty() {
        return answer(alert(s.lang.t("exp.no_columns").into()));
    }
    let format = value(&pairs, "format").unwrap_or("xlsx");
    let delimiter = value(&pairs, "delimiter");
    match app
        .start_export(&s.actor, target, columns, format, delimiter)
        .await
    {
        Ok(j) => answer(panel_of(s.lang, &j)),
        Err(e) => answer(alert(error_text(s.lang, &e))),
    }
}

async fn export_job(app: &App, s: &UiSession, id: i64) -> Result<JobView, Response> {
    match app.job(&s.actor, id).await {
        Ok(j) if j.kind == "export" => Ok(j),
        Ok(_) => Err(error_page(
            s,
            &kartoteka_app::AppError::NotFound("export".into()),
        )),
        Err(e) => Err(error_page(s, &e)),
    }
}

/// `GET /exports/{id}`: the export's panel as a page (without htmx).
pub async fn page(State(app): State<App>, s: UiSession, Path(id): Path<i64>) -> Response {
    if let Some(r) = guard(&s) {
        return r;
    }
    match export_job(&app, &s, id).await {
        Ok(j) => render(&ExportPage {
            page: s.page("downloads"),
            x: panel_of(s.lang, &j),
        }),
        Err(r) => r,
    }
}

/// `GET /exports/{id}/panel`: the panel, polled while the export runs.
pub async fn panel(State(app): State<App>, s: UiSession, Path(id): Path<i64>) -> Response {
    if let Some(r) = guard(&s) {
        return r;
    }
    match export_job(&app, &s, id).await {
        Ok(j) => render(&PanelTemplate {
            page: s.page("records"),
            x: panel_of(s.lang, &j),
        }),
        Err(r) => r,
    }
}

pub struct DownloadRow {
    pub href: String,
    pub file_name: String,
    pub rows: String,
    pub size: String,
    pub created: String,
    pub expires: String,
}

#[derive(Template)]
#[template(path = "downloads.html")]
struct DownloadsPage {
    page: PageCtx,
    rows: Vec<DownloadRow>,
}

/// `GET /downloads`: the user's files until they expire.
pub async fn downloads(State(app): State<App>, s: UiSession) -> Response {
    if let Some(r) = guard(&s) {
        return r;
    }
    let list = match app.downloads(&s.actor).await {
        Ok(l) => l,
        Err(e) => return error_page(&s, &e),
    };
    let rows = list
        .iter()
        .map(|d| DownloadRow {
            href: format!("/downloads/{}", d.id),
            file_name: d.file_name.clone(),
            rows: s.lang.number(d.rows),
            size: size_text(d.size),
            created: shown_time(s.lang, &d.created_at, &s.time_zone),
            expires: shown_time(s.lang, &d.expires_at, &s.time_zone),
        })
        .collect();
    render(&DownloadsPage {
        page: s.page("downloads"),
        rows,
    })
}

/// `GET /downloads/{id}`: streams the file.
pub async fn download(
    State(app): State<App>,
    s: UiSession,
    Path(id): Path<i64>,
    req: Request,
) -> Response {
    if let Some(r) = guard(&s) {
        return r;
    }
    let d = match app.download(&s.actor, id).await {
        Ok(d) => d,
        Err(e) => return error_page(&s, &e),
    };
    match crate::api::downloads::serve(&d.path, &d.file_name, req).await {
        Ok(r) => r,
        Err(e) => error_page(&s, &e),
    }
}
