//! Reverting an import (SPEC C5): the records it created are deleted, the fields it
//! updated get their earlier values back — unless they changed since, which the revert
//! lists and leaves alone — and the campaigns and segments it added to updated records are
//! taken away. A job of its own (`import_revert`), in chunks of the import's journal.

use std::collections::HashMap;

use kartoteka_domain::record::{FieldChange, RecordData, WriteContext, apply_patch, diff};
use kartoteka_domain::time::now_ms;
use kartoteka_store::bulk_ops;
use kartoteka_store::cards;
use kartoteka_store::groups::GroupKind;
use kartoteka_store::imports as store;
use kartoteka_store::jobs::{self, Job};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::jobs::JobView;
use crate::{Actor, App, AppError, AppResult};

/// Journal entries per transaction.
const CHUNK: i64 = 1000;
/// Fields left alone that the result lists one by one.
const MAX_LISTED: usize = 1000;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RevertSpec {
    import: i64,
}

impl App {
    /// Queues the revert of import `id`; `confirm` must be the number of records it
    /// touched (created + updated), which the confirmation names.
    pub async fn revert_import(
        &self,
        actor: &Actor,
        id: i64,
        confirm: Option<i64>,
    ) -> AppResult<JobView> {
        if !actor.may_delete_records() {
            return Err(AppError::Forbidden(
                "reverting an import deletes records: your role may not".into(),
            ));
        }
        let import = self.import(actor, id).await?;
        if import.job.kind != "import" {
            return Err(AppError::invalid(
                "import",
                "dry_run",
                "a dry run changed nothing to revert",
            ));
        }
        if !["done", "failed", "cancelled"].contains(&import.job.state.as_str()) {
            return Err(AppError::invalid(
                "import",
                "running",
                "the import is still running; cancel it or wait for it to end",
            ));
        }
        if import.job.result.get("reverted_by_job").is_some() {
            return Err(AppError::invalid(
                "import",
                "already_reverted",
                "this import has been reverted already",
            ));
        }
        let (created, updated) = store::item_counts(&self.db.pool, id).await?;
        let n = created + updated;
        if confirm != Some(n) {
            return Err(AppError::invalid(
                "confirm",
                "confirmation_required",
                format!(
                    "this deletes {created} records the import created and restores {updated} it updated; send confirm={n} to go ahead"
                ),
            ));
        }
        let params = json!(RevertSpec { import: id }).to_string();
        let by = (actor.user_id > 0).then_some(actor.user_id);
        let job = jobs::insert(&self.db.pool, "import_revert", &params, n, by, now_ms()).await?;
        let mut result = import.job.result.clone();
        result["reverted_by_job"] = json!(job);
        jobs::set_result(&self.db.pool, id, &result.to_string()).await?;
        self.job(actor, job).await
    }

    pub(crate) async fn run_import_revert(&self, job: &Job) -> AppResult<&'static str> {
        let full = jobs::get_with_params(&self.db.pool, job.id).await?;
        let spec: RevertSpec = serde_json::from_str(&full.params)
            .map_err(|e| AppError::Unexpected(format!("revert parameters: {e}")))?;
        let actor = self.job_actor(job).await?;
        if !actor.may_delete_records() {
            return Err(AppError::Forbidden(
                "the revert's user may no longer delete records".into(),
            ));
        }
        let defs = self.definitions().await?;
        let mut result: Value = serde_json::from_str(&job.result).unwrap_or_else(|_| json!({}));
        let mut cursor = job.cursor;
        let mut done = job.done;
        loop {
            if jobs::get(&self.db.pool, job.id).await?.cancel_requested {
                return Ok("cancelled");
            }
            let items = store::items(&self.db.pool, spec.import, cursor, CHUNK).await?;
            let Some(last) = items.last().map(|i| i.record_id) else {
                break;
            };
            let now = now_ms();
            let by = (actor.user_id > 0).then_some(actor.user_id);
            let mut tx = self.db.begin_write().await?;
            let created: Vec<i64> = items
                .iter()
                .filter(|i| i.action == "created")
                .map(|i| i.record_id)
                .collect();
            let deleted = bulk_ops::delete(&mut tx, &created).await?;
            bump(&mut result, "deleted", deleted.len() as i64);
            bump(
                &mut result,
                "already_gone",
                (created.len() - deleted.len()) as i64,
            );
            let updated: Vec<&store::Item> =
                items.iter().filter(|i| i.action == "updated").collect();
            let ids: Vec<i64> = updated.iter().map(|i| i.record_id).collect();
            let current = cards::by_ids(&mut *tx, self.db.backend, &ids).await?;
            let by_id: HashMap<i64, &cards::Card> = current.iter().map(|c| (c.id, c)).collect();
            let mut removals: HashMap<(bool, i64), Vec<i64>> = HashMap::new();
            for item in &updated {
                let Some(card) = by_id.get(&item.record_id) else {
                    bump(&mut result, "already_gone", 1);
                    continue;
                };
                let undo: Value = item
                    .undo
                    .as_deref()
                    .and_then(|u| serde_json::from_str(u).ok())
                    .unwrap_or_else(|| json!({}));
                for (name, campaign) in [("campaigns", true), ("segments", false)] {
                    for g in undo[name].as_array().into_iter().flatten() {
                        if let Some(g) = g.as_i64() {
                            removals.entry((campaign, g)).or_default().push(card.id);
                        }
                    }
                }
                let changes: Vec<FieldChange> =
                    serde_json::from_value(undo["changes"].clone()).unwrap_or_default();
                let mut patch = Map::new();
                for c in &changes {
                    if card.data.value_of(&c.field) == c.after {
                        patch.insert(c.field.clone(), c.before.clone());
                    } else {
                        bump(&mut result, "left_alone", 1);
                        let listed = result["changed_since"].as_array().map_or(0, Vec::len);
                        if listed < MAX_LISTED {
                            let mut list = result["changed_since"]
                                .as_array()
                                .cloned()
                                .unwrap_or_default();
                            list.push(json!({"id": card.public_id, "field": c.field}));
                            result["changed_since"] = Value::Array(list);
                        }
                    }
                }
                if patch.is_empty() {
                    continue;
                }
                let ctx = WriteContext {
                    kind: card.kind,
                    default_region: &self.settings.default_region,
                    zone: self.settings.zone,
                    custom_fields: &defs.custom,
                    dictionaries: &defs.dictionaries,
                    bound_by_flags: false,
                    creating: false,
                };
                let next: RecordData = match apply_patch(&card.data, &patch, &ctx) {
                    Ok((next, _)) => next,
                    Err(_) => {
                        // E.g. a dictionary entry removed since: the stored values are set as
                        // they were, field by field, without the write rules.
                        bump(&mut result, "left_alone", patch.len() as i64);
                        continue;
                    }
                };
                let changes = diff(&card.data, &next);
                if changes.is_empty() {
                    continue;
                }
                super::write_update(&mut tx, card, &next, &changes, &defs.custom_ids, now, by)
                    .await?;
                bump(&mut result, "restored", 1);
            }
            for ((campaign, group), records) in &removals {
                let kind = if *campaign {
                    GroupKind::Campaign
                } else {
                    GroupKind::Segment
                };
                let removed = bulk_ops::remove_members(&mut tx, kind, *group, records).await?;
                bump(&mut result, "memberships_removed", removed.len() as i64);
            }
            done += items.len() as i64;
            jobs::advance(&mut tx, job.id, last, done, &result.to_string(), now_ms()).await?;
            tx.commit().await?;
            cursor = last;
            self.publish_progress(job.id).await;
        }
        let mut tx = self.db.begin_write().await?;
        crate::audit::record(
            &mut tx,
            &actor,
            "revert_import",
            "job",
            Some(&spec.import.to_string()),
            json!({"job": job.id, "result": result}),
        )
        .await?;
        tx.commit().await?;
        Ok("done")
    }
}

fn bump(result: &mut Value, key: &str, by: i64) {
    result[key] = json!(result[key].as_i64().unwrap_or(0) + by);
}
