//! Bulk actions on a chunk of records in one statement each (the job system calls these
//! once per chunk, inside the chunk's transaction).

use std::collections::HashMap;

use sqlx::{AnyConnection, Row};

use crate::Result;
use crate::groups::GroupKind;
use crate::params::{Param, Sql, multi_insert};

/// Internal IDs of the given public IDs (those that exist).
pub async fn resolve(
    conn: &mut AnyConnection,
    public_ids: &[String],
) -> Result<HashMap<String, i64>> {
    if public_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut sql = Sql::new("SELECT public_id, id FROM records WHERE public_id IN (");
    push_list(&mut sql, public_ids.iter().map(|p| Param::from(p.clone())));
    sql.push(")");
    let rows = sql.query().fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
        .collect()
}

fn push_list(sql: &mut Sql, values: impl Iterator<Item = Param>) {
    for (i, v) in values.enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(v);
    }
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
    let (table, cols, conflict): (&str, &[&str], &str) = match kind {
        GroupKind::Campaign => (
            "cases",
            &["record_id", "campaign_id", "created_at", "modified_at"],
            "(record_id, campaign_id)",
        ),
        GroupKind::Segment => (
            "record_segments",
            &["record_id", "segment_id", "added_at"],
            "(record_id, segment_id)",
        ),
    };
    let rows: Vec<Vec<Param>> = records
        .iter()
        .map(|r| {
            let mut row: Vec<Param> = vec![(*r).into(), group.into(), now.into()];
            if kind == GroupKind::Campaign {
                row.push(now.into());
            }
            row
        })
        .collect();
    let mut out = Vec::new();
    for mut s in multi_insert(table, cols, &rows, 10_000) {
        s.push(&format!(
            " ON CONFLICT {conflict} DO NOTHING RETURNING record_id"
        ));
        out.extend(returned_ids(conn, &s).await?);
    }
    Ok(out)
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
    push_list(&mut sql, records.iter().map(|r| Param::from(*r)));
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
    let mut changed = Vec::new();
    if add {
        let rows: Vec<Vec<Param>> = records
            .iter()
            .flat_map(|r| {
                tags.iter()
                    .map(move |t| vec![(*r).into(), t.clone().into()])
            })
            .collect();
        for mut s in multi_insert("record_tags", &["record_id", "tag"], &rows, 10_000) {
            s.push(" ON CONFLICT (record_id, tag) DO NOTHING RETURNING record_id");
            changed.extend(returned_ids(conn, &s).await?);
        }
    } else {
        let mut sql = Sql::new("DELETE FROM record_tags WHERE tag IN (");
        push_list(&mut sql, tags.iter().map(|t| Param::from(t.clone())));
        sql.push(") AND record_id IN (");
        push_list(&mut sql, records.iter().map(|r| Param::from(*r)));
        sql.push(") RETURNING record_id");
        changed = returned_ids(conn, &sql).await?;
    }
    changed.sort_unstable();
    changed.dedup();
    if changed.is_empty() {
        return Ok(changed);
    }
    let mut sql = Sql::new("UPDATE records SET version = version + 1, modified_at = ");
    sql.bind(now).push(", modified_by = ").bind(by);
    sql.push(" WHERE id IN (");
    push_list(&mut sql, changed.iter().map(|r| Param::from(*r)));
    sql.push(")");
    sql.query().execute(&mut *conn).await?;
    let mut sql = Sql::new(
        "INSERT INTO record_field_changes (record_id, field, version, changed_at) \
         SELECT id, 'tags', version, ",
    );
    sql.bind(now).push(" FROM records WHERE id IN (");
    push_list(&mut sql, changed.iter().map(|r| Param::from(*r)));
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
    push_list(&mut sql, records.iter().map(|r| Param::from(*r)));
    sql.push(") RETURNING id");
    returned_ids(conn, &sql).await
}
