//! Bulk actions over a search's groups: merging (or deleting) every ready group as a job, a
//! chunk of groups per transaction, through the same staged writes as a hand merge.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kartoteka_domain::duplicates::Choices;
use kartoteka_domain::time::now_ms;
use kartoteka_store::bulk_ops;
use kartoteka_store::duplicates as dup_store;
use kartoteka_store::jobs::{self, Job};
use kartoteka_store::{Backend, merge, trigrams};
use serde_json::{Value, json};

use super::merge::{Loaded, Plan, Staged, check_may_merge, conflict};
use crate::deferred::Deferred;
use crate::jobs::JobView;
use crate::{Actor, App, AppError, AppResult};

/// A bulk job's first transaction takes `Settings::duplicate_first_chunk` groups
/// ([`crate::DEFAULT_DUPLICATE_FIRST_CHUNK`]); each later one as many as should fill about
/// `TX_TARGET`, between `MIN_CHUNK` and `MAX_CHUNK`. A commit writes
/// every index page the transaction changed, and pages shared by neighbouring groups
/// (the trigram tables', the journal's) are written once per commit, so larger
/// transactions write less; `TX_TARGET` bounds how long others wait for the write lock.
const MIN_CHUNK: i64 = 50;
const MAX_CHUNK: i64 = 2_000;
const TX_TARGET: Duration = Duration::from_millis(1_500);
/// A bulk action defers the filter indexes when it removes at least 1/this of the base.
const DEFER_BASE_SHARE: i64 = 20;

/// Where a bulk job's time goes: seconds per phase, summed over its chunks (kept in the
/// job's result as `seconds_by_phase`, for the benchmark and for whoever wonders why a
/// merge took long). A job resumed after a restart counts from its resumption, and the
/// last chunk's commit is not in the result.
#[derive(Debug)]
pub(crate) struct Phases {
    last: Instant,
    spent: Vec<(&'static str, Duration)>,
}

impl Default for Phases {
    fn default() -> Phases {
        Phases {
            last: Instant::now(),
            spent: Vec::new(),
        }
    }
}

impl Phases {
    /// Adds the time since the previous lap to `phase`.
    pub(crate) fn lap(&mut self, phase: &'static str) {
        let now = Instant::now();
        let d = now - self.last;
        self.last = now;
        match self.spent.iter_mut().find(|(p, _)| *p == phase) {
            Some((_, t)) => *t += d,
            None => self.spent.push((phase, d)),
        }
    }

    fn to_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        for (p, d) in &self.spent {
            m.insert(
                (*p).to_string(),
                json!((d.as_secs_f64() * 100.0).round() / 100.0),
            );
        }
        Value::Object(m)
    }
}

/// A chunk of groups with their records: public ID → internal ID, cards and snapshots.
struct Chunk {
    groups: Vec<dup_store::StoredGroup>,
    found: std::collections::HashMap<String, i64>,
    loaded: Loaded,
}

/// The next transaction's number of groups, from this one's and how long it took: at most
/// twice as many, so that one fast transaction of small groups does not make the next one
/// of large groups hold the lock long.
fn next_chunk(groups: i64, took: Duration) -> i64 {
    let fit = groups as f64 * TX_TARGET.as_secs_f64() / took.as_secs_f64().max(0.001);
    (fit as i64).max(MIN_CHUNK).min(groups * 2).min(MAX_CHUNK)
}

impl App {
    /// Queues merging (or deleting) every ready group of a search. `confirm` must name the
    /// number of records that will be removed (the summary's `ready_removes`).
    pub async fn start_duplicate_bulk(
        &self,
        actor: &Actor,
        search: i64,
        action: &str,
        confirm: Option<i64>,
    ) -> AppResult<JobView> {
        check_may_merge(actor)?;
        let view = self.duplicate_search(actor, search).await?;
        if let Some(at) = &view.purged_at {
            return Err(super::purged(search, at));
        }
        if view.job.state != "done" {
            return Err(conflict(
                "not_finished",
                format!("duplicate search {search} has not finished"),
            ));
        }
        let kind = match action {
            "merge" => "duplicates_merge",
            "delete" => "duplicates_delete",
            _ => {
                return Err(AppError::invalid(
                    "action",
                    "unknown_action",
                    "the action is merge or delete",
                ));
            }
        };
        if confirm != Some(view.ready_removes) {
            return Err(AppError::invalid(
                "confirm",
                "confirmation_required",
                format!(
                    "this removes {} records from {} groups; send confirm={}",
                    view.ready_removes, view.ready, view.ready_removes
                ),
            ));
        }
        let params = json!({"search": search}).to_string();
        let by = (actor.user_id > 0).then_some(actor.user_id);
        let id = jobs::insert(&self.db.pool, kind, &params, view.ready, by, now_ms()).await?;
        self.job(actor, id).await
    }

    pub(crate) async fn run_duplicate_bulk(&self, job: &Job) -> AppResult<&'static str> {
        let full = jobs::get_with_params(&self.db.pool, job.id).await?;
        let params: Value = serde_json::from_str(&full.params)
            .map_err(|e| AppError::Unexpected(format!("job parameters: {e}")))?;
        let search = params["search"]
            .as_i64()
            .ok_or_else(|| AppError::Unexpected("job parameters: no search".into()))?;
        let merging = job.kind == "duplicates_merge";
        let actor = self.job_actor(job).await?;
        check_may_merge(&actor)?;
        let defs = self.definitions().await?;
        let mut result: Value = serde_json::from_str(&job.result).unwrap_or(json!({}));
        for k in ["groups", "removed", "skipped"] {
            if result.get(k).is_none() {
                result[k] = json!(0);
            }
        }
        if result.get("failed").is_none() {
            result["failed"] = json!([]);
        }
        let mut cursor = job.cursor;
        let mut done = job.done;
        let deferred = self.defer_for_bulk(&actor, search).await?;
        let mut conn = self.db.long_job_connection().await?;
        let mut phases = Phases::default();
        let mut state = "done";
        let mut chunk = self.settings.duplicate_first_chunk.max(1);
        loop {
            if jobs::get(&mut *conn, job.id).await?.cancel_requested {
                state = "cancelled";
                break;
            }
            let started = Instant::now();
            let mut tx = self.db.begin_write_on(&mut conn).await?;
            let trigrams = trigrams::suspend(&mut tx, self.db.backend).await?;
            let Chunk {
                groups,
                found,
                mut loaded,
            } = self.read_chunk(&mut tx, search, cursor, chunk).await?;
            let Some(last) = groups.last().map(|g| g.position) else {
                break;
            };
            phases.lap("reading");
            let mut staged = Staged::default();
            for g in &groups {
                let ids: Vec<i64> = g
                    .records
                    .iter()
                    .filter_map(|p| found.get(p).copied())
                    .collect();
                done += 1;
                if ids.len() < 2 {
                    result["skipped"] = json!(result["skipped"].as_i64().unwrap_or(0) + 1);
                    continue;
                }
                let plan = Plan {
                    main: ids[0],
                    merge: if merging {
                        ids[1..].to_vec()
                    } else {
                        Vec::new()
                    },
                    delete: if merging {
                        Vec::new()
                    } else {
                        ids[1..].to_vec()
                    },
                    choices: Choices::default(),
                };
                match self
                    .stage_plan(
                        &mut tx,
                        &actor,
                        &plan,
                        Some(job.id),
                        Some((search, g.position)),
                        &defs,
                        &BTreeMap::new(),
                        &mut loaded,
                        &mut staged,
                    )
                    .await
                {
                    Ok(()) => {}
                    Err(e @ (AppError::Validation(_) | AppError::Conflict { .. })) => {
                        if let Some(list) = result["failed"].as_array_mut()
                            && list.len() < 1000
                        {
                            list.push(json!({"group": g.position, "records": g.records, "reason": e.to_string()}));
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
            phases.lap("planning");
            let applied_all = self
                .flush_plans(&mut tx, staged, trigrams, &mut phases)
                .await?;
            result["groups"] =
                json!(result["groups"].as_i64().unwrap_or(0) + applied_all.len() as i64);
            let removed: usize = applied_all.iter().map(|a| a.removed.len()).sum();
            result["removed"] = json!(result["removed"].as_i64().unwrap_or(0) + removed as i64);
            cursor = last;
            result["seconds_by_phase"] = phases.to_json();
            jobs::advance(&mut tx, job.id, cursor, done, &result.to_string(), now_ms()).await?;
            tx.commit().await?;
            phases.lap("committing");
            chunk = next_chunk(chunk, started.elapsed());
            for a in &applied_all {
                self.publish_applied(&actor, a);
            }
            self.publish_progress(job.id).await;
        }
        let merging_trigrams = Instant::now();
        trigrams::merge_backlog(&mut conn, self.db.backend).await?;
        tracing::info!(
            job = job.id,
            seconds = merging_trigrams.elapsed().as_secs_f64(),
            "trigram segments merged"
        );
        self.db.finish_long_job(&mut conn).await?;
        drop(conn);
        if let Some(d) = deferred {
            self.build_deferred(d, job.id).await?;
        }
        if state == "cancelled" {
            return Ok(state);
        }
        let mut conn = self.db.pool.acquire().await?;
        let ops: Vec<i64> = merge::operation_ids_of_job(&mut conn, job.id).await?;
        crate::audit::record(
            &mut conn,
            &actor,
            if merging { "bulk_merge" } else { "bulk_delete_duplicates" },
            "job",
            Some(&job.id.to_string()),
            json!({"search": search, "operations": ops.len(), "groups": result["groups"], "removed": result["removed"]}),
        )
        .await?;
        Ok(state)
    }

    /// Reads the ready groups after position `after` and their records (cards, snapshots).
    async fn read_chunk(
        &self,
        conn: &mut sqlx::AnyConnection,
        search: i64,
        after: i64,
        limit: i64,
    ) -> AppResult<Chunk> {
        let groups = dup_store::ready_after(conn, search, after, limit).await?;
        let wanted: Vec<String> = groups
            .iter()
            .flat_map(|g| g.records.iter().cloned())
            .collect();
        let found = bulk_ops::resolve(conn, &wanted).await?;
        let ids: Vec<i64> = found.values().copied().collect();
        let loaded = self.load(conn, &ids).await?;
        Ok(Chunk {
            groups,
            found,
            loaded,
        })
    }

    /// On SQLite, a bulk action removing at least `duplicate_defer_removes` records and
    /// 1/20 of the base drops the list's filter and sort indexes (`bulk::FILTER_INDEXES`)
    /// for its run and builds them at its end, as a large import into a base in use does:
    /// each removed record costs a random page in each of them. Cards, caller
    /// identification and duplicate warnings keep their indexes; list filters and sorts
    /// scan meanwhile. (PostgreSQL keeps them: not measured there.)
    async fn defer_for_bulk(&self, actor: &Actor, search: i64) -> AppResult<Option<Deferred>> {
        if self.db.backend != Backend::Sqlite {
            return Ok(None);
        }
        // Groups a resumed job resolved already are no longer ready.
        let removes = self.duplicate_search(actor, search).await?.ready_removes;
        if removes < self.settings.duplicate_defer_removes {
            return Ok(None);
        }
        let base: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM records")
            .fetch_one(&self.db.pool)
            .await
            .map_err(kartoteka_store::StoreError::from)?;
        if removes * DEFER_BASE_SHARE < base {
            return Ok(None);
        }
        Ok(Some(self.defer_indexes(false, Vec::new()).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transaction_grows_toward_the_target_and_shrinks_when_slow() {
        // Fast: twice as many at most.
        assert_eq!(next_chunk(200, Duration::from_millis(300)), 400);
        // Near the target: about as many as fit.
        assert_eq!(next_chunk(400, Duration::from_millis(1_000)), 600);
        // Never more than the cap.
        assert_eq!(next_chunk(1_500, Duration::from_millis(100)), MAX_CHUNK);
        // Slow: fewer, but never below the floor.
        assert_eq!(next_chunk(600, Duration::from_millis(3_000)), 300);
        assert_eq!(next_chunk(100, Duration::from_secs(60)), MIN_CHUNK);
        // A small first transaction (tests) still only doubles.
        assert_eq!(next_chunk(2, Duration::from_millis(10)), 4);
    }
}
