//! /api/v1/records and /api/v1/identify.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kartoteka_app::records::{DuplicateWarning, ListParams};
use kartoteka_app::views::{IdentifyResult, RecordPage, RecordView};
use kartoteka_app::{App, AppError};
use kartoteka_domain::record::Source;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::JsonBody;
use crate::auth::{Caller, Via};
use crate::problem::ApiResult;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_records, create_record))
        .routes(routes!(get_record, update_record, delete_record))
        .routes(routes!(identify))
}

fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// `If-Match: "3"` (quotes and a weak prefix allowed).
fn if_match(headers: &HeaderMap) -> ApiResult<Option<i64>> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let s = v
        .to_str()
        .unwrap_or_default()
        .trim()
        .trim_start_matches("W/")
        .trim_matches('"');
    s.parse::<i64>().map(Some).map_err(|_| {
        AppError::invalid(
            "If-Match",
            "invalid_version",
            "If-Match holds the record's version, e.g. \"3\"",
        )
        .into()
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `last_name` (default: last name, first name, ID), `created_at`, `modified_at` or `id`;
    /// prefix `-` for descending.
    sort: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// 1 to 1000, default 50.
    limit: Option<i64>,
}

/// List records, a page at a time.
#[utoipa::path(get, path = "/api/v1/records", tag = "records", params(ListQuery),
    responses((status = 200, body = RecordPage), (status = 403, description = "No access to the record base")))]
async fn list_records(
    State(app): State<App>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<axum::Json<RecordPage>> {
    let params = ListParams {
        sort: q.sort,
        cursor: q.cursor,
        limit: q.limit,
        no_total: false,
    };
    Ok(axum::Json(app.list_records(&caller.actor, &params).await?))
}

/// A new record: `kind` (`person` or `organization`) and any writable field.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"kind": "person", "first_name": "Anna", "last_name": "Kowalska",
    "phones": [{"number": "600 700 800", "type": "mobile"}], "emails": ["anna@example.pl"],
    "custom": {"budget": 1200}}))]
pub struct RecordInput {
    /// `person` or `organization`; required on create, immutable.
    kind: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    organization_name: Option<String>,
    name: Option<String>,
    city: Option<String>,
    address_line1: Option<String>,
    address_line2: Option<String>,
    postal_code: Option<String>,
    province: Option<String>,
    country: Option<String>,
    nip: Option<String>,
    pesel: Option<String>,
    regon: Option<String>,
    /// A code of the `languages` dictionary.
    language: Option<String>,
    external_id: Option<String>,
    position: Option<String>,
    stage: Option<String>,
    acquisition_source: Option<String>,
    /// Public ID of an organization record (persons only).
    organization: Option<String>,
    /// Numbers in any format, or `{number, type, extension, default}`. Replaced whole.
    #[schema(value_type = Vec<Object>)]
    phones: Option<Vec<Value>>,
    /// Addresses, or `{address, default}`. Replaced whole.
    #[schema(value_type = Vec<Object>)]
    emails: Option<Vec<Value>>,
    /// Custom values by field key (`null` clears one); `custom.<key>` top-level keys work too.
    #[schema(value_type = Object)]
    custom: Option<Map<String, Value>>,
    tags: Option<Vec<String>>,
    /// Usernames.
    managers: Option<Vec<String>>,
}

fn source_of(caller: &Caller) -> Source {
    match caller.via {
        Via::Token => Source::Api,
        Via::Session { .. } => Source::Manual,
    }
}

/// The created record, and the other records it may duplicate.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedRecord {
    #[serde(flatten)]
    record: RecordView,
    /// Other records already holding one of the new record's phones, e-mails, PESEL, NIP
    /// or external ID: one entry per record and field, at most 10; empty when none. The
    /// record is created all the same.
    warnings: Vec<DuplicateWarning>,
}

/// Create a record. The answer warns of possible duplicates: other records sharing a
/// phone, e-mail, PESEL, NIP or external ID with the new one (named by ID and display name).
#[utoipa::path(post, path = "/api/v1/records", tag = "records", request_body = RecordInput,
    responses((status = 201, body = CreatedRecord, headers(("ETag" = String), ("Location" = String)),
            example = json!({"id": "7K3M9QXA", "kind": "person", "display_name": "Anna Kowalska",
                "version": 1, "warnings": [{"code": "possible_duplicate", "field": "phones",
                "value": "+48600700800", "record": {"id": "QX4M2K7B", "display_name": "Anna Nowak"}}]})),
        (status = 422, description = "Invalid fields, each named with the reason")))]
async fn create_record(
    State(app): State<App>,
    caller: Caller,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> ApiResult<Response> {
    let created = app
        .create_record(&caller.actor, &body, source_of(&caller))
        .await?;
    let (version, id) = (created.record.version, created.record.id.clone());
    let mut resp = (
        StatusCode::CREATED,
        axum::Json(CreatedRecord {
            record: created.record,
            warnings: created.warnings,
        }),
    )
        .into_response();
    resp.headers_mut().insert(header::ETAG, etag(version));
    if let Ok(loc) = HeaderValue::from_str(&format!("/api/v1/records/{id}")) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(resp)
}

/// Read a record.
#[utoipa::path(get, path = "/api/v1/records/{id}", tag = "records", params(("id" = String, Path, description = "Public ID")),
    responses((status = 200, body = RecordView, headers(("ETag" = String))), (status = 404)))]
async fn get_record(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let record = app.get_record(&caller.actor, &id).await?;
    let mut resp = axum::Json(&record).into_response();
    resp.headers_mut()
        .insert(header::ETAG, etag(record.version));
    Ok(resp)
}

/// The saved record, and whether the patch was merged over changes made meanwhile.
#[derive(Debug, Serialize, ToSchema)]
pub struct SavedRecord {
    #[serde(flatten)]
    record: RecordView,
    /// True when `If-Match` named an older version and the patch touched none of the
    /// fields changed since: both sets of changes are kept.
    merged: bool,
    /// Field keys this save changed.
    changed: Vec<String>,
}

/// Update a record with a JSON Merge Patch (RFC 7396): present keys are set, `null` clears,
/// lists are replaced whole. With `If-Match`, a stale version still saves when the patch
/// touches none of the fields changed since; otherwise 412 with their current values.
#[utoipa::path(patch, path = "/api/v1/records/{id}", tag = "records", request_body(content = RecordInput, content_type = "application/merge-patch+json"),
    params(("id" = String, Path, description = "Public ID"), ("If-Match" = Option<String>, Header, description = "The version the patch was made on")),
    responses((status = 200, body = SavedRecord, headers(("ETag" = String))), (status = 412, description = "Overlapping changes; `current` holds their values"),
        (status = 422, description = "Invalid fields")))]
async fn update_record(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(patch): JsonBody<Map<String, Value>>,
) -> ApiResult<Response> {
    let saved = app
        .update_record(&caller.actor, &id, &patch, if_match(&headers)?)
        .await?;
    let version = saved.record.version;
    let mut resp = axum::Json(SavedRecord {
        record: saved.record,
        merged: saved.merged,
        changed: saved.changed,
    })
    .into_response();
    resp.headers_mut().insert(header::ETAG, etag(version));
    Ok(resp)
}

/// Delete a record (its snapshot stays in the audit log).
#[utoipa::path(delete, path = "/api/v1/records/{id}", tag = "records", params(("id" = String, Path, description = "Public ID")),
    responses((status = 204), (status = 403), (status = 404)))]
async fn delete_record(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    app.delete_record(&caller.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IdentifyQuery {
    /// Any format: `600 700 800`, `+48 600-700-800`, `0048600700800`.
    phone: Option<String>,
    email: Option<String>,
}

/// Identify a caller by phone number or e-mail. Agents get ID and display name of each
/// match; others get the whole card.
#[utoipa::path(get, path = "/api/v1/identify", tag = "identify", params(IdentifyQuery),
    responses((status = 200, body = IdentifyResult), (status = 422, description = "Not a phone number")))]
async fn identify(
    State(app): State<App>,
    caller: Caller,
    Query(q): Query<IdentifyQuery>,
) -> ApiResult<axum::Json<IdentifyResult>> {
    Ok(axum::Json(
        app.identify(&caller.actor, q.phone.as_deref(), q.email.as_deref())
            .await?,
    ))
}
