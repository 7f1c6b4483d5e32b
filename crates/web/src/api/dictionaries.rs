//! /api/v1/dictionaries.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use kartoteka_app::App;
use kartoteka_app::dictionaries::{DictionaryView, EntryInput, EntryView};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::JsonBody;
use crate::auth::Caller;
use crate::problem::ApiResult;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_dictionaries))
        .routes(routes!(put_entry, delete_entry))
}

/// Every dictionary with its entries.
#[utoipa::path(get, path = "/api/v1/dictionaries", tag = "dictionaries", responses((status = 200, body = Vec<DictionaryView>)))]
async fn list_dictionaries(
    State(app): State<App>,
    caller: Caller,
) -> ApiResult<Json<Vec<DictionaryView>>> {
    Ok(Json(app.dictionaries(&caller.actor).await?))
}

/// Add an entry, or change its label, position or active flag.
#[utoipa::path(put, path = "/api/v1/dictionaries/{name}/entries/{code}", tag = "dictionaries",
    params(("name" = String, Path, description = "languages, positions, stages, acquisition_sources, classifiers or ticket_statuses"), ("code" = String, Path)),
    request_body = EntryInput, responses((status = 200, body = EntryView), (status = 422)))]
async fn put_entry(
    State(app): State<App>,
    caller: Caller,
    Path((name, code)): Path<(String, String)>,
    JsonBody(input): JsonBody<EntryInput>,
) -> ApiResult<Json<EntryView>> {
    Ok(Json(
        app.put_entry(&caller.actor, &name, &code, input).await?,
    ))
}

/// Delete an entry no record uses (409 when in use: deactivate it instead).
#[utoipa::path(delete, path = "/api/v1/dictionaries/{name}/entries/{code}", tag = "dictionaries",
    params(("name" = String, Path), ("code" = String, Path)), responses((status = 204), (status = 409)))]
async fn delete_entry(
    State(app): State<App>,
    caller: Caller,
    Path((name, code)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    app.delete_entry(&caller.actor, &name, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}
