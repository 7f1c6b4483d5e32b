//! `POST /api/v1/records/search` (the filter model as JSON), the catalog of criteria, and
//! saved views.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use kartoteka_app::App;
use kartoteka_app::records::ListParams;
use kartoteka_app::saved_views::ViewInfo;
use kartoteka_app::views::RecordPage;
use kartoteka_domain::filter::{Filter, SYSTEM, kind_of};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::JsonBody;
use crate::auth::Caller;
use crate::problem::ApiResult;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(filter_fields))
        .routes(routes!(list_views, save_view))
        .routes(routes!(get_view, delete_view))
}

/// A search: the filter, the sort, and where the page starts.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"filter": {"all": [
    {"field": "last_name", "op": "like", "value": "%ska"},
    {"field": "campaigns", "op": "in", "value": [1, 2]},
    {"field": "created_at", "op": "between", "value": ["2025-01-01", "2025-12-31"]}]},
    "sort": "last_name", "limit": 50}))]
pub struct SearchInput {
    /// `{"all": [{"field", "op", "value"}]}`; ops `eq`, `like` (`%` wildcard), `in`, `lt`,
    /// `gt`, `between`, `empty`, `not_empty`. See `GET /api/v1/records/filter-fields`.
    #[serde(default)]
    #[schema(value_type = Object)]
    filter: Filter,
    /// `last_name` (default), `created_at`, `modified_at` or `id`; `-` in front for descending.
    sort: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// 1 to 1000, default 50.
    limit: Option<i64>,
    /// `false` leaves `total` out: the page alone is faster when the filter is broad and
    /// scans (e.g. `%a%`); ask for the count separately.
    #[serde(default)]
    count: Option<bool>,
}

/// Records matching a filter: a page, the total count and the cursor of the next page.
#[utoipa::path(post, path = "/api/v1/records/search", tag = "records", request_body = SearchInput,
    responses((status = 200, body = RecordPage), (status = 403), (status = 422, description = "The filter is invalid; errors name filter.all[i].field|op|value")))]
async fn search(
    State(app): State<App>,
    c: Caller,
    JsonBody(i): JsonBody<SearchInput>,
) -> ApiResult<Json<RecordPage>> {
    let conds = app.check_filter(&i.filter).await?;
    let params = ListParams {
        sort: i.sort,
        cursor: i.cursor,
        limit: i.limit,
        no_total: i.count == Some(false),
    };
    Ok(Json(app.search_records(&c.actor, &conds, &params).await?))
}

/// A criterion one can filter on.
#[derive(Debug, Serialize, ToSchema)]
pub struct FilterField {
    /// The field key (`last_name`, `case.status`, `custom.nps`).
    field: String,
    /// The input it takes: text, phone, dictionary, date, number, user, campaign, segment,
    /// tag, record, kind, flag.
    input: &'static str,
    /// For dictionary inputs: the dictionary's name (`custom` for a custom field's options).
    dictionary: Option<&'static str>,
    /// The operators it takes, the first being the usual one.
    ops: Vec<&'static str>,
}

/// Every criterion of the filter model: the system ones and the custom fields.
#[utoipa::path(get, path = "/api/v1/records/filter-fields", tag = "records",
    responses((status = 200, body = Vec<FilterField>)))]
async fn filter_fields(State(app): State<App>, c: Caller) -> ApiResult<Json<Vec<FilterField>>> {
    App::list_scope(&c.actor)?;
    let custom = app.custom_definitions().await?;
    let keys = SYSTEM
        .iter()
        .map(|(k, _)| k.to_string())
        .chain(custom.iter().map(|f| format!("custom.{}", f.key)));
    Ok(Json(
        keys.filter_map(|field| {
            let kind = kind_of(&field, &custom)?;
            Some(FilterField {
                input: kind.input(),
                dictionary: match kind {
                    kartoteka_domain::filter::Kind::Dictionary(d) => Some(d),
                    _ => None,
                },
                ops: kind.ops().iter().map(|o| o.as_str()).collect(),
                field,
            })
        })
        .collect(),
    ))
}

/// A view to save: a named filter, private or shared.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewInput {
    name: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    filter: Filter,
    sort: Option<String>,
    /// Shared with everyone (default: private).
    #[serde(default)]
    shared: bool,
}

/// My saved views and the shared ones.
#[utoipa::path(get, path = "/api/v1/views", tag = "records", responses((status = 200, body = Vec<ViewInfo>)))]
async fn list_views(State(app): State<App>, c: Caller) -> ApiResult<Json<Vec<ViewInfo>>> {
    Ok(Json(app.views(&c.actor).await?))
}

/// Save a filter as a named view (a view of mine with the same name is replaced).
#[utoipa::path(post, path = "/api/v1/views", tag = "records", request_body = ViewInput,
    responses((status = 201, body = ViewInfo), (status = 422)))]
async fn save_view(
    State(app): State<App>,
    c: Caller,
    JsonBody(i): JsonBody<ViewInput>,
) -> ApiResult<(StatusCode, Json<ViewInfo>)> {
    let v = app
        .save_view(&c.actor, &i.name, &i.filter, i.sort.as_deref(), i.shared)
        .await?;
    Ok((StatusCode::CREATED, Json(v)))
}

#[utoipa::path(get, path = "/api/v1/views/{id}", tag = "records", params(("id" = i64, Path)),
    responses((status = 200, body = ViewInfo), (status = 404)))]
async fn get_view(
    State(app): State<App>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<ViewInfo>> {
    Ok(Json(app.view(&c.actor, id).await?))
}

/// Delete a view (its owner or an administrator).
#[utoipa::path(delete, path = "/api/v1/views/{id}", tag = "records", params(("id" = i64, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
async fn delete_view(
    State(app): State<App>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    app.delete_view(&c.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
