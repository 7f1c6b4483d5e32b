//! /api/v1/users, /api/v1/roles, /api/v1/tokens and /api/v1/audit.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use kartoteka_app::users::{CreatedToken, CreatedUser, NewUser, TokenView, UserPatch, UserView};
use kartoteka_app::{App, AppError};
use kartoteka_domain::access::{Permission, Role};
use kartoteka_domain::time::{parse_instant, to_rfc3339};
use kartoteka_store::audit::AuditQuery;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::JsonBody;
use crate::auth::Caller;
use crate::problem::ApiResult;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user, delete_user))
        .routes(routes!(roles))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(audit_log))
}

/// All users (administrators).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", responses((status = 200, body = Vec<UserView>), (status = 403)))]
async fn list_users(State(app): State<App>, caller: Caller) -> ApiResult<Json<Vec<UserView>>> {
    Ok(Json(app.list_users(&caller.actor).await?))
}

/// Create a user; without `password` one is generated and returned once.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = CreatedUser), (status = 422)))]
async fn create_user(
    State(app): State<App>,
    caller: Caller,
    JsonBody(new): JsonBody<NewUser>,
) -> ApiResult<(StatusCode, Json<CreatedUser>)> {
    Ok((
        StatusCode::CREATED,
        Json(app.create_user(&caller.actor, new).await?),
    ))
}

/// One user (administrators, or oneself).
#[utoipa::path(get, path = "/api/v1/users/{username}", tag = "users", params(("username" = String, Path)),
    responses((status = 200, body = UserView), (status = 404)))]
async fn get_user(
    State(app): State<App>,
    caller: Caller,
    Path(username): Path<String>,
) -> ApiResult<Json<UserView>> {
    Ok(Json(app.get_user(&caller.actor, &username).await?))
}

/// Change a user. Role, permissions and active flag: administrators; display name, e-mail,
/// password, language and time zone: also the user themself.
#[utoipa::path(patch, path = "/api/v1/users/{username}", tag = "users", params(("username" = String, Path)), request_body = UserPatch,
    responses((status = 200, body = UserView), (status = 422)))]
async fn update_user(
    State(app): State<App>,
    caller: Caller,
    Path(username): Path<String>,
    JsonBody(patch): JsonBody<UserPatch>,
) -> ApiResult<Json<UserView>> {
    Ok(Json(
        app.update_user(&caller.actor, &username, patch).await?,
    ))
}

/// Delete a user (not oneself, not the last administrator).
#[utoipa::path(delete, path = "/api/v1/users/{username}", tag = "users", params(("username" = String, Path)),
    responses((status = 204), (status = 422)))]
async fn delete_user(
    State(app): State<App>,
    caller: Caller,
    Path(username): Path<String>,
) -> ApiResult<StatusCode> {
    app.delete_user(&caller.actor, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RolesView {
    roles: Vec<String>,
    permissions: Vec<String>,
}

/// The roles and the grantable permissions.
#[utoipa::path(get, path = "/api/v1/roles", tag = "users", responses((status = 200, body = RolesView)))]
async fn roles(_caller: Caller) -> Json<RolesView> {
    Json(RolesView {
        roles: Role::ALL.iter().map(|r| r.as_str().to_string()).collect(),
        permissions: Permission::ALL
            .iter()
            .map(|p| p.as_str().to_string())
            .collect(),
    })
}

/// API tokens (administrators).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "users", responses((status = 200, body = Vec<TokenView>)))]
async fn list_tokens(State(app): State<App>, caller: Caller) -> ApiResult<Json<Vec<TokenView>>> {
    Ok(Json(app.list_tokens(&caller.actor).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// The user the token acts as.
    username: String,
    /// What the token is for, e.g. "PBX".
    #[serde(default)]
    name: String,
}

/// Create an API token; the secret is in the answer only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "users", request_body = NewToken,
    responses((status = 201, body = CreatedToken)))]
async fn create_token(
    State(app): State<App>,
    caller: Caller,
    JsonBody(t): JsonBody<NewToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    Ok((
        StatusCode::CREATED,
        Json(
            app.create_token(&caller.actor, &t.username, &t.name)
                .await?,
        ),
    ))
}

/// Revoke an API token.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "users", params(("id" = i64, Path)), responses((status = 204), (status = 404)))]
async fn revoke_token(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    app.revoke_token(&caller.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Username of who acted.
    user: Option<String>,
    /// A record's public ID.
    record: Option<String>,
    /// create, update, delete, log_in, revoke, ...
    action: Option<String>,
    /// From this instant or date (inclusive).
    from: Option<String>,
    /// Until this instant or date (a date alone includes the whole day).
    to: Option<String>,
    /// The `next_before` of the previous page.
    before: Option<i64>,
    /// 1 to 500, default 100.
    limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryView {
    id: i64,
    at: String,
    user: String,
    action: String,
    entity: String,
    entity_id: Option<String>,
    #[schema(value_type = Object)]
    details: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    items: Vec<AuditEntryView>,
    /// Pass as `before` for older entries.
    next_before: Option<i64>,
}

/// The audit log, newest first (administrators).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditParams), responses((status = 200, body = AuditPage), (status = 403)))]
async fn audit_log(
    State(app): State<App>,
    caller: Caller,
    Query(p): Query<AuditParams>,
) -> ApiResult<Json<AuditPage>> {
    let zone = app.settings.zone;
    let instant = |field: &str, v: &Option<String>| -> ApiResult<Option<i64>> {
        v.as_deref()
            .map(|s| {
                parse_instant(s, zone)
                    .map(|d| d.timestamp_millis())
                    .map_err(|e| AppError::field(field, e).into())
            })
            .transpose()
    };
    let limit = p.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(
            AppError::invalid("limit", "out_of_range", "limit is between 1 and 500").into(),
        );
    }
    let date_only = |s: &Option<String>| s.as_deref().is_some_and(|s| s.trim().len() <= 10);
    let to = instant("to", &p.to)?.map(|t| {
        if date_only(&p.to) {
            t + 86_400_000 - 1
        } else {
            t
        }
    });
    let query = AuditQuery {
        username: p.user,
        entity: p.record.as_ref().map(|_| "record".to_string()),
        entity_id: p.record.map(|r| r.to_uppercase()),
        action: p.action,
        from: instant("from", &p.from)?,
        to,
        before_id: p.before,
        limit,
    };
    let entries = app.audit_log(&caller.actor, query).await?;
    let next_before = (entries.len() as i64 == limit)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    Ok(Json(AuditPage {
        items: entries
            .into_iter()
            .map(|e| AuditEntryView {
                id: e.id,
                at: to_rfc3339(e.at),
                user: e.username,
                action: e.action,
                entity: e.entity,
                entity_id: e.entity_id,
                details: serde_json::from_str(&e.details).unwrap_or(Value::Null),
            })
            .collect(),
        next_before,
    }))
}
