//! Storage of idempotency keys (see [`crate::service::idempotency`]).

use chrono::{DateTime, Utc};

use super::sql::Sql;
use super::Conn;
use crate::error::AppResult;

/// A key already claimed: what it was used for, and what that created.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyRow {
    pub operation: String,
    pub fingerprint: String,
    pub result: Option<String>,
}

/// Forget keys created before `before`.
pub async fn purge(c: &mut Conn<'_>, before: DateTime<Utc>) -> AppResult<u64> {
    Sql::new("DELETE FROM idempotency_keys WHERE created_at < $1")
        .arg(before)
        .execute(c)
        .await
}

/// Claim `key` for `user_id` in the caller's transaction: `None` if it was
/// free (now it is the caller's), else the row that holds it. On PostgreSQL a
/// claim made by a transaction still running waits for it to end, so two
/// retries sent at once never both do the work.
pub async fn claim(
    c: &mut Conn<'_>,
    user_id: i64,
    key: &str,
    operation: &str,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<KeyRow>> {
    let inserted = Sql::new(
        "INSERT INTO idempotency_keys (user_id, key, operation, fingerprint, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, key) DO NOTHING",
    )
    .arg(user_id)
    .arg(key)
    .arg(operation)
    .arg(fingerprint)
    .arg(now)
    .execute(c)
    .await?;
    if inserted == 1 {
        return Ok(None);
    }
    Sql::new(
        "SELECT operation, fingerprint, result FROM idempotency_keys \
         WHERE user_id = $1 AND key = $2",
    )
    .arg(user_id)
    .arg(key)
    .fetch_optional(c)
    .await
}

/// The key's row, unless it was created before `since` (then it is forgotten).
pub async fn find(
    c: &mut Conn<'_>,
    user_id: i64,
    key: &str,
    since: DateTime<Utc>,
) -> AppResult<Option<KeyRow>> {
    Sql::new(
        "SELECT operation, fingerprint, result FROM idempotency_keys \
         WHERE user_id = $1 AND key = $2 AND created_at >= $3",
    )
    .arg(user_id)
    .arg(key)
    .arg(since)
    .fetch_optional(c)
    .await
}

/// Record what the work done under a claimed key created.
pub async fn settle(c: &mut Conn<'_>, user_id: i64, key: &str, result: &str) -> AppResult<()> {
    Sql::new("UPDATE idempotency_keys SET result = $3 WHERE user_id = $1 AND key = $2")
        .arg(user_id)
        .arg(key)
        .arg(result)
        .execute(c)
        .await?;
    Ok(())
}
