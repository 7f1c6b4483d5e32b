//! Dictionaries (positions, stages, acquisition sources, languages, classifiers, ticket statuses).

use kartoteka_store::dictionaries::{self, DICTIONARIES, Entry};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::{Actor, App, AppError, AppResult};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DictionaryView {
    pub name: String,
    pub entries: Vec<EntryView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EntryView {
    /// Stored on records; immutable.
    pub code: String,
    pub label: String,
    pub position: i64,
    /// Inactive entries stay on records but cannot be chosen.
    pub active: bool,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryInput {
    pub code: Option<String>,
    pub label: Option<String>,
    pub position: Option<i64>,
    pub active: Option<bool>,
}

/// The record field each dictionary feeds, for usage counts.
fn record_column(dictionary: &str) -> Option<&'static str> {
    kartoteka_domain::record::DICTIONARY_FIELDS
        .iter()
        .find(|(_, d)| *d == dictionary)
        .map(|(f, _)| *f)
}

fn known(name: &str) -> AppResult<()> {
    if DICTIONARIES.iter().any(|(d, _)| *d == name) {
        Ok(())
    } else {
        Err(AppError::NotFound(format!("dictionary {name}")))
    }
}

impl App {
    pub async fn dictionaries(&self, _actor: &Actor) -> AppResult<Vec<DictionaryView>> {
        let all = dictionaries::entries(&self.db.pool, None).await?;
        Ok(DICTIONARIES
            .iter()
            .map(|(name, _)| DictionaryView {
                name: (*name).into(),
                entries: all
                    .iter()
                    .filter(|e| e.dictionary == *name)
                    .map(|e| EntryView {
                        code: e.code.clone(),
                        label: e.label.clone(),
                        position: e.position,
                        active: e.active,
                    })
                    .collect(),
            })
            .collect())
    }

    /// Adds an entry or changes its label, position or active flag.
    pub async fn put_entry(
        &self,
        actor: &Actor,
        dictionary: &str,
        code: &str,
        input: EntryInput,
    ) -> AppResult<EntryView> {
        if !actor.may_configure() {
            return Err(AppError::Forbidden(
                "only administrators and managers configure dictionaries".into(),
            ));
        }
        known(dictionary)?;
        let code = code.trim();
        if code.is_empty() || code.chars().count() > 64 {
            return Err(AppError::invalid(
                "code",
                "invalid_code",
                "a code has 1 to 64 characters",
            ));
        }
        if input.code.as_deref().is_some_and(|c| c != code) {
            return Err(AppError::invalid(
                "code",
                "immutable",
                "an entry's code never changes",
            ));
        }
        let existing = dictionaries::entries(&self.db.pool, Some(dictionary))
            .await?
            .into_iter()
            .find(|e| e.code == code);
        let entry = Entry {
            dictionary: dictionary.into(),
            code: code.into(),
            label: input
                .label
                .or_else(|| existing.as_ref().map(|e| e.label.clone()))
                .unwrap_or_else(|| code.into()),
            position: input
                .position
                .or_else(|| existing.as_ref().map(|e| e.position))
                .unwrap_or(0),
            active: input
                .active
                .or_else(|| existing.as_ref().map(|e| e.active))
                .unwrap_or(true),
        };
        if entry.label.trim().is_empty() {
            return Err(AppError::invalid(
                "label",
                "required",
                "a label is required",
            ));
        }
        let mut tx = self.db.begin_write().await?;
        dictionaries::upsert(&mut *tx, &entry).await?;
        crate::audit::record(
            &mut tx,
            actor,
            if existing.is_some() {
                "update"
            } else {
                "create"
            },
            "dictionary_entry",
            Some(&format!("{dictionary}/{code}")),
            json!({"label": entry.label, "active": entry.active, "position": entry.position}),
        )
        .await?;
        tx.commit().await?;
        Ok(EntryView {
            code: entry.code,
            label: entry.label,
            position: entry.position,
            active: entry.active,
        })
    }

    /// Deletes an entry no record uses (deactivate one in use instead).
    pub async fn delete_entry(&self, actor: &Actor, dictionary: &str, code: &str) -> AppResult<()> {
        if !actor.may_configure() {
            return Err(AppError::Forbidden(
                "only administrators and managers configure dictionaries".into(),
            ));
        }
        known(dictionary)?;
        let mut tx = self.db.begin_write().await?;
        if let Some(col) = record_column(dictionary) {
            let n = dictionaries::usage(&mut *tx, col, code).await?;
            if n > 0 {
                return Err(AppError::Conflict {
                    message: format!("{n} records use {code}; deactivate it instead"),
                    details: serde_json::Map::from_iter([("records".to_string(), json!(n))]),
                });
            }
        }
        dictionaries::delete(&mut *tx, dictionary, code)
            .await
            .map_err(|_| AppError::NotFound(format!("entry {code}")))?;
        crate::audit::record(
            &mut tx,
            actor,
            "delete",
            "dictionary_entry",
            Some(&format!("{dictionary}/{code}")),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
