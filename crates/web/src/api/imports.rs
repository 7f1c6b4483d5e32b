//! /api/v1/imports: upload, preview, start (or dry-run), status, report, failed rows,
//! revert. The job itself is followed at /api/v1/jobs/{id} too.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kartoteka_app::App;
use kartoteka_app::imports::{FailedRow, ImportOptions, ImportView, Preview, UploadView};
use kartoteka_app::jobs::JobView;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::JsonBody;
use crate::auth::Caller;
use crate::problem::ApiResult;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(upload))
        .routes(routes!(preview))
        .routes(routes!(start, list))
        .routes(routes!(get_import))
        .routes(routes!(failures))
        .routes(routes!(failed_rows_file))
        .routes(routes!(revert))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct UploadQuery {
    /// The file's name (raw uploads; its extension must say what it is).
    name: Option<String>,
}

/// Upload a file to import: the raw bytes (name in `?name=`) or `multipart/form-data`
/// (part `file`). The file is checked by its content (xlsx, xls, ods, csv in UTF-8 or
/// Windows-1250), CSV encoding and delimiter detected. Over the size limit it is refused
/// with 413 while it arrives.
#[utoipa::path(post, path = "/api/v1/imports/uploads", tag = "imports", params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = UploadView), (status = 413), (status = 422)))]
async fn upload(
    State(app): State<App>,
    c: Caller,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<UploadView>)> {
    if !c.actor.may_use_record_base() {
        return Err(kartoteka_app::AppError::Forbidden(
            "importing needs access to the record base".into(),
        )
        .into());
    }
    let file = crate::upload::receive(&app, &headers, q.name, body).await?;
    let view = app
        .upload_import_file(&c.actor, &file.file_name, &file.path)
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The uploaded file's first rows mapped to fields (the given mapping, or the one its
/// headers suggest), every invalid cell with its reason.
#[utoipa::path(post, path = "/api/v1/imports/preview", tag = "imports", request_body = ImportOptions,
    responses((status = 200, body = Preview), (status = 422)))]
async fn preview(
    State(app): State<App>,
    c: Caller,
    JsonBody(o): JsonBody<ImportOptions>,
) -> ApiResult<Json<Preview>> {
    Ok(Json(app.preview_import(&c.actor, &o).await?))
}

/// Start the import (or, with `dry_run`, count what it would do) as a background job.
#[utoipa::path(post, path = "/api/v1/imports", tag = "imports", request_body = ImportOptions,
    responses((status = 202, body = JobView), (status = 403), (status = 422)))]
async fn start(
    State(app): State<App>,
    c: Caller,
    JsonBody(o): JsonBody<ImportOptions>,
) -> ApiResult<(StatusCode, Json<JobView>)> {
    Ok((
        StatusCode::ACCEPTED,
        Json(app.start_import(&c.actor, &o).await?),
    ))
}

/// The import history: every import with who, when, file, options and counts.
#[utoipa::path(get, path = "/api/v1/imports", tag = "imports", responses((status = 200, body = Vec<ImportView>)))]
async fn list(State(app): State<App>, c: Caller) -> ApiResult<Json<Vec<ImportView>>> {
    Ok(Json(app.imports(&c.actor).await?))
}

/// One import: state, progress and report counts (created, updated, unchanged, skipped,
/// failed, blank rows, repairs).
#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "imports", params(("id" = i64, Path)),
    responses((status = 200, body = ImportView), (status = 404)))]
async fn get_import(
    State(app): State<App>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<ImportView>> {
    Ok(Json(app.import(&c.actor, id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct FailuresQuery {
    /// Rows after this row number (paging).
    #[serde(default)]
    after: i64,
    /// At most this many rows (default 1000, at most 10000).
    limit: Option<i64>,
}

/// The report's failed rows: row number (header = 1), the row as read, and every invalid
/// cell with its column, header, value and reason.
#[utoipa::path(get, path = "/api/v1/imports/{id}/failures", tag = "imports",
    params(("id" = i64, Path), FailuresQuery), responses((status = 200, body = Vec<FailedRow>)))]
async fn failures(
    State(app): State<App>,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<FailuresQuery>,
) -> ApiResult<Json<Vec<FailedRow>>> {
    Ok(Json(
        app.import_failures(&c.actor, id, q.after, q.limit.unwrap_or(1000))
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct FileQuery {
    /// `csv` (default) or `xlsx`.
    format: Option<String>,
}

/// The failed rows as a file: the original header and rows plus a `reason` column.
#[utoipa::path(get, path = "/api/v1/imports/{id}/failures/file", tag = "imports",
    params(("id" = i64, Path), FileQuery),
    responses((status = 200, content_type = "text/csv"), (status = 404)))]
async fn failed_rows_file(
    State(app): State<App>,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<FileQuery>,
    req: Request,
) -> ApiResult<Response> {
    let d = app
        .failed_rows_file(&c.actor, id, q.format.as_deref().unwrap_or("csv"))
        .await?;
    Ok(super::downloads::serve(&d.path, &d.file_name, req).await?)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevertInput {
    /// The number of records the import created and updated (a 422 names it).
    confirm: Option<i64>,
}

/// Revert an import: delete the records it created, restore the fields it updated unless
/// they changed since (listed in the revert job's result), as a background job.
#[utoipa::path(post, path = "/api/v1/imports/{id}/revert", tag = "imports", params(("id" = i64, Path)),
    request_body = RevertInput, responses((status = 202, body = JobView), (status = 403), (status = 422)))]
async fn revert(
    State(app): State<App>,
    c: Caller,
    Path(id): Path<i64>,
    JsonBody(i): JsonBody<RevertInput>,
) -> ApiResult<(StatusCode, Json<JobView>)> {
    Ok((
        StatusCode::ACCEPTED,
        Json(app.revert_import(&c.actor, id, i.confirm).await?),
    ))
}
