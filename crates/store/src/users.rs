//! Users, sessions, API tokens and log-in failures.

use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Executor, Row};
use std::collections::HashMap;

use crate::params::Sql;
use crate::row::Cols;
use crate::{Result, StoreError};

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub password_hash: Option<String>,
    pub role: String,
    pub permissions: Vec<String>,
    pub active: bool,
    pub locale: String,
    pub time_zone: String,
    pub created_at: i64,
}

const USER_COLS: &str = "u.id, u.username, u.display_name, u.email, u.password_hash, u.role, \
                         u.permissions, u.active, u.locale, u.time_zone, u.created_at";

pub(crate) fn user_from_row<R: Cols>(r: &R) -> Result<User> {
    Ok(User {
        id: r.int("id")?,
        username: r.text("username")?,
        display_name: r.text("display_name")?,
        email: r.opt_text("email")?,
        password_hash: r.opt_text("password_hash")?,
        role: r.text("role")?,
        permissions: serde_json::from_str(&r.text("permissions")?)?,
        active: r.int("active")? != 0,
        locale: r.text("locale")?,
        time_zone: r.text("time_zone")?,
        created_at: r.int("created_at")?,
    })
}

pub async fn insert<'e, E: Executor<'e, Database = Any>>(exec: E, u: &User) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO users (username, display_name, email, password_hash, role, permissions, active, \
         locale, time_zone, created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
         RETURNING id",
    )
    .bind(&u.username)
    .bind(&u.display_name)
    .bind(&u.email)
    .bind(&u.password_hash)
    .bind(&u.role)
    .bind(serde_json::to_string(&u.permissions)?)
    .bind(i64::from(u.active))
    .bind(&u.locale)
    .bind(&u.time_zone)
    .bind(u.created_at)
    .fetch_one(exec)
    .await?;
    Ok(row.try_get(0)?)
}

pub async fn update<'e, E: Executor<'e, Database = Any>>(exec: E, u: &User, at: i64) -> Result<()> {
    let done = sqlx::query(
        "UPDATE users SET display_name = $1, email = $2, password_hash = $3, role = $4, permissions = $5, \
         active = $6, locale = $7, time_zone = $8, modified_at = $9 WHERE id = $10",
    )
    .bind(&u.display_name)
    .bind(&u.email)
    .bind(&u.password_hash)
    .bind(&u.role)
    .bind(serde_json::to_string(&u.permissions)?)
    .bind(i64::from(u.active))
    .bind(&u.locale)
    .bind(&u.time_zone)
    .bind(at)
    .bind(u.id)
    .execute(exec)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn by_username<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    username: &str,
) -> Result<Option<User>> {
    let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.username = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(username)
        .fetch_optional(exec)
        .await?;
    row.as_ref().map(user_from_row).transpose()
}

pub async fn list<'e, E: Executor<'e, Database = Any>>(exec: E) -> Result<Vec<User>> {
    let sql = format!("SELECT {USER_COLS} FROM users u ORDER BY u.username");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(exec)
        .await?;
    rows.iter().map(user_from_row).collect()
}

pub async fn delete<'e, E: Executor<'e, Database = Any>>(exec: E, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(id)
        .execute(exec)
        .await?;
    Ok(())
}

pub async fn count_active_admins<'e, E: Executor<'e, Database = Any>>(exec: E) -> Result<i64> {
    let row = sqlx::query("SELECT COUNT(*) FROM users WHERE role = 'administrator' AND active = 1")
        .fetch_one(exec)
        .await?;
    Ok(row.try_get(0)?)
}

/// Internal IDs of the given usernames (unknown names are absent from the map).
pub async fn ids_by_usernames(
    conn: &mut AnyConnection,
    names: &[String],
) -> Result<HashMap<String, i64>> {
    if names.is_empty() {
        return Ok(HashMap::new());
    }
    let mut sql = Sql::new("SELECT username, id FROM users WHERE username IN (");
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(n.clone());
    }
    sql.push(")");
    let rows = sql.query().fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

// --- sessions ---------------------------------------------------------------------------

pub async fn create_session<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    token_hash: &str,
    user_id: i64,
    csrf: &str,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(csrf)
    .bind(now)
    .bind(expires_at)
    .execute(exec)
    .await?;
    Ok(())
}

/// The active user of a live session, with the session's CSRF token.
pub async fn session_user<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    token_hash: &str,
    now: i64,
) -> Result<Option<(User, String)>> {
    let sql = format!(
        "SELECT {USER_COLS}, s.csrf_token FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = 1"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(exec)
        .await?;
    row.map(|r| Ok((user_from_row(&r)?, r.try_get("csrf_token")?)))
        .transpose()
}

pub async fn delete_session<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    token_hash: &str,
) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(exec)
        .await?;
    Ok(())
}

pub async fn delete_sessions_of<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    user_id: i64,
) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(exec)
        .await?;
    Ok(())
}

pub async fn purge_expired_sessions<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    now: i64,
) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(exec)
        .await?;
    Ok(())
}

// --- API tokens -------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub username: String,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

fn token_from_row(r: &AnyRow) -> Result<ApiToken> {
    Ok(ApiToken {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        username: r.try_get("username")?,
        name: r.try_get("name")?,
        prefix: r.try_get("prefix")?,
        created_at: r.try_get("created_at")?,
        last_used_at: r.try_get("last_used_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

const TOKEN_COLS: &str =
    "t.id, t.user_id, u.username, t.name, t.prefix, t.created_at, t.last_used_at, t.revoked_at";

pub async fn create_token<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    user_id: i64,
    name: &str,
    token_hash: &str,
    prefix: &str,
    now: i64,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(user_id)
    .bind(name)
    .bind(token_hash)
    .bind(prefix)
    .bind(now)
    .fetch_one(exec)
    .await?;
    Ok(row.try_get(0)?)
}

pub(crate) fn token_user_sql() -> String {
    format!(
        "SELECT {USER_COLS}, t.id AS token_id, t.name, t.prefix, t.created_at AS token_created_at, \
         t.last_used_at FROM api_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.active = 1"
    )
}

/// The active user behind a live token, with the token.
pub async fn token_user<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    token_hash: &str,
) -> Result<Option<(User, ApiToken)>> {
    let sql = token_user_sql();
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(token_hash)
        .fetch_optional(exec)
        .await?;
    row.as_ref().map(token_user_from_row).transpose()
}

pub(crate) fn token_user_from_row<R: Cols>(r: &R) -> Result<(User, ApiToken)> {
    let user = user_from_row(r)?;
    let token = ApiToken {
        id: r.int("token_id")?,
        user_id: user.id,
        username: user.username.clone(),
        name: r.text("name")?,
        prefix: r.text("prefix")?,
        created_at: r.int("token_created_at")?,
        last_used_at: r.opt_int("last_used_at")?,
        revoked_at: None,
    };
    Ok((user, token))
}

pub async fn touch_token<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    id: i64,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(exec)
        .await?;
    Ok(())
}

pub async fn list_tokens<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    user_id: Option<i64>,
) -> Result<Vec<ApiToken>> {
    let mut sql = Sql::new(format!(
        "SELECT {TOKEN_COLS} FROM api_tokens t JOIN users u ON u.id = t.user_id"
    ));
    if let Some(u) = user_id {
        sql.push(" WHERE t.user_id = ").bind(u);
    }
    sql.push(" ORDER BY t.id");
    let rows = sql.query().fetch_all(exec).await?;
    rows.iter().map(token_from_row).collect()
}

pub async fn token_by_id<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    id: i64,
) -> Result<ApiToken> {
    let sql = format!(
        "SELECT {TOKEN_COLS} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(exec)
        .await?;
    row.as_ref()
        .map(token_from_row)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

pub async fn revoke_token<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    id: i64,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(exec)
        .await?;
    Ok(())
}

// --- log-in throttling ------------------------------------------------------------------

pub async fn note_login_failure<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    username: &str,
    at: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO login_failures (username, at) VALUES ($1, $2)")
        .bind(username)
        .bind(at)
        .execute(exec)
        .await?;
    Ok(())
}

/// Failures for `username` since `since`, and the time of the latest.
pub async fn login_failures<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    username: &str,
    since: i64,
) -> Result<(i64, Option<i64>)> {
    let row =
        sqlx::query("SELECT COUNT(*), MAX(at) FROM login_failures WHERE username = $1 AND at > $2")
            .bind(username)
            .bind(since)
            .fetch_one(exec)
            .await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

pub async fn clear_login_failures<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    username: &str,
) -> Result<()> {
    sqlx::query("DELETE FROM login_failures WHERE username = $1")
        .bind(username)
        .execute(exec)
        .await?;
    Ok(())
}

impl crate::Db {
    /// The active user behind a live API token (SQLite's fast path when open).
    pub async fn token_user(&self, token_hash: &str) -> Result<Option<(User, ApiToken)>> {
        match &self.reader {
            Some(r) => r.token_user(token_hash),
            None => token_user(&self.pool, token_hash).await,
        }
    }
}

// --- per-user settings ------------------------------------------------------------------

pub async fn setting<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    user_id: i64,
    key: &str,
) -> Result<Option<String>> {
    let row = sqlx::query("SELECT value FROM user_settings WHERE user_id = $1 AND key = $2")
        .bind(user_id)
        .bind(key)
        .fetch_optional(exec)
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

pub async fn put_setting<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    user_id: i64,
    key: &str,
    value: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO user_settings (user_id, key, value) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id, key) DO UPDATE SET value = excluded.value",
    )
    .bind(user_id)
    .bind(key)
    .bind(value)
    .execute(exec)
    .await?;
    Ok(())
}
