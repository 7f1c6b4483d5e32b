//! /api/v1/records/{id}/cases: a record's cases, one with its classifier history, and edits.

use axum::Json;
use axum::extract::{Path, State};
use kartoteka_app::App;
use kartoteka_app::cases::{CaseInput, CaseView};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::JsonBody;
use crate::auth::Caller;
use crate::problem::ApiResult;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(record_cases))
        .routes(routes!(get_case, update_case))
}

/// The record's cases (one per campaign it is in), by campaign name.
#[utoipa::path(get, path = "/api/v1/records/{id}/cases", tag = "campaigns",
    params(("id" = String, Path, description = "Public ID")),
    responses((status = 200, body = Vec<CaseView>), (status = 404)))]
async fn record_cases(
    State(app): State<App>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<CaseView>>> {
    Ok(Json(app.record_cases(&c.actor, &id).await?))
}

/// The record's case in a campaign, with its classifier history (newest first).
#[utoipa::path(get, path = "/api/v1/records/{id}/cases/{campaign}", tag = "campaigns",
    params(("id" = String, Path, description = "Public ID"), ("campaign" = i64, Path)),
    responses((status = 200, body = CaseView), (status = 404)))]
async fn get_case(
    State(app): State<App>,
    c: Caller,
    Path((id, campaign)): Path<(String, i64)>,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(app.record_case(&c.actor, &id, campaign).await?))
}

/// Change the status, the assigned user or the recontact date, or give a classifier.
/// Agents of the campaign may do all but reassign; the record base may do everything.
#[utoipa::path(patch, path = "/api/v1/records/{id}/cases/{campaign}", tag = "campaigns",
    params(("id" = String, Path, description = "Public ID"), ("campaign" = i64, Path)),
    request_body = CaseInput,
    responses((status = 200, body = CaseView), (status = 403), (status = 404), (status = 422)))]
async fn update_case(
    State(app): State<App>,
    c: Caller,
    Path((id, campaign)): Path<(String, i64)>,
    JsonBody(input): JsonBody<CaseInput>,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(app.update_case(&c.actor, &id, campaign, input).await?))
}
