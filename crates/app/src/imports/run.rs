//! The import job: a reader thread streams the file's rows and turns them into records
//! (`domain::import`), the job matches, creates and updates them a chunk at a time, up to
//! five chunks a transaction. The cursor (the last row number done) moves with each
//! chunk's writes and commits with them, so a resumed import starts after the last
//! committed row and never takes a row twice.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use kartoteka_domain::cell::Cell;
use kartoteka_domain::field::FieldDefinition;
use kartoteka_domain::ids::PublicId;
use kartoteka_domain::import::{self, ConvertedRow, MatchKey, Target};
use kartoteka_domain::record::{RecordKind, WriteContext, apply_patch, diff};
use kartoteka_domain::time::now_ms;
use kartoteka_sheets::Format;
use kartoteka_store::bulk::{self, NewCase, NewRecord};
use kartoteka_store::cards;
use kartoteka_store::groups::GroupKind;
use kartoteka_store::imports::{self as store, Failure, Item};
use kartoteka_store::jobs::{self, Job};
use kartoteka_store::{Backend, bulk_ops};
use serde_json::{Value, json};
use sqlx::AnyConnection;

use super::reader::{Batch, ReadRow, estimate_rows, read_rows};
use super::{ImportSpec, dialect, parse_kind, parse_mapping};
use crate::deferred::Deferred;
use crate::{Actor, App, AppError, AppResult};

/// A transaction takes chunks until it holds this many (50,000 rows), or has been open
/// this long: a writer of a SQLite base in use waits at most about that long (a 10,000-row
/// chunk into a base of 1M records takes ~0.8 s). Each commit writes every index page the
/// transaction changed, and into a base in use one chunk changes most pages of the
/// random-key indexes (public ID, phone, e-mail …): 1M rows into 1M records took 158 s at
/// one chunk a commit, 122 s at five (with the child rows gathered, see
/// `bulk::SqliteWriter`).
pub(super) const TX_CHUNKS: usize = 5;
pub(super) const TX_OPEN: std::time::Duration = std::time::Duration::from_secs(5);
/// An import of at least `Settings::import_defer_rows` rows into an empty base builds its
/// indexes at the end; into a base in use when it is at least 1/this of the base's size
/// (its list's filter indexes then cost more kept live than rebuilt).
const DEFER_FILTERS_RATIO: i64 = 2;
/// Record IDs an import's audit entry lists (the journal holds them all).
const AUDITED_RECORDS: usize = 10_000;

/// The record a row matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Found {
    Stored(i64),
    /// Created by an earlier row of this chunk (index into the chunk's creations).
    New(usize),
    /// A dry run: created by a row of an earlier chunk (never written).
    Earlier(u64),
}

/// What the import counts (kept in the job's result, so a resumed job continues them).
#[derive(Debug, Default)]
pub(crate) struct Counts {
    pub rows: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub skipped: i64,
    pub failed: i64,
    pub blank: i64,
    pub invalid_cells: i64,
    pub repairs: BTreeMap<String, i64>,
}

impl Counts {
    fn from_result(v: &Value) -> Counts {
        let n = |k: &str| v[k].as_i64().unwrap_or(0);
        Counts {
            rows: n("rows"),
            created: n("created"),
            updated: n("updated"),
            unchanged: n("unchanged"),
            skipped: n("skipped"),
            failed: n("failed"),
            blank: n("blank"),
            invalid_cells: n("invalid_cells"),
            repairs: v["repairs"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_i64().unwrap_or(0)))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    pub(super) fn to_result(&self, dry_run: bool) -> Value {
        json!({
            "dry_run": dry_run,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "failed": self.failed,
            "blank": self.blank,
            "invalid_cells": self.invalid_cells,
            "repairs": self.repairs,
        })
    }
}

/// What the chunks of one run share.
pub(super) struct Run<'a> {
    pub(super) job: &'a Job,
    pub(super) spec: &'a ImportSpec,
    pub(super) actor: &'a Actor,
    keys: Vec<MatchKey>,
    custom: &'a [FieldDefinition],
    pub(super) custom_ids: &'a HashMap<String, i64>,
    dictionaries: &'a BTreeMap<String, Vec<(String, String)>>,
    /// Dry runs: match-key values of rows created by earlier chunks.
    earlier: HashMap<(MatchKey, String), u64>,
}

impl Run<'_> {
    /// Whether the import goes through the backend's own writer (`imports/fast.rs`: SQLite's
    /// rusqlite statements, PostgreSQL's COPY): an import that only creates (no match key
    /// reads the rows of an earlier chunk, and nothing is rolled back chunk by chunk).
    fn only_creates(&self) -> bool {
        self.keys.is_empty() && !self.spec.dry_run
    }
}

impl App {
    pub(crate) async fn run_import(&self, job: &Job) -> AppResult<&'static str> {
        let full = jobs::get_with_params(&self.db.pool, job.id).await?;
        let spec: ImportSpec = serde_json::from_str(&full.params)
            .map_err(|e| AppError::Unexpected(format!("import parameters: {e}")))?;
        let actor = self.job_actor(job).await?;
        if !actor.may_use_record_base() {
            return Err(AppError::Forbidden(
                "the import's user no longer has access to the record base".into(),
            ));
        }
        let defs = self.definitions().await?;
        let mapping = parse_mapping(&spec.mapping, &defs.custom)?;
        let kind = parse_kind(spec.kind.as_deref())?;
        let format = Format::parse(&spec.format)
            .ok_or_else(|| AppError::Unexpected("import format".into()))?;
        let csv = dialect(
            spec.encoding.as_deref(),
            spec.delimiter.as_deref(),
            None,
            None,
        )?;
        let keys = spec
            .match_keys
            .iter()
            .map(|k| MatchKey::parse(k).map_err(|e| AppError::field("match", e)))
            .collect::<AppResult<Vec<_>>>()?;
        let mut counts =
            Counts::from_result(&serde_json::from_str(&job.result).unwrap_or_else(|_| json!({})));
        let mut done = job.done;

        // The reader: its own thread, a few chunks ahead of the writes.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Batch>(1);
        let path = PathBuf::from(&spec.path);
        let sheet = spec.sheet.clone();
        let after = job.cursor as u64;
        let (custom, dictionaries) = (defs.custom.clone(), defs.dictionaries.clone());
        let (region, zone, bound) = (
            self.settings.default_region.clone(),
            self.settings.zone,
            actor.bound_by_field_flags(),
        );
        let reader = std::thread::spawn(move || {
            let ctx = import::RowContext {
                write: WriteContext {
                    kind: kind.unwrap_or(RecordKind::Person),
                    default_region: &region,
                    zone,
                    custom_fields: &custom,
                    dictionaries: &dictionaries,
                    bound_by_flags: bound,
                    creating: true,
                },
                kind,
            };
            read_rows(
                &path,
                format,
                sheet.as_deref(),
                csv,
                after,
                &mapping,
                &ctx,
                &tx,
            );
        });
        let estimate = match job.total {
            0 => estimate_rows(&spec.path, format),
            n => Some(n),
        };
        if job.total == 0
            && let Some(total) = estimate
        {
            jobs::set_total(&self.db.pool, job.id, total).await?;
        }
        let deferred = self.defer_indexes_for(&spec, estimate).await?;

        let mut run = Run {
            job,
            spec: &spec,
            actor: &actor,
            keys,
            custom: &defs.custom,
            custom_ids: &defs.custom_ids,
            dictionaries: &defs.dictionaries,
            earlier: HashMap::new(),
        };
        let outcome = if run.only_creates() {
            self.write_creates(&run, &mut rx, &mut counts, &mut done)
                .await
        } else {
            self.write_chunks(&mut run, &mut rx, &mut counts, &mut done)
                .await
        };
        drop(rx);
        let _ = reader.join();
        if let Some(d) = deferred {
            self.build_deferred(d, job.id).await?;
        }
        let state = outcome?;
        if state == "done" {
            jobs::set_total(&self.db.pool, job.id, done).await?;
            if !spec.dry_run {
                self.audit_import(job, &spec, &actor, &counts).await?;
            }
        }
        Ok(state)
    }

    /// Writes the chunks through a pool connection of the import's own, on either backend
    /// (matching rows to stored records, dry runs).
    async fn write_chunks(
        &self,
        run: &mut Run<'_>,
        rx: &mut tokio::sync::mpsc::Receiver<Batch>,
        counts: &mut Counts,
        done: &mut i64,
    ) -> AppResult<&'static str> {
        let (job, spec) = (run.job, run.spec);
        // One connection for the whole import: its page cache is the only one that grows.
        // (A WAL checkpointed in large steps, as the bulk merge's, made no difference here:
        // 300k rows into a 300k base took 57.7 s with it, 56.6 s without.)
        let mut conn = self.db.import_connection().await?;
        let mut outcome = Ok("done");
        let mut next = rx.recv().await;
        while next.is_some() {
            // Up to TX_CHUNKS chunks a transaction (a dry run rolls back each one).
            let mut db_tx = self.db.begin_write_on(&mut conn).await?;
            let opened = std::time::Instant::now();
            let mut chunks = 0;
            let mut rolled_back = None;
            while let Some(batch) = next.take() {
                let rows = match batch {
                    Batch::Rows(r) => r,
                    Batch::Failed(e) => {
                        outcome = Err(e);
                        break;
                    }
                };
                if jobs::get(&self.db.pool, job.id).await?.cancel_requested {
                    outcome = Ok("cancelled");
                    break;
                }
                let last = rows.last().map(|r| r.number).unwrap_or(0) as i64;
                let n = rows.len() as i64;
                self.import_chunk(&mut db_tx, run, rows, counts).await?;
                *done += n;
                let result = counts.to_result(spec.dry_run).to_string();
                if spec.dry_run {
                    rolled_back = Some((last, result));
                    break;
                }
                jobs::advance(&mut db_tx, job.id, last, *done, &result, now_ms()).await?;
                chunks += 1;
                if chunks >= TX_CHUNKS || opened.elapsed() >= TX_OPEN {
                    break;
                }
                next = rx.recv().await;
            }
            if spec.dry_run {
                db_tx.rollback().await?;
                if let Some((last, result)) = rolled_back {
                    jobs::advance(&mut conn, job.id, last, *done, &result, now_ms()).await?;
                }
            } else {
                db_tx.commit().await?;
            }
            // A transaction's rows, parameters and JSON texts (tens of MB) were freed
            // across several threads' arenas; glibc would keep each arena at its largest
            // (session 10: 200k rows into a 1M base peaked at 398 MB of RSS with 223 MB of
            // heap).
            crate::jobs::release_freed_memory();
            self.publish_progress(job.id).await;
            if !matches!(outcome, Ok("done")) {
                break;
            }
            next = rx.recv().await;
        }
        outcome
    }

    /// A large import loads like the demo data: into an empty base, the secondary indexes
    /// go for the load and are built once at its end (SQLite's trigram triggers stay);
    /// into a base in use, at least half its size, only the list's filter and sort indexes
    /// go (`bulk::FILTER_INDEXES`), so that cards, caller identification and campaigns stay
    /// fast while it runs. Indexes the import's match keys read stay. If the server dies
    /// meanwhile, the next start builds them.
    async fn defer_indexes_for(
        &self,
        spec: &ImportSpec,
        estimate: Option<i64>,
    ) -> AppResult<Option<Deferred>> {
        // Workbooks: about 100 bytes a row once compressed.
        let rows = match estimate {
            Some(n) => n,
            None => std::fs::metadata(&spec.path)
                .map(|m| m.len() as i64 / 100)
                .unwrap_or(0),
        };
        if spec.dry_run || rows < self.settings.import_defer_rows {
            return Ok(None);
        }
        let base: i64 = sqlx::query("SELECT COUNT(*) FROM records")
            .fetch_one(&self.db.pool)
            .await
            .and_then(|r| sqlx::Row::try_get::<i64, _>(&r, 0))
            .map_err(kartoteka_store::StoreError::from)?;
        if base > 0 && rows * DEFER_FILTERS_RATIO < base {
            return Ok(None);
        }
        let keep: Vec<&'static str> = spec
            .match_keys
            .iter()
            .map(|k| match k.as_str() {
                "phone" => "phones_number",
                "email" => "emails_norm",
                "external_id" => "records_external",
                "pesel" => "records_pesel",
                _ => "records_nip",
            })
            .collect();
        Ok(Some(self.defer_indexes(base == 0, keep).await?))
    }

    async fn audit_import(
        &self,
        job: &Job,
        spec: &ImportSpec,
        actor: &Actor,
        counts: &Counts,
    ) -> AppResult<()> {
        let items = store::items(&self.db.pool, job.id, 0, AUDITED_RECORDS as i64 + 1).await?;
        let ids: Vec<i64> = items.iter().map(|i| i.record_id).collect();
        let mut conn = self.db.pool.acquire().await?;
        let public =
            bulk_ops::public_ids(&mut conn, &ids[..ids.len().min(AUDITED_RECORDS)]).await?;
        let mut tx = self.db.begin_write().await?;
        crate::audit::record(
            &mut tx,
            actor,
            "import",
            "job",
            Some(&job.id.to_string()),
            json!({
                "file": spec.file_name,
                "source_label": spec.source_label,
                "result": counts.to_result(false),
                "records": public,
                "records_truncated": ids.len() > AUDITED_RECORDS,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One chunk: failures noted, rows matched, records created and updated, journalled.
    async fn import_chunk(
        &self,
        tx: &mut AnyConnection,
        run: &mut Run<'_>,
        rows: Vec<ReadRow>,
        counts: &mut Counts,
    ) -> AppResult<()> {
        let spec = run.spec;
        let (valid, mut failures) = sort_rows(spec, rows, counts);

        // Stored records holding the rows' match-key values.
        let mut stored: HashMap<(MatchKey, String), Vec<i64>> = HashMap::new();
        for key in &run.keys {
            let mut values: Vec<String> =
                valid.iter().flat_map(|r| key.values(&r.row.data)).collect();
            values.sort();
            values.dedup();
            for chunk in values.chunks(5000) {
                for (v, id) in store::lookup(tx, key.as_str(), chunk).await? {
                    stored.entry((*key, v)).or_default().push(id);
                }
            }
        }

        let now = now_ms();
        let by = (run.actor.user_id > 0).then_some(run.actor.user_id);
        let mut creates: Vec<NewRecord> = Vec::new();
        // The row number that created each of `creates`.
        let mut created_rows: Vec<u64> = Vec::new();
        let mut pending: HashMap<(MatchKey, String), usize> = HashMap::new();
        // Stored records to update: each with the rows that update it, in order.
        let mut updates: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
        for (i, r) in valid.iter().enumerate() {
            let mut matched: Option<Found> = None;
            let mut ambiguous = false;
            for key in &run.keys {
                let mut found: Vec<Found> = Vec::new();
                for v in key.values(&r.row.data) {
                    let k = (*key, v);
                    if let Some(ids) = stored.get(&k) {
                        found.extend(ids.iter().map(|id| Found::Stored(*id)));
                    }
                    if let Some(idx) = pending.get(&k) {
                        found.push(Found::New(*idx));
                    }
                    if let Some(row) = run.earlier.get(&k) {
                        found.push(Found::Earlier(*row));
                    }
                }
                found.sort();
                found.dedup();
                match found.len() {
                    0 => continue,
                    1 => matched = found.first().copied(),
                    _ => ambiguous = true,
                }
                break;
            }
            if ambiguous {
                failures.push(failure(
                    spec,
                    &r.number,
                    &r.cells,
                    &[import::CellError {
                        column: usize::MAX,
                        code: "ambiguous_match".into(),
                        message: "the row matches more than one record".into(),
                    }],
                ));
                continue;
            }
            match (matched, spec.on_match.as_str()) {
                (None, _) | (Some(_), "create") => {
                    let idx = creates.len();
                    for key in &run.keys {
                        for v in key.values(&r.row.data) {
                            pending.entry((*key, v)).or_insert(idx);
                        }
                    }
                    creates.push(new_record(spec, &r.row, now, by));
                    created_rows.push(r.number);
                }
                (Some(_), "skip") => counts.skipped += 1,
                (Some(Found::Stored(id)), _) => updates.entry(id).or_default().push(i),
                (Some(Found::New(idx)), _) => {
                    // A later row of the same record created in this chunk: merged in.
                    let target = &mut creates[idx];
                    let patch = import::update_patch(&target.data, &r.row);
                    let ctx = self.write_context(run, target.kind, true);
                    match apply_patch(&target.data, &patch, &ctx) {
                        Ok((next, _)) => {
                            target.data = next;
                            counts.updated += 1;
                        }
                        Err(errors) => failures.push(patch_failure(spec, r, &errors)),
                    }
                }
                (Some(Found::Earlier(_)), _) => counts.updated += 1,
            }
        }

        // A dry run writes nothing: later chunks find this chunk's creations here.
        if spec.dry_run {
            for ((key, value), idx) in &pending {
                run.earlier
                    .insert((*key, value.clone()), created_rows[*idx]);
            }
        }

        // Updates of stored records.
        let mut items: Vec<Item> = Vec::new();
        if !updates.is_empty() {
            let ids: Vec<i64> = updates.keys().copied().collect();
            let current = cards::by_ids(&mut *tx, self.db.backend, &ids).await?;
            let mut added_to: Vec<i64> = Vec::new();
            for card in &current {
                let Some(rows) = updates.get(&card.id) else {
                    continue;
                };
                let mut next = card.data.clone();
                let mut took = 0;
                for &i in rows {
                    let r = &valid[i];
                    let patch = import::update_patch(&next, &r.row);
                    let ctx = self.write_context(run, card.kind, false);
                    match apply_patch(&next, &patch, &ctx) {
                        Ok((n, _)) => {
                            next = n;
                            took += 1;
                        }
                        Err(errors) => failures.push(patch_failure(spec, r, &errors)),
                    }
                }
                if took == 0 {
                    continue;
                }
                added_to.push(card.id);
                let changes = diff(&card.data, &next);
                if changes.is_empty() {
                    counts.unchanged += took;
                    continue;
                }
                counts.updated += took;
                let version =
                    super::write_update(tx, card, &next, &changes, run.custom_ids, now, by).await?;
                items.push(Item {
                    record_id: card.id,
                    action: "updated".into(),
                    undo: Some(json!({"version": version, "changes": changes}).to_string()),
                });
            }
            // Records no longer there (deleted meanwhile) count as failed rows.
            for (id, rows) in &updates {
                if !current.iter().any(|c| c.id == *id) {
                    for &i in rows {
                        let r = &valid[i];
                        failures.push(failure(
                            spec,
                            &r.number,
                            &r.cells,
                            &[import::CellError {
                                column: usize::MAX,
                                code: "record_gone".into(),
                                message: "the matching record was deleted meanwhile".into(),
                            }],
                        ));
                    }
                }
            }
            // Campaigns and segments are added to updated records too.
            let mut memberships = json!({});
            for (kind, groups, name) in [
                (GroupKind::Campaign, &spec.campaigns, "campaigns"),
                (GroupKind::Segment, &spec.segments, "segments"),
            ] {
                for g in groups {
                    let added = bulk_ops::add_members(tx, kind, *g, &added_to, now).await?;
                    for id in added {
                        let list = memberships[name][id.to_string()]
                            .as_array()
                            .cloned()
                            .unwrap_or_default();
                        let mut list = list;
                        list.push(json!(g));
                        memberships[name][id.to_string()] = Value::Array(list);
                    }
                }
            }
            for id in &added_to {
                let campaigns = memberships["campaigns"][id.to_string()].clone();
                let segments = memberships["segments"][id.to_string()].clone();
                if campaigns.is_null() && segments.is_null() {
                    continue;
                }
                match items.iter_mut().find(|i| i.record_id == *id) {
                    Some(item) => {
                        let mut undo: Value = item
                            .undo
                            .as_deref()
                            .and_then(|u| serde_json::from_str(u).ok())
                            .unwrap_or_else(|| json!({}));
                        undo["campaigns"] = campaigns;
                        undo["segments"] = segments;
                        item.undo = Some(undo.to_string());
                    }
                    None => items.push(Item {
                        record_id: *id,
                        action: "updated".into(),
                        undo: Some(
                            json!({"changes": [], "campaigns": campaigns, "segments": segments})
                                .to_string(),
                        ),
                    }),
                }
            }
        }

        counts.failed += failures.len() as i64;
        counts.created += creates.len() as i64;
        if !creates.is_empty() {
            let first = bulk::next_record_id(tx).await?;
            let ids = bulk::insert_records(tx, first, &mut creates, run.custom_ids).await?;
            if self.db.backend == Backend::Postgres {
                bulk::sync_sequences(tx, self.db.backend).await?;
            }
            items.extend(ids.into_iter().map(|id| Item {
                record_id: id,
                action: "created".into(),
                undo: None,
            }));
        }
        if !spec.dry_run {
            store::note_items(tx, run.job.id, &items).await?;
            failures.sort_by_key(|f| f.row_number);
            store::note_failures(tx, run.job.id, &failures).await?;
        }
        Ok(())
    }

    fn write_context<'a>(
        &'a self,
        run: &Run<'a>,
        kind: RecordKind,
        creating: bool,
    ) -> WriteContext<'a> {
        WriteContext {
            kind,
            default_region: &self.settings.default_region,
            zone: self.settings.zone,
            custom_fields: run.custom,
            dictionaries: run.dictionaries,
            bound_by_flags: run.actor.bound_by_field_flags(),
            creating,
        }
    }
}

/// Counts a chunk's rows and parts the valid ones from the blank ones and those with
/// invalid cells (failed rows).
pub(super) fn sort_rows(
    spec: &ImportSpec,
    rows: Vec<ReadRow>,
    counts: &mut Counts,
) -> (Vec<ReadRow>, Vec<Failure>) {
    let mut failures: Vec<Failure> = Vec::new();
    let mut valid: Vec<ReadRow> = Vec::with_capacity(rows.len());
    for r in rows {
        counts.rows += 1;
        for rep in &r.row.repairs {
            *counts.repairs.entry(rep.code.to_string()).or_default() += 1;
        }
        if r.row.blank {
            counts.blank += 1;
        } else if !r.row.errors.is_empty() {
            counts.invalid_cells += r.row.errors.len() as i64;
            failures.push(failure(spec, &r.number, &r.cells, &r.row.errors));
        } else {
            valid.push(r);
        }
    }
    (valid, failures)
}

pub(super) fn new_record(
    spec: &ImportSpec,
    row: &ConvertedRow,
    now: i64,
    by: Option<i64>,
) -> NewRecord {
    NewRecord {
        public_id: PublicId::generate().as_str().to_string(),
        kind: row.kind,
        data: row.data.clone(),
        organization_in_batch: None,
        organization_id: None,
        created_at: now,
        created_by: by,
        source: "import".into(),
        cases: spec
            .campaigns
            .iter()
            .map(|c| NewCase {
                campaign_id: *c,
                assigned_to: None,
                status: None,
                classifiers: Vec::new(),
                attempts: 0,
                last_call_type: None,
                last_call_status: None,
                recontact_at: None,
            })
            .collect(),
        segments: spec.segments.clone(),
    }
}

/// A failed row: its cells as text and every problem, each naming the column's header.
fn failure(
    spec: &ImportSpec,
    number: &u64,
    cells: &[Cell],
    errors: &[import::CellError],
) -> Failure {
    let errors: Vec<Value> = errors
        .iter()
        .map(|e| {
            let (column, header) = if e.column == usize::MAX {
                (Value::Null, Value::Null)
            } else {
                (
                    json!(super::column_letter(e.column)),
                    json!(spec.headers.get(e.column).cloned().unwrap_or_default()),
                )
            };
            json!({
                "column": column,
                "header": header,
                "value": cells.get(e.column).map(Cell::display).unwrap_or_default(),
                "code": e.code,
                "message": e.message,
            })
        })
        .collect();
    Failure {
        row_number: *number as i64,
        cells: json!(cells.iter().map(Cell::display).collect::<Vec<_>>()).to_string(),
        errors: Value::Array(errors).to_string(),
    }
}

/// A row whose update the record refused (e.g. a person's field on an organization).
fn patch_failure(
    spec: &ImportSpec,
    r: &ReadRow,
    errors: &[kartoteka_domain::record::FieldError],
) -> Failure {
    let mapping: Vec<Target> = spec
        .mapping
        .iter()
        .map(|k| Target::parse(k, &[]).unwrap_or(Target::Ignore))
        .collect();
    let cell_errors: Vec<import::CellError> = errors
        .iter()
        .map(|e| {
            let base = e.field.split(['[', '.']).next().unwrap_or(&e.field);
            let column = mapping
                .iter()
                .position(|t| {
                    let k = t.key();
                    k == e.field
                        || k == base
                        || (base == "phones" && k.starts_with("phone."))
                        || (base == "emails" && k == "email")
                })
                .unwrap_or(usize::MAX);
            import::CellError {
                column,
                code: e.code.clone(),
                message: e.message.clone(),
            }
        })
        .collect();
    failure(spec, &r.number, &r.cells, &cell_errors)
}
