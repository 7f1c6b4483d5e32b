//! Administration screens: custom fields, dictionaries, users, API tokens, the audit log.

use axum::Router;
use kartoteka_app::App;

pub fn router() -> Router<App> {
    Router::new()
}
