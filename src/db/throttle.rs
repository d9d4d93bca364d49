//! Storage of sign-in failure counters, shared by every server instance.

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
    Ok(row.map(|r| ThrottleState {
        failures: r.failures,
        window_started_at: r.window_started_at,
        locked_until: r.locked_until,
    }))
}

pub async fn put(c: &mut Conn<'_>, key: &str, s: &ThrottleState) -> AppResult<()> {
    Sql::new(
        "INSERT INTO login_throttle (key, failures, window_started_at, locked_until) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, \
         window_started_at = excluded.window_started_at, locked_until = excluded.locked_until",
    )
    .arg(key)
    .arg(s.failures)
    .arg(s.window_started_at)
    .arg(s.locked_until)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn clear(c: &mut Conn<'_>, key: &str) -> AppResult<()> {
    Sql::new("DELETE FROM login_throttle WHERE key = $1")
        .arg(key)
        .execute(c)
        .await?;
    Ok(())
}
