//! A user's own notifications and follows.

use super::count_if;
use crate::auth::AuthUser;
use crate::db::notifications as store;
use crate::domain::page::{Page, PageOf};
use crate::error::AppResult;
use crate::service::records::NotificationRow;
use crate::state::AppState;

/// One page of the viewer's notifications, newest first (`unread`: only unread, or only read).
pub async fn list(
    state: &AppState,
    viewer: &AuthUser,
    unread: Option<bool>,
    page: &Page,
    with_total: bool,
) -> AppResult<PageOf<NotificationRow>> {
    let mut pooled = state.db.read().await?;
    let c = &mut pooled.conn();
    let rows = store::list(c, viewer.id, unread, page).await?;
    let total = count_if(with_total, store::count(c, viewer.id, unread)).await?;
    Ok(PageOf::new(rows, total))
}

/// How many of the viewer's notifications are unread.
pub async fn unread_count(state: &AppState, viewer: &AuthUser) -> AppResult<i64> {
    let mut pooled = state.db.read().await?;
    store::count(&mut pooled.conn(), viewer.id, Some(true)).await
}

/// Does the viewer follow this module?
pub async fn follows(state: &AppState, viewer: &AuthUser, module_id: i64) -> AppResult<bool> {
    let mut pooled = state.db.read().await?;
    let found = store::followed_among(&mut pooled.conn(), viewer.id, &[module_id]).await?;
    Ok(!found.is_empty())
}
