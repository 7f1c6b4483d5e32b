//! A JSON body extractor whose failures are problem+json naming what is wrong.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use kartoteka_app::{App, AppError};
use serde::de::DeserializeOwned;

use crate::problem::Problem;

pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<App> for JsonBody<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &App) -> Result<Self, Self::Rejection> {
        let ct = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            AppError::invalid(
                "body",
                "unreadable",
                format!("the body could not be read: {e}"),
            )
        })?;
        if !(ct.starts_with("application/json") || ct.starts_with("application/merge-patch+json")) {
            return Err(AppError::invalid(
                "body",
                "unsupported_media_type",
                "send JSON with Content-Type: application/json",
            )
            .into());
        }
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(de)
            .map(JsonBody)
            .map_err(|e| {
                let path = e.path().to_string();
                let field = if path == "." || path.is_empty() {
                    "body".to_string()
                } else {
                    path
                };
                AppError::invalid(&field, "invalid_json", e.inner().to_string()).into()
            })
    }
}
