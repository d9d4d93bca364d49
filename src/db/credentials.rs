//! Storage of what signing in checks: password hashes (the user's own or a
//! temporary one from the secretariat) and, beside them, which accounts are
//! locked by too many failed sign-ins.

use chrono::{DateTime, Utc};

use super::accounts::{user_cols, UserRow};
use super::sql::{Arg, Sql};
use super::Conn;
use crate::error::AppResult;

/// What sign-in needs: the user and the password hash.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Credentials {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub password_hash: Option<String>,
}

pub async fn credentials_by_email_key(
    c: &mut Conn<'_>,
    email_key: &str,
) -> AppResult<Option<Credentials>> {
    Sql::new(concat!(
        "SELECT ",
        user_cols!(),
        ", password_hash FROM users WHERE email_key = $1"
    ))
    .arg(email_key)
    .fetch_optional(c)
    .await
}

pub async fn credentials_by_id(c: &mut Conn<'_>, id: i64) -> AppResult<Option<Credentials>> {
    Sql::new(concat!(
        "SELECT ",
        user_cols!(),
        ", password_hash FROM users WHERE id = $1"
    ))
    .arg(id)
    .fetch_optional(c)
    .await
}

/// Store a new password hash: the user's own when `temporary_until` is
/// `None`, else one that works until then and only to choose a new one.
/// Every token issued before stops working.
pub async fn set_password(
    c: &mut Conn<'_>,
    id: i64,
    hash: &str,
    temporary_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> AppResult<Option<UserRow>> {
    Sql::new(concat!(
        "UPDATE users SET password_hash = $1, password_version = password_version + 1, \
         password_temporary_until = $2, updated_at = $3 WHERE id = $4 RETURNING ",
        user_cols!()
    ))
    .arg(hash)
    .arg(temporary_until)
    .arg(now)
    .arg(id)
    .fetch_optional(c)
    .await
}

/// The sign-in locks of the users `ids` (over or not): `(user id, locked
/// until)`. Account throttle keys are `key_prefix` and the e-mail key.
pub async fn sign_in_locks(
    c: &mut Conn<'_>,
    ids: &[i64],
    key_prefix: &str,
) -> AppResult<Vec<(i64, DateTime<Utc>)>> {
    let mut sql = Sql::new(
        "SELECT u.id, t.locked_until FROM users u JOIN login_throttle t \
         ON t.key = $1 || u.email_key WHERE t.locked_until IS NOT NULL AND u.id IN ",
    )
    .arg(key_prefix);
    sql.bind_list(ids.iter().map(|i| Arg::I64(*i)));
    sql.fetch_all(c).await
}
