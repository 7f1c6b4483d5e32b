//! /api/v1/jobs and the bulk actions that run as jobs.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use kartoteka_app::jobs::{BulkAction, BulkTarget, JobView};
use kartoteka_app::{App, AppError};
use kartoteka_domain::filter::Filter;
use kartoteka_store::groups::GroupKind;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::JsonBody;
use crate::auth::Caller;
use crate::problem::ApiResult;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(bulk_membership))
        .routes(routes!(bulk_tags))
        .routes(routes!(bulk_delete))
        .routes(routes!(list_jobs))
        .routes(routes!(get_job))
        .routes(routes!(cancel_job))
}

/// Records to add to a campaign or segment, or to remove from it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembershipInput {
    /// `campaign` or `segment`.
    group_kind: String,
    /// The campaign's or segment's ID.
    group: i64,
    /// `add` or `remove`.
    action: String,
    /// Public IDs of the records (or give `filter`).
    #[serde(default)]
    ids: Option<Vec<String>>,
    /// Every record matching this filter (SPEC "Filter model"), instead of `ids`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    filter: Option<Filter>,
    /// With `filter`, only the records the record list finds for this search text: a phone
    /// number, an e-mail address, a record ID, or the beginning of a last name.
    #[serde(default)]
    q: Option<String>,
}

fn target(
    ids: Option<Vec<String>>,
    filter: Option<Filter>,
    q: Option<String>,
) -> ApiResult<BulkTarget> {
    match (ids, filter, q) {
        (Some(ids), None, None) => Ok(BulkTarget::Ids(ids)),
        (None, Some(f), q) => Ok(BulkTarget::found(f, q.as_deref().unwrap_or_default())),
        _ => Err(AppError::invalid(
            "ids",
            "required",
            "give either ids, or filter (with q if you like)",
        )
        .into()),
    }
}

/// Tags to add to records or remove from them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagsInput {
    /// `add` or `remove`.
    action: String,
    tags: Vec<String>,
    #[serde(default)]
    ids: Option<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    filter: Option<Filter>,
    /// With `filter`, only the records the record list finds for this search text: a phone
    /// number, an e-mail address, a record ID, or the beginning of a last name.
    #[serde(default)]
    q: Option<String>,
}

/// Add tags to records or remove them, as a background job.
#[utoipa::path(post, path = "/api/v1/records/bulk/tags", tag = "jobs", request_body = TagsInput,
    responses((status = 202, body = JobView), (status = 403), (status = 422)))]
async fn bulk_tags(
    State(app): State<App>,
    c: Caller,
    JsonBody(i): JsonBody<TagsInput>,
) -> ApiResult<(StatusCode, Json<JobView>)> {
    let add = add_or_remove(&i.action)?;
    let action = BulkAction::Tags { add, tags: i.tags };
    let job = app
        .submit_bulk(&c.actor, target(i.ids, i.filter, i.q)?, action)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

/// Records to delete.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteInput {
    #[serde(default)]
    ids: Option<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    filter: Option<Filter>,
    /// With `filter`, only the records the record list finds for this search text.
    #[serde(default)]
    q: Option<String>,
    /// The number of records this deletes (a 422 names it when missing or different).
    confirm: Option<i64>,
}

/// Delete records, as a background job; `confirm` must name how many.
#[utoipa::path(post, path = "/api/v1/records/bulk/delete", tag = "jobs", request_body = DeleteInput,
    responses((status = 202, body = JobView), (status = 403), (status = 422)))]
async fn bulk_delete(
    State(app): State<App>,
    c: Caller,
    JsonBody(i): JsonBody<DeleteInput>,
) -> ApiResult<(StatusCode, Json<JobView>)> {
    let action = BulkAction::Delete { confirm: i.confirm };
    let job = app
        .submit_bulk(&c.actor, target(i.ids, i.filter, i.q)?, action)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

fn add_or_remove(action: &str) -> ApiResult<bool> {
    match action {
        "add" => Ok(true),
        "remove" => Ok(false),
        _ => Err(AppError::invalid("action", "invalid", "add or remove").into()),
    }
}

/// Add records to a campaign or segment, or remove them, as a background job. Records that
/// cannot be changed are listed in the job's result with the reason; the rest change.
#[utoipa::path(post, path = "/api/v1/records/bulk/membership", tag = "jobs", request_body = MembershipInput,
    responses((status = 202, body = JobView), (status = 403), (status = 422)))]
async fn bulk_membership(
    State(app): State<App>,
    c: Caller,
    JsonBody(i): JsonBody<MembershipInput>,
) -> ApiResult<(StatusCode, Json<JobView>)> {
    let kind = match i.group_kind.as_str() {
        "campaign" => GroupKind::Campaign,
        "segment" => GroupKind::Segment,
        _ => return Err(AppError::invalid("group_kind", "invalid", "campaign or segment").into()),
    };
    let add = add_or_remove(&i.action)?;
    let action = BulkAction::Membership {
        kind,
        group: i.group,
        add,
    };
    let job = app
        .submit_bulk(&c.actor, target(i.ids, i.filter, i.q)?, action)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

/// My jobs (administrators: everyone's), newest first.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", responses((status = 200, body = Vec<JobView>)))]
async fn list_jobs(State(app): State<App>, c: Caller) -> ApiResult<Json<Vec<JobView>>> {
    Ok(Json(app.jobs(&c.actor).await?))
}

/// One job: state, progress and result.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs", params(("id" = i64, Path)), responses((status = 200, body = JobView), (status = 404)))]
async fn get_job(
    State(app): State<App>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<JobView>> {
    Ok(Json(app.job(&c.actor, id).await?))
}

/// Ask a job to stop after its current chunk (what it did stays done).
#[utoipa::path(post, path = "/api/v1/jobs/{id}/cancel", tag = "jobs", params(("id" = i64, Path)), responses((status = 200, body = JobView)))]
async fn cancel_job(
    State(app): State<App>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<JobView>> {
    Ok(Json(app.cancel_job(&c.actor, id).await?))
}
