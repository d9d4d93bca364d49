//! Notifications (a new revision of a module someone commented on or follows)
//! and module follows.

use chrono::{DateTime, Utc};

use super::sql::{finish_page, Arg, Sql};
use super::Conn;
use crate::domain::notifications::{NotificationKind, NotificationReason};
use crate::domain::page::Page;
use crate::error::AppResult;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: i64,
    pub user_id: i64,
    pub kind: NotificationKind,
    pub module_id: i64,
    pub revision_id: i64,
    pub reason: NotificationReason,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// Tell every active user who should know that `revision_id` of `module_id`
/// is out: the users of organizations that submitted comments on an earlier
/// revision (reason COMMENTED), and followers (FOLLOWING). Not its publisher.
/// Returns how many were told.
pub async fn revision_published(
    c: &mut Conn<'_>,
    module_id: i64,
    revision_id: i64,
    publisher: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    // One statement: a user who both commented and follows is told once, as COMMENTED.
    Sql::new(
        "WITH commented AS (SELECT DISTINCT organization_id FROM comments \
             WHERE state <> 'DRAFT' AND revision_id IN \
                 (SELECT id FROM revisions WHERE module_id = $1 AND id <> $2)) \
         INSERT INTO notifications (user_id, kind, module_id, revision_id, reason, created_at) \
         SELECT u.id, 'REVISION_PUBLISHED', $1, $2, \
                CASE WHEN u.organization_id IN (SELECT organization_id FROM commented) \
                     THEN 'COMMENTED' ELSE 'FOLLOWING' END, $3 \
         FROM users u \
         WHERE u.active AND u.id <> $4 \
           AND (u.organization_id IN (SELECT organization_id FROM commented) \
                OR u.id IN (SELECT user_id FROM module_follows WHERE module_id = $1)) \
         ON CONFLICT DO NOTHING",
    )
    .arg(module_id)
    .arg(revision_id)
    .arg(now)
    .arg(publisher.unwrap_or(0))
    .execute(c)
    .await
}

fn filtered(sql: &mut Sql, user_id: i64, unread: Option<bool>) {
    sql.push(" WHERE user_id = ").bind(user_id);
    match unread {
        Some(true) => {
            sql.push(" AND read_at IS NULL");
        }
        Some(false) => {
            sql.push(" AND read_at IS NOT NULL");
        }
        None => {}
    }
}

/// A user's notifications, newest first.
pub async fn list(
    c: &mut Conn<'_>,
    user_id: i64,
    unread: Option<bool>,
    page: &Page,
) -> AppResult<(Vec<NotificationRow>, bool)> {
    let mut sql = Sql::new(
        "SELECT id, user_id, kind, module_id, revision_id, reason, created_at, read_at FROM notifications",
    );
    filtered(&mut sql, user_id, unread);
    sql.page_desc("id", page);
    Ok(finish_page(sql.fetch_all(c).await?, page))
}

pub async fn count(c: &mut Conn<'_>, user_id: i64, unread: Option<bool>) -> AppResult<i64> {
    let mut sql = Sql::new("SELECT COUNT(*) FROM notifications");
    filtered(&mut sql, user_id, unread);
    sql.fetch_i64(c).await
}

pub async fn by_ids(c: &mut Conn<'_>, ids: &[i64]) -> AppResult<Vec<NotificationRow>> {
    let mut sql = Sql::new(
        "SELECT id, user_id, kind, module_id, revision_id, reason, created_at, read_at \
         FROM notifications WHERE id IN ",
    );
    sql.bind_list(ids.iter().map(|i| Arg::I64(*i)));
    sql.fetch_all(c).await
}

/// Mark some (or, with `None`, all) of a user's unread notifications read.
pub async fn mark_read(
    c: &mut Conn<'_>,
    user_id: i64,
    ids: Option<&[i64]>,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    let mut sql =
        Sql::new("UPDATE notifications SET read_at = $1 WHERE read_at IS NULL AND user_id = $2")
            .arg(now)
            .arg(user_id);
    if let Some(ids) = ids {
        sql.push(" AND id IN ");
        sql.bind_list(ids.iter().map(|i| Arg::I64(*i)));
    }
    sql.execute(c).await
}

pub async fn follow(
    c: &mut Conn<'_>,
    user_id: i64,
    module_id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    Sql::new(
        "INSERT INTO module_follows (user_id, module_id, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .arg(user_id)
    .arg(module_id)
    .arg(now)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn unfollow(c: &mut Conn<'_>, user_id: i64, module_id: i64) -> AppResult<()> {
    Sql::new("DELETE FROM module_follows WHERE user_id = $1 AND module_id = $2")
        .arg(user_id)
        .arg(module_id)
        .execute(c)
        .await?;
    Ok(())
}

/// Which of these modules the user follows.
pub async fn followed_among(
    c: &mut Conn<'_>,
    user_id: i64,
    module_ids: &[i64],
) -> AppResult<Vec<i64>> {
    let mut sql = Sql::new("SELECT module_id FROM module_follows WHERE user_id = $1").arg(user_id);
    sql.push(" AND module_id IN ");
    sql.bind_list(module_ids.iter().map(|i| Arg::I64(*i)));
    let rows: Vec<(i64,)> = sql.fetch_all(c).await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}
