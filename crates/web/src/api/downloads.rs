//! /api/v1/exports and /api/v1/downloads: exports run as jobs into the user's downloads
//! area; files are fetched from there until they expire.

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kartoteka_app::exports::DownloadView;
use kartoteka_app::jobs::JobView;
use kartoteka_app::{App, AppError};
use kartoteka_domain::filter::Filter;
use serde::Deserialize;
use tower::ServiceExt;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::JsonBody;
use crate::auth::Caller;
use crate::problem::ApiResult;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(export))
        .routes(routes!(list_downloads))
        .routes(routes!(get_download))
}

/// What to export.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportInput {
    /// Public IDs of the records (or give `filter`; neither: the whole base).
    #[serde(default)]
    ids: Option<Vec<String>>,
    /// Every record matching this filter (SPEC "Filter model").
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    filter: Option<Filter>,
    /// With `filter` (or alone: within the whole base), only the records the record list
    /// finds for this search text: a phone number, an e-mail address, a record ID, or the
    /// beginning of a last name.
    #[serde(default)]
    q: Option<String>,
    /// Field keys in order: `id`, `kind`, `display_name`, system fields (`first_name` …),
    /// `custom.<key>`, `phones`, `emails`, `tags`, `managers`, `organization`,
    /// `campaigns`, `segments`, `created_at`, `created_by`, `source`, `modified_at`,
    /// `last_contact_at`. Default: ID, kind, names, phones, e-mails and address.
    #[serde(default)]
    columns: Vec<String>,
    /// `csv` (UTF-8 with BOM) or `xlsx`.
    format: String,
    /// CSV only: `,` (default) or `;`.
    delimiter: Option<String>,
}

/// Export records to csv or xlsx as a background job; the file lands in the downloads
/// area (its job's result names the download). No row cap.
#[utoipa::path(post, path = "/api/v1/exports", tag = "exports", request_body = ExportInput,
    responses((status = 202, body = JobView), (status = 403), (status = 422)))]
async fn export(
    State(app): State<App>,
    c: Caller,
    JsonBody(i): JsonBody<ExportInput>,
) -> ApiResult<(StatusCode, Json<JobView>)> {
    let text = i.q.unwrap_or_default();
    let target = match (i.ids, i.filter) {
        (Some(ids), None) if text.trim().is_empty() => kartoteka_app::jobs::BulkTarget::Ids(ids),
        (None, f) => kartoteka_app::jobs::BulkTarget::found(f.unwrap_or_default(), &text),
        _ => {
            return Err(AppError::invalid(
                "ids",
                "conflict",
                "give ids, or filter and q, not both",
            )
            .into());
        }
    };
    let job = app
        .start_export(
            &c.actor,
            target,
            i.columns,
            &i.format,
            i.delimiter.as_deref(),
        )
        .await?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

/// My files to download (administrators: everyone's), until they expire.
#[utoipa::path(get, path = "/api/v1/downloads", tag = "exports", responses((status = 200, body = Vec<DownloadView>)))]
async fn list_downloads(State(app): State<App>, c: Caller) -> ApiResult<Json<Vec<DownloadView>>> {
    Ok(Json(app.downloads(&c.actor).await?))
}

/// Fetch a file from the downloads area.
#[utoipa::path(get, path = "/api/v1/downloads/{id}", tag = "exports", params(("id" = i64, Path)),
    responses((status = 200, content_type = "application/octet-stream"), (status = 404)))]
async fn get_download(
    State(app): State<App>,
    c: Caller,
    Path(id): Path<i64>,
    req: Request,
) -> ApiResult<Response> {
    let d = app.download(&c.actor, id).await?;
    Ok(serve(&d.path, &d.file_name, req).await?)
}

/// Streams a file as an attachment named `name`.
pub async fn serve(path: &str, name: &str, req: Request) -> Result<Response, AppError> {
    let mut resp = tower_http::services::ServeFile::new(path)
        .oneshot(req)
        .await
        .map_err(|e| AppError::Unexpected(format!("serving a file: {e}")))?
        .into_response();
    if resp.status() == StatusCode::NOT_FOUND {
        return Err(AppError::NotFound("the file".into()));
    }
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    )) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    let mime = if name.ends_with(".xlsx") {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    } else {
        "text/csv; charset=utf-8"
    };
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    Ok(resp)
}
