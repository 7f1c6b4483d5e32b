//! Indexes dropped for a large write and built again at its end: a load into an empty base
//! (every secondary index of the loaded tables) and, into a base in use, a large import or
//! bulk merge (only the list's filter and sort indexes, `bulk::FILTER_INDEXES`). If the
//! server dies meanwhile, the next start builds them (`deferred_indexes`).

use kartoteka_store::bulk;

use crate::{App, AppError, AppResult};

/// Indexes dropped for a large write, to build at its end.
pub(crate) enum Deferred {
    Sqlite(bulk::SqliteLoader),
    Postgres,
}

impl App {
    /// Drops the indexes `bulk::Defer::for_base(empty, keep)` names.
    pub(crate) async fn defer_indexes(
        &self,
        empty: bool,
        keep: Vec<&'static str>,
    ) -> AppResult<Deferred> {
        let Some(path) = self.db.sqlite_path.clone() else {
            bulk::defer_indexes_postgres(&self.db, bulk::Defer::for_base(empty, &keep)).await?;
            return Ok(Deferred::Postgres);
        };
        let loader = tokio::task::spawn_blocking(move || {
            let mut loader = bulk::SqliteLoader::open(&path)?;
            loader.limit_cache_mb(32)?;
            loader.defer_indexes(bulk::Defer::for_base(empty, &keep))?;
            Ok::<_, kartoteka_store::StoreError>(loader)
        })
        .await
        .map_err(|e| AppError::Unexpected(e.to_string()))??;
        Ok(Deferred::Sqlite(loader))
    }

    /// Builds what `defer_indexes` dropped, then updates the planner's statistics.
    pub(crate) async fn build_deferred(&self, deferred: Deferred, job: i64) -> AppResult<()> {
        let building = std::time::Instant::now();
        match deferred {
            Deferred::Sqlite(mut loader) => {
                tokio::task::spawn_blocking(move || loader.build_deferred_indexes())
                    .await
                    .map_err(|e| AppError::Unexpected(e.to_string()))??;
            }
            Deferred::Postgres => {
                bulk::build_deferred_postgres(&self.db).await?;
                sqlx::query("ANALYZE")
                    .execute(&self.db.pool)
                    .await
                    .map_err(kartoteka_store::StoreError::from)?;
            }
        }
        tracing::info!(
            job,
            seconds = building.elapsed().as_secs_f64(),
            "deferred indexes built"
        );
        Ok(())
    }
}
