//! Exports (SPEC C6) and the downloads area: the records of a filter or a selection, with
//! chosen columns, written to csv or xlsx by a job into the user's downloads, which expire.

use std::path::PathBuf;

use kartoteka_domain::cell::Cell;
use kartoteka_domain::field::FieldType;
use kartoteka_domain::record::TEXT_FIELDS;
use kartoteka_domain::time::{now_ms, to_rfc3339};
use kartoteka_sheets::{OutFormat, SheetWriter};
use kartoteka_store::downloads::{self, Download};
use kartoteka_store::export::{self, ExportRow};
use kartoteka_store::jobs::{self, Job};
use kartoteka_store::{StoreError, bulk_ops};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::jobs::{BulkTarget, JobView, MAX_RECORDS};
use crate::{Actor, App, AppError, AppResult};

/// Records read per statement while exporting.
const CHUNK: usize = 5000;

/// Columns an export can have besides the text fields and `custom.<key>`.
pub const EXPORT_COLUMNS: [&str; 15] = [
    "id",
    "kind",
    "display_name",
    "phones",
    "emails",
    "tags",
    "managers",
    "organization",
    "campaigns",
    "segments",
    "created_at",
    "created_by",
    "source",
    "modified_at",
    "last_contact_at",
];

/// The columns of an export when none are chosen.
pub const DEFAULT_COLUMNS: [&str; 10] = [
    "id",
    "kind",
    "first_name",
    "last_name",
    "organization_name",
    "phones",
    "emails",
    "city",
    "address_line1",
    "postal_code",
];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct ExportSpec {
    /// Internal record IDs, in export order.
    ids: Vec<i64>,
    columns: Vec<String>,
    format: String,
    delimiter: String,
    file_name: String,
}

/// A file in the downloads area.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DownloadView {
    pub id: i64,
    pub file_name: String,
    pub size: i64,
    pub rows: i64,
    pub job: Option<i64>,
    pub created_at: String,
    pub expires_at: String,
}

impl From<&Download> for DownloadView {
    fn from(d: &Download) -> Self {
        DownloadView {
            id: d.id,
            file_name: d.file_name.clone(),
            size: d.size,
            rows: d.rows,
            job: d.job_id,
            created_at: to_rfc3339(d.created_at),
            expires_at: to_rfc3339(d.expires_at),
        }
    }
}

/// Which columns hold national IDs (exporting them needs the grant and is audited).
fn national(column: &str, custom: &[kartoteka_domain::field::FieldDefinition]) -> bool {
    matches!(column, "nip" | "pesel" | "regon")
        || column.strip_prefix("custom.").is_some_and(|k| {
            custom.iter().any(|f| {
                f.key == k
                    && matches!(
                        f.field_type,
                        FieldType::Nip | FieldType::Pesel | FieldType::Regon
                    )
            })
        })
}

impl App {
    fn downloads_dir(&self, user: i64) -> PathBuf {
        self.settings
            .files_dir
            .join("downloads")
            .join(user.max(0).to_string())
    }

    /// Queues an export of the listed records or of every record a filter finds.
    pub async fn start_export(
        &self,
        actor: &Actor,
        target: BulkTarget,
        columns: Vec<String>,
        format: &str,
        delimiter: Option<&str>,
    ) -> AppResult<JobView> {
        if !actor.may_use_record_base() {
            return Err(AppError::Forbidden(
                "exporting needs access to the record base".into(),
            ));
        }
        let custom = self.custom_definitions().await?;
        let columns = if columns.is_empty() {
            DEFAULT_COLUMNS.iter().map(|c| c.to_string()).collect()
        } else {
            columns
        };
        let mut errors = Vec::new();
        for (i, c) in columns.iter().enumerate() {
            let known = TEXT_FIELDS.contains(&c.as_str())
                || EXPORT_COLUMNS.contains(&c.as_str())
                || c.strip_prefix("custom.")
                    .is_some_and(|k| custom.iter().any(|f| f.key == k));
            if !known {
                errors.push(kartoteka_domain::record::FieldError {
                    field: format!("columns[{i}]"),
                    code: "unknown_column".into(),
                    message: format!("`{c}` is not a field that can be exported"),
                });
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        if columns.iter().any(|c| national(c, &custom)) && !actor.sees_national_ids() {
            return Err(AppError::Forbidden(
                "exporting PESEL, NIP or REGON needs the \"see national IDs\" grant".into(),
            ));
        }
        let format = match format {
            "csv" | "xlsx" => format.to_string(),
            _ => {
                return Err(AppError::invalid(
                    "format",
                    "unknown_format",
                    "the format is csv or xlsx",
                ));
            }
        };
        let delimiter = match delimiter.unwrap_or(",") {
            d @ ("," | ";") => d.to_string(),
            _ => {
                return Err(AppError::invalid(
                    "delimiter",
                    "unknown_delimiter",
                    "the delimiter is `,` or `;`",
                ));
            }
        };
        let ids: Vec<i64> = match self.found_ids(actor, target).await? {
            Ok(found) => found.into_iter().map(|(_, id)| id).collect(),
            Err(public) => {
                let mut conn = self.db.pool.acquire().await?;
                let found = bulk_ops::resolve(&mut conn, &public).await?;
                let missing: Vec<&String> =
                    public.iter().filter(|p| !found.contains_key(*p)).collect();
                if let Some(m) = missing.first() {
                    return Err(AppError::invalid(
                        "ids",
                        "not_found",
                        format!("no record {m}"),
                    ));
                }
                public
                    .iter()
                    .filter_map(|p| found.get(p).copied())
                    .collect()
            }
        };
        if ids.len() > MAX_RECORDS {
            return Err(AppError::invalid(
                "ids",
                "out_of_range",
                format!("one export takes at most {MAX_RECORDS} records"),
            ));
        }
        let stamp = chrono::Utc::now()
            .with_timezone(&self.settings.zone)
            .format("%Y-%m-%d_%H%M%S");
        let spec = ExportSpec {
            file_name: format!("kartoteka-{stamp}.{format}"),
            ids,
            columns,
            format,
            delimiter,
        };
        let params =
            serde_json::to_string(&spec).map_err(|e| AppError::Unexpected(e.to_string()))?;
        let by = (actor.user_id > 0).then_some(actor.user_id);
        let id = jobs::insert(
            &self.db.pool,
            "export",
            &params,
            spec.ids.len() as i64,
            by,
            now_ms(),
        )
        .await?;
        self.job(actor, id).await
    }

    pub(crate) async fn run_export(&self, job: &Job) -> AppResult<&'static str> {
        let full = jobs::get_with_params(&self.db.pool, job.id).await?;
        let spec: ExportSpec = serde_json::from_str(&full.params)
            .map_err(|e| AppError::Unexpected(format!("export parameters: {e}")))?;
        let actor = self.job_actor(job).await?;
        if !actor.may_use_record_base() {
            return Err(AppError::Forbidden(
                "the export's user no longer has access to the record base".into(),
            ));
        }
        let custom = self.custom_definitions().await?;
        let dir = self.downloads_dir(actor.user_id);
        std::fs::create_dir_all(&dir)
            .map_err(|e| AppError::Unexpected(format!("downloads folder: {e}")))?;
        let path = dir.join(format!("export-{}.{}", job.id, spec.format));
        let out = if spec.format == "xlsx" {
            OutFormat::Xlsx
        } else {
            OutFormat::Csv {
                delimiter: spec.delimiter.bytes().next().unwrap_or(b','),
            }
        };
        // An export that was interrupted starts again from the top (its file is rewritten).
        let mut writer = SheetWriter::create(&path, out, "Kartoteka")
            .map_err(|e| AppError::Unexpected(format!("export file: {e}")))?;
        let header: Vec<Cell> = spec
            .columns
            .iter()
            .map(|c| {
                Cell::Text(match c.strip_prefix("custom.") {
                    Some(k) => custom
                        .iter()
                        .find(|f| f.key == k)
                        .map(|f| f.label.clone())
                        .unwrap_or_else(|| c.clone()),
                    None => c.clone(),
                })
            })
            .collect();
        writer
            .write_row(&header)
            .map_err(|e| AppError::Unexpected(format!("export file: {e}")))?;
        let custom_keys: Vec<String> = spec
            .columns
            .iter()
            .filter_map(|c| c.strip_prefix("custom.").map(str::to_string))
            .collect();
        let mut done: i64 = 0;
        // One connection for the whole export: its page cache is the only one that grows.
        let mut conn = self.db.pool.acquire().await?;
        for chunk in spec.ids.chunks(CHUNK) {
            if jobs::get(&self.db.pool, job.id).await?.cancel_requested {
                drop(writer);
                let _ = std::fs::remove_file(&path);
                return Ok("cancelled");
            }
            let cards = export::rows(
                &mut conn,
                self.db.backend,
                self.db.reader.as_ref(),
                chunk,
                &spec.columns,
                &spec.columns,
                &custom_keys,
            )
            .await?;
            for card in &cards {
                let row: Vec<Cell> = spec
                    .columns
                    .iter()
                    .map(|c| export_cell(card, c, &custom, self.settings.zone))
                    .collect();
                writer
                    .write_row(&row)
                    .map_err(|e| AppError::Unexpected(format!("export file: {e}")))?;
            }
            done += chunk.len() as i64;
            jobs::advance(&mut conn, job.id, 0, done, "{}", now_ms()).await?;
            self.publish_progress(job.id).await;
        }
        let rows = writer
            .finish()
            .map_err(|e| AppError::Unexpected(format!("export file: {e}")))?
            as i64;
        drop(conn);
        let size = std::fs::metadata(&path)
            .map(|m| m.len() as i64)
            .unwrap_or(0);
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        let download = downloads::insert(
            &mut *tx,
            &Download {
                id: 0,
                user_id: (actor.user_id > 0).then_some(actor.user_id),
                job_id: Some(job.id),
                file_name: spec.file_name.clone(),
                path: path.to_string_lossy().into_owned(),
                size,
                rows: rows - 1,
                created_at: now,
                expires_at: now + self.settings.download_ttl_ms,
            },
        )
        .await?;
        let result = json!({"rows": rows - 1, "download": download, "file_name": spec.file_name, "size": size});
        jobs::advance(
            &mut tx,
            job.id,
            spec.ids.len() as i64,
            done,
            &result.to_string(),
            now,
        )
        .await?;
        crate::audit::record(
            &mut tx,
            &actor,
            "export",
            "job",
            Some(&job.id.to_string()),
            json!({
                "columns": spec.columns,
                "format": spec.format,
                "rows": rows - 1,
                "national_ids": spec.columns.iter().any(|c| national(c, &custom)),
            }),
        )
        .await?;
        tx.commit().await?;
        Ok("done")
    }

    /// The actor's downloads that have not expired (administrators: everyone's).
    pub async fn downloads(&self, actor: &Actor) -> AppResult<Vec<DownloadView>> {
        let user = (!actor.may_administer()).then_some(actor.user_id);
        Ok(downloads::list(&self.db.pool, user, now_ms())
            .await?
            .iter()
            .map(DownloadView::from)
            .collect())
    }

    /// A download the actor may fetch: its file's path and name.
    pub async fn download(&self, actor: &Actor, id: i64) -> AppResult<Download> {
        let d = downloads::get(&self.db.pool, id)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => AppError::NotFound(format!("download {id}")),
                e => e.into(),
            })?;
        let mine = d.user_id == Some(actor.user_id) || actor.may_administer();
        if !mine || d.expires_at <= now_ms() {
            return Err(AppError::NotFound(format!("download {id}")));
        }
        Ok(d)
    }

    /// Removes expired downloads, and uploads older than a week that no running import reads.
    pub async fn purge_files(&self) -> AppResult<()> {
        let now = now_ms();
        for d in downloads::take_expired(&self.db.pool, now).await? {
            let _ = std::fs::remove_file(&d.path);
        }
        let stale =
            kartoteka_store::imports::stale_uploads(&self.db.pool, now - 7 * 24 * 3_600_000)
                .await?;
        for u in stale {
            let used = jobs::uses_upload(&self.db.pool, u.id).await?;
            if !used {
                // Files imported in place (the command line) are the user's: kept.
                let ours = std::path::Path::new(&u.path)
                    .starts_with(self.settings.files_dir.join("uploads"));
                if ours {
                    let _ = std::fs::remove_file(&u.path);
                }
                kartoteka_store::imports::delete_upload(&self.db.pool, u.id).await?;
            }
        }
        Ok(())
    }

    /// The failed rows of an import as a file (`csv` or `xlsx`): the header and the rows
    /// as read, plus a `reason` column; kept in the downloads area.
    pub async fn failed_rows_file(
        &self,
        actor: &Actor,
        id: i64,
        format: &str,
    ) -> AppResult<Download> {
        let import = self.import(actor, id).await?;
        let out = match format {
            "csv" => OutFormat::Csv { delimiter: b',' },
            "xlsx" => OutFormat::Xlsx,
            _ => {
                return Err(AppError::invalid(
                    "format",
                    "unknown_format",
                    "the format is csv or xlsx",
                ));
            }
        };
        let headers: Vec<String> =
            serde_json::from_value(import.options["headers"].clone()).unwrap_or_default();
        let dir = self.downloads_dir(actor.user_id);
        std::fs::create_dir_all(&dir)
            .map_err(|e| AppError::Unexpected(format!("downloads folder: {e}")))?;
        let path = dir.join(format!("failed-{id}-{}.{format}", now_ms()));
        let mut writer = SheetWriter::create(&path, out, "Failed rows")
            .map_err(|e| AppError::Unexpected(format!("failed rows file: {e}")))?;
        let mut head: Vec<Cell> = vec![Cell::Text("row".into())];
        head.extend(headers.iter().map(|h| Cell::Text(h.clone())));
        head.push(Cell::Text("reason".into()));
        writer
            .write_row(&head)
            .map_err(|e| AppError::Unexpected(format!("failed rows file: {e}")))?;
        let mut after = 0;
        let mut rows = 0;
        loop {
            let page = self.import_failures(actor, id, after, 5000).await?;
            let Some(last) = page.last().map(|f| f.row) else {
                break;
            };
            for f in &page {
                let mut row: Vec<Cell> = vec![Cell::Number(f.row as f64)];
                row.extend(f.cells.iter().map(|c| Cell::Text(c.clone())));
                row.resize(headers.len() + 1, Cell::Empty);
                let reason: Vec<String> = f
                    .errors
                    .iter()
                    .map(|e| match e["header"].as_str() {
                        Some(h) => format!("{h}: {}", e["message"].as_str().unwrap_or("")),
                        None => e["message"].as_str().unwrap_or("").to_string(),
                    })
                    .collect();
                row.push(Cell::Text(reason.join("; ")));
                writer
                    .write_row(&row)
                    .map_err(|e| AppError::Unexpected(format!("failed rows file: {e}")))?;
                rows += 1;
            }
            after = last;
        }
        writer
            .finish()
            .map_err(|e| AppError::Unexpected(format!("failed rows file: {e}")))?;
        let size = std::fs::metadata(&path)
            .map(|m| m.len() as i64)
            .unwrap_or(0);
        let stem = import
            .file_name
            .rsplit_once('.')
            .map(|(s, _)| s.to_string())
            .unwrap_or_else(|| import.file_name.clone());
        let now = now_ms();
        let mut d = Download {
            id: 0,
            user_id: (actor.user_id > 0).then_some(actor.user_id),
            job_id: Some(id),
            file_name: format!("{stem}-failed-rows.{format}"),
            path: path.to_string_lossy().into_owned(),
            size,
            rows,
            created_at: now,
            expires_at: now + self.settings.download_ttl_ms,
        };
        d.id = downloads::insert(&self.db.pool, &d).await?;
        Ok(d)
    }
}

/// One cell of an export.
fn export_cell(
    row: &ExportRow,
    column: &str,
    custom: &[kartoteka_domain::field::FieldDefinition],
    zone: chrono_tz::Tz,
) -> Cell {
    let text = |s: String| {
        if s.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(s)
        }
    };
    let instant = |ms: i64| {
        Cell::Text(
            chrono::DateTime::from_timestamp_millis(ms)
                .map(|t| {
                    t.with_timezone(&zone)
                        .format("%Y-%m-%d %H:%M:%S")
                        .to_string()
                })
                .unwrap_or_default(),
        )
    };
    match column {
        "id" => Cell::Text(row.public_id.clone()),
        "kind" => Cell::Text(row.kind.clone()),
        "display_name" => text(row.display_name.clone()),
        "organization" => text(row.organization.clone().unwrap_or_default()),
        "created_at" => instant(row.created_at),
        "created_by" => text(row.created_by.clone().unwrap_or_default()),
        "source" => Cell::Text(row.source.clone()),
        "modified_at" => instant(row.modified_at),
        "last_contact_at" => row.last_contact_at.map(instant).unwrap_or(Cell::Empty),
        c if export::LISTS.contains(&c) => {
            text(row.lists.get(c).map(|l| l.join(", ")).unwrap_or_default())
        }
        c => match c.strip_prefix("custom.") {
            Some(k) => match (row.custom.get(k), custom.iter().find(|f| f.key == k)) {
                (Some(v), Some(f)) if f.field_type == FieldType::Number => v
                    .parse::<f64>()
                    .map(Cell::Number)
                    .unwrap_or_else(|_| Cell::Text(v.clone())),
                (Some(v), Some(f)) if f.field_type == FieldType::DateTime => {
                    chrono::DateTime::parse_from_rfc3339(v)
                        .map(|t| instant(t.timestamp_millis()))
                        .unwrap_or_else(|_| Cell::Text(v.clone()))
                }
                (Some(v), _) => Cell::Text(v.clone()),
                (None, _) => Cell::Empty,
            },
            None => text(row.fields.get(c).cloned().unwrap_or_default()),
        },
    }
}
