//! The shared job system (SPEC "Jobs"): bulk work runs as durable jobs that a worker in the
//! server claims, with progress pushed live; an interrupted job resumes from its cursor,
//! which moves in the same transaction as the job's writes, so no row is done twice.

use std::time::Duration;

use kartoteka_domain::ids::PublicId;
use kartoteka_domain::time::{now_ms, to_rfc3339};
use kartoteka_store::groups::{self, GroupKind};
use kartoteka_store::jobs::{self, Job};
use kartoteka_store::{StoreError, bulk_ops, users};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::events::Event;
use crate::{Actor, App, AppError, AppResult};

/// Records done per transaction.
const CHUNK: usize = 2000;
/// A running job whose worker has not beaten for this long is taken over.
const STALE_MS: i64 = 30_000;
/// Failures listed one by one in a job's result (the count covers all).
const MAX_LISTED_FAILURES: usize = 1000;
/// The most records one job takes.
pub const MAX_RECORDS: usize = 2_000_000;

/// What a job does.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobSpec {
    /// Add records to a campaign or segment, or remove them.
    Membership {
        group: i64,
        campaign: bool,
        add: bool,
        records: Vec<String>,
        /// The records' internal IDs, in step with `records`, when the job was made from a
        /// filter (saves looking them up again).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        ids: Vec<i64>,
    },
    /// Add tags to records, or remove them.
    Tags {
        add: bool,
        tags: Vec<String>,
        records: Vec<String>,
        /// The records' internal IDs, in step with `records`, when the job was made from a
        /// filter (saves looking them up again).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        ids: Vec<i64>,
    },
    /// Delete records.
    Delete {
        records: Vec<String>,
        /// The records' internal IDs, in step with `records`, when the job was made from a
        /// filter (saves looking them up again).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        ids: Vec<i64>,
    },
}

impl JobSpec {
    fn kind(&self) -> &'static str {
        match self {
            JobSpec::Membership { .. } => "membership",
            JobSpec::Tags { .. } => "tags",
            JobSpec::Delete { .. } => "delete",
        }
    }

    fn records(&self) -> &[String] {
        match self {
            JobSpec::Membership { records, .. }
            | JobSpec::Tags { records, .. }
            | JobSpec::Delete { records, .. } => records,
        }
    }

    fn ids(&self) -> &[i64] {
        match self {
            JobSpec::Membership { ids, .. }
            | JobSpec::Tags { ids, .. }
            | JobSpec::Delete { ids, .. } => ids,
        }
    }

    /// The audit log's name of the action.
    fn action(&self) -> String {
        match self {
            JobSpec::Membership { add, campaign, .. } => format!(
                "bulk_{}_{}",
                if *add { "add_to" } else { "remove_from" },
                if *campaign { "campaign" } else { "segment" }
            ),
            JobSpec::Tags { add, .. } => {
                format!("bulk_{}_tags", if *add { "add" } else { "remove" })
            }
            JobSpec::Delete { .. } => "bulk_delete".into(),
        }
    }
}

/// Which records a bulk action takes: listed by public ID, all that match a filter, or all
/// that the list's search box finds within a filter (resolved when the action is submitted).
#[derive(Debug, Clone)]
pub enum BulkTarget {
    Ids(Vec<String>),
    Filter(kartoteka_domain::filter::Filter),
    Search {
        filter: kartoteka_domain::filter::Filter,
        text: String,
    },
}

impl BulkTarget {
    /// A filter's records, narrowed by the search box's text when there is one.
    pub fn found(filter: kartoteka_domain::filter::Filter, text: &str) -> BulkTarget {
        match text.trim() {
            "" => BulkTarget::Filter(filter),
            t => BulkTarget::Search {
                filter,
                text: t.to_string(),
            },
        }
    }
}

impl BulkTarget {
    /// The filter and search text of a target that finds its records, or the IDs of one
    /// that lists them.
    fn into_found(self) -> Result<(kartoteka_domain::filter::Filter, Option<String>), Vec<String>> {
        match self {
            BulkTarget::Ids(ids) => Err(ids),
            BulkTarget::Filter(f) => Ok((f, None)),
            BulkTarget::Search { filter, text } => Ok((filter, Some(text))),
        }
    }
}

impl App {
    /// The public and internal IDs of a target's records, or the IDs it lists.
    pub(crate) async fn found_ids(
        &self,
        actor: &Actor,
        target: BulkTarget,
    ) -> AppResult<Result<Vec<(String, i64)>, Vec<String>>> {
        let (filter, text) = match target.into_found() {
            Ok(found) => found,
            Err(ids) => return Ok(Err(ids)),
        };
        let conds = self.check_filter(&filter).await?;
        Ok(Ok(match text {
            Some(t) => self.search_ids(actor, &t, &conds).await?,
            None => self.matching_ids(actor, &conds).await?,
        }))
    }
}

/// What a bulk action does.
#[derive(Debug, Clone)]
pub enum BulkAction {
    Membership {
        kind: GroupKind,
        group: i64,
        add: bool,
    },
    Tags {
        add: bool,
        tags: Vec<String>,
    },
    /// `confirm` must be the number of records to delete.
    Delete {
        confirm: Option<i64>,
    },
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobView {
    pub id: i64,
    pub kind: String,
    /// queued, running, done, failed or cancelled.
    pub state: String,
    pub done: i64,
    pub total: i64,
    /// Counts, and the records that could not be changed with the reason.
    #[schema(value_type = Object)]
    pub result: Value,
    pub error: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

impl From<&Job> for JobView {
    fn from(j: &Job) -> Self {
        JobView {
            id: j.id,
            kind: j.kind.clone(),
            state: j.state.clone(),
            done: j.done,
            total: j.total,
            result: serde_json::from_str(&j.result).unwrap_or(Value::Null),
            error: j.error.clone(),
            created_at: to_rfc3339(j.created_at),
            started_at: j.started_at.map(to_rfc3339),
            finished_at: j.finished_at.map(to_rfc3339),
        }
    }
}

impl App {
    /// Queues adding (or removing) records to a campaign or segment.
    pub async fn submit_membership(
        &self,
        actor: &Actor,
        kind: GroupKind,
        group: i64,
        add: bool,
        records: Vec<String>,
        ids: Vec<i64>,
    ) -> AppResult<JobView> {
        if !actor.may_use_record_base() {
            return Err(AppError::Forbidden(
                "bulk actions need access to the record base".into(),
            ));
        }
        if records.is_empty() || records.len() > MAX_RECORDS {
            return Err(AppError::invalid(
                "ids",
                "out_of_range",
                format!("give 1 to {MAX_RECORDS} record IDs"),
            ));
        }
        let g = groups::get(&self.db.pool, kind, group)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => {
                    AppError::invalid("group", "not_found", format!("no such group {group}"))
                }
                e => e.into(),
            })?;
        if add && !g.active {
            return Err(AppError::invalid(
                "group",
                "inactive",
                format!("{} is not active", g.name),
            ));
        }
        let spec = JobSpec::Membership {
            group,
            campaign: kind == GroupKind::Campaign,
            add,
            records,
            ids,
        };
        self.submit(actor, &spec).await
    }

    /// Queues a bulk action on listed records or on every record a filter finds.
    pub async fn submit_bulk(
        &self,
        actor: &Actor,
        target: BulkTarget,
        action: BulkAction,
    ) -> AppResult<JobView> {
        if !actor.may_use_record_base() {
            return Err(AppError::Forbidden(
                "bulk actions need access to the record base".into(),
            ));
        }
        if matches!(action, BulkAction::Delete { .. }) && !actor.may_delete_records() {
            return Err(AppError::Forbidden(
                "your role may not delete records".into(),
            ));
        }
        let (records, ids) = match self.found_ids(actor, target).await? {
            Ok(found) => found.into_iter().unzip(),
            Err(ids) => (ids, Vec::new()),
        };
        if records.is_empty() {
            return Err(AppError::invalid(
                "ids",
                "empty",
                "no records are selected or match the filter",
            ));
        }
        if records.len() > MAX_RECORDS {
            return Err(AppError::invalid(
                "ids",
                "out_of_range",
                format!("one bulk action takes at most {MAX_RECORDS} records"),
            ));
        }
        match action {
            BulkAction::Membership { kind, group, add } => {
                self.submit_membership(actor, kind, group, add, records, ids)
                    .await
            }
            BulkAction::Tags { add, tags } => {
                let mut clean = Vec::new();
                for t in &tags {
                    let t = t.trim();
                    if t.is_empty() || t.chars().count() > 100 {
                        return Err(AppError::invalid(
                            "tags",
                            "invalid_tag",
                            "a tag is 1 to 100 characters",
                        ));
                    }
                    if !clean.iter().any(|c: &String| c == t) {
                        clean.push(t.to_string());
                    }
                }
                if clean.is_empty() {
                    return Err(AppError::invalid(
                        "tags",
                        "required",
                        "give at least one tag",
                    ));
                }
                let spec = JobSpec::Tags {
                    add,
                    tags: clean,
                    records,
                    ids,
                };
                self.submit(actor, &spec).await
            }
            BulkAction::Delete { confirm } => {
                let n = records.len() as i64;
                if confirm != Some(n) {
                    return Err(AppError::invalid(
                        "confirm",
                        "confirmation_required",
                        format!("this deletes {n} records; send confirm={n} to go ahead"),
                    ));
                }
                self.submit(actor, &JobSpec::Delete { records, ids }).await
            }
        }
    }

    async fn submit(&self, actor: &Actor, spec: &JobSpec) -> AppResult<JobView> {
        let total = spec.records().len() as i64;
        let params =
            serde_json::to_string(spec).map_err(|e| AppError::Unexpected(e.to_string()))?;
        let by = (actor.user_id > 0).then_some(actor.user_id);
        let id = jobs::insert(&self.db.pool, spec.kind(), &params, total, by, now_ms()).await?;
        self.job(actor, id).await
    }

    pub async fn job(&self, actor: &Actor, id: i64) -> AppResult<JobView> {
        let j = jobs::get(&self.db.pool, id)
            .await
            .map_err(|_| AppError::NotFound(format!("job {id}")))?;
        if !actor.may_administer() && j.created_by != Some(actor.user_id) && actor.user_id > 0 {
            return Err(AppError::NotFound(format!("job {id}")));
        }
        Ok(JobView::from(&j))
    }

    /// The actor's jobs (administrators: everyone's), newest first.
    pub async fn jobs(&self, actor: &Actor) -> AppResult<Vec<JobView>> {
        let mine = (!actor.may_administer()).then_some(actor.user_id);
        Ok(jobs::list(&self.db.pool, mine, 100)
            .await?
            .iter()
            .map(JobView::from)
            .collect())
    }

    pub async fn cancel_job(&self, actor: &Actor, id: i64) -> AppResult<JobView> {
        self.job(actor, id).await?;
        jobs::request_cancel(&self.db.pool, id).await?;
        self.job(actor, id).await
    }

    /// Runs jobs until `stop` says so; one worker a server (several nodes may each run one).
    pub fn spawn_worker(&self) -> tokio::task::JoinHandle<()> {
        let app = self.clone();
        tokio::spawn(async move {
            let mut purged = 0;
            loop {
                if kartoteka_domain::time::now_ms() - purged > 60_000 {
                    purged = kartoteka_domain::time::now_ms();
                    if let Err(e) = app.purge_files().await {
                        tracing::error!(error = %e, "purging expired files");
                    }
                    if let Err(e) = app.purge_merge_snapshots().await {
                        tracing::error!(error = %e, "purging merge snapshots");
                    }
                    if let Err(e) = app.purge_duplicate_searches().await {
                        tracing::error!(error = %e, "purging duplicate searches' groups");
                    }
                }
                match app.run_next_job().await {
                    Ok(true) => continue,
                    Ok(false) => tokio::time::sleep(Duration::from_millis(200)).await,
                    Err(e) => {
                        tracing::error!(error = %e, "job worker");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        })
    }

    /// Claims one job and runs it to its end; false when none was waiting.
    pub async fn run_next_job(&self) -> AppResult<bool> {
        let now = now_ms();
        let Some(job) = jobs::claim(&self.db, now, now - STALE_MS).await? else {
            return Ok(false);
        };
        self.run_claimed(job).await?;
        Ok(true)
    }

    /// Runs job `id` here if it is waiting (the command line's own jobs); false when another
    /// worker has it.
    pub async fn run_job(&self, id: i64) -> AppResult<bool> {
        let now = now_ms();
        let Some(job) = jobs::claim_one(&self.db, id, now, now - STALE_MS).await? else {
            return Ok(false);
        };
        self.run_claimed(job).await?;
        Ok(true)
    }

    async fn run_claimed(&self, job: Job) -> AppResult<()> {
        let outcome = self.run(&job).await;
        match outcome {
            Ok(state) => jobs::finish(&self.db.pool, job.id, state, None, now_ms()).await?,
            Err(e) => {
                tracing::error!(job = job.id, error = %e, "job failed");
                let reason = match &e {
                    AppError::Validation(errors) => errors
                        .iter()
                        .map(|e| e.message.clone())
                        .collect::<Vec<_>>()
                        .join("; "),
                    e => e.to_string(),
                };
                // A large import or bulk merge that failed with indexes dropped for its
                // run: they are built now (before the job shows as failed), not at the
                // next start.
                if let Err(e) = self.db.restore_deferred_indexes().await {
                    tracing::error!(job = job.id, error = %e, "rebuilding deferred indexes");
                }
                jobs::finish(&self.db.pool, job.id, "failed", Some(&reason), now_ms()).await?;
            }
        }
        self.publish_progress(job.id).await;
        // Off the job's path: trimming after a large job takes a few hundred milliseconds.
        tokio::task::spawn_blocking(release_freed_memory);
        Ok(())
    }

    pub(crate) async fn publish_progress(&self, id: i64) {
        if let Ok(j) = jobs::get(&self.db.pool, id).await {
            self.events.publish(Event::JobProgress {
                id,
                state: j.state,
                done: j.done,
                total: j.total,
            });
        }
    }

    /// The creator of a job, as it acts when the job runs.
    pub(crate) async fn job_actor(&self, job: &Job) -> AppResult<Actor> {
        let Some(user) = job.created_by else {
            return Ok(crate::auth::system_actor());
        };
        let all = users::list(&self.db.pool).await?;
        let u = all
            .iter()
            .find(|u| u.id == user && u.active)
            .ok_or_else(|| AppError::Forbidden("the job's user is gone".into()))?;
        Ok(crate::auth::actor_of(u))
    }

    async fn run(&self, job: &Job) -> AppResult<&'static str> {
        match job.kind.as_str() {
            "import" | "import_dry_run" => return self.run_import(job).await,
            "import_revert" => return self.run_import_revert(job).await,
            "export" => return self.run_export(job).await,
            "duplicates_find" => return self.run_duplicate_search(job).await,
            "duplicates_merge" | "duplicates_delete" => return self.run_duplicate_bulk(job).await,
            _ => {}
        }
        let spec: JobSpec = serde_json::from_str(&job.params)
            .map_err(|e| AppError::Unexpected(format!("job parameters: {e}")))?;
        let actor = self.job_actor(job).await?;
        if !actor.may_use_record_base() {
            return Err(AppError::Forbidden(
                "the job's user no longer has access to the record base".into(),
            ));
        }
        let records = spec.records();
        let mut result: Value = serde_json::from_str(&job.result).unwrap_or(json!({}));
        let mut cursor = job.cursor as usize;
        let mut done = job.done;
        let by = (actor.user_id > 0).then_some(actor.user_id);
        while cursor < records.len() {
            if jobs::get(&self.db.pool, job.id).await?.cancel_requested {
                return Ok("cancelled");
            }
            let end = (cursor + CHUNK).min(records.len());
            let chunk = &records[cursor..end];
            let mut tx = self.db.begin_write().await?;
            let found: std::collections::HashMap<String, i64> = match spec.ids() {
                ids if ids.len() == records.len() => chunk
                    .iter()
                    .cloned()
                    .zip(ids[cursor..end].iter().copied())
                    .collect(),
                _ => bulk_ops::resolve(&mut tx, chunk).await?,
            };
            let ids: Vec<i64> = found.values().copied().collect();
            let now = now_ms();
            let changed: Vec<i64> = match &spec {
                JobSpec::Membership {
                    group,
                    campaign,
                    add,
                    ..
                } => {
                    let kind = if *campaign {
                        GroupKind::Campaign
                    } else {
                        GroupKind::Segment
                    };
                    if *add {
                        bulk_ops::add_members(&mut tx, kind, *group, &ids, now).await?
                    } else {
                        bulk_ops::remove_members(&mut tx, kind, *group, &ids).await?
                    }
                }
                JobSpec::Tags { add, tags, .. } => {
                    bulk_ops::change_tags(&mut tx, &ids, tags, *add, now, by).await?
                }
                JobSpec::Delete { .. } => bulk_ops::delete(&mut tx, &ids).await?,
            };
            let changed: std::collections::HashSet<i64> = changed.into_iter().collect();
            let mut changed_ids = Vec::new();
            for pid in chunk {
                let counter = match found.get(pid) {
                    None => {
                        let reason = if PublicId::parse(pid).is_err() {
                            "not a record ID"
                        } else {
                            "no such record"
                        };
                        let failed = result["failed"].as_array().map(Vec::len).unwrap_or(0);
                        if failed < MAX_LISTED_FAILURES {
                            let mut list = result["failed"].as_array().cloned().unwrap_or_default();
                            list.push(json!({"id": pid, "reason": reason}));
                            result["failed"] = Value::Array(list);
                        }
                        "failed_count"
                    }
                    Some(id) if changed.contains(id) => {
                        changed_ids.push(pid.clone());
                        "changed"
                    }
                    Some(_) => "unchanged",
                };
                result[counter] = json!(result[counter].as_i64().unwrap_or(0) + 1);
                done += 1;
            }
            bulk_ops::note_items(&mut tx, job.id, &changed_ids).await?;
            jobs::advance(
                &mut tx,
                job.id,
                end as i64,
                done,
                &result.to_string(),
                now_ms(),
            )
            .await?;
            tx.commit().await?;
            cursor = end;
            self.publish_progress(job.id).await;
        }
        // One audit entry for the whole bulk action, naming the job and what it changed.
        let changed = jobs::items(&self.db.pool, job.id).await?;
        let mut tx = self.db.begin_write().await?;
        let action = spec.action();
        let what = match &spec {
            JobSpec::Membership {
                group, campaign, ..
            } => {
                json!({"group": group, "campaign": campaign})
            }
            JobSpec::Tags { tags, .. } => json!({ "tags": tags }),
            JobSpec::Delete { .. } => json!({}),
        };
        crate::audit::record(
            &mut tx,
            &actor,
            &action,
            "job",
            Some(&job.id.to_string()),
            json!({
                "action": what, "result": result, "records": changed,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok("done")
    }
}

/// Frees a job's large structures on a blocking thread, then hands the memory back to the
/// system: millions of small allocations (a duplicate search's groups) take half a second
/// to free, which the job's user need not wait for.
pub(crate) fn drop_in_background<T: Send + 'static>(value: T) {
    tokio::task::spawn_blocking(move || {
        drop(value);
        release_freed_memory();
    });
}

/// Hands memory freed by a finished job back to the system. glibc keeps what a large import
/// or export freed in its arenas, so without this the server stays at its largest job's size.
/// The binary allocates through mimalloc (SQLite through glibc): both are asked.
pub(crate) fn release_freed_memory() {
    // SAFETY: mi_collect only frees mimalloc's unused pages; it has no preconditions.
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the kernel; it has no
    // preconditions and touches no memory in use.
    unsafe {
        libc::malloc_trim(0);
    }
}
