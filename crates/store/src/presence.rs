//! Who has a card open.

use sqlx::{Any, Executor, Row};

use crate::Result;

pub async fn touch<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    record: &str,
    session_key: &str,
    user_id: i64,
    display_name: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO presence (record_public_id, session_key, user_id, display_name, seen_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (record_public_id, session_key) DO UPDATE SET seen_at = excluded.seen_at",
    )
    .bind(record)
    .bind(session_key)
    .bind(user_id)
    .bind(display_name)
    .bind(now)
    .execute(exec)
    .await?;
    Ok(())
}

pub async fn leave<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    record: &str,
    session_key: &str,
) -> Result<()> {
    sqlx::query("DELETE FROM presence WHERE record_public_id = $1 AND session_key = $2")
        .bind(record)
        .bind(session_key)
        .execute(exec)
        .await?;
    Ok(())
}

/// (user ID, display name) of those seen on the card since `since`, one row a user.
pub async fn viewers<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    record: &str,
    since: i64,
) -> Result<Vec<(i64, String)>> {
    let rows = sqlx::query(
        "SELECT user_id, MAX(display_name) FROM presence WHERE record_public_id = $1 AND seen_at >= $2 \
         GROUP BY user_id ORDER BY MAX(display_name)",
    )
    .bind(record)
    .bind(since)
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}
