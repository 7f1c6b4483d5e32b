//! Bulk actions on a chunk of records in one statement each (the job system calls these
//! once per chunk, inside the chunk's transaction). The chunk's IDs travel as one JSON
//! array parameter (thousands of bound parameters cost more than the writes).

use std::collections::HashMap;

use sqlx::{AnyConnection, Row};

use crate::Result;
use crate::groups::GroupKind;
use crate::params::Sql;

/// `SELECT value FROM <the JSON array bound next>`: integers, or texts when `text`.
pub(crate) fn push_json_list(
    sql: &mut Sql,
    conn: &AnyConnection,
    values: serde_json::Value,
    text: bool,
) {
    if conn.backend_name().eq_ignore_ascii_case("postgresql") {
        let cast = if text { "" } else { "::bigint" };
        sql.push(&format!(
            "SELECT value{cast} FROM json_array_elements_text("
        ))
        .bind(values.to_string())
        .push("::json)");
    } else {
        sql.push("SELECT value FROM json_each(")
            .bind(values.to_string())
            .push(")");
    }
}

/// `SELECT value FROM <the IDs as one JSON array>` for `backend`.
pub(crate) fn push_json_ids(sql: &mut Sql, backend: crate::Backend, ids: &[i64]) {
    if backend == crate::Backend::Postgres {
        sql.push("SELECT value::bigint FROM json_array_elements_text(")
            .bind(ids_json(ids).to_string())
            .push("::json)");
    } else {
        sql.push("SELECT value FROM json_each(")
            .bind(ids_json(ids).to_string())
            .push(")");
    }
}

fn ids_json(ids: &[i64]) -> serde_json::Value {
    serde_json::Value::from(ids.to_vec())
}

/// Internal IDs of the given public IDs (those that exist).
pub async fn resolve(
    conn: &mut AnyConnection,
    public_ids: &[String],
) -> Result<HashMap<String, i64>> {
    if public_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut sql = Sql::new("SELECT public_id, id FROM records WHERE public_id IN (");
    push_json_list(
        &mut sql,
        conn,
        serde_json::Value::from(public_ids.to_vec()),
        true,
    );
    sql.push(")");
    let rows = sql.query().fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
        .collect()
}

async fn returned_ids(conn: &mut AnyConnection, sql: &Sql) -> Result<Vec<i64>> {
    let rows = sql.query().fetch_all(&mut *conn).await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get::<i64, _>(0))
        .collect::<std::result::Result<_, _>>()?)
}

/// Adds the records to a campaign (a new case each) or segment; returns those not there yet.
pub async fn add_members(
    conn: &mut AnyConnection,
    kind: GroupKind,
    group: i64,
    records: &[i64],
    now: i64,
) -> Result<Vec<i64>> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = match kind {
        GroupKind::Campaign => {
            let mut sql = Sql::new(
                "INSERT INTO cases (record_id, campaign_id, created_at, modified_at) SELECT l.value, ",
            );
            sql.bind(group).push(", ").bind(now).push(", ").bind(now);
            sql
        }
        GroupKind::Segment => {
            let mut sql = Sql::new(
                "INSERT INTO record_segments (record_id, segment_id, added_at) SELECT l.value, ",
            );
            sql.bind(group).push(", ").bind(now);
            sql
        }
    };
    sql.push(" FROM (");
    push_json_list(&mut sql, conn, ids_json(records), false);
    let conflict = match kind {
        GroupKind::Campaign => "(record_id, campaign_id)",
        GroupKind::Segment => "(record_id, segment_id)",
    };
    sql.push(&format!(
        ") l WHERE true ON CONFLICT {conflict} DO NOTHING RETURNING record_id"
    ));
    returned_ids(conn, &sql).await
}

/// Removes the records from a campaign (ending their cases) or segment; returns those
/// that were in it.
pub async fn remove_members(
    conn: &mut AnyConnection,
    kind: GroupKind,
    group: i64,
    records: &[i64],
) -> Result<Vec<i64>> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let (members, col) = kind.members();
    let mut sql = Sql::new(format!("DELETE FROM {members} WHERE {col} = "));
    sql.bind(group).push(" AND record_id IN (");
    push_json_list(&mut sql, conn, ids_json(records), false);
    sql.push(") RETURNING record_id");
    returned_ids(conn, &sql).await
}

/// Adds tags to the records, or removes them; returns the records that changed, whose
/// version, modification stamp and `tags` change time move (tags are part of the record).
pub async fn change_tags(
    conn: &mut AnyConnection,
    records: &[i64],
    tags: &[String],
    add: bool,
    now: i64,
    by: Option<i64>,
) -> Result<Vec<i64>> {
    if records.is_empty() || tags.is_empty() {
        return Ok(Vec::new());
    }
    let tags_json = serde_json::Value::from(tags.to_vec());
    let mut changed = if add {
        let mut sql =
            Sql::new("INSERT INTO record_tags (record_id, tag) SELECT l.value, t.value FROM (");
        push_json_list(&mut sql, conn, ids_json(records), false);
        sql.push(") l, (");
        push_json_list(&mut sql, conn, tags_json, true);
        sql.push(") t WHERE true ON CONFLICT (record_id, tag) DO NOTHING RETURNING record_id");
        returned_ids(conn, &sql).await?
    } else {
        let mut sql = Sql::new("DELETE FROM record_tags WHERE tag IN (");
        push_json_list(&mut sql, conn, tags_json, true);
        sql.push(") AND record_id IN (");
        push_json_list(&mut sql, conn, ids_json(records), false);
        sql.push(") RETURNING record_id");
        returned_ids(conn, &sql).await?
    };
    changed.sort_unstable();
    changed.dedup();
    if changed.is_empty() {
        return Ok(changed);
    }
    let mut sql = Sql::new("UPDATE records SET version = version + 1, modified_at = ");
    sql.bind(now).push(", modified_by = ").bind(by);
    sql.push(" WHERE id IN (");
    push_json_list(&mut sql, conn, ids_json(&changed), false);
    sql.push(")");
    sql.query().execute(&mut *conn).await?;
    let mut sql = Sql::new(
        "INSERT INTO record_field_changes (record_id, field, version, changed_at) \
         SELECT id, 'tags', version, ",
    );
    sql.bind(now).push(" FROM records WHERE id IN (");
    push_json_list(&mut sql, conn, ids_json(&changed), false);
    sql.push(
        ") ON CONFLICT (record_id, field) DO UPDATE SET version = excluded.version, \
         changed_at = excluded.changed_at",
    );
    sql.query().execute(&mut *conn).await?;
    Ok(changed)
}

/// Deletes the records (their contact data, values, cases and memberships go with them);
/// returns those deleted.
pub async fn delete(conn: &mut AnyConnection, records: &[i64]) -> Result<Vec<i64>> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new("DELETE FROM records WHERE id IN (");
    push_json_list(&mut sql, conn, ids_json(records), false);
    sql.push(") RETURNING id");
    returned_ids(conn, &sql).await
}

/// Journals the records a job changed (its audit entry names them).
pub async fn note_items(conn: &mut AnyConnection, job: i64, records: &[String]) -> Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::new("INSERT INTO job_items (job_id, record_public_id) SELECT ");
    sql.bind(job).push(", l.value FROM (");
    push_json_list(
        &mut sql,
        conn,
        serde_json::Value::from(records.to_vec()),
        true,
    );
    sql.push(") l WHERE true ON CONFLICT (job_id, record_public_id) DO NOTHING");
    sql.query().execute(&mut *conn).await?;
    Ok(())
}

/// Public IDs of the given internal IDs (those that exist), in no particular order.
pub async fn public_ids(conn: &mut AnyConnection, ids: &[i64]) -> Result<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new("SELECT public_id FROM records WHERE id IN (");
    push_json_list(&mut sql, conn, ids_json(ids), false);
    sql.push(")");
    let rows = sql.query().fetch_all(&mut *conn).await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<std::result::Result<_, _>>()?)
}
