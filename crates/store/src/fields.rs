//! Custom field definitions.

use kartoteka_domain::field::{FieldDefinition, FieldType};
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use crate::{Result, StoreError};

#[derive(Debug, Clone, PartialEq)]
pub struct StoredField {
    pub id: i64,
    pub def: FieldDefinition,
}

fn from_row(r: &AnyRow) -> Result<StoredField> {
    let t: String = r.try_get("field_type")?;
    let options: String = r.try_get("options")?;
    Ok(StoredField {
        id: r.try_get("id")?,
        def: FieldDefinition {
            key: r.try_get("key")?,
            label: r.try_get("label")?,
            field_type: FieldType::parse(&t).map_err(|e| StoreError::Corrupt(e.message))?,
            options: serde_json::from_str(&options)?,
            mask: r.try_get("mask")?,
            visible: r.try_get::<i64, _>("visible")? != 0,
            editable: r.try_get::<i64, _>("editable")? != 0,
            required: r.try_get::<i64, _>("required")? != 0,
            position: r.try_get("position")?,
        },
    })
}

const COLS: &str =
    "id, key, label, field_type, options, mask, visible, editable, required, position";

pub async fn list<'e, E: Executor<'e, Database = Any>>(exec: E) -> Result<Vec<StoredField>> {
    let sql = format!("SELECT {COLS} FROM custom_fields ORDER BY position, key");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(exec)
        .await?;
    rows.iter().map(from_row).collect()
}

pub async fn by_key<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    key: &str,
) -> Result<StoredField> {
    let sql = format!("SELECT {COLS} FROM custom_fields WHERE key = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_optional(exec)
        .await?;
    row.as_ref()
        .map(from_row)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    d: &FieldDefinition,
    now: i64,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO custom_fields (key, label, field_type, options, mask, visible, editable, required, \
         position, created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
    )
    .bind(&d.key)
    .bind(&d.label)
    .bind(d.field_type.as_str())
    .bind(serde_json::to_string(&d.options)?)
    .bind(&d.mask)
    .bind(i64::from(d.visible))
    .bind(i64::from(d.editable))
    .bind(i64::from(d.required))
    .bind(d.position)
    .bind(now)
    .fetch_one(exec)
    .await?;
    Ok(row.try_get(0)?)
}

/// Updates the mutable parts (label, options, mask, flags, position); key and type stay.
pub async fn update<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    id: i64,
    d: &FieldDefinition,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE custom_fields SET label = $1, options = $2, mask = $3, visible = $4, editable = $5, \
         required = $6, position = $7, modified_at = $8 WHERE id = $9",
    )
    .bind(&d.label)
    .bind(serde_json::to_string(&d.options)?)
    .bind(&d.mask)
    .bind(i64::from(d.visible))
    .bind(i64::from(d.editable))
    .bind(i64::from(d.required))
    .bind(d.position)
    .bind(now)
    .bind(id)
    .execute(exec)
    .await?;
    Ok(())
}

pub async fn count_values<'e, E: Executor<'e, Database = Any>>(exec: E, id: i64) -> Result<i64> {
    let row = sqlx::query("SELECT COUNT(*) FROM custom_values WHERE field_id = $1")
        .bind(id)
        .fetch_one(exec)
        .await?;
    Ok(row.try_get(0)?)
}

/// Values of a field that its (new) options or mask would no longer accept.
pub async fn values<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    id: i64,
    limit: i64,
) -> Result<Vec<String>> {
    let rows = sqlx::query("SELECT DISTINCT value FROM custom_values WHERE field_id = $1 LIMIT $2")
        .bind(id)
        .bind(limit)
        .fetch_all(exec)
        .await?;
    rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
}

pub async fn delete(conn: &mut sqlx::AnyConnection, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM custom_values WHERE field_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM custom_fields WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
