//! What merges take and show through the API: the request of a merge by hand, its
//! preview, and a journaled operation.

use std::collections::BTreeMap;

use kartoteka_domain::duplicates::Choices;
use kartoteka_domain::time::to_rfc3339;
use kartoteka_store::merge::Operation;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// A merge (or delete) of records chosen by hand: a group of a search, or records selected
/// in the list.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct MergeRequest {
    /// Public IDs of the records to merge into the main record (the main record may be
    /// among them).
    #[serde(default)]
    pub records: Vec<String>,
    /// The record that stays; the oldest of `records` when absent.
    pub main: Option<String>,
    /// Records to delete instead of merging (their data is not kept on the main record).
    #[serde(default)]
    pub delete: Vec<String>,
    /// Which record each differing field's value comes from, and the default phone and
    /// e-mail; the rest follows the bulk rule (the value changed most recently).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub choices: Choices,
    /// The versions the user saw (public ID → version): a record changed since is refused
    /// with 409, so that no edit is lost.
    #[serde(default)]
    pub versions: BTreeMap<String, i64>,
    /// The search and group this resolves, if any.
    pub search: Option<i64>,
    pub group: Option<i64>,
}

/// A record taking part, as the preview shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PreviewMember {
    pub id: String,
    pub display_name: String,
    pub kind: String,
    pub created_at: String,
    pub version: i64,
    /// `main`, `merge` or `delete`.
    pub role: String,
    pub phones: Vec<String>,
    pub emails: Vec<String>,
    pub campaigns: Vec<String>,
    pub segments: Vec<String>,
}

/// A field whose values differ, and the value the merge takes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PreviewField {
    pub field: String,
    /// (record public ID, value) per record holding a value.
    #[schema(value_type = Vec<Object>)]
    pub values: Vec<Value>,
    /// The record whose value is taken.
    pub chosen: Option<String>,
}

/// What a merge will do, before it is applied.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MergePreview {
    pub main: String,
    pub members: Vec<PreviewMember>,
    pub fields: Vec<PreviewField>,
    /// The main record after the merge: fields, phones, e-mails, tags.
    #[schema(value_type = Object)]
    pub result: Value,
    /// Records merged into the main record, and deleted.
    pub merged: Vec<String>,
    pub deleted: Vec<String>,
    /// Fields whose value comes from a record other than the main one: field → record.
    pub values_from: BTreeMap<String, String>,
}

/// A merge or duplicate delete as journaled.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OperationView {
    pub id: i64,
    /// `merge` or `delete`.
    pub action: String,
    pub at: String,
    pub by: String,
    pub job_id: Option<i64>,
    pub main: String,
    pub removed: Vec<String>,
    #[schema(value_type = Object)]
    pub summary: Value,
    pub undone_at: Option<String>,
    pub undone_by: Option<String>,
    /// Until when it can be undone (null once undone or purged).
    pub undo_until: Option<String>,
}

impl OperationView {
    pub(crate) fn new(op: &Operation, window_ms: i64) -> OperationView {
        let open = op.undone_at.is_none() && op.purged_at.is_none();
        OperationView {
            id: op.id,
            action: op.action.clone(),
            at: to_rfc3339(op.at),
            by: op.username.clone(),
            job_id: op.job_id,
            main: op.main_public_id.clone(),
            removed: op.removed.clone(),
            summary: op.summary.clone(),
            undone_at: op.undone_at.map(to_rfc3339),
            undone_by: op.undone_by.clone(),
            undo_until: open.then(|| to_rfc3339(op.at + window_ms)),
        }
    }
}
