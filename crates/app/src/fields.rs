//! Custom field definitions: administrators and managers configure them; everyone reads them.

use kartoteka_domain::field::{FieldDefinition, FieldType, check_flags, validate_key};
use kartoteka_domain::mask::Mask;
use kartoteka_domain::time::now_ms;
use kartoteka_store::fields;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::{Actor, App, AppError, AppResult};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FieldView {
    /// `[A-Za-z0-9_-]{1,64}`, immutable; the value lives at `custom.<key>`.
    pub key: String,
    pub label: String,
    /// text, number, date_time, dictionary, masked, nip, pesel or regon; immutable.
    #[serde(rename = "type")]
    pub field_type: String,
    /// The options of a dictionary field.
    pub options: Vec<String>,
    /// The pattern of a masked field: `#` a digit, `a` a letter, `$` a currency symbol.
    pub mask: Option<String>,
    pub visible: bool,
    /// Only when visible.
    pub editable: bool,
    /// Only when visible and editable.
    pub required: bool,
    pub position: i64,
}

impl From<&FieldDefinition> for FieldView {
    fn from(d: &FieldDefinition) -> Self {
        FieldView {
            key: d.key.clone(),
            label: d.label.clone(),
            field_type: d.field_type.as_str().into(),
            options: d.options.clone(),
            mask: d.mask.clone(),
            visible: d.visible,
            editable: d.editable,
            required: d.required,
            position: d.position,
        }
    }
}

/// A new field or changes to one (key and type cannot change).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldInput {
    pub key: Option<String>,
    pub label: Option<String>,
    #[serde(rename = "type")]
    pub field_type: Option<String>,
    pub options: Option<Vec<String>>,
    pub mask: Option<String>,
    pub visible: Option<bool>,
    pub editable: Option<bool>,
    pub required: Option<bool>,
    pub position: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldDeleted {
    pub key: String,
    /// How many stored values were deleted with the definition.
    pub deleted_values: i64,
}

fn check_definition(d: &FieldDefinition) -> AppResult<()> {
    if d.label.trim().is_empty() || d.label.chars().count() > 200 {
        return Err(AppError::invalid(
            "label",
            "required",
            "a label of 1 to 200 characters",
        ));
    }
    check_flags(d.visible, d.editable, d.required).map_err(|(f, e)| AppError::field(f, e))?;
    match d.field_type {
        FieldType::Dictionary => {
            if d.options.is_empty() || d.options.iter().any(|o| o.trim().is_empty()) {
                return Err(AppError::invalid(
                    "options",
                    "required",
                    "a dictionary field needs non-empty options",
                ));
            }
            let mut seen = std::collections::BTreeSet::new();
            if !d.options.iter().all(|o| seen.insert(o.to_lowercase())) {
                return Err(AppError::invalid(
                    "options",
                    "duplicate",
                    "options must differ",
                ));
            }
        }
        FieldType::Masked => {
            Mask::parse(d.mask.as_deref().unwrap_or_default())
                .map_err(|e| AppError::field("mask", e))?;
        }
        _ => {}
    }
    Ok(())
}

impl App {
    fn configure_only(actor: &Actor) -> AppResult<()> {
        if actor.may_configure() {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "only administrators and managers configure fields".into(),
            ))
        }
    }

    pub async fn list_fields(&self, _actor: &Actor) -> AppResult<Vec<FieldView>> {
        Ok(self
            .custom_definitions()
            .await?
            .iter()
            .map(FieldView::from)
            .collect())
    }

    pub async fn get_field(&self, _actor: &Actor, key: &str) -> AppResult<(FieldView, i64)> {
        let f = fields::by_key(&self.db.pool, key)
            .await
            .map_err(|_| AppError::NotFound(format!("field {key}")))?;
        let n = fields::count_values(&self.db.pool, f.id).await?;
        Ok((FieldView::from(&f.def), n))
    }

    pub async fn create_field(&self, actor: &Actor, input: FieldInput) -> AppResult<FieldView> {
        Self::configure_only(actor)?;
        let key = input
            .key
            .ok_or_else(|| AppError::invalid("key", "required", "a key is required"))?;
        validate_key(&key).map_err(|e| AppError::field("key", e))?;
        let t = input
            .field_type
            .ok_or_else(|| AppError::invalid("type", "required", "a type is required"))?;
        let field_type = FieldType::parse(&t).map_err(|e| AppError::field("type", e))?;
        let visible = input.visible.unwrap_or(true);
        let editable = input.editable.unwrap_or(visible);
        let d = FieldDefinition {
            label: input.label.unwrap_or_else(|| key.clone()),
            key,
            field_type,
            options: input
                .options
                .unwrap_or_default()
                .into_iter()
                .map(|o| o.trim().to_string())
                .collect(),
            mask: input.mask.filter(|m| !m.is_empty()),
            visible,
            editable,
            required: input.required.unwrap_or(false),
            position: input.position.unwrap_or(0),
        };
        check_definition(&d)?;
        let mut tx = self.db.begin_write().await?;
        fields::insert(&mut *tx, &d, now_ms())
            .await
            .map_err(|e| match e {
                kartoteka_store::StoreError::Unique(_) => {
                    AppError::invalid("key", "taken", "a field with this key exists")
                }
                e => e.into(),
            })?;
        crate::audit::record(
            &mut tx,
            actor,
            "create",
            "custom_field",
            Some(&d.key),
            json!(FieldView::from(&d)),
        )
        .await?;
        tx.commit().await?;
        Ok(FieldView::from(&d))
    }

    pub async fn update_field(
        &self,
        actor: &Actor,
        key: &str,
        input: FieldInput,
    ) -> AppResult<FieldView> {
        Self::configure_only(actor)?;
        let stored = fields::by_key(&self.db.pool, key)
            .await
            .map_err(|_| AppError::NotFound(format!("field {key}")))?;
        if input.key.as_deref().is_some_and(|k| k != key) {
            return Err(AppError::invalid(
                "key",
                "immutable",
                "a field's key never changes",
            ));
        }
        if input
            .field_type
            .as_deref()
            .is_some_and(|t| t != stored.def.field_type.as_str())
        {
            return Err(AppError::invalid(
                "type",
                "immutable",
                "a field's type never changes",
            ));
        }
        let mut d = stored.def.clone();
        if let Some(l) = input.label {
            d.label = l;
        }
        if let Some(o) = input.options {
            d.options = o.into_iter().map(|o| o.trim().to_string()).collect();
        }
        if let Some(m) = input.mask {
            d.mask = Some(m).filter(|m| !m.is_empty());
        }
        if let Some(v) = input.visible {
            d.visible = v;
        }
        if let Some(e) = input.editable {
            d.editable = e;
        }
        if let Some(r) = input.required {
            d.required = r;
        }
        if let Some(p) = input.position {
            d.position = p;
        }
        check_definition(&d)?;
        let mut tx = self.db.begin_write().await?;
        fields::update(&mut *tx, stored.id, &d, now_ms()).await?;
        crate::audit::record(
            &mut tx,
            actor,
            "update",
            "custom_field",
            Some(key),
            json!({"before": FieldView::from(&stored.def), "after": FieldView::from(&d)}),
        )
        .await?;
        tx.commit().await?;
        Ok(FieldView::from(&d))
    }

    /// Deletes a definition and all its values. `confirm` must equal the number of values
    /// that will be lost; otherwise nothing happens and the answer names that number.
    pub async fn delete_field(
        &self,
        actor: &Actor,
        key: &str,
        confirm: Option<i64>,
    ) -> AppResult<FieldDeleted> {
        Self::configure_only(actor)?;
        let stored = fields::by_key(&self.db.pool, key)
            .await
            .map_err(|_| AppError::NotFound(format!("field {key}")))?;
        let mut tx = self.db.begin_write().await?;
        let n = fields::count_values(&mut *tx, stored.id).await?;
        if confirm != Some(n) {
            return Err(AppError::Conflict {
                message: format!(
                    "deleting {key} deletes {n} values irreversibly; confirm with that number"
                ),
                details: serde_json::Map::from_iter([
                    ("values".to_string(), Value::from(n)),
                    ("key".to_string(), Value::from(key)),
                ]),
            });
        }
        fields::delete(&mut tx, stored.id).await?;
        crate::audit::record(
            &mut tx,
            actor,
            "delete",
            "custom_field",
            Some(key),
            json!({"definition": FieldView::from(&stored.def), "deleted_values": n}),
        )
        .await?;
        tx.commit().await?;
        Ok(FieldDeleted {
            key: key.into(),
            deleted_values: n,
        })
    }
}
