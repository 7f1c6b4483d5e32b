//! Imports (SPEC C5): a file is uploaded and inspected, previewed with a mapping of its
//! columns, then imported by a job of the shared job system (`imports/run.rs`), which can
//! be reverted (`imports/revert.rs`).

use std::path::{Path, PathBuf};

use kartoteka_domain::import::{self, MatchKey, Target};
use kartoteka_domain::time::now_ms;
use kartoteka_sheets::Format;
use kartoteka_store::groups::{self, GroupKind};
use kartoteka_store::imports::{self as store, Upload};
use kartoteka_store::{StoreError, jobs};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::jobs::JobView;
use crate::{Actor, App, AppError, AppResult};

mod columns;
mod fast;
mod reader;
mod revert;
mod run;

pub use columns::{column_letter, target_choices};
pub(crate) use columns::{
    delimiter_text, dialect, parse_kind, parse_mapping, preview_row, read_head, row_context,
    sheet_error,
};

/// Rows a preview shows.
const PREVIEW_ROWS: usize = 50;

/// An uploaded file, inspected.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UploadView {
    pub id: i64,
    pub file_name: String,
    pub size: i64,
    /// csv, xlsx, xls or ods.
    pub format: String,
    /// For CSV: the detected encoding (`utf-8`, `windows-1250`).
    pub encoding: Option<String>,
    /// For CSV: the detected delimiter (`,`, `;` or `\t`).
    pub delimiter: Option<String>,
    pub sheets: Vec<String>,
}

impl From<&Upload> for UploadView {
    fn from(u: &Upload) -> Self {
        UploadView {
            id: u.id,
            file_name: u.file_name.clone(),
            size: u.size,
            format: u.format.clone(),
            encoding: u.csv_encoding.clone(),
            delimiter: u.csv_delimiter.clone(),
            sheets: serde_json::from_str(&u.sheets).unwrap_or_default(),
        }
    }
}

/// How to read and import an uploaded file. Everything but `upload` has a default.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ImportOptions {
    pub upload: i64,
    /// The sheet (default: the first).
    pub sheet: Option<String>,
    /// CSV only: `utf-8` or `windows-1250` (default: detected).
    pub encoding: Option<String>,
    /// CSV only: `,`, `;` or `\t` (`tab`) (default: detected).
    pub delimiter: Option<String>,
    /// The target of each column by position: a field key (`first_name`, `custom.<key>`),
    /// `phone.<type>`, `email`, `tags`, `kind`, or "" to ignore it. Default: suggested
    /// from the headers.
    pub mapping: Option<Vec<String>>,
    /// `person`, `organization` or `auto` (default: a row with an organization name and no
    /// first or last name is an organization).
    pub kind: Option<String>,
    /// Keys that find the record a row matches, tried in order: `phone`, `email`,
    /// `external_id`, `pesel`, `nip`.
    #[serde(rename = "match", default)]
    pub match_keys: Vec<String>,
    /// What a matching row does: `create`, `skip` (default) or `update`.
    pub on_match: Option<String>,
    /// Campaigns (IDs) to add every imported record to.
    #[serde(default)]
    pub campaigns: Vec<i64>,
    /// Segments (IDs) to add every imported record to.
    #[serde(default)]
    pub segments: Vec<i64>,
    /// A label naming where the list came from, shown in the import history.
    pub source_label: Option<String>,
    /// Count what the import would do without changing anything.
    #[serde(default)]
    pub dry_run: bool,
}

/// The options, checked, as the import job keeps them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct ImportSpec {
    pub upload: i64,
    pub file_name: String,
    pub path: String,
    pub format: String,
    pub sheet: Option<String>,
    pub encoding: Option<String>,
    pub delimiter: Option<String>,
    pub headers: Vec<String>,
    pub mapping: Vec<String>,
    pub kind: Option<String>,
    pub match_keys: Vec<String>,
    pub on_match: String,
    pub campaigns: Vec<i64>,
    pub segments: Vec<i64>,
    pub source_label: Option<String>,
    pub dry_run: bool,
}

/// One cell of a preview row.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PreviewCell {
    pub value: String,
    /// Why the cell is invalid (none when valid).
    pub error: Option<CellProblem>,
    /// What was done to the value (e.g. leading zeros restored).
    pub note: Option<CellProblem>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CellProblem {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PreviewRow {
    /// The row number as the spreadsheet shows it (the header is row 1).
    pub row: u64,
    pub cells: Vec<PreviewCell>,
    /// A problem of the row as a whole (e.g. a required field no column gives).
    pub error: Option<CellProblem>,
}

/// A target a column can be mapped to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetChoice {
    pub key: String,
    /// The group it belongs to: `system`, `phone`, `email`, `custom`, `other`.
    pub group: String,
    /// The custom field's label (custom fields only).
    pub label: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Preview {
    pub upload: UploadView,
    pub sheet: String,
    pub encoding: Option<String>,
    pub delimiter: Option<String>,
    pub headers: Vec<String>,
    /// The mapping used (given or suggested), one key per column.
    pub mapping: Vec<String>,
    /// The mapping the headers suggest.
    pub suggested: Vec<String>,
    pub rows: Vec<PreviewRow>,
    /// Among the rows shown: valid, invalid, blank.
    pub valid: usize,
    pub invalid: usize,
    pub blank: usize,
    pub targets: Vec<TargetChoice>,
}

/// An import in the history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportView {
    #[serde(flatten)]
    pub job: JobView,
    pub file_name: String,
    pub source_label: Option<String>,
    pub created_by: Option<String>,
    #[schema(value_type = Object)]
    pub options: Value,
}

/// Who may import: the record base.
fn check_may_import(actor: &Actor) -> AppResult<()> {
    if actor.may_use_record_base() {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "importing needs access to the record base".into(),
        ))
    }
}

impl App {
    fn uploads_dir(&self) -> PathBuf {
        self.settings.files_dir.join("uploads")
    }

    /// Takes a file received into `temp` (already within the size limit): checks what it
    /// is and keeps it for preview and import. A file that is not what its name says, or
    /// that cannot be read, is refused and removed.
    pub async fn upload_import_file(
        &self,
        actor: &Actor,
        file_name: &str,
        temp: &Path,
    ) -> AppResult<UploadView> {
        let result = self.keep_upload(actor, file_name, temp, true).await;
        if result.is_err() {
            let _ = std::fs::remove_file(temp);
        }
        result
    }

    /// Registers a file where it lies (the command line imports files in place).
    pub async fn register_import_file(&self, actor: &Actor, path: &Path) -> AppResult<UploadView> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        self.keep_upload(actor, &name, &path, false).await
    }

    async fn keep_upload(
        &self,
        actor: &Actor,
        file_name: &str,
        path: &Path,
        move_in: bool,
    ) -> AppResult<UploadView> {
        check_may_import(actor)?;
        let file_name = clean_file_name(file_name);
        let size = std::fs::metadata(path)
            .map_err(|e| AppError::invalid("file", "unreadable", format!("{e}")))?
            .len() as i64;
        let (p, name) = (path.to_path_buf(), file_name.clone());
        let inspected = tokio::task::spawn_blocking(move || kartoteka_sheets::inspect(&p, &name))
            .await
            .map_err(|e| AppError::Unexpected(e.to_string()))?
            .map_err(sheet_error)?;
        let stored = if move_in {
            let dir = self.uploads_dir();
            std::fs::create_dir_all(&dir)
                .map_err(|e| AppError::Unexpected(format!("uploads folder: {e}")))?;
            let stored = dir.join(format!(
                "{}.{}",
                kartoteka_domain::ids::PublicId::generate().as_str(),
                inspected.format.as_str()
            ));
            if std::fs::rename(path, &stored).is_err() {
                std::fs::copy(path, &stored)
                    .map_err(|e| AppError::Unexpected(format!("keeping the upload: {e}")))?;
                let _ = std::fs::remove_file(path);
            }
            stored
        } else {
            path.to_path_buf()
        };
        let mut upload = Upload {
            id: 0,
            file_name,
            path: stored.to_string_lossy().into_owned(),
            size,
            format: inspected.format.as_str().to_string(),
            csv_encoding: inspected.csv.map(|c| c.encoding.as_str().to_string()),
            csv_delimiter: inspected.csv.map(|c| delimiter_text(c.delimiter)),
            sheets: json!(inspected.sheets).to_string(),
            uploaded_by: (actor.user_id > 0).then_some(actor.user_id),
            uploaded_at: now_ms(),
        };
        upload.id = store::insert_upload(&self.db.pool, &upload).await?;
        Ok(UploadView::from(&upload))
    }

    /// The upload, if the actor may use it (its uploader, or an administrator).
    async fn upload_of(&self, actor: &Actor, id: i64) -> AppResult<Upload> {
        check_may_import(actor)?;
        let u = store::upload(&self.db.pool, id)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => {
                    AppError::invalid("upload", "not_found", format!("no upload {id}"))
                }
                e => e.into(),
            })?;
        if u.uploaded_by.is_some_and(|b| b != actor.user_id) && !actor.may_administer() {
            return Err(AppError::invalid(
                "upload",
                "not_found",
                format!("no upload {id}"),
            ));
        }
        Ok(u)
    }

    /// The file's first rows mapped (as given, or as the headers suggest), every invalid
    /// cell explained.
    pub async fn preview_import(&self, actor: &Actor, o: &ImportOptions) -> AppResult<Preview> {
        let upload = self.upload_of(actor, o.upload).await?;
        let format = Format::parse(&upload.format)
            .ok_or_else(|| AppError::Unexpected("upload format".into()))?;
        let csv = dialect(
            upload.csv_encoding.as_deref(),
            upload.csv_delimiter.as_deref(),
            o.encoding.as_deref(),
            o.delimiter.as_deref(),
        )?;
        let sheets: Vec<String> = serde_json::from_str(&upload.sheets).unwrap_or_default();
        let sheet = match &o.sheet {
            Some(s) if !sheets.contains(s) => {
                return Err(AppError::invalid(
                    "sheet",
                    "no_such_sheet",
                    format!("the file has no sheet `{s}`: {}", sheets.join(", ")),
                ));
            }
            Some(s) => s.clone(),
            None => sheets.first().cloned().unwrap_or_default(),
        };
        let kind = parse_kind(o.kind.as_deref())?;
        let path = PathBuf::from(&upload.path);
        let sheet_arg = (format != Format::Csv).then(|| sheet.clone());
        let (headers, rows) = tokio::task::spawn_blocking(move || {
            read_head(&path, format, sheet_arg.as_deref(), csv, PREVIEW_ROWS)
        })
        .await
        .map_err(|e| AppError::Unexpected(e.to_string()))??;
        let defs = self.definitions().await?;
        let suggested: Vec<String> = import::suggest_all(&headers, &defs.custom)
            .iter()
            .map(Target::key)
            .collect();
        let mapping_keys = match &o.mapping {
            Some(m) => {
                let mut m = m.clone();
                m.resize(headers.len().max(m.len()), String::new());
                m
            }
            None => suggested.clone(),
        };
        let mapping = parse_mapping(&mapping_keys, &defs.custom)?;
        let ctx = row_context(self, actor, &defs, kind);
        let (mut valid, mut invalid, mut blank) = (0, 0, 0);
        let mut out = Vec::with_capacity(rows.len());
        for (number, cells) in &rows {
            let converted = import::convert_row(cells, &mapping, &ctx);
            if converted.blank {
                blank += 1;
                continue;
            }
            if converted.errors.is_empty() {
                valid += 1;
            } else {
                invalid += 1;
            }
            out.push(preview_row(*number, cells, &converted, headers.len()));
        }
        Ok(Preview {
            upload: UploadView::from(&upload),
            sheet,
            encoding: csv.map(|c| c.encoding.as_str().to_string()),
            delimiter: csv.map(|c| delimiter_text(c.delimiter)),
            headers,
            mapping: mapping_keys,
            suggested,
            rows: out,
            valid,
            invalid,
            blank,
            targets: target_choices(&defs.custom),
        })
    }

    /// Checks the options and queues the import (or its dry run).
    pub async fn start_import(&self, actor: &Actor, o: &ImportOptions) -> AppResult<JobView> {
        let preview = self
            .preview_import(
                actor,
                &ImportOptions {
                    dry_run: o.dry_run,
                    ..o.clone()
                },
            )
            .await?;
        let upload = self.upload_of(actor, o.upload).await?;
        let mut match_keys = Vec::new();
        for (i, k) in o.match_keys.iter().enumerate() {
            let key = MatchKey::parse(k.trim())
                .map_err(|e| AppError::field(&format!("match[{i}]"), e))?;
            if !match_keys.contains(&key.as_str().to_string()) {
                match_keys.push(key.as_str().to_string());
            }
        }
        let on_match = o.on_match.clone().unwrap_or_else(|| "skip".into());
        if !["create", "skip", "update"].contains(&on_match.as_str()) {
            return Err(AppError::invalid(
                "on_match",
                "unknown_choice",
                "on_match is create, skip or update",
            ));
        }
        for (field, kind, ids) in [
            ("campaigns", GroupKind::Campaign, &o.campaigns),
            ("segments", GroupKind::Segment, &o.segments),
        ] {
            for id in ids {
                match groups::get(&self.db.pool, kind, *id).await {
                    Ok(g) if g.active => {}
                    Ok(g) => {
                        return Err(AppError::invalid(
                            field,
                            "inactive",
                            format!("{} is not active", g.name),
                        ));
                    }
                    Err(StoreError::NotFound) => {
                        return Err(AppError::invalid(
                            field,
                            "not_found",
                            format!("no such {} {id}", &field[..field.len() - 1]),
                        ));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        let label = o
            .source_label
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty());
        if label.is_some_and(|l| l.chars().count() > 200) {
            return Err(AppError::invalid(
                "source_label",
                "too_long",
                "the source label holds at most 200 characters",
            ));
        }
        let spec = ImportSpec {
            upload: upload.id,
            file_name: upload.file_name.clone(),
            path: upload.path.clone(),
            format: upload.format.clone(),
            sheet: (upload.format != "csv").then(|| preview.sheet.clone()),
            encoding: preview.encoding.clone(),
            delimiter: preview.delimiter.clone(),
            headers: preview.headers.clone(),
            mapping: preview.mapping.clone(),
            kind: o.kind.clone(),
            match_keys,
            on_match,
            campaigns: o.campaigns.clone(),
            segments: o.segments.clone(),
            source_label: label.map(str::to_string),
            dry_run: o.dry_run,
        };
        let params =
            serde_json::to_string(&spec).map_err(|e| AppError::Unexpected(e.to_string()))?;
        let by = (actor.user_id > 0).then_some(actor.user_id);
        let kind = if o.dry_run {
            "import_dry_run"
        } else {
            "import"
        };
        let id = jobs::insert(&self.db.pool, kind, &params, 0, by, now_ms()).await?;
        self.job(actor, id).await
    }

    /// Every import, newest first (others' only for administrators).
    pub async fn imports(&self, actor: &Actor) -> AppResult<Vec<ImportView>> {
        check_may_import(actor)?;
        let mine = (!actor.may_administer()).then_some(actor.user_id);
        let jobs = jobs::list_of_kind(&self.db.pool, "import", mine, 200).await?;
        let users = kartoteka_store::users::list(&self.db.pool).await?;
        let mut out = Vec::with_capacity(jobs.len());
        for j in jobs {
            // The listing leaves parameters out (they may be large); an import's are small.
            let full = jobs::get_with_params(&self.db.pool, j.id).await?;
            let spec: Option<ImportSpec> = serde_json::from_str(&full.params).ok();
            out.push(import_view(
                JobView::from(&j),
                full.created_by,
                spec.as_ref(),
                &users,
            ));
        }
        Ok(out)
    }

    /// One import (or dry run) with its options.
    pub async fn import(&self, actor: &Actor, id: i64) -> AppResult<ImportView> {
        check_may_import(actor)?;
        let job = self.job(actor, id).await?;
        // Not `import_revert`: its parameters are no import's.
        if !matches!(job.kind.as_str(), "import" | "import_dry_run") {
            return Err(AppError::NotFound(format!("import {id}")));
        }
        let full = jobs::get_with_params(&self.db.pool, id).await?;
        let spec: ImportSpec = serde_json::from_str(&full.params)
            .map_err(|e| AppError::Unexpected(format!("import parameters: {e}")))?;
        let users = kartoteka_store::users::list(&self.db.pool).await?;
        Ok(import_view(job, full.created_by, Some(&spec), &users))
    }

    /// The failed rows of an import after row `after`: row number, the row as read, and
    /// every invalid cell (`{column, header, value, code, message}`).
    pub async fn import_failures(
        &self,
        actor: &Actor,
        id: i64,
        after: i64,
        limit: i64,
    ) -> AppResult<Vec<FailedRow>> {
        self.import(actor, id).await?;
        let rows = store::failures(&self.db.pool, id, after, limit.clamp(1, 10_000)).await?;
        Ok(rows
            .iter()
            .map(|f| FailedRow {
                row: f.row_number,
                cells: serde_json::from_str(&f.cells).unwrap_or_default(),
                errors: serde_json::from_str(&f.errors).unwrap_or_default(),
            })
            .collect())
    }
}

/// A row an import could not take.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FailedRow {
    pub row: i64,
    pub cells: Vec<String>,
    #[schema(value_type = Vec<Object>)]
    pub errors: Vec<Value>,
}

/// An import as the history and the report show it.
fn import_view(
    job: JobView,
    created_by: Option<i64>,
    spec: Option<&ImportSpec>,
    users: &[kartoteka_store::users::User],
) -> ImportView {
    ImportView {
        job,
        file_name: spec.map(|s| s.file_name.clone()).unwrap_or_default(),
        source_label: spec.and_then(|s| s.source_label.clone()),
        created_by: created_by
            .and_then(|u| users.iter().find(|x| x.id == u))
            .map(|u| u.username.clone()),
        options: spec
            .map(|s| {
                json!({
                    "sheet": s.sheet, "mapping": s.mapping, "headers": s.headers,
                    "kind": s.kind, "match": s.match_keys, "on_match": s.on_match,
                    "campaigns": s.campaigns, "segments": s.segments,
                    "dry_run": s.dry_run,
                })
            })
            .unwrap_or(Value::Null),
    }
}

/// Stores `next` as the new state of `card` (one version up), given the `changes` between
/// them: the row, the changed collections and when each field changed. Imports, their
/// reverts and merges write records this way (the card's organization is kept by its public ID).
/// Answers the new version.
pub(crate) async fn write_update(
    tx: &mut sqlx::AnyConnection,
    card: &kartoteka_store::cards::Card,
    next: &kartoteka_domain::record::RecordData,
    changes: &[kartoteka_domain::record::FieldChange],
    custom_ids: &std::collections::HashMap<String, i64>,
    now: i64,
    by: Option<i64>,
) -> AppResult<i64> {
    let mut writes = kartoteka_store::records::RecordWrites::default();
    let version = stage_update(tx, &mut writes, card, next, changes, custom_ids, now, by).await?;
    writes.run(tx).await?;
    Ok(version)
}

/// [`write_update`] gathered into `writes` (run later, with other records' writes); reads
/// what it needs (the organization's and managers' IDs) now. Answers the new version.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn stage_update(
    tx: &mut sqlx::AnyConnection,
    writes: &mut kartoteka_store::records::RecordWrites,
    card: &kartoteka_store::cards::Card,
    next: &kartoteka_domain::record::RecordData,
    changes: &[kartoteka_domain::record::FieldChange],
    custom_ids: &std::collections::HashMap<String, i64>,
    now: i64,
    by: Option<i64>,
) -> AppResult<i64> {
    use kartoteka_store::records as records_store;
    let keys: std::collections::BTreeSet<String> =
        changes.iter().map(|c| c.field.clone()).collect();
    let version = card.version + 1;
    let organization = if keys.contains("organization") {
        Some(match &next.organization {
            Some(org) => records_store::find(tx, org).await?.map(|(i, _)| i),
            None => None,
        })
    } else {
        None
    };
    let user_ids = if keys.contains("managers") {
        kartoteka_store::users::ids_by_usernames(tx, &next.managers).await?
    } else {
        std::collections::HashMap::new()
    };
    writes.update(records_store::changed_row(
        card.id,
        card.kind,
        &card.data,
        &card.display_name,
        next,
        organization,
        now,
        by,
        version,
    ));
    writes.replace_children(card.id, next, &keys, custom_ids, &user_ids)?;
    let key_list: Vec<String> = keys.into_iter().collect();
    writes.note_changes(card.id, &key_list, version, now);
    Ok(version)
}

/// A file name as shown: its last path component, without control characters, at most
/// 200 characters.
fn clean_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if clean.trim().is_empty() {
        "upload".into()
    } else {
        clean
    }
}
