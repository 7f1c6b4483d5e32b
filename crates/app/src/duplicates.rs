//! Duplicates (SPEC C7): searches run as jobs (`duplicates_find`) whose groups are stored
//! for paging and sorting; merges and deletes (`duplicates/merge.rs`), bulk over a search's
//! groups as jobs (`duplicates/bulk.rs`); undo within the window (`duplicates/undo.rs`).

mod bulk;
mod merge;
mod undo;
mod views;

pub use views::{MergePreview, MergeRequest, OperationView, PreviewField, PreviewMember};

use std::collections::{BTreeSet, HashMap};

use kartoteka_domain::duplicates::{Criterion, held};
use kartoteka_domain::filter::Filter;
use kartoteka_domain::phone::normalize_phone_query;
use kartoteka_domain::time::{now_ms, to_rfc3339};
use kartoteka_store::duplicates::{self as store, GroupBatch, GroupShow, GroupSort, StoredGroup};
use kartoteka_store::filter::Where;
use kartoteka_store::jobs::{self, Job};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::jobs::JobView;
use crate::{Actor, App, AppError, AppResult};

/// What a duplicate search job carries.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct SearchSpec {
    pub criteria: Vec<Criterion>,
    #[serde(default)]
    pub filter: Option<Filter>,
    pub max_group: usize,
    /// Normalized excluded values.
    pub exclusions: BTreeSet<String>,
}

/// A duplicate search: its job, criteria and counts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchView {
    pub job: JobView,
    pub criteria: Vec<String>,
    #[schema(value_type = Option<Object>)]
    pub filter: Option<Value>,
    /// Groups found and records in them.
    pub groups: i64,
    pub records: i64,
    /// Open groups bulk actions take, and records they would remove.
    pub ready: i64,
    pub ready_removes: i64,
    /// Open groups left for manual resolution, by reason.
    pub held: i64,
    #[schema(value_type = Object)]
    pub held_by_reason: Value,
    pub resolved: i64,
    /// When its groups were removed (`duplicate_search_days` after it ran); the counts
    /// above are then zero and the job's result keeps what it found.
    pub purged_at: Option<String>,
}

/// When a search's groups were removed, if they were.
fn purged_at(job: &JobView) -> Option<String> {
    job.result.get("purged_at")?.as_i64().map(to_rfc3339)
}

/// The refusal of a search whose groups were removed.
pub(crate) fn purged(id: i64, at: &str) -> AppError {
    merge::conflict(
        "search_purged",
        format!(
            "the groups of duplicate search {id} were removed at {at}, after the keep time; run the search again"
        ),
    )
}

/// A member of a group as listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupMember {
    pub id: String,
    pub display_name: String,
    pub kind: String,
    pub created_at: String,
}

/// One group of a search.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupView {
    pub position: i64,
    pub size: i64,
    /// Oldest first: the first survives bulk actions.
    pub records: Vec<GroupMember>,
    /// Criterion → the values that tie the group.
    #[schema(value_type = Object)]
    pub ties: Value,
    /// Why bulk actions leave it out: `too_large`, `excluded`, `mixed_kinds`, or null.
    pub held: Option<String>,
    /// The merge or delete that resolved it.
    pub resolved_by: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupPage {
    pub total: i64,
    pub items: Vec<GroupView>,
}

/// How to list groups.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct GroupQuery {
    /// `all` (default), `ready`, `held` or `resolved`.
    pub show: Option<String>,
    /// `size` (default, largest first), `value`, `found`; `-` before it reverses.
    pub sort: Option<String>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
}

pub(crate) fn check_may_find(actor: &Actor) -> AppResult<()> {
    if actor.may_use_record_base() {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "finding duplicates needs access to the record base".into(),
        ))
    }
}

/// The normalized form of an excluded value: a phone in E.164, else lower case.
fn normalize_exclusion(v: &str, region: &str) -> String {
    if v.contains('@') {
        v.trim().to_lowercase()
    } else {
        normalize_phone_query(v, region).unwrap_or_else(|| v.trim().to_lowercase())
    }
}

/// Groups rows of the groups found, in order, handed to `emit` a batch at a time (it
/// answers false when the rows are no longer wanted): each group's members oldest first
/// (`more` has the facts the search did not read) and why bulk actions leave it, if they
/// do. Answers the groups and the records in them.
fn group_rows(
    found: store::FoundGroups,
    mut more: HashMap<i64, store::Facts>,
    max_group: usize,
    mut emit: impl FnMut(Vec<store::GroupRow>) -> bool,
) -> AppResult<(usize, i64)> {
    const BATCH: usize = 4096;
    let (mut groups, mut records) = (0, 0);
    let mut batch = Vec::with_capacity(BATCH);
    for f in found {
        let mut members: Vec<store::Facts> = (f.group.members.iter().zip(f.facts))
            .filter_map(|(id, facts)| facts.or_else(|| more.remove(id)))
            .collect();
        if members.len() < 2 {
            continue;
        }
        members.sort_by(|a, b| (a.2, &a.0).cmp(&(b.2, &b.0)));
        let mixed = members.iter().any(|m| m.1 != members[0].1);
        let reason = held(members.len(), max_group, mixed, f.group.excluded_link);
        groups += 1;
        records += members.len() as i64;
        let group = StoredGroup {
            position: groups as i64,
            size: members.len() as i64,
            records: members.into_iter().map(|m| m.0).collect(),
            ties: f.group.ties,
            held: reason.map(|h| h.as_str().to_string()).unwrap_or_default(),
            resolved_by: None,
        };
        batch.push(store::GroupRow::of(&group)?);
        if batch.len() == BATCH && !emit(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))) {
            return Ok((groups, records));
        }
    }
    if !batch.is_empty() {
        emit(batch);
    }
    Ok((groups, records))
}

impl App {
    /// Queues a duplicate search by `criteria` (1–7 field keys), limited to the records of
    /// `filter` when given.
    pub async fn start_duplicate_search(
        &self,
        actor: &Actor,
        criteria: &[String],
        filter: Option<Filter>,
    ) -> AppResult<JobView> {
        check_may_find(actor)?;
        let custom = self.custom_definitions().await?;
        let criteria =
            Criterion::parse_list(criteria, &custom).map_err(|e| AppError::field("criteria", e))?;
        if let Some(f) = &filter {
            self.check_filter(f).await?;
        }
        let spec = SearchSpec {
            criteria,
            filter: filter.filter(|f| !f.all.is_empty()),
            max_group: self.settings.duplicate_max_group,
            exclusions: self
                .settings
                .duplicate_exclusions
                .iter()
                .map(|v| normalize_exclusion(v, &self.settings.default_region))
                .collect(),
        };
        let params =
            serde_json::to_string(&spec).map_err(|e| AppError::Unexpected(e.to_string()))?;
        let by = (actor.user_id > 0).then_some(actor.user_id);
        let id = jobs::insert(&self.db.pool, "duplicates_find", &params, 1, by, now_ms()).await?;
        self.job(actor, id).await
    }

    pub(crate) async fn run_duplicate_search(&self, job: &Job) -> AppResult<&'static str> {
        let started = std::time::Instant::now();
        let full = jobs::get_with_params(&self.db.pool, job.id).await?;
        let spec: SearchSpec = serde_json::from_str(&full.params)
            .map_err(|e| AppError::Unexpected(format!("search parameters: {e}")))?;
        let actor = self.job_actor(job).await?;
        check_may_find(&actor)?;
        let defs = self.definitions().await?;
        let conds = match &spec.filter {
            Some(f) => self.check_filter(f).await?,
            None => Vec::new(),
        };
        let scope: Option<Where<'_>> = match spec.filter {
            Some(_) => Some(self.scope(&actor, &conds)?),
            None => None,
        };
        let mut conn = self.db.pool.acquire().await?;
        let found = store::find(
            &mut conn,
            self.db.backend,
            self.db.reader.as_ref(),
            &spec.criteria,
            &defs.custom_ids,
            scope.as_ref(),
            &spec.exclusions,
        )
        .await?;
        let found_at = started.elapsed();
        let missing = found.missing_facts();
        let more = if missing.is_empty() {
            HashMap::new()
        } else {
            store::member_facts(&mut conn, self.db.backend, &missing).await?
        };
        let max_group = spec.max_group;
        // On SQLite the groups go in through a connection of their own, on a thread of
        // its own, while this one builds the later ones; a server that dies before the
        // job's result is written runs the search again, and either writer replaces the job's
        // groups (it deletes them first, in its transaction).
        let (counts, rows) = match self.db.sqlite_path.clone() {
            Some(path) => {
                let id = job.id;
                let (send, receive) = std::sync::mpsc::sync_channel(8);
                let saver = tokio::task::spawn_blocking(move || {
                    store::save_groups_sqlite(&path, id, receive)
                });
                let built = tokio::task::spawn_blocking(move || {
                    let counts = group_rows(found, more, max_group, |rows| {
                        send.send(GroupBatch::Rows(rows)).is_ok()
                    })?;
                    // The writer commits on this; had the building failed, the channel
                    // closes without it and the writer rolls back.
                    let _ = send.send(GroupBatch::End);
                    Ok::<_, AppError>(counts)
                })
                .await
                .map_err(|e| AppError::Unexpected(e.to_string()));
                let saved = saver.await.map_err(|e| AppError::Unexpected(e.to_string()));
                let counts = built??;
                saved??;
                (counts, Vec::new())
            }
            None => tokio::task::spawn_blocking(move || {
                let mut all = Vec::new();
                let counts = group_rows(found, more, max_group, |rows| {
                    all.extend(rows);
                    true
                })?;
                Ok::<_, AppError>((counts, all))
            })
            .await
            .map_err(|e| AppError::Unexpected(e.to_string()))??,
        };
        // On PostgreSQL they are copied in on a connection of their own.
        if let Some(mut writer) = self.db.postgres_writer().await? {
            writer.save_groups(job.id, &rows).await?;
        }
        let built_at = started.elapsed();
        let mut tx = self.db.begin_write_on(&mut conn).await?;
        let (groups, records) = counts;
        let result = json!({
            "groups": groups,
            "records": records,
            "seconds_to_find": found_at.as_secs_f64(),
            "seconds": started.elapsed().as_secs_f64(),
        });
        jobs::advance(&mut tx, job.id, 1, 1, &result.to_string(), now_ms()).await?;
        tx.commit().await?;
        tracing::debug!(
            job = job.id,
            finding = found_at.as_secs_f64(),
            building_and_storing = (built_at - found_at).as_secs_f64(),
            ending = (started.elapsed() - built_at).as_secs_f64(),
            "duplicate search timed"
        );
        crate::jobs::drop_in_background(rows);
        Ok("done")
    }

    /// A duplicate search with its counts.
    pub async fn duplicate_search(&self, actor: &Actor, id: i64) -> AppResult<SearchView> {
        check_may_find(actor)?;
        let job = self.job(actor, id).await?;
        if job.kind != "duplicates_find" {
            return Err(AppError::NotFound(format!("duplicate search {id}")));
        }
        let full = jobs::get_with_params(&self.db.pool, id).await?;
        let spec: SearchSpec = serde_json::from_str(&full.params)
            .map_err(|e| AppError::Unexpected(format!("search parameters: {e}")))?;
        let mut conn = self.db.pool.acquire().await?;
        let counts = store::group_counts(&mut conn, id).await?;
        let (mut groups, mut records, mut ready, mut ready_records) = (0, 0, 0, 0);
        let (mut held, mut resolved) = (0, 0);
        let mut by_reason = serde_json::Map::new();
        for c in &counts {
            groups += c.groups;
            records += c.records;
            match (c.held.as_str(), c.resolved) {
                (_, true) => resolved += c.groups,
                ("", false) => {
                    ready += c.groups;
                    ready_records += c.records;
                }
                (reason, false) => {
                    held += c.groups;
                    by_reason.insert(reason.to_string(), json!(c.groups));
                }
            }
        }
        let purged_at = purged_at(&job);
        Ok(SearchView {
            job,
            criteria: spec.criteria.iter().map(Criterion::key).collect(),
            filter: spec
                .filter
                .map(|f| serde_json::to_value(f).unwrap_or(Value::Null)),
            groups,
            records,
            ready,
            ready_removes: ready_records - ready,
            held,
            held_by_reason: Value::Object(by_reason),
            resolved,
            purged_at,
        })
    }

    /// The actor's duplicate searches (administrators: everyone's), newest first.
    pub async fn duplicate_searches(&self, actor: &Actor) -> AppResult<Vec<JobView>> {
        check_may_find(actor)?;
        let mine = (!actor.may_administer()).then_some(actor.user_id);
        let list = jobs::list_of_kind(&self.db.pool, "duplicates_find", mine, 50).await?;
        Ok(list.iter().map(JobView::from).collect())
    }

    /// One page of a search's groups.
    pub async fn duplicate_groups(
        &self,
        actor: &Actor,
        id: i64,
        q: &GroupQuery,
    ) -> AppResult<GroupPage> {
        self.duplicate_search_job(actor, id).await?;
        let show = match q.show.as_deref().unwrap_or("all") {
            "all" => GroupShow::All,
            "ready" => GroupShow::Ready,
            "held" => GroupShow::Held,
            "resolved" => GroupShow::Resolved,
            _ => {
                return Err(AppError::invalid(
                    "show",
                    "unknown_value",
                    "show is all, ready, held or resolved",
                ));
            }
        };
        let sort_text = q.sort.as_deref().unwrap_or("size");
        let (desc, key) = match sort_text.strip_prefix('-') {
            Some(k) => (true, k),
            None => (false, sort_text),
        };
        let (sort, desc) = match key {
            "size" => (GroupSort::Size, !desc),
            "value" => (GroupSort::Value, desc),
            "found" => (GroupSort::Found, desc),
            _ => {
                return Err(AppError::invalid(
                    "sort",
                    "unknown_sort",
                    "sort by size, value or found (`-` reverses)",
                ));
            }
        };
        let limit = q.limit.unwrap_or(50).clamp(1, 500);
        let offset = q.offset.unwrap_or(0).max(0);
        let mut conn = self.db.pool.acquire().await?;
        let (total, _) = store::count_groups(&mut conn, id, show).await?;
        let groups = store::list_groups(&mut conn, id, show, sort, desc, offset, limit).await?;
        let items = self.group_views(&mut conn, actor, groups).await?;
        Ok(GroupPage { total, items })
    }

    /// One group of a search.
    pub async fn duplicate_group(
        &self,
        actor: &Actor,
        id: i64,
        position: i64,
    ) -> AppResult<GroupView> {
        self.duplicate_search_job(actor, id).await?;
        let mut conn = self.db.pool.acquire().await?;
        let g = store::group(&mut conn, id, position)
            .await
            .map_err(|_| AppError::NotFound(format!("group {position}")))?;
        let mut views = self.group_views(&mut conn, actor, vec![g]).await?;
        views
            .pop()
            .ok_or_else(|| AppError::NotFound(format!("group {position}")))
    }

    /// A search whose groups are still kept (else 409 `search_purged`).
    pub(crate) async fn duplicate_search_job(&self, actor: &Actor, id: i64) -> AppResult<JobView> {
        check_may_find(actor)?;
        let job = self.job(actor, id).await?;
        if job.kind != "duplicates_find" {
            return Err(AppError::NotFound(format!("duplicate search {id}")));
        }
        if let Some(at) = purged_at(&job) {
            return Err(purged(id, &at));
        }
        Ok(job)
    }

    /// Removes the groups of searches that ended more than `search_keep_ms` ago (the
    /// worker calls it every minute); a search a bulk job is queued or running over waits.
    /// Answers the groups removed.
    pub async fn purge_duplicate_searches(&self) -> AppResult<u64> {
        let now = now_ms();
        let mut conn = self.db.pool.acquire().await?;
        let mut removed = 0;
        for (id, result) in
            store::searches_to_purge(&mut conn, now - self.settings.search_keep_ms).await?
        {
            removed += store::purge_groups(&mut conn, id, &result, now).await?;
            tracing::info!(
                search = id,
                "duplicate search: groups removed after the keep time"
            );
        }
        Ok(removed)
    }

    async fn group_views(
        &self,
        conn: &mut sqlx::AnyConnection,
        actor: &Actor,
        groups: Vec<StoredGroup>,
    ) -> AppResult<Vec<GroupView>> {
        let public: Vec<String> = groups
            .iter()
            .flat_map(|g| g.records.iter().cloned())
            .collect();
        let names: HashMap<String, GroupMember> = store::member_names(conn, &public)
            .await?
            .into_iter()
            .map(|(id, (display_name, kind, created_at))| {
                let m = GroupMember {
                    id: id.clone(),
                    display_name,
                    kind,
                    created_at: to_rfc3339(created_at),
                };
                (id, m)
            })
            .collect();
        let unmasked = actor.sees_national_ids();
        Ok(groups
            .into_iter()
            .map(|g| {
                let mut ties = g.ties;
                if !unmasked {
                    ties.map_values("pesel", crate::views::mask_pesel);
                }
                let ties = serde_json::to_value(ties).unwrap_or(Value::Null);
                GroupView {
                    position: g.position,
                    size: g.size,
                    records: g
                        .records
                        .iter()
                        .map(|p| {
                            names.get(p).cloned().unwrap_or_else(|| GroupMember {
                                id: p.clone(),
                                display_name: String::new(),
                                kind: String::new(),
                                created_at: String::new(),
                            })
                        })
                        .collect(),
                    ties,
                    held: (!g.held.is_empty()).then_some(g.held),
                    resolved_by: g.resolved_by,
                }
            })
            .collect())
    }
}
