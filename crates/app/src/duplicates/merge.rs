//! Merging and deleting duplicates: one group by hand (with choices) or every ready group
//! of a search as a job. Each merge or delete is one journaled operation with the
//! snapshots its undo needs.

use std::collections::{BTreeMap, HashMap};

use kartoteka_domain::duplicates::{Choices, Member, differing, merge_data, value_source};
use kartoteka_domain::record::{RecordData, diff};
use kartoteka_domain::time::{now_ms, to_rfc3339};
use kartoteka_store::bulk_ops;
use kartoteka_store::cards::{self, Card};
use kartoteka_store::duplicates as dup_store;

use kartoteka_store::merge::{self, Image, Operation, Snapshot};
use kartoteka_store::records::RecordWrites;
use kartoteka_store::trigrams;
use serde_json::{Value, json};
use sqlx::AnyConnection;

use super::bulk::Phases;
use super::views::{MergePreview, MergeRequest, OperationView, PreviewField, PreviewMember};
use crate::events::Event;

use crate::records::Definitions;
use crate::{Actor, App, AppError, AppResult};

/// Which records a merge keeps, merges and deletes (internal IDs).
pub(crate) struct Plan {
    pub main: i64,
    pub merge: Vec<i64>,
    pub delete: Vec<i64>,
    pub choices: Choices,
}

impl Plan {
    fn ids(&self) -> Vec<i64> {
        std::iter::once(self.main)
            .chain(self.merge.iter().copied())
            .chain(self.delete.iter().copied())
            .collect()
    }
}

/// The records of one or more plans, locked and read with their snapshots.
pub(crate) struct Loaded {
    pub cards: HashMap<i64, Card>,
    pub images: HashMap<i64, Image>,
}

/// What applying a plan did.
pub(crate) struct Applied {
    pub operation: i64,
    pub main: String,
    pub main_version: i64,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

/// The writes of plans checked and staged, to run together by [`App::flush_plans`].
#[derive(Default)]
pub(crate) struct Staged {
    writes: RecordWrites,
    /// Per plan that merges: its main record's pairs, in merge order.
    links: Vec<Vec<merge::Pair>>,
    removed: Vec<i64>,
    ops: Vec<(Operation, Snapshot)>,
    /// What each plan did (its operation filled in by the flush), and the search group it
    /// resolves.
    applied: Vec<(Applied, Option<(i64, i64)>)>,
}

pub(crate) fn check_may_merge(actor: &Actor) -> AppResult<()> {
    if actor.may_delete_records() {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "merging and deleting records needs the \"delete records\" grant".into(),
        ))
    }
}

/// A refused merge: `code` (in the problem's details) tells why.
pub(super) fn conflict(code: &str, message: String) -> AppError {
    AppError::Conflict {
        message,
        details: serde_json::Map::from_iter([("code".to_string(), json!(code))]),
    }
}

fn mixed_kinds(main: &Card, other: &Card) -> AppError {
    AppError::invalid(
        "records",
        "mixed_kinds",
        format!(
            "{} is a {} and {} a {}: a person and an organization cannot be merged",
            main.public_id,
            main.kind.as_str(),
            other.public_id,
            other.kind.as_str()
        ),
    )
}

fn members_of(cards: &[&Card], images: &HashMap<i64, Image>) -> Vec<Member> {
    cards
        .iter()
        .map(|c| Member {
            public_id: c.public_id.clone(),
            data: c.data.clone(),
            created_at: c.created_at,
            changed: images
                .get(&c.id)
                .map(Image::field_changes)
                .unwrap_or_default(),
        })
        .collect()
}

fn data_json(data: &RecordData) -> Value {
    let mut fields = serde_json::Map::new();
    for (k, v) in &data.fields {
        fields.insert(k.clone(), json!(v));
    }
    for (k, v) in &data.custom {
        fields.insert(format!("custom.{k}"), json!(v));
    }
    json!({
        "fields": fields,
        "phones": data.phones,
        "emails": data.emails,
        "tags": data.tags,
        "managers": data.managers,
        "organization": data.organization,
    })
}

impl App {
    /// Resolves a hand-made request into a plan (IDs, main record) and the cards involved.
    async fn plan_of(
        &self,
        conn: &mut AnyConnection,
        req: &MergeRequest,
    ) -> AppResult<(Plan, Vec<Card>)> {
        let mut wanted: Vec<String> = req.records.clone();
        if let Some(m) = &req.main
            && !wanted.contains(m)
        {
            wanted.insert(0, m.clone());
        }
        for d in &req.delete {
            if !wanted.contains(d) {
                wanted.push(d.clone());
            }
        }
        if wanted.len() < 2 {
            return Err(AppError::invalid(
                "records",
                "too_few",
                "choose at least two records",
            ));
        }
        let found = bulk_ops::resolve(conn, &wanted).await?;
        if let Some(missing) = wanted.iter().find(|p| !found.contains_key(*p)) {
            return Err(AppError::invalid(
                "records",
                "not_found",
                format!("no record {missing}"),
            ));
        }
        let ids: Vec<i64> = wanted
            .iter()
            .filter_map(|p| found.get(p).copied())
            .collect();
        let cards = cards::by_ids(&mut *conn, self.db.backend, &ids).await?;
        let main_pid = match &req.main {
            Some(m) => m.clone(),
            None => cards
                .iter()
                .filter(|c| !req.delete.contains(&c.public_id))
                .min_by(|a, b| (a.created_at, &a.public_id).cmp(&(b.created_at, &b.public_id)))
                .map(|c| c.public_id.clone())
                .ok_or_else(|| {
                    AppError::invalid("main", "required", "no record is left to keep")
                })?,
        };
        if req.delete.contains(&main_pid) {
            return Err(AppError::invalid(
                "main",
                "invalid",
                "the main record cannot be deleted",
            ));
        }
        let id_of = |p: &String| found.get(p).copied();
        let plan = Plan {
            main: id_of(&main_pid)
                .ok_or_else(|| AppError::invalid("main", "not_found", "no such record"))?,
            merge: wanted
                .iter()
                .filter(|p| **p != main_pid && !req.delete.contains(p))
                .filter_map(id_of)
                .collect(),
            delete: req.delete.iter().filter_map(id_of).collect(),
            choices: req.choices.clone(),
        };
        Ok((plan, cards))
    }

    /// What merging the request would do, without doing it.
    pub async fn merge_preview(
        &self,
        actor: &Actor,
        req: &MergeRequest,
    ) -> AppResult<MergePreview> {
        check_may_merge(actor)?;
        let mut conn = self.db.pool.acquire().await?;
        let (plan, cards) = self.plan_of(&mut conn, req).await?;
        let by_id: HashMap<i64, &Card> = cards.iter().map(|c| (c.id, c)).collect();
        let main = by_id
            .get(&plan.main)
            .copied()
            .ok_or_else(|| AppError::NotFound("the main record".into()))?;
        let merging: Vec<&Card> = std::iter::once(plan.main)
            .chain(plan.merge.iter().copied())
            .filter_map(|i| by_id.get(&i).copied())
            .collect();
        let ids: Vec<i64> = merging.iter().map(|c| c.id).collect();
        let images =
            merge::images(&mut conn, self.db.backend, self.db.reader.as_ref(), &ids).await?;
        if let Some(other) = merging.iter().find(|c| c.kind != main.kind) {
            return Err(mixed_kinds(main, other));
        }
        let members = members_of(&merging, &images);
        let (data, sources) = merge_data(&members, &plan.choices);
        let values_from: BTreeMap<String, String> = sources
            .into_iter()
            .filter(|(_, src)| *src != main.public_id)
            .collect();
        let unmasked = actor.sees_national_ids();
        let show = |k: &str, v: &str| {
            if k == "pesel" && !unmasked {
                crate::views::mask_pesel(v)
            } else {
                v.to_string()
            }
        };
        let fields = differing(&members)
            .into_iter()
            .map(|(k, values)| PreviewField {
                chosen: value_source(&members, &k, &plan.choices)
                    .map(|i| members[i].public_id.clone()),
                values: values
                    .iter()
                    .map(|(r, v)| json!({"record": r, "value": show(&k, v)}))
                    .collect(),
                field: k,
            })
            .collect();
        let role = |c: &Card| {
            if c.id == plan.main {
                "main"
            } else if plan.delete.contains(&c.id) {
                "delete"
            } else {
                "merge"
            }
        };
        let mut result = data_json(&data);
        if !unmasked && let Some(p) = result["fields"].get_mut("pesel") {
            *p = json!(crate::views::mask_pesel(p.as_str().unwrap_or_default()));
        }
        Ok(MergePreview {
            main: main.public_id.clone(),
            members: cards
                .iter()
                .map(|c| PreviewMember {
                    id: c.public_id.clone(),
                    display_name: c.display_name.clone(),
                    kind: c.kind.as_str().to_string(),
                    created_at: to_rfc3339(c.created_at),
                    version: c.version,
                    role: role(c).to_string(),
                    phones: c.data.phones.iter().map(|p| p.number.clone()).collect(),
                    emails: c.data.emails.iter().map(|e| e.address.clone()).collect(),
                    campaigns: c.campaigns.iter().map(|(_, n)| n.clone()).collect(),
                    segments: c.segments.iter().map(|(_, n)| n.clone()).collect(),
                })
                .collect(),
            fields,
            result,
            merged: plan
                .merge
                .iter()
                .filter_map(|i| by_id.get(i).map(|c| c.public_id.clone()))
                .collect(),
            deleted: plan
                .delete
                .iter()
                .filter_map(|i| by_id.get(i).map(|c| c.public_id.clone()))
                .collect(),
            values_from,
        })
    }

    /// Merges (and deletes) records chosen by hand, in one transaction and one operation.
    pub async fn merge_records(
        &self,
        actor: &Actor,
        req: &MergeRequest,
    ) -> AppResult<OperationView> {
        check_may_merge(actor)?;
        let defs = self.definitions().await?;
        let mut tx = self.db.begin_write().await?;
        let (plan, _) = self.plan_of(&mut tx, req).await?;
        let mut loaded = self.load(&mut tx, &plan.ids()).await?;
        let mut staged = Staged::default();
        let group = req.search.zip(req.group);
        self.stage_plan(
            &mut tx,
            actor,
            &plan,
            None,
            group,
            &defs,
            &req.versions,
            &mut loaded,
            &mut staged,
        )
        .await?;
        let applied = self
            .flush_plans(&mut tx, staged, None, &mut Phases::default())
            .await?
            .pop()
            .ok_or_else(|| AppError::Unexpected("a staged merge did not apply".into()))?;
        crate::audit::record(
            &mut tx,
            actor,
            if plan.merge.is_empty() { "delete_duplicates" } else { "merge" },
            "record",
            Some(&applied.main),
            json!({"operation": applied.operation, "removed": applied.removed, "changed": applied.changed}),
        )
        .await?;
        let (op, _) = merge::operation(&mut tx, self.db.backend, applied.operation).await?;
        tx.commit().await?;
        self.publish_applied(actor, &applied);
        Ok(OperationView::new(&op, self.settings.undo_window_ms))
    }

    pub(crate) fn publish_applied(&self, actor: &Actor, applied: &Applied) {
        if !applied.changed.is_empty() {
            self.events.publish(Event::RecordUpdated {
                id: applied.main.clone(),
                version: applied.main_version,
                by: actor.username.clone(),
                fields: applied.changed.clone(),
            });
        }
        for r in &applied.removed {
            self.events.publish(Event::RecordDeleted {
                id: r.clone(),
                by: actor.username.clone(),
            });
        }
    }

    /// Locks and reads records (cards and snapshots) for plans applied next.
    pub(crate) async fn load(&self, tx: &mut AnyConnection, ids: &[i64]) -> AppResult<Loaded> {
        merge::lock_ids(&mut *tx, self.db.backend, ids).await?;
        // The transaction has not written yet: the reader sees what it sees.
        let images = merge::images(&mut *tx, self.db.backend, self.db.reader.as_ref(), ids).await?;
        // The cards from the same rows (reading them again was a third of the reading).
        let cards = merge::cards_of_images(&mut *tx, self.db.backend, &images).await?;
        #[cfg(debug_assertions)]
        {
            // Tests check that they are the cards as read directly.
            let direct: HashMap<i64, Card> = cards::by_ids(&mut *tx, self.db.backend, ids)
                .await?
                .into_iter()
                .map(|c| (c.id, c))
                .collect();
            if let Some((id, card)) = cards.iter().find(|(id, c)| direct.get(*id) != Some(*c)) {
                return Err(AppError::Unexpected(format!(
                    "the card of record {id} built from its snapshot differs from the one read: {card:?} / {:?}",
                    direct.get(id)
                )));
            }
            if cards.len() != direct.len() {
                return Err(AppError::Unexpected(
                    "a card is missing from the snapshots".into(),
                ));
            }
        }
        Ok(Loaded { cards, images })
    }

    /// Checks a plan and stages its writes into `staged`: the main record takes the merged
    /// data, the merged records' links move to it, the merged and deleted records go, and
    /// the operation is journaled with its snapshots. Nothing is staged when it is refused
    /// (a record gone or changed since the versions given, persons mixed with organizations).
    /// `group` is the search group (search, position) it resolves.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn stage_plan(
        &self,
        tx: &mut AnyConnection,
        actor: &Actor,
        plan: &Plan,
        job: Option<i64>,
        group: Option<(i64, i64)>,
        defs: &Definitions,
        versions: &BTreeMap<String, i64>,
        loaded: &mut Loaded,
        staged: &mut Staged,
    ) -> AppResult<()> {
        let all = plan.ids();
        // The chunk's cards as they are (a map of them per plan grew with the square of a
        // bulk transaction's groups).
        let by_id = &loaded.cards;
        if all.iter().any(|i| !by_id.contains_key(i)) {
            return Err(conflict(
                "record_gone",
                "a record of this merge no longer exists (merged or deleted meanwhile); review the group again".into(),
            ));
        }
        let images = &loaded.images;
        for c in all.iter().map(|i| &by_id[i]) {
            if let Some(v) = versions.get(&c.public_id)
                && *v != c.version
            {
                return Err(AppError::Conflict {
                    message: format!(
                        "record {} changed since you opened it (version {v}, now {}); review the merge again",
                        c.public_id, c.version
                    ),
                    details: serde_json::Map::from_iter([
                        ("code".to_string(), json!("stale_version")),
                        ("record".to_string(), json!(c.public_id)),
                        ("version".to_string(), json!(c.version)),
                    ]),
                });
            }
        }
        let main = &by_id[&plan.main];
        if let Some(other) = plan
            .merge
            .iter()
            .map(|i| &by_id[i])
            .find(|c| c.kind != main.kind)
        {
            return Err(mixed_kinds(main, other));
        }
        let now = now_ms();
        let by = (actor.user_id > 0).then_some(actor.user_id);
        let mut main_version = main.version;
        let mut changed: Vec<String> = Vec::new();
        let mut summary = json!({});
        if !plan.merge.is_empty() {
            let merging: Vec<&Card> = std::iter::once(main)
                .chain(plan.merge.iter().map(|i| &by_id[i]))
                .collect();
            let members = members_of(&merging, images);
            let (data, sources) = merge_data(&members, &plan.choices);
            let changes = diff(&main.data, &data);
            if !changes.is_empty() {
                main_version = crate::imports::stage_update(
                    tx,
                    &mut staged.writes,
                    main,
                    &data,
                    &changes,
                    &defs.custom_ids,
                    now,
                    by,
                )
                .await?;
                changed = changes.iter().map(|c| c.field.clone()).collect();
            }
            let empty = Image::default();
            staged.links.push(
                plan.merge
                    .iter()
                    .map(|i| {
                        let image = images.get(i).unwrap_or(&empty);
                        merge::Pair::new(plan.main, *i, &by_id[i].public_id, image)
                    })
                    .collect(),
            );
            let taken: BTreeMap<&String, &String> = sources
                .iter()
                .filter(|(k, src)| **src != main.public_id && changed.contains(k))
                .collect();
            summary = json!({
                "changed": changed,
                "values_from": taken,
                "phones_added": data.phones.len().saturating_sub(main.data.phones.len()),
                "emails_added": data.emails.len().saturating_sub(main.data.emails.len()),
            });
        }
        let removed_ids: Vec<i64> = plan.merge.iter().chain(&plan.delete).copied().collect();
        staged.removed.extend(&removed_ids);
        let pid = |ids: &[i64]| -> Vec<String> {
            ids.iter().map(|i| by_id[i].public_id.clone()).collect()
        };
        let merged = pid(&plan.merge);
        let deleted = pid(&plan.delete);
        summary["merged"] = json!(merged);
        summary["deleted"] = json!(deleted);
        // The images go into the journal (each record is in one plan of a chunk).
        let snapshot = Snapshot {
            main: if plan.merge.is_empty() {
                None
            } else {
                loaded.images.remove(&plan.main)
            },
            removed: removed_ids
                .iter()
                .filter_map(|i| loaded.images.remove(i))
                .collect(),
        };
        let removed: Vec<String> = merged.iter().chain(&deleted).cloned().collect();
        let op = Operation {
            id: 0,
            job_id: job,
            action: if plan.merge.is_empty() {
                "delete"
            } else {
                "merge"
            }
            .into(),
            at: now,
            user_id: by,
            username: actor.username.clone(),
            main_record_id: Some(plan.main),
            main_public_id: main.public_id.clone(),
            main_version: Some(main_version),
            removed: removed.clone(),
            summary,
            undone_at: None,
            undone_by: None,
            purged_at: None,
        };
        staged.ops.push((op, snapshot));
        staged.applied.push((
            Applied {
                operation: 0,
                main: main.public_id.clone(),
                main_version,
                changed,
                removed,
            },
            group,
        ));
        Ok(())
    }

    /// Runs staged plans' writes, in an order that keeps each plan's meaning: the main
    /// records' rows and collections, the links moved (before anything is deleted, so that
    /// a link between records removed by two plans is not lost), the removed records
    /// deleted, the operations journaled and their groups marked resolved.
    /// With `trigrams` (the trigram triggers suspended for the transaction), it writes the
    /// trigrams of the records removed and changed before returning.
    pub(crate) async fn flush_plans(
        &self,
        tx: &mut AnyConnection,
        staged: Staged,
        trigrams: Option<trigrams::Suspended>,
        phases: &mut Phases,
    ) -> AppResult<Vec<Applied>> {
        let changed: HashMap<&str, Vec<i64>> = trigrams::TRIGRAM_TABLES
            .iter()
            .map(|(_, key)| (*key, staged.writes.updated_with(key)))
            .collect();
        staged.writes.run(tx).await?;
        phases.lap("writing");
        merge::move_links(&mut *tx, self.db.backend, &staged.links).await?;
        phases.lap("moving");
        merge::delete_records(&mut *tx, self.db.backend, &staged.removed).await?;
        phases.lap("deleting");
        if let Some(t) = trigrams {
            t.resume(&mut *tx, &staged.removed, |key| {
                changed.get(key).cloned().unwrap_or_default()
            })
            .await?;
            phases.lap("trigrams");
        }
        let ids = merge::insert_operations(&mut *tx, &staged.ops).await?;
        phases.lap("journaling");
        let mut by_search: BTreeMap<i64, Vec<(i64, i64)>> = BTreeMap::new();
        let mut out = Vec::with_capacity(ids.len());
        for ((mut applied, group), id) in staged.applied.into_iter().zip(ids) {
            applied.operation = id;
            if let Some((search, position)) = group {
                by_search.entry(search).or_default().push((position, id));
            }
            out.push(applied);
        }
        for (search, resolved) in by_search {
            dup_store::resolve_groups(&mut *tx, search, &resolved).await?;
        }
        phases.lap("marking groups");
        Ok(out)
    }

    /// Records' operations (merges and deletes naming them), or all, newest first.
    pub async fn merge_operations(
        &self,
        actor: &Actor,
        job: Option<i64>,
        record: Option<&str>,
    ) -> AppResult<Vec<OperationView>> {
        crate::duplicates::check_may_find(actor)?;
        let mut conn = self.db.pool.acquire().await?;
        let ops = merge::operations(&mut conn, job, record, 200).await?;
        Ok(ops
            .iter()
            .map(|o| OperationView::new(o, self.settings.undo_window_ms))
            .collect())
    }

    /// One operation.
    pub async fn merge_operation(&self, actor: &Actor, id: i64) -> AppResult<OperationView> {
        crate::duplicates::check_may_find(actor)?;
        let mut conn = self.db.pool.acquire().await?;
        let (op, _) = merge::operation(&mut conn, self.db.backend, id)
            .await
            .map_err(|_| AppError::NotFound(format!("operation {id}")))?;
        Ok(OperationView::new(&op, self.settings.undo_window_ms))
    }
}
