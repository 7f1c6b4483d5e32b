//! Campaigns and segments (SPEC C3): administration, and adding or removing a record.

use kartoteka_domain::time::{now_ms, to_rfc3339};
use kartoteka_store::groups::{self, Group, GroupKind};
use kartoteka_store::{StoreError, users};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::{Actor, App, AppError, AppResult};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupView {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub active: bool,
    pub created_at: String,
    /// Records in it (a campaign's cases).
    pub records: i64,
    /// Usernames of the agents working in it (campaigns only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agents: Option<Vec<String>>,
}

/// A new group or changes to one; absent keys keep their value.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub active: Option<bool>,
    /// Campaigns: usernames of the agents who work in it (replaces the list).
    pub agents: Option<Vec<String>>,
}

fn view(g: &Group, agents: Option<Vec<String>>) -> GroupView {
    GroupView {
        id: g.id,
        name: g.name.clone(),
        description: g.description.clone(),
        active: g.active,
        created_at: to_rfc3339(g.created_at),
        records: g.members,
        agents,
    }
}

fn entity(kind: GroupKind) -> &'static str {
    match kind {
        GroupKind::Campaign => "campaign",
        GroupKind::Segment => "segment",
    }
}

fn not_found(kind: GroupKind, id: i64) -> impl FnOnce(StoreError) -> AppError {
    move |e| match e {
        StoreError::NotFound => AppError::NotFound(format!("{} {id}", entity(kind))),
        e => e.into(),
    }
}

fn check_name(name: &str) -> AppResult<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 200 {
        return Err(AppError::invalid(
            "name",
            "required",
            "a name of 1 to 200 characters",
        ));
    }
    Ok(n.to_string())
}

impl App {
    pub async fn list_groups(&self, _actor: &Actor, kind: GroupKind) -> AppResult<Vec<GroupView>> {
        let list = groups::list(&self.db.pool, kind).await?;
        let mut out = Vec::with_capacity(list.len());
        for g in &list {
            let agents = match kind {
                GroupKind::Campaign => Some(groups::agents(&self.db.pool, g.id).await?),
                GroupKind::Segment => None,
            };
            out.push(view(g, agents));
        }
        Ok(out)
    }

    /// (ID, name, active) of the campaigns or segments, for choosing one: cheap, without
    /// the member counts and agents `list_groups` gives.
    pub async fn group_names(
        &self,
        _actor: &Actor,
        kind: GroupKind,
    ) -> AppResult<Vec<(i64, String, bool)>> {
        Ok(groups::names(&self.db.pool, kind).await?)
    }

    pub async fn get_group(
        &self,
        _actor: &Actor,
        kind: GroupKind,
        id: i64,
    ) -> AppResult<GroupView> {
        let g = groups::get(&self.db.pool, kind, id)
            .await
            .map_err(not_found(kind, id))?;
        let agents = match kind {
            GroupKind::Campaign => Some(groups::agents(&self.db.pool, g.id).await?),
            GroupKind::Segment => None,
        };
        Ok(view(&g, agents))
    }

    async fn agent_ids(
        &self,
        conn: &mut sqlx::AnyConnection,
        names: &[String],
    ) -> AppResult<Vec<i64>> {
        let ids = users::ids_by_usernames(conn, names).await?;
        if let Some(missing) = names.iter().find(|n| !ids.contains_key(*n)) {
            return Err(AppError::invalid(
                "agents",
                "not_found",
                format!("no user {missing}"),
            ));
        }
        Ok(names.iter().filter_map(|n| ids.get(n).copied()).collect())
    }

    pub async fn create_group(
        &self,
        actor: &Actor,
        kind: GroupKind,
        input: GroupInput,
    ) -> AppResult<GroupView> {
        if !actor.may_configure() {
            return Err(AppError::Forbidden(
                "only administrators and managers configure campaigns and segments".into(),
            ));
        }
        let name = check_name(input.name.as_deref().unwrap_or_default())?;
        let mut tx = self.db.begin_write().await?;
        let id = groups::insert(
            &mut *tx,
            kind,
            &name,
            input.description.as_deref().unwrap_or_default(),
            input.active.unwrap_or(true),
            now_ms(),
        )
        .await
        .map_err(|e| match e {
            StoreError::Unique(_) => AppError::invalid("name", "taken", "this name is taken"),
            e => e.into(),
        })?;
        if let (GroupKind::Campaign, Some(names)) = (kind, &input.agents) {
            let ids = self.agent_ids(&mut tx, names).await?;
            groups::set_agents(&mut tx, id, &ids).await?;
        }
        crate::audit::record(
            &mut tx,
            actor,
            "create",
            entity(kind),
            Some(&id.to_string()),
            json!({"name": name}),
        )
        .await?;
        tx.commit().await?;
        self.get_group(actor, kind, id).await
    }

    pub async fn update_group(
        &self,
        actor: &Actor,
        kind: GroupKind,
        id: i64,
        input: GroupInput,
    ) -> AppResult<GroupView> {
        if !actor.may_configure() {
            return Err(AppError::Forbidden(
                "only administrators and managers configure campaigns and segments".into(),
            ));
        }
        let before = groups::get(&self.db.pool, kind, id)
            .await
            .map_err(not_found(kind, id))?;
        let mut g = before.clone();
        if let Some(n) = &input.name {
            g.name = check_name(n)?;
        }
        if let Some(d) = input.description {
            g.description = d;
        }
        if let Some(a) = input.active {
            g.active = a;
        }
        let mut tx = self.db.begin_write().await?;
        groups::update(&mut *tx, kind, &g)
            .await
            .map_err(|e| match e {
                StoreError::Unique(_) => AppError::invalid("name", "taken", "this name is taken"),
                e => e.into(),
            })?;
        if let (GroupKind::Campaign, Some(names)) = (kind, &input.agents) {
            let ids = self.agent_ids(&mut tx, names).await?;
            groups::set_agents(&mut tx, id, &ids).await?;
        }
        crate::audit::record(&mut tx, actor, "update", entity(kind), Some(&id.to_string()), json!({
            "before": {"name": before.name, "description": before.description, "active": before.active},
            "after": {"name": g.name, "description": g.description, "active": g.active},
            "agents": input.agents,
        }))
        .await?;
        tx.commit().await?;
        self.get_group(actor, kind, id).await
    }

    /// Deletes a group and its memberships (a campaign's cases). `confirm` must equal the
    /// number of records in it when there are any.
    pub async fn delete_group(
        &self,
        actor: &Actor,
        kind: GroupKind,
        id: i64,
        confirm: Option<i64>,
    ) -> AppResult<()> {
        if !actor.may_configure() {
            return Err(AppError::Forbidden(
                "only administrators and managers configure campaigns and segments".into(),
            ));
        }
        let g = groups::get(&self.db.pool, kind, id)
            .await
            .map_err(not_found(kind, id))?;
        if g.members > 0 && confirm != Some(g.members) {
            return Err(AppError::Conflict {
                message: format!(
                    "{} holds {} records; confirm with that number",
                    g.name, g.members
                ),
                details: serde_json::Map::from_iter([("records".to_string(), json!(g.members))]),
            });
        }
        let mut tx = self.db.begin_write().await?;
        groups::delete(&mut tx, kind, id).await?;
        crate::audit::record(
            &mut tx,
            actor,
            "delete",
            entity(kind),
            Some(&id.to_string()),
            json!({"name": g.name, "records": g.members}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The campaigns or segments a record is in: (ID, name).
    pub async fn record_groups(
        &self,
        actor: &Actor,
        kind: GroupKind,
        public_id: &str,
    ) -> AppResult<Vec<(i64, String)>> {
        let card = self.load_card(actor, public_id).await?;
        Ok(groups::of_record(&self.db.pool, kind, card.id).await?)
    }

    /// Adds a record to a campaign (opening its case) or a segment, or removes it (ending the
    /// case). For the record base: administrators and managers with the grant.
    pub async fn set_membership(
        &self,
        actor: &Actor,
        kind: GroupKind,
        public_id: &str,
        group: i64,
        member: bool,
    ) -> AppResult<bool> {
        if !actor.may_use_record_base() {
            return Err(AppError::Forbidden(
                "adding records to campaigns and segments needs access to the record base".into(),
            ));
        }
        let card = self.load_card(actor, public_id).await?;
        let g = groups::get(&self.db.pool, kind, group)
            .await
            .map_err(not_found(kind, group))?;
        if member && !g.active {
            return Err(AppError::invalid(
                entity(kind),
                "inactive",
                format!("{} is not active", g.name),
            ));
        }
        let mut tx = self.db.begin_write().await?;
        let changed = if member {
            groups::add_member(&mut tx, kind, group, card.id, now_ms()).await?
        } else {
            groups::remove_member(&mut tx, kind, group, card.id).await?
        };
        if changed {
            let action = if member { "add_to" } else { "remove_from" };
            crate::audit::record(
                &mut tx,
                actor,
                &format!("{action}_{}", entity(kind)),
                "record",
                Some(&card.public_id),
                json!({entity(kind): {"id": g.id, "name": g.name}}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(changed)
    }
}
