//! /api/v1/campaigns, /api/v1/segments, and a record's memberships in them.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use kartoteka_app::App;
use kartoteka_app::groups::{GroupInput, GroupView};
use kartoteka_store::groups::GroupKind;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::JsonBody;
use crate::auth::Caller;
use crate::problem::ApiResult;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_campaigns, create_campaign))
        .routes(routes!(get_campaign, update_campaign, delete_campaign))
        .routes(routes!(list_segments, create_segment))
        .routes(routes!(get_segment, update_segment, delete_segment))
        .routes(routes!(record_campaigns))
        .routes(routes!(add_to_campaign, remove_from_campaign))
        .routes(routes!(record_segments))
        .routes(routes!(add_to_segment, remove_from_segment))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// The number of records in the group, as a confirmation (when it holds any).
    confirm: Option<i64>,
}

/// A group a record belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct Membership {
    id: i64,
    name: String,
}

/// What a membership change did.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipChange {
    /// False when the record was already in (or already out of) the group.
    changed: bool,
}

/// All campaigns, with their record counts and agents.
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "campaigns", responses((status = 200, body = Vec<GroupView>)))]
async fn list_campaigns(State(app): State<App>, c: Caller) -> ApiResult<Json<Vec<GroupView>>> {
    Ok(Json(app.list_groups(&c.actor, GroupKind::Campaign).await?))
}

/// Create a campaign (administrators and managers).
#[utoipa::path(post, path = "/api/v1/campaigns", tag = "campaigns", request_body = GroupInput, responses((status = 201, body = GroupView), (status = 422)))]
async fn create_campaign(
    State(app): State<App>,
    c: Caller,
    JsonBody(i): JsonBody<GroupInput>,
) -> ApiResult<(StatusCode, Json<GroupView>)> {
    Ok((
        StatusCode::CREATED,
        Json(app.create_group(&c.actor, GroupKind::Campaign, i).await?),
    ))
}

/// One campaign.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "campaigns", params(("id" = i64, Path)), responses((status = 200, body = GroupView), (status = 404)))]
async fn get_campaign(
    State(app): State<App>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<GroupView>> {
    Ok(Json(
        app.get_group(&c.actor, GroupKind::Campaign, id).await?,
    ))
}

/// Rename, describe, (de)activate a campaign or set its agents.
#[utoipa::path(patch, path = "/api/v1/campaigns/{id}", tag = "campaigns", params(("id" = i64, Path)), request_body = GroupInput, responses((status = 200, body = GroupView)))]
async fn update_campaign(
    State(app): State<App>,
    c: Caller,
    Path(id): Path<i64>,
    JsonBody(i): JsonBody<GroupInput>,
) -> ApiResult<Json<GroupView>> {
    Ok(Json(
        app.update_group(&c.actor, GroupKind::Campaign, id, i)
            .await?,
    ))
}

/// Delete a campaign and its cases; with records in it, `confirm` must name their number.
#[utoipa::path(delete, path = "/api/v1/campaigns/{id}", tag = "campaigns", params(("id" = i64, Path), DeleteQuery), responses((status = 204), (status = 409)))]
async fn delete_campaign(
    State(app): State<App>,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<DeleteQuery>,
) -> ApiResult<StatusCode> {
    app.delete_group(&c.actor, GroupKind::Campaign, id, q.confirm)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// All segments, with their record counts.
#[utoipa::path(get, path = "/api/v1/segments", tag = "segments", responses((status = 200, body = Vec<GroupView>)))]
async fn list_segments(State(app): State<App>, c: Caller) -> ApiResult<Json<Vec<GroupView>>> {
    Ok(Json(app.list_groups(&c.actor, GroupKind::Segment).await?))
}

/// Create a segment (administrators and managers).
#[utoipa::path(post, path = "/api/v1/segments", tag = "segments", request_body = GroupInput, responses((status = 201, body = GroupView), (status = 422)))]
async fn create_segment(
    State(app): State<App>,
    c: Caller,
    JsonBody(i): JsonBody<GroupInput>,
) -> ApiResult<(StatusCode, Json<GroupView>)> {
    Ok((
        StatusCode::CREATED,
        Json(app.create_group(&c.actor, GroupKind::Segment, i).await?),
    ))
}

/// One segment.
#[utoipa::path(get, path = "/api/v1/segments/{id}", tag = "segments", params(("id" = i64, Path)), responses((status = 200, body = GroupView), (status = 404)))]
async fn get_segment(
    State(app): State<App>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<GroupView>> {
    Ok(Json(app.get_group(&c.actor, GroupKind::Segment, id).await?))
}

/// Rename, describe or (de)activate a segment.
#[utoipa::path(patch, path = "/api/v1/segments/{id}", tag = "segments", params(("id" = i64, Path)), request_body = GroupInput, responses((status = 200, body = GroupView)))]
async fn update_segment(
    State(app): State<App>,
    c: Caller,
    Path(id): Path<i64>,
    JsonBody(i): JsonBody<GroupInput>,
) -> ApiResult<Json<GroupView>> {
    Ok(Json(
        app.update_group(&c.actor, GroupKind::Segment, id, i)
            .await?,
    ))
}

/// Delete a segment; with records in it, `confirm` must name their number.
#[utoipa::path(delete, path = "/api/v1/segments/{id}", tag = "segments", params(("id" = i64, Path), DeleteQuery), responses((status = 204), (status = 409)))]
async fn delete_segment(
    State(app): State<App>,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<DeleteQuery>,
) -> ApiResult<StatusCode> {
    app.delete_group(&c.actor, GroupKind::Segment, id, q.confirm)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn memberships(
    app: &App,
    c: &Caller,
    kind: GroupKind,
    id: &str,
) -> ApiResult<Json<Vec<Membership>>> {
    let list = app.record_groups(&c.actor, kind, id).await?;
    Ok(Json(
        list.into_iter()
            .map(|(id, name)| Membership { id, name })
            .collect(),
    ))
}

/// The campaigns a record is in (one case each).
#[utoipa::path(get, path = "/api/v1/records/{id}/campaigns", tag = "campaigns", params(("id" = String, Path, description = "Public ID")), responses((status = 200, body = Vec<Membership>)))]
async fn record_campaigns(
    State(app): State<App>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Membership>>> {
    memberships(&app, &c, GroupKind::Campaign, &id).await
}

/// Add a record to a campaign (opens its case).
#[utoipa::path(put, path = "/api/v1/records/{id}/campaigns/{campaign}", tag = "campaigns", params(("id" = String, Path), ("campaign" = i64, Path)), responses((status = 200, body = MembershipChange), (status = 403)))]
async fn add_to_campaign(
    State(app): State<App>,
    c: Caller,
    Path((id, g)): Path<(String, i64)>,
) -> ApiResult<Json<MembershipChange>> {
    Ok(Json(MembershipChange {
        changed: app
            .set_membership(&c.actor, GroupKind::Campaign, &id, g, true)
            .await?,
    }))
}

/// Remove a record from a campaign (ends its case).
#[utoipa::path(delete, path = "/api/v1/records/{id}/campaigns/{campaign}", tag = "campaigns", params(("id" = String, Path), ("campaign" = i64, Path)), responses((status = 200, body = MembershipChange), (status = 403)))]
async fn remove_from_campaign(
    State(app): State<App>,
    c: Caller,
    Path((id, g)): Path<(String, i64)>,
) -> ApiResult<Json<MembershipChange>> {
    Ok(Json(MembershipChange {
        changed: app
            .set_membership(&c.actor, GroupKind::Campaign, &id, g, false)
            .await?,
    }))
}

/// The segments a record is in.
#[utoipa::path(get, path = "/api/v1/records/{id}/segments", tag = "segments", params(("id" = String, Path, description = "Public ID")), responses((status = 200, body = Vec<Membership>)))]
async fn record_segments(
    State(app): State<App>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Membership>>> {
    memberships(&app, &c, GroupKind::Segment, &id).await
}

/// Add a record to a segment.
#[utoipa::path(put, path = "/api/v1/records/{id}/segments/{segment}", tag = "segments", params(("id" = String, Path), ("segment" = i64, Path)), responses((status = 200, body = MembershipChange), (status = 403)))]
async fn add_to_segment(
    State(app): State<App>,
    c: Caller,
    Path((id, g)): Path<(String, i64)>,
) -> ApiResult<Json<MembershipChange>> {
    Ok(Json(MembershipChange {
        changed: app
            .set_membership(&c.actor, GroupKind::Segment, &id, g, true)
            .await?,
    }))
}

/// Remove a record from a segment.
#[utoipa::path(delete, path = "/api/v1/records/{id}/segments/{segment}", tag = "segments", params(("id" = String, Path), ("segment" = i64, Path)), responses((status = 200, body = MembershipChange), (status = 403)))]
async fn remove_from_segment(
    State(app): State<App>,
    c: Caller,
    Path((id, g)): Path<(String, i64)>,
) -> ApiResult<Json<MembershipChange>> {
    Ok(Json(MembershipChange {
        changed: app
            .set_membership(&c.actor, GroupKind::Segment, &id, g, false)
            .await?,
    }))
}
