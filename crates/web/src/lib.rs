//! HTTP: the JSON API under /api/v1 (OpenAPI at /api/openapi.json), health, and (to come)
//! the web UI. Handlers parse input, call the app layer and render.

pub mod api;
pub mod auth;
pub mod problem;
pub mod ui;
pub mod upload;

use axum::Router;
use axum::routing::get;
use kartoteka_app::App;
use tower_http::trace::TraceLayer;

/// The whole HTTP surface.
pub fn router(app: App) -> Router {
    let (api, openapi) = api::router().split_for_parts();
    let openapi_json = openapi.to_json().unwrap_or_else(|_| "{}".into());
    Router::new()
        .route("/healthz", get(health))
        .route(
            "/api/openapi.json",
            get(move || {
                let body = openapi_json.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        body,
                    )
                }
            }),
        )
        .merge(api)
        .merge(ui::router())
        .fallback(problem::not_found)
        .layer(axum::extract::DefaultBodyLimit::max(2 * 1024 * 1024))
        .layer(TraceLayer::new_for_http())
        .with_state(app)
}

async fn health(axum::extract::State(app): axum::extract::State<App>) -> axum::response::Response {
    use axum::response::IntoResponse;
    match app.db.ping().await {
        Ok(()) => (axum::http::StatusCode::OK, "ok").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "database unavailable",
            )
                .into_response()
        }
    }
}
