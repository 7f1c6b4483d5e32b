//! /api/v1/fields: custom field definitions.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use kartoteka_app::App;
use kartoteka_app::fields::{FieldDeleted, FieldInput, FieldView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::JsonBody;
use crate::auth::Caller;
use crate::problem::ApiResult;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_fields, create_field))
        .routes(routes!(get_field, update_field, delete_field))
}

/// All custom field definitions, in order.
#[utoipa::path(get, path = "/api/v1/fields", tag = "fields", responses((status = 200, body = Vec<FieldView>)))]
async fn list_fields(State(app): State<App>, caller: Caller) -> ApiResult<Json<Vec<FieldView>>> {
    Ok(Json(app.list_fields(&caller.actor).await?))
}

/// Define a custom field (administrators and managers).
#[utoipa::path(post, path = "/api/v1/fields", tag = "fields", request_body = FieldInput,
    responses((status = 201, body = FieldView), (status = 422, description = "Invalid definition")))]
async fn create_field(
    State(app): State<App>,
    caller: Caller,
    JsonBody(input): JsonBody<FieldInput>,
) -> ApiResult<(StatusCode, Json<FieldView>)> {
    Ok((
        StatusCode::CREATED,
        Json(app.create_field(&caller.actor, input).await?),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldWithUsage {
    #[serde(flatten)]
    field: FieldView,
    /// How many records hold a value (what deleting the field deletes).
    values: i64,
}

/// One definition with the number of values it holds.
#[utoipa::path(get, path = "/api/v1/fields/{key}", tag = "fields", params(("key" = String, Path)),
    responses((status = 200, body = FieldWithUsage), (status = 404)))]
async fn get_field(
    State(app): State<App>,
    caller: Caller,
    Path(key): Path<String>,
) -> ApiResult<Json<FieldWithUsage>> {
    let (field, values) = app.get_field(&caller.actor, &key).await?;
    Ok(Json(FieldWithUsage { field, values }))
}

/// Change label, options, mask, flags or position (key and type are immutable).
#[utoipa::path(patch, path = "/api/v1/fields/{key}", tag = "fields", params(("key" = String, Path)), request_body = FieldInput,
    responses((status = 200, body = FieldView), (status = 422)))]
async fn update_field(
    State(app): State<App>,
    caller: Caller,
    Path(key): Path<String>,
    JsonBody(input): JsonBody<FieldInput>,
) -> ApiResult<Json<FieldView>> {
    Ok(Json(app.update_field(&caller.actor, &key, input).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// The number of values that will be lost, as a confirmation.
    confirm: Option<i64>,
}

/// Delete a definition and all its values, irreversibly. Without `confirm` equal to the
/// number of values, answers 409 naming that number.
#[utoipa::path(delete, path = "/api/v1/fields/{key}", tag = "fields", params(("key" = String, Path), DeleteQuery),
    responses((status = 200, body = FieldDeleted), (status = 409, description = "Confirmation missing; `values` names the count")))]
async fn delete_field(
    State(app): State<App>,
    caller: Caller,
    Path(key): Path<String>,
    Query(q): Query<DeleteQuery>,
) -> ApiResult<Json<FieldDeleted>> {
    Ok(Json(
        app.delete_field(&caller.actor, &key, q.confirm).await?,
    ))
}
