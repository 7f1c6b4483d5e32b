//! /api/v1/duplicates: searches (jobs) and their groups, merge preview and merge by hand,
//! bulk merge or delete over a search's groups (jobs), and the operations journal with undo.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use kartoteka_app::App;
use kartoteka_app::duplicates::{
    GroupPage, GroupQuery, GroupView, MergePreview, MergeRequest, OperationView, SearchView,
};
use kartoteka_app::jobs::JobView;
use kartoteka_domain::filter::Filter;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::JsonBody;
use crate::auth::Caller;
use crate::problem::ApiResult;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(start_search, list_searches))
        .routes(routes!(get_search))
        .routes(routes!(groups))
        .routes(routes!(group))
        .routes(routes!(bulk))
        .routes(routes!(preview))
        .routes(routes!(merge))
        .routes(routes!(operations))
        .routes(routes!(operation))
        .routes(routes!(undo))
}

/// A duplicate search.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchInput {
    /// 1 to 7 of `phone`, `email`, `first_name`, `last_name`, `display_name`, `city`,
    /// `address`, `nip`, `pesel`, `regon`, `external_id`, `custom.<key>`. Two records are
    /// duplicates when equal in every one (phones and e-mails: sharing one), compared
    /// normalized (E.164, lower case, case and diacritics ignored); empty values never tie.
    criteria: Vec<String>,
    /// Only among the records of this filter (SPEC "Filter model").
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    filter: Option<Filter>,
}

/// Start a duplicate search as a background job; its groups are then listed page by page.
#[utoipa::path(post, path = "/api/v1/duplicates/searches", tag = "duplicates", request_body = SearchInput,
    responses((status = 202, body = JobView), (status = 403), (status = 422)))]
async fn start_search(
    State(app): State<App>,
    c: Caller,
    JsonBody(i): JsonBody<SearchInput>,
) -> ApiResult<(StatusCode, Json<JobView>)> {
    let job = app
        .start_duplicate_search(&c.actor, &i.criteria, i.filter)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

/// The caller's duplicate searches (administrators: everyone's), newest first.
#[utoipa::path(get, path = "/api/v1/duplicates/searches", tag = "duplicates",
    responses((status = 200, body = Vec<JobView>)))]
async fn list_searches(State(app): State<App>, c: Caller) -> ApiResult<Json<Vec<JobView>>> {
    Ok(Json(app.duplicate_searches(&c.actor).await?))
}

/// A search: its job, criteria and counts (groups, records, groups bulk actions take and
/// the records they would remove, groups left for manual resolution by reason).
#[utoipa::path(get, path = "/api/v1/duplicates/searches/{id}", tag = "duplicates",
    params(("id" = i64, Path)), responses((status = 200, body = SearchView), (status = 404)))]
async fn get_search(
    State(app): State<App>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<SearchView>> {
    Ok(Json(app.duplicate_search(&c.actor, id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct GroupParams {
    /// `all` (default), `ready` (bulk actions take them), `held` (left for manual
    /// resolution) or `resolved`.
    show: Option<String>,
    /// `size` (default: largest first), `value` (the tying value) or `found`; `-` reverses.
    sort: Option<String>,
    offset: Option<i64>,
    /// At most 500 (default 50).
    limit: Option<i64>,
}

/// One page of a search's groups, with the total. 409 `search_purged` once the groups were
/// removed (`duplicate_search_days` after the search ran; its `purged_at` says when).
#[utoipa::path(get, path = "/api/v1/duplicates/searches/{id}/groups", tag = "duplicates",
    params(("id" = i64, Path), GroupParams),
    responses((status = 200, body = GroupPage), (status = 404), (status = 409)))]
async fn groups(
    State(app): State<App>,
    c: Caller,
    Path(id): Path<i64>,
    Query(p): Query<GroupParams>,
) -> ApiResult<Json<GroupPage>> {
    let q = GroupQuery {
        show: p.show,
        sort: p.sort,
        offset: p.offset,
        limit: p.limit,
    };
    Ok(Json(app.duplicate_groups(&c.actor, id, &q).await?))
}

/// One group of a search.
#[utoipa::path(get, path = "/api/v1/duplicates/searches/{id}/groups/{position}", tag = "duplicates",
    params(("id" = i64, Path), ("position" = i64, Path)),
    responses((status = 200, body = GroupView), (status = 404), (status = 409)))]
async fn group(
    State(app): State<App>,
    c: Caller,
    Path((id, position)): Path<(i64, i64)>,
) -> ApiResult<Json<GroupView>> {
    Ok(Json(app.duplicate_group(&c.actor, id, position).await?))
}

/// A bulk action over every ready group of a search.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkInput {
    /// `merge` (into each group's oldest record) or `delete` (keeping each group's oldest).
    action: String,
    /// The number of records that will be removed (the search's `ready_removes`).
    confirm: Option<i64>,
}

/// Merge or delete every group bulk actions take (not those held for manual resolution),
/// as a background job.
#[utoipa::path(post, path = "/api/v1/duplicates/searches/{id}/bulk", tag = "duplicates",
    params(("id" = i64, Path)), request_body = BulkInput,
    responses((status = 202, body = JobView), (status = 403), (status = 409), (status = 422)))]
async fn bulk(
    State(app): State<App>,
    c: Caller,
    Path(id): Path<i64>,
    JsonBody(i): JsonBody<BulkInput>,
) -> ApiResult<(StatusCode, Json<JobView>)> {
    let job = app
        .start_duplicate_bulk(&c.actor, id, &i.action, i.confirm)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

/// What merging these records would do: each differing field with the value taken, the
/// resulting record, what is merged and deleted. Changes nothing.
#[utoipa::path(post, path = "/api/v1/duplicates/merge/preview", tag = "duplicates",
    request_body = MergeRequest, responses((status = 200, body = MergePreview), (status = 403), (status = 422)))]
async fn preview(
    State(app): State<App>,
    c: Caller,
    JsonBody(r): JsonBody<MergeRequest>,
) -> ApiResult<Json<MergePreview>> {
    Ok(Json(app.merge_preview(&c.actor, &r).await?))
}

/// Merge records into the main record (and delete others), as one operation that can be
/// undone. With `versions`, a record changed since is refused with 409.
#[utoipa::path(post, path = "/api/v1/duplicates/merge", tag = "duplicates",
    request_body = MergeRequest,
    responses((status = 201, body = OperationView), (status = 403), (status = 409), (status = 422)))]
async fn merge(
    State(app): State<App>,
    c: Caller,
    JsonBody(r): JsonBody<MergeRequest>,
) -> ApiResult<(StatusCode, Json<OperationView>)> {
    Ok((
        StatusCode::CREATED,
        Json(app.merge_records(&c.actor, &r).await?),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct OperationParams {
    /// Operations of this bulk job.
    job: Option<i64>,
    /// Operations naming this record (kept or removed).
    record: Option<String>,
}

/// Merges and duplicate deletes, newest first (at most 200).
#[utoipa::path(get, path = "/api/v1/duplicates/operations", tag = "duplicates",
    params(OperationParams), responses((status = 200, body = Vec<OperationView>)))]
async fn operations(
    State(app): State<App>,
    c: Caller,
    Query(p): Query<OperationParams>,
) -> ApiResult<Json<Vec<OperationView>>> {
    Ok(Json(
        app.merge_operations(&c.actor, p.job, p.record.as_deref())
            .await?,
    ))
}

/// One merge or duplicate delete.
#[utoipa::path(get, path = "/api/v1/duplicates/operations/{id}", tag = "duplicates",
    params(("id" = i64, Path)), responses((status = 200, body = OperationView), (status = 404)))]
async fn operation(
    State(app): State<App>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<OperationView>> {
    Ok(Json(app.merge_operation(&c.actor, id).await?))
}

/// Undo a merge or duplicate delete within the undo window: the removed records come back
/// with their data and what was moved goes back to them. Refused (409, with the reason)
/// when the main record changed since.
#[utoipa::path(post, path = "/api/v1/duplicates/operations/{id}/undo", tag = "duplicates",
    params(("id" = i64, Path)),
    responses((status = 200, body = OperationView), (status = 403), (status = 404), (status = 409)))]
async fn undo(
    State(app): State<App>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<OperationView>> {
    Ok(Json(app.undo_merge(&c.actor, id).await?))
}
