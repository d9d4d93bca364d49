//! Storage of ended sessions: tokens revoked before their expiry (sign-out).

use chrono::{DateTime, Utc};

use super::sql::Sql;
use super::Conn;
use crate::error::AppResult;

/// End one token before its expiry (a sign-out). Rows whose token expired
/// before `purge_before` are forgotten on the way: those tokens are refused
/// anyway.
pub async fn revoke_token(
    c: &mut Conn<'_>,
    jti: &str,
    user_id: i64,
    expires_at: DateTime<Utc>,
    purge_before: DateTime<Utc>,
) -> AppResult<()> {
    Sql::new("DELETE FROM revoked_tokens WHERE expires_at < $1")
        .arg(purge_before)
        .execute(c)
        .await?;
    Sql::new(
        "INSERT INTO revoked_tokens (jti, user_id, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (jti) DO NOTHING",
    )
    .arg(jti)
    .arg(user_id)
    .arg(expires_at)
    .execute(c)
    .await?;
    Ok(())
}

/// Whether the token with this `jti` was revoked.
pub async fn token_revoked(c: &mut Conn<'_>, jti: &str) -> AppResult<bool> {
    let found: Option<(i64,)> = Sql::new("SELECT user_id FROM revoked_tokens WHERE jti = $1")
        .arg(jti)
        .fetch_optional(c)
        .await?;
    Ok(found.is_some())
}
