//! An import that only creates records: on SQLite its transactions go through
//! `bulk::SqliteWriter` (rusqlite's prepared single-row statements on a connection of its
//! own, on a blocking thread), on PostgreSQL through `bulk::PgWriter` (`COPY … FROM STDIN`
//! on a connection of its own), not through sqlx's multi-row JSON statements.
//! Transactions, cursor and journal are as in `write_chunks`.

use std::collections::HashMap;

use kartoteka_domain::time::now_ms;
use kartoteka_store::StoreError;
use kartoteka_store::bulk::{NewRecord, PgWriter, SqliteWriter};
use kartoteka_store::imports::{self as store, Failure, Item};
use kartoteka_store::jobs;
use kartoteka_store::params::Param;

use super::reader::Batch;
use super::run::{Counts, Run, TX_CHUNKS, TX_OPEN, new_record, sort_rows};
use crate::{App, AppError, AppResult};

/// Runs `f` on the writer on a blocking thread (SQLite's work is seconds a transaction).
async fn on_writer<T: Send + 'static>(
    slot: &mut Option<SqliteWriter>,
    f: impl FnOnce(&mut SqliteWriter) -> Result<T, StoreError> + Send + 'static,
) -> AppResult<T> {
    let mut w = slot
        .take()
        .ok_or_else(|| AppError::Unexpected("the import's writer was lost".into()))?;
    let (w, r) = tokio::task::spawn_blocking(move || {
        let r = f(&mut w);
        (w, r)
    })
    .await
    .map_err(|e| AppError::Unexpected(e.to_string()))?;
    *slot = Some(w);
    Ok(r?)
}

/// The journal rows of records an import created.
fn created(ids: Vec<i64>) -> Vec<Item> {
    ids.into_iter()
        .map(|record_id| Item {
            record_id,
            action: "created".into(),
            undo: None,
        })
        .collect()
}

/// One chunk's writes: its new records, the rows that failed, the job's cursor.
struct ChunkWrites {
    creates: Vec<NewRecord>,
    failures: Vec<Failure>,
    field_ids: HashMap<String, i64>,
    job: i64,
    advance: [Param; 5],
}

/// The backend's writer.
enum Writer {
    Sqlite(Option<SqliteWriter>),
    Postgres(PgWriter),
}

impl Writer {
    async fn begin(&mut self) -> AppResult<()> {
        match self {
            Writer::Sqlite(w) => on_writer(w, SqliteWriter::begin).await,
            Writer::Postgres(w) => Ok(w.begin().await?),
        }
    }

    async fn commit(&mut self) -> AppResult<()> {
        match self {
            Writer::Sqlite(w) => on_writer(w, SqliteWriter::commit).await,
            Writer::Postgres(w) => Ok(w.commit().await?),
        }
    }

    async fn write(&mut self, c: ChunkWrites) -> AppResult<()> {
        let ChunkWrites {
            mut creates,
            failures,
            field_ids,
            job,
            advance,
        } = c;
        match self {
            Writer::Sqlite(w) => {
                on_writer(w, move |w| {
                    let ids = w.insert_records(&mut creates, &field_ids)?;
                    w.journal(&store::ITEMS, &store::item_rows(job, &created(ids)))?;
                    w.journal(&store::FAILURES, &store::failure_rows(job, &failures))?;
                    w.execute(jobs::ADVANCE, &advance)?;
                    Ok(())
                })
                .await
            }
            Writer::Postgres(w) => {
                let ids = w.insert_records(&mut creates, &field_ids).await?;
                w.journal(&store::ITEMS, &store::item_rows(job, &created(ids)))
                    .await?;
                w.journal(&store::FAILURES, &store::failure_rows(job, &failures))
                    .await?;
                w.execute(jobs::ADVANCE, &advance).await?;
                Ok(())
            }
        }
    }
}

impl App {
    /// Writes the chunks of an import that only creates (see `Run::only_creates`).
    /// A transaction takes up to `TX_CHUNKS` chunks; each chunk's records, journal rows and
    /// the job's cursor go together. An error drops the writer, whose connection then rolls
    /// the open transaction back.
    pub(super) async fn write_creates(
        &self,
        run: &Run<'_>,
        rx: &mut tokio::sync::mpsc::Receiver<Batch>,
        counts: &mut Counts,
        done: &mut i64,
    ) -> AppResult<&'static str> {
        let job = run.job.id;
        let mut writer = match self.db.postgres_writer().await? {
            Some(w) => Writer::Postgres(w),
            None => {
                let path =
                    self.db.sqlite_path.clone().ok_or_else(|| {
                        AppError::Unexpected("the SQLite writer needs a file".into())
                    })?;
                Writer::Sqlite(Some(
                    tokio::task::spawn_blocking(move || SqliteWriter::open(&path))
                        .await
                        .map_err(|e| AppError::Unexpected(e.to_string()))??,
                ))
            }
        };
        let by = (run.actor.user_id > 0).then_some(run.actor.user_id);
        let mut outcome = Ok("done");
        let mut next = rx.recv().await;
        while next.is_some() {
            writer.begin().await?;
            let opened = std::time::Instant::now();
            let mut chunks = 0;
            while let Some(batch) = next.take() {
                let rows = match batch {
                    Batch::Rows(r) => r,
                    Batch::Failed(e) => {
                        outcome = Err(e);
                        break;
                    }
                };
                if jobs::get(&self.db.pool, job).await?.cancel_requested {
                    outcome = Ok("cancelled");
                    break;
                }
                let last = rows.last().map(|r| r.number).unwrap_or(0) as i64;
                *done += rows.len() as i64;
                let (valid, mut failures) = sort_rows(run.spec, rows, counts);
                let now = now_ms();
                let creates: Vec<NewRecord> = valid
                    .iter()
                    .map(|r| new_record(run.spec, &r.row, now, by))
                    .collect();
                drop(valid);
                counts.failed += failures.len() as i64;
                counts.created += creates.len() as i64;
                failures.sort_by_key(|f| f.row_number);
                let advance = [
                    last.into(),
                    (*done).into(),
                    counts.to_result(false).to_string().into(),
                    now.into(),
                    job.into(),
                ];
                writer
                    .write(ChunkWrites {
                        creates,
                        failures,
                        field_ids: run.custom_ids.clone(),
                        job,
                        advance,
                    })
                    .await?;
                chunks += 1;
                if chunks >= TX_CHUNKS || opened.elapsed() >= TX_OPEN {
                    break;
                }
                next = rx.recv().await;
            }
            writer.commit().await?;
            // As in `write_chunks`: the transaction's rows were freed across threads.
            crate::jobs::release_freed_memory();
            self.publish_progress(job).await;
            if !matches!(outcome, Ok("done")) {
                break;
            }
            next = rx.recv().await;
        }
        // The trigram segments SQLite's writer left unmerged (nothing on PostgreSQL).
        let mut conn = self.db.pool.acquire().await?;
        kartoteka_store::trigrams::merge_backlog(&mut conn, self.db.backend).await?;
        outcome
    }
}
