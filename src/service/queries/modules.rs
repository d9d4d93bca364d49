//! A module's revisions.

use crate::db::modules as store;
use crate::domain::page::{Page, PageOf};
use crate::error::AppResult;
use crate::service::records::{ModuleRow, RevisionRow};
use crate::state::AppState;

/// One page of a module's revisions, newest first (cursors are revision
/// numbers); the total is the module's revision count, with no query.
pub async fn revisions(
    state: &AppState,
    module: &ModuleRow,
    page: &Page,
) -> AppResult<PageOf<RevisionRow>> {
    let mut pooled = state.db.read().await?;
    let rows = store::list_revisions(&mut pooled.conn(), module.id, page).await?;
    Ok(PageOf::new(rows, Some(module.revision_count)))
}

/// A module's revision by number.
pub async fn revision_by_number(
    state: &AppState,
    module_id: i64,
    number: i64,
) -> AppResult<Option<RevisionRow>> {
    let mut pooled = state.db.read().await?;
    store::revision_by_number(&mut pooled.conn(), module_id, number).await
}
