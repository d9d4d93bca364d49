//! Storage of sign-in failure counters, shared by every server instance.
//!
//! An attempt is counted *before* its password is checked, by one upsert that
//! counts and returns the new state ([`reserve`]); a locked key is left alone
//! and returns nothing. Within the caller's transaction the upsert holds the
//! row (PostgreSQL's row lock, SQLite's single writer) until the lock that the
//! count may call for is written, so concurrent attempts cannot all pass.

use chrono::{DateTime, Utc};

use super::sql::Sql;
use super::Conn;
use crate::domain::throttle::ThrottleState;
use crate::error::AppResult;

#[derive(sqlx::FromRow)]
struct Row {
    failures: i64,
    window_started_at: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
}

pub async fn get(c: &mut Conn<'_>, key: &str) -> AppResult<Option<ThrottleState>> {
    let row: Option<Row> = Sql::new(
        "SELECT failures, window_started_at, locked_until FROM login_throttle WHERE key = $1",
    )
    .arg(key)
    .fetch_optional(c)
    .await?;
    Ok(row.map(Row::into_state))
}

impl Row {
    fn into_state(self) -> ThrottleState {
        ThrottleState {
            failures: self.failures,
            window_started_at: self.window_started_at,
            locked_until: self.locked_until,
        }
    }
}

/// Count one attempt on `key` at `now`, unless the key is locked: the new state,
/// or `None` (nothing counted) while `locked_until` is after `now`. Failures
/// from before `window_start` are forgotten and the count starts again at 1.
pub async fn reserve(
    c: &mut Conn<'_>,
    key: &str,
    now: DateTime<Utc>,
    window_start: DateTime<Utc>,
) -> AppResult<Option<ThrottleState>> {
    let row: Option<Row> = Sql::new(
        "INSERT INTO login_throttle (key, failures, window_started_at, locked_until) \
         VALUES ($1, 1, $2, NULL) ON CONFLICT (key) DO UPDATE SET \
         failures = CASE WHEN login_throttle.window_started_at > $3 \
             THEN login_throttle.failures + 1 ELSE 1 END, \
         window_started_at = CASE WHEN login_throttle.window_started_at > $3 \
             THEN login_throttle.window_started_at ELSE $2 END \
         WHERE login_throttle.locked_until IS NULL OR login_throttle.locked_until <= $2 \
         RETURNING failures, window_started_at, locked_until",
    )
    .arg(key)
    .arg(now)
    .arg(window_start)
    .fetch_optional(c)
    .await?;
    Ok(row.map(Row::into_state))
}

/// Give back one attempt counted by [`reserve`] (`counted` is the state it
/// stored): a sign-in that succeeded is no failure of the client address. A
/// lock that this attempt set is lifted; one set by other failures stays.
pub async fn release(c: &mut Conn<'_>, key: &str, counted: &ThrottleState) -> AppResult<()> {
    let mut sql = Sql::new("UPDATE login_throttle SET failures = failures - 1");
    if let Some(until) = counted.locked_until {
        sql.push(", locked_until = CASE WHEN locked_until = ")
            .bind(until)
            .push(" THEN NULL ELSE locked_until END");
    }
    sql.push(" WHERE failures > 0 AND key = ").bind(key);
    sql.execute(c).await?;
    Ok(())
}

/// Store a key's state; the state as stored (timestamps at the database's precision).
pub async fn put(c: &mut Conn<'_>, key: &str, s: &ThrottleState) -> AppResult<ThrottleState> {
    let row: Row = Sql::new(
        "INSERT INTO login_throttle (key, failures, window_started_at, locked_until) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, \
         window_started_at = excluded.window_started_at, locked_until = excluded.locked_until \
         RETURNING failures, window_started_at, locked_until",
    )
    .arg(key)
    .arg(s.failures)
    .arg(s.window_started_at)
    .arg(s.locked_until)
    .fetch_one(c)
    .await?;
    Ok(row.into_state())
}

pub async fn clear(c: &mut Conn<'_>, key: &str) -> AppResult<()> {
    Sql::new("DELETE FROM login_throttle WHERE key = $1")
        .arg(key)
        .execute(c)
        .await?;
    Ok(())
}
