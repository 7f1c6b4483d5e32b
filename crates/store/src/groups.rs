//! Campaigns and segments (the groups a record belongs to), their members and cases.

use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Executor, Row};

use crate::params::Sql;
use crate::{Result, StoreError};

/// Which kind of group: both share their shape (name, description, active).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    Campaign,
    Segment,
}

impl GroupKind {
    fn table(self) -> &'static str {
        match self {
            GroupKind::Campaign => "campaigns",
            GroupKind::Segment => "segments",
        }
    }
    /// The table linking records to the group, and its group column.
    pub(crate) fn members(self) -> (&'static str, &'static str) {
        match self {
            GroupKind::Campaign => ("cases", "campaign_id"),
            GroupKind::Segment => ("record_segments", "segment_id"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub active: bool,
    pub created_at: i64,
    /// Records in the group (cases of a campaign).
    pub members: i64,
}

fn group_from(r: &AnyRow) -> Result<Group> {
    Ok(Group {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        description: r.try_get(2)?,
        active: r.try_get::<i64, _>(3)? != 0,
        created_at: r.try_get(4)?,
        members: r.try_get(5)?,
    })
}

fn select(kind: GroupKind) -> String {
    let (members, col) = kind.members();
    format!(
        "SELECT g.id, g.name, g.description, g.active, g.created_at, \
         (SELECT COUNT(*) FROM {members} m WHERE m.{col} = g.id) FROM {} g",
        kind.table()
    )
}

pub async fn list<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    kind: GroupKind,
) -> Result<Vec<Group>> {
    let sql = format!("{} ORDER BY g.name", select(kind));
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(exec)
        .await?;
    rows.iter().map(group_from).collect()
}

/// (ID, name, active) of every group, by name: for choosing one (no member counts).
pub async fn names<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    kind: GroupKind,
) -> Result<Vec<(i64, String, bool)>> {
    let sql = format!(
        "SELECT id, name, active FROM {} ORDER BY name",
        kind.table()
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(exec)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get::<i64, _>(2)? != 0)))
        .collect()
}

pub async fn get<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    kind: GroupKind,
    id: i64,
) -> Result<Group> {
    let sql = format!("{} WHERE g.id = $1", select(kind));
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(exec)
        .await?;
    row.as_ref()
        .map(group_from)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    kind: GroupKind,
    name: &str,
    description: &str,
    active: bool,
    now: i64,
) -> Result<i64> {
    let sql = format!(
        "INSERT INTO {} (name, description, active, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        kind.table()
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(name)
        .bind(description)
        .bind(i64::from(active))
        .bind(now)
        .fetch_one(exec)
        .await?;
    Ok(row.try_get(0)?)
}

pub async fn update<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    kind: GroupKind,
    g: &Group,
) -> Result<()> {
    let sql = format!(
        "UPDATE {} SET name = $1, description = $2, active = $3 WHERE id = $4",
        kind.table()
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&g.name)
        .bind(&g.description)
        .bind(i64::from(g.active))
        .bind(g.id)
        .execute(exec)
        .await?;
    Ok(())
}

/// Deletes the group with its memberships (a campaign's cases).
pub async fn delete(conn: &mut AnyConnection, kind: GroupKind, id: i64) -> Result<()> {
    let (members, col) = kind.members();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM {members} WHERE {col} = $1"
    )))
    .bind(id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM {} WHERE id = $1",
        kind.table()
    )))
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Adds a record to a group; false when it was there already.
pub async fn add_member(
    conn: &mut AnyConnection,
    kind: GroupKind,
    group: i64,
    record: i64,
    now: i64,
) -> Result<bool> {
    let sql = match kind {
        GroupKind::Campaign => {
            "INSERT INTO cases (record_id, campaign_id, created_at, modified_at) VALUES ($1, $2, $3, $3) ON CONFLICT (record_id, campaign_id) DO NOTHING"
        }
        GroupKind::Segment => {
            "INSERT INTO record_segments (record_id, segment_id, added_at) VALUES ($1, $2, $3) ON CONFLICT (record_id, segment_id) DO NOTHING"
        }
    };
    let done = sqlx::query(sql)
        .bind(record)
        .bind(group)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Removes a record from a group (ends its case in a campaign); false when it was not there.
pub async fn remove_member(
    conn: &mut AnyConnection,
    kind: GroupKind,
    group: i64,
    record: i64,
) -> Result<bool> {
    let (members, col) = kind.members();
    let sql = format!("DELETE FROM {members} WHERE record_id = $1 AND {col} = $2");
    let done = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(record)
        .bind(group)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// (group ID, name) of the groups a record is in.
pub async fn of_record<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    kind: GroupKind,
    record: i64,
) -> Result<Vec<(i64, String)>> {
    let (members, col) = kind.members();
    let sql = format!(
        "SELECT g.id, g.name FROM {members} m JOIN {} g ON g.id = m.{col} WHERE m.record_id = $1 ORDER BY g.name",
        kind.table()
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(record)
        .fetch_all(exec)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// Usernames of the agents working in a campaign.
pub async fn agents<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    campaign: i64,
) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT u.username FROM campaign_agents a JOIN users u ON u.id = a.user_id WHERE a.campaign_id = $1 ORDER BY u.username",
    )
    .bind(campaign)
    .fetch_all(exec)
    .await?;
    rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
}

pub async fn set_agents(conn: &mut AnyConnection, campaign: i64, user_ids: &[i64]) -> Result<()> {
    sqlx::query("DELETE FROM campaign_agents WHERE campaign_id = $1")
        .bind(campaign)
        .execute(&mut *conn)
        .await?;
    for u in user_ids {
        let mut s = Sql::new("INSERT INTO campaign_agents (campaign_id, user_id) VALUES (");
        s.bind(campaign).push(", ").bind(*u).push(")");
        s.query().execute(&mut *conn).await?;
    }
    Ok(())
}
