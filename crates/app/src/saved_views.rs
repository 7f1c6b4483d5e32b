//! Saved views: named filters of the record list, private to their owner or shared with
//! everyone (SPEC C4). Anyone who may list records may save views; only the owner (or an
//! administrator) changes or deletes one.

use kartoteka_domain::filter::Filter;
use kartoteka_domain::time::{now_ms, to_rfc3339};
use kartoteka_store::views::{self, SavedView};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::{Actor, App, AppError, AppResult};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ViewInfo {
    pub id: i64,
    pub name: String,
    #[schema(value_type = Object)]
    pub filter: Filter,
    pub sort: Option<String>,
    pub shared: bool,
    /// The owner's display name.
    pub owner: String,
    /// Whether the asking user may change or delete it (its owner, or an administrator).
    pub mine: bool,
    /// Whether the asking user owns it.
    pub owned: bool,
    pub modified_at: String,
}

fn info(v: &SavedView, actor: &Actor) -> ViewInfo {
    ViewInfo {
        id: v.id,
        name: v.name.clone(),
        filter: serde_json::from_str(&v.filter).unwrap_or_default(),
        sort: v.sort.clone(),
        shared: v.shared,
        owner: v.owner.clone(),
        mine: v.owner_id == actor.user_id || actor.may_administer(),
        owned: v.owner_id == actor.user_id,
        modified_at: to_rfc3339(v.modified_at),
    }
}

impl App {
    /// The views the actor sees: their own and the shared ones.
    pub async fn views(&self, actor: &Actor) -> AppResult<Vec<ViewInfo>> {
        App::list_scope(actor)?;
        Ok(views::visible(&self.db.pool, actor.user_id)
            .await?
            .iter()
            .map(|v| info(v, actor))
            .collect())
    }

    pub async fn view(&self, actor: &Actor, id: i64) -> AppResult<ViewInfo> {
        App::list_scope(actor)?;
        let v = views::get(&self.db.pool, id)
            .await
            .map_err(|_| AppError::NotFound(format!("view {id}")))?;
        if v.owner_id != actor.user_id && !v.shared && !actor.may_administer() {
            return Err(AppError::NotFound(format!("view {id}")));
        }
        Ok(info(&v, actor))
    }

    /// Saves the filter as a named view (replacing the actor's view of that name).
    pub async fn save_view(
        &self,
        actor: &Actor,
        name: &str,
        filter: &Filter,
        sort: Option<&str>,
        shared: bool,
    ) -> AppResult<ViewInfo> {
        App::list_scope(actor)?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::invalid(
                "name",
                "required",
                "a view needs a name of 1 to 100 characters",
            ));
        }
        self.check_filter(filter).await?;
        if let Some(s) = sort {
            crate::records::parse_sort(Some(s))?;
        }
        let json =
            serde_json::to_string(filter).map_err(|e| AppError::Unexpected(e.to_string()))?;
        let mut tx = self.db.begin_write().await?;
        let id = views::save(&mut *tx, actor.user_id, name, &json, sort, shared, now_ms()).await?;
        crate::audit::record(
            &mut tx,
            actor,
            "save_view",
            "view",
            Some(&id.to_string()),
            json!({"name": name, "filter": filter, "shared": shared}),
        )
        .await?;
        tx.commit().await?;
        self.view(actor, id).await
    }

    pub async fn delete_view(&self, actor: &Actor, id: i64) -> AppResult<()> {
        let v = self.view(actor, id).await?;
        if !v.mine {
            return Err(AppError::Forbidden(
                "only its owner or an administrator deletes a view".into(),
            ));
        }
        let mut tx = self.db.begin_write().await?;
        views::delete(&mut *tx, id).await?;
        crate::audit::record(
            &mut tx,
            actor,
            "delete_view",
            "view",
            Some(&id.to_string()),
            json!({"name": v.name}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
