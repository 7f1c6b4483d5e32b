//! Cases (a record in a campaign): their fields, their classifier history, and who may be
//! assigned to them.

use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Executor, Row};

use crate::{Result, StoreError};

/// A case with its campaign's name and its assigned user's names.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub id: i64,
    pub record_id: i64,
    pub campaign_id: i64,
    pub campaign: String,
    pub assigned_to: Option<i64>,
    pub assigned_username: Option<String>,
    pub assigned_name: Option<String>,
    pub status: Option<String>,
    pub last_classifier: Option<String>,
    pub attempts: i64,
    pub last_call_type: Option<String>,
    pub last_call_status: Option<String>,
    pub recontact_at: Option<i64>,
    pub created_at: i64,
    /// `created_at` for cases not changed since (or made before the column existed).
    pub modified_at: i64,
}

/// One classifier given to a case.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifierGiven {
    pub classifier: String,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub user_name: Option<String>,
    pub at: i64,
}

/// A user a case can be assigned to.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignee {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub active: bool,
}

/// The roles a case may be assigned to (not integrations).
pub const ASSIGNABLE_ROLES: [&str; 4] = ["agent", "home_agent", "manager", "administrator"];

const SELECT: &str = "SELECT k.id, k.record_id, k.campaign_id, c.name, k.assigned_to, u.username, u.display_name, \
     k.status, k.last_classifier, k.attempts, k.last_call_type, k.last_call_status, k.recontact_at, \
     k.created_at, COALESCE(k.modified_at, k.created_at) \
     FROM cases k JOIN campaigns c ON c.id = k.campaign_id LEFT JOIN users u ON u.id = k.assigned_to";

fn case_from(r: &AnyRow) -> Result<Case> {
    Ok(Case {
        id: r.try_get(0)?,
        record_id: r.try_get(1)?,
        campaign_id: r.try_get(2)?,
        campaign: r.try_get(3)?,
        assigned_to: r.try_get(4)?,
        assigned_username: r.try_get(5)?,
        assigned_name: r.try_get(6)?,
        status: r.try_get(7)?,
        last_classifier: r.try_get(8)?,
        attempts: r.try_get(9)?,
        last_call_type: r.try_get(10)?,
        last_call_status: r.try_get(11)?,
        recontact_at: r.try_get(12)?,
        created_at: r.try_get(13)?,
        modified_at: r.try_get(14)?,
    })
}

/// The cases of a record, by campaign name.
pub async fn of_record<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    record_id: i64,
) -> Result<Vec<Case>> {
    let sql = format!("{SELECT} WHERE k.record_id = $1 ORDER BY c.name, k.id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(record_id)
        .fetch_all(exec)
        .await?;
    rows.iter().map(case_from).collect()
}

/// The case of a record in a campaign.
pub async fn get<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    record_id: i64,
    campaign_id: i64,
) -> Result<Case> {
    let sql = format!("{SELECT} WHERE k.record_id = $1 AND k.campaign_id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(record_id)
        .bind(campaign_id)
        .fetch_optional(exec)
        .await?;
    row.as_ref()
        .map(case_from)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

/// Locks the case row for the rest of the transaction (`for_update` is `Db::for_update`).
pub async fn lock(
    conn: &mut AnyConnection,
    record_id: i64,
    campaign_id: i64,
    for_update: &str,
) -> Result<i64> {
    let sql = format!("SELECT id FROM cases WHERE record_id = $1 AND campaign_id = $2{for_update}");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(record_id)
        .bind(campaign_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(row.try_get(0)?)
}

/// Writes the editable fields of a case.
pub async fn update(conn: &mut AnyConnection, case: &Case, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE cases SET status = $1, assigned_to = $2, recontact_at = $3, last_classifier = $4, \
         modified_at = $5 WHERE id = $6",
    )
    .bind(case.status.clone())
    .bind(case.assigned_to)
    .bind(case.recontact_at)
    .bind(case.last_classifier.clone())
    .bind(now)
    .bind(case.id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Appends a classifier to a case's history.
pub async fn add_classifier(
    conn: &mut AnyConnection,
    case_id: i64,
    classifier: &str,
    user_id: Option<i64>,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO case_classifiers (case_id, classifier, user_id, at) VALUES ($1, $2, $3, $4)",
    )
    .bind(case_id)
    .bind(classifier)
    .bind(user_id)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The classifiers given to a case, newest first.
pub async fn classifiers<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    case_id: i64,
) -> Result<Vec<ClassifierGiven>> {
    let rows = sqlx::query(
        "SELECT h.classifier, h.user_id, u.username, u.display_name, h.at FROM case_classifiers h \
         LEFT JOIN users u ON u.id = h.user_id WHERE h.case_id = $1 ORDER BY h.at DESC, h.id DESC",
    )
    .bind(case_id)
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ClassifierGiven {
                classifier: r.try_get(0)?,
                user_id: r.try_get(1)?,
                username: r.try_get(2)?,
                user_name: r.try_get(3)?,
                at: r.try_get(4)?,
            })
        })
        .collect()
}

fn assignee_from(r: &AnyRow) -> Result<Assignee> {
    Ok(Assignee {
        id: r.try_get(0)?,
        username: r.try_get(1)?,
        display_name: r.try_get(2)?,
        role: r.try_get(3)?,
        active: r.try_get::<i64, _>(4)? != 0,
    })
}

/// A user by ID, to check that a case may be assigned to them.
pub async fn assignee<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    user_id: i64,
) -> Result<Option<Assignee>> {
    let row =
        sqlx::query("SELECT id, username, display_name, role, active FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(exec)
            .await?;
    row.as_ref().map(assignee_from).transpose()
}

/// A user by username, to check that a case may be assigned to them.
pub async fn assignee_by_username<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    username: &str,
) -> Result<Option<Assignee>> {
    let row = sqlx::query(
        "SELECT id, username, display_name, role, active FROM users WHERE username = $1",
    )
    .bind(username)
    .fetch_optional(exec)
    .await?;
    row.as_ref().map(assignee_from).transpose()
}

/// The active users a case may be assigned to, by name.
pub async fn assignees<'e, E: Executor<'e, Database = Any>>(exec: E) -> Result<Vec<Assignee>> {
    let rows = sqlx::query(
        "SELECT id, username, display_name, role, active FROM users WHERE active = 1 \
         AND role IN ('agent', 'home_agent', 'manager', 'administrator') ORDER BY display_name, username",
    )
    .fetch_all(exec)
    .await?;
    rows.iter().map(assignee_from).collect()
}

/// The campaigns a user works in (as an agent).
pub async fn campaigns_of_agent<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    user_id: i64,
) -> Result<Vec<i64>> {
    let rows = sqlx::query("SELECT campaign_id FROM campaign_agents WHERE user_id = $1")
        .bind(user_id)
        .fetch_all(exec)
        .await?;
    rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
}

/// A user's time zone (for dates typed without one).
pub async fn time_zone_of<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    user_id: i64,
) -> Result<Option<String>> {
    let row = sqlx::query("SELECT time_zone FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(exec)
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}
