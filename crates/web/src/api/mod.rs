//! The JSON API, `/api/v1`, described by the OpenAPI document generated from these handlers.

mod body;
mod cases;
mod dictionaries;
pub(crate) mod downloads;
mod duplicates;
mod fields;
mod groups;
mod imports;
mod jobs;
mod records;
mod search;
mod session;
mod users;

pub use body::JsonBody;

use kartoteka_app::App;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(title = "Kartoteka API", description = "The record base of a contact center. Errors are RFC 9457 problem+json."),
    modifiers(&Security),
    security(("bearer" = []), ("session" = [])),
    tags(
        (name = "records", description = "Person and organization records"),
        (name = "identify", description = "Who is calling"),
        (name = "fields", description = "Custom field definitions"),
        (name = "campaigns", description = "Campaigns and their cases"),
        (name = "segments", description = "Segments"),
        (name = "jobs", description = "Background jobs and bulk actions"),
        (name = "imports", description = "Importing spreadsheets and CSV files"),
        (name = "exports", description = "Exports and the downloads area"),
        (name = "duplicates", description = "Finding duplicates, merging them and undoing merges"),
        (name = "dictionaries", description = "Dictionaries"),
        (name = "users", description = "Users, roles and API tokens"),
        (name = "audit", description = "The audit log"),
        (name = "session", description = "Log-in for the web UI"),
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
    }
}

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(records::router())
        .merge(search::router())
        .merge(fields::router())
        .merge(groups::router())
        .merge(cases::router())
        .merge(jobs::router())
        .merge(imports::router())
        .merge(downloads::router())
        .merge(duplicates::router())
        .merge(dictionaries::router())
        .merge(users::router())
        .merge(session::router())
}
