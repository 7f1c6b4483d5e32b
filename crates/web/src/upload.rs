//! Receiving an uploaded file as it arrives, into a temporary file, refusing it as soon as
//! it passes the size limit (a declared `Content-Length` over it is refused before reading).
//! Takes a raw body (the file name in `?name=` or `X-File-Name`) or `multipart/form-data`
//! (the first part with a file name, usually `file`).

use std::path::PathBuf;

use axum::body::Body;
use axum::http::{HeaderMap, header};
use futures_util::StreamExt;
use kartoteka_app::{App, AppError, AppResult};
use tokio::io::AsyncWriteExt;

/// A file received: the name it came with and where it lies now.
pub struct Received {
    pub file_name: String,
    pub path: PathBuf,
}

fn too_large(limit: u64) -> AppError {
    AppError::TooLarge(format!(
        "the file is larger than the upload limit of {} MB",
        limit / (1 << 20)
    ))
}

/// Receives the request's file. `name` is the file name given outside the body (raw uploads).
pub async fn receive(
    app: &App,
    headers: &HeaderMap,
    name: Option<String>,
    body: Body,
) -> AppResult<Received> {
    let limit = app.settings.upload_limit;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // A multipart body carries a little more than the file; allow for it.
    if declared.is_some_and(|n| n > limit + 64 * 1024) {
        return Err(too_large(limit));
    }
    let dir = app.settings.files_dir.join("uploads");
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| AppError::Unexpected(format!("uploads folder: {e}")))?;
    let path = dir.join(format!(
        "incoming-{}",
        kartoteka_domain::ids::PublicId::generate().as_str()
    ));
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let result = if content_type.starts_with("multipart/form-data") {
        receive_multipart(content_type, body, &path, limit).await
    } else {
        let name = name
            .or_else(|| {
                headers
                    .get("x-file-name")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            })
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| {
                AppError::invalid(
                    "name",
                    "required",
                    "give the file's name as ?name= (or X-File-Name), or upload as multipart/form-data",
                )
            });
        match name {
            Ok(name) => write_stream(body.into_data_stream(), &path, limit)
                .await
                .map(|_| name),
            Err(e) => Err(e),
        }
    };
    match result {
        Ok(file_name) => Ok(Received { file_name, path }),
        Err(e) => {
            let _ = tokio::fs::remove_file(&path).await;
            Err(e)
        }
    }
}

async fn receive_multipart(
    content_type: &str,
    body: Body,
    path: &std::path::Path,
    limit: u64,
) -> AppResult<String> {
    let boundary = multer::parse_boundary(content_type)
        .map_err(|e| AppError::invalid("file", "bad_multipart", e.to_string()))?;
    let mut parts = multer::Multipart::new(body.into_data_stream(), boundary);
    while let Some(part) = parts
        .next_field()
        .await
        .map_err(|e| AppError::invalid("file", "bad_multipart", e.to_string()))?
    {
        let Some(name) = part.file_name().map(str::to_string) else {
            continue;
        };
        if name.trim().is_empty() {
            return Err(AppError::invalid(
                "file",
                "required",
                "choose a file to upload",
            ));
        }
        let stream = part.map(|c| c.map_err(std::io::Error::other));
        write_stream(stream, path, limit).await?;
        return Ok(name);
    }
    Err(AppError::invalid(
        "file",
        "required",
        "the form holds no file",
    ))
}

async fn write_stream<S, E>(mut stream: S, path: &std::path::Path, limit: u64) -> AppResult<u64>
where
    S: futures_util::Stream<Item = Result<axum::body::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut file = tokio::fs::File::create(path)
        .await
        .map_err(|e| AppError::Unexpected(format!("upload file: {e}")))?;
    let mut size: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            AppError::invalid("file", "interrupted", format!("the upload broke off: {e}"))
        })?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(too_large(limit));
        }
        file.write_all(&chunk)
            .await
            .map_err(|e| AppError::Unexpected(format!("upload file: {e}")))?;
    }
    file.flush()
        .await
        .map_err(|e| AppError::Unexpected(format!("upload file: {e}")))?;
    if size == 0 {
        return Err(AppError::invalid("file", "empty_file", "the file is empty"));
    }
    Ok(size)
}
