//! Filtering the record base (SPEC C4): checking a filter against the catalog and the
//! custom fields, and the pages, counts and ID sets of its result within the actor's reach.

use kartoteka_domain::access::{RecordScope, Role};
use kartoteka_domain::filter::{self, Cond, Filter};
use kartoteka_store::filter::Where;
use kartoteka_store::list;

use crate::{Actor, App, AppError, AppResult};

impl App {
    /// The agent whose reach limits what `actor` lists (None: everything); integrations and
    /// roles without record access may not list.
    pub fn list_scope(actor: &Actor) -> AppResult<Option<i64>> {
        match actor.record_scope() {
            _ if actor.role == Role::Integration => Err(AppError::forbidden()),
            RecordScope::All => Ok(None),
            RecordScope::AgentCampaigns => Ok(Some(actor.user_id)),
            RecordScope::None => Err(AppError::forbidden()),
        }
    }

    /// Checks a filter; errors name `filter.all[i].field|op|value`.
    pub async fn check_filter(&self, filter: &Filter) -> AppResult<Vec<Cond>> {
        if filter.all.is_empty() {
            return Ok(Vec::new());
        }
        let custom = self.custom_definitions().await?;
        let ctx = filter::Context {
            custom: &custom,
            zone: self.settings.zone,
            default_region: &self.settings.default_region,
        };
        filter::check(filter, &ctx).map_err(|errors| {
            AppError::Validation(
                errors
                    .into_iter()
                    .map(|mut e| {
                        e.field = format!("filter.{}", e.field);
                        e
                    })
                    .collect(),
            )
        })
    }

    /// The query scope of `conds` for `actor` (not planned yet: see `list::plan`).
    pub(crate) fn scope<'a>(&self, actor: &Actor, conds: &'a [Cond]) -> AppResult<Where<'a>> {
        Ok(Where::new(
            conds,
            App::list_scope(actor)?,
            Some(actor.user_id),
            self.db.backend,
        ))
    }

    /// How many records match the filter within the actor's reach.
    pub async fn count_matching(&self, actor: &Actor, conds: &[Cond]) -> AppResult<i64> {
        let w = self.scope(actor, conds)?;
        let planned = list::plan(&self.db.pool, w, list::SortKey::Name, false, None, true).await?;
        Ok(planned.total.unwrap_or(0))
    }

    /// The (public ID, internal ID) of every record matching the filter within the actor's
    /// reach, in the order they were stored.
    pub async fn matching_ids(
        &self,
        actor: &Actor,
        conds: &[Cond],
    ) -> AppResult<Vec<(String, i64)>> {
        let w = self.scope(actor, conds)?;
        let planned = list::plan(&self.db.pool, w, list::SortKey::Id, false, None, false).await?;
        let w = Where {
            walk: false,
            ..planned.w
        };
        Ok(list::all_ids(&self.db.pool, &w, None).await?)
    }
}
