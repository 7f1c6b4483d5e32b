//! Undoing a merge or duplicate delete within the window: the removed records come back
//! from their snapshots with everything that hung off them, and the main record returns to
//! its state before the merge, unless it changed since (then the undo says what changed).

use kartoteka_domain::time::{now_ms, to_rfc3339};
use kartoteka_store::duplicates as dup_store;
use kartoteka_store::merge;
use serde_json::json;
use sqlx::Row;

use super::merge::check_may_merge;
use super::views::OperationView;
use crate::events::Event;
use crate::{Actor, App, AppError, AppResult};

/// A refused undo: `code` (in the problem's details) tells why, for clients to translate.
fn refused(code: &str, message: String) -> AppError {
    AppError::Conflict {
        message,
        details: serde_json::Map::from_iter([("code".to_string(), json!(code))]),
    }
}

impl App {
    /// Undoes operation `id`.
    pub async fn undo_merge(&self, actor: &Actor, id: i64) -> AppResult<OperationView> {
        check_may_merge(actor)?;
        let backend = self.db.backend;
        let mut tx = self.db.begin_write().await?;
        let (op, snapshot) = merge::operation(&mut tx, backend, id)
            .await
            .map_err(|_| AppError::NotFound(format!("operation {id}")))?;
        if let Some(at) = op.undone_at {
            return Err(refused(
                "already_undone",
                format!(
                    "operation {id} was undone already ({} by {})",
                    to_rfc3339(at),
                    op.undone_by.clone().unwrap_or_default()
                ),
            ));
        }
        let now = now_ms();
        let (Some(snapshot), None) = (snapshot, op.purged_at) else {
            return Err(refused(
                "purged",
                format!("operation {id} is older than the undo window; its snapshots were removed"),
            ));
        };
        if now - op.at > self.settings.undo_window_ms {
            return Err(refused(
                "expired",
                format!(
                    "operation {id} is older than the undo window ({} days)",
                    self.settings.undo_window_ms / 86_400_000
                ),
            ));
        }
        // The removed records must not exist again.
        let back = kartoteka_store::bulk_ops::resolve(&mut tx, &op.removed).await?;
        if let Some(p) = back.keys().next() {
            return Err(refused(
                "exists_again",
                format!("record {p} exists again; nothing was undone"),
            ));
        }
        let mut main_version = None;
        if let Some(main_image) = &snapshot.main {
            let main_id = op
                .main_record_id
                .ok_or_else(|| AppError::Unexpected("merge without its main record".into()))?;
            merge::lock_ids(&mut tx, backend, &[main_id]).await?;
            let row = sqlx::query("SELECT version FROM records WHERE id = $1")
                .bind(main_id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(row) = row else {
                return Err(refused(
                    "main_deleted",
                    format!(
                        "record {} was deleted after the merge; nothing was undone",
                        op.main_public_id
                    ),
                ));
            };
            let version: i64 = row.try_get(0)?;
            if Some(version) != op.main_version {
                let fields = kartoteka_store::records::changed_since(
                    &mut tx,
                    main_id,
                    op.main_version.unwrap_or(0),
                )
                .await?;
                return Err(refused(
                    "main_changed",
                    format!(
                        "record {} was changed after the merge ({}); undoing would lose those changes, so nothing was undone",
                        op.main_public_id,
                        fields.into_iter().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            let since = merge::changed_after(&mut tx, main_id, op.at).await?;
            if !since.is_empty() {
                return Err(refused(
                    "links_changed",
                    format!(
                        "the {} of record {} changed after the merge; undoing would lose those changes, so nothing was undone",
                        since.join(", "),
                        op.main_public_id
                    ),
                ));
            }
            merge::clear_related(&mut tx, main_id).await?;
            merge::restore_row(&mut tx, backend, main_id, main_image).await?;
            let next = version + 1;
            sqlx::query("UPDATE records SET version = $1, modified_at = $2 WHERE id = $3")
                .bind(next)
                .bind(now)
                .bind(main_id)
                .execute(&mut *tx)
                .await?;
            main_version = Some(next);
            merge::restore(&mut tx, backend, main_image, false, true).await?;
        }
        for image in &snapshot.removed {
            merge::restore(&mut tx, backend, image, true, false).await?;
        }
        for image in &snapshot.removed {
            merge::restore(&mut tx, backend, image, false, true).await?;
            if let (Some(rid), Some(main_id)) = (
                image.record_value("id").and_then(|v| v.as_i64()),
                op.main_record_id,
            ) {
                merge::restore_referrers(&mut tx, backend, rid, main_id, &image.referrers).await?;
            }
        }
        merge::mark_undone(&mut tx, id, now, &actor.username).await?;
        dup_store::unresolve_groups(&mut tx, id).await?;
        crate::audit::record(
            &mut tx,
            actor,
            "undo_merge",
            "record",
            Some(&op.main_public_id),
            json!({"operation": id, "action": op.action, "restored": op.removed}),
        )
        .await?;
        let (done, _) = merge::operation(&mut tx, backend, id).await?;
        tx.commit().await?;
        if let Some(v) = main_version {
            self.events.publish(Event::RecordUpdated {
                id: op.main_public_id.clone(),
                version: v,
                by: actor.username.clone(),
                fields: Vec::new(),
            });
        }
        for r in &op.removed {
            self.events.publish(Event::RecordCreated {
                id: r.clone(),
                by: actor.username.clone(),
            });
        }
        Ok(OperationView::new(&done, self.settings.undo_window_ms))
    }

    /// Drops the snapshots of operations older than the undo window.
    pub async fn purge_merge_snapshots(&self) -> AppResult<u64> {
        let now = now_ms();
        let mut conn = self.db.pool.acquire().await?;
        Ok(merge::purge_snapshots(&mut conn, now - self.settings.undo_window_ms, now).await?)
    }
}
