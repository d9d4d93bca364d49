//! Comments as a viewer may see them: their own drafts, and submitted
//! comments as each cycle's visibility allows (see `service::comments`).

use super::count_if;
use crate::auth::AuthUser;
use crate::db::comments as store;
use crate::domain::page::{Page, PageOf};
use crate::error::AppResult;
use crate::service::comments::{can_see, scope_of, visible_in};
use crate::service::records::{CommentFilter, CommentOrder, CommentRow, CycleRow};
use crate::state::AppState;

/// One page of the comments of `cycles` that `viewer` may see.
pub async fn list(
    state: &AppState,
    viewer: &AuthUser,
    cycles: &[CycleRow],
    filter: &CommentFilter,
    order: CommentOrder,
    page: &Page,
    with_total: bool,
) -> AppResult<PageOf<CommentRow>> {
    let mut pooled = state.db.read().await?;
    let c = &mut pooled.conn();
    let visible = visible_in(c, viewer, cycles, state.clock.now()).await?;
    let rows = store::list(c, &visible, filter, order, page).await?;
    let total = count_if(with_total, store::count(c, &visible, filter)).await?;
    Ok(PageOf::new(rows, total))
}

/// Submitted (not withdrawn) comments per section of one revision, among
/// `cycles` (cycles on that revision), that `viewer` may see; `None` for
/// comments on the whole document.
pub async fn counts_by_section(
    state: &AppState,
    viewer: &AuthUser,
    cycles: &[CycleRow],
    revision_id: i64,
) -> AppResult<Vec<(Option<String>, i64)>> {
    let mut pooled = state.db.read().await?;
    let c = &mut pooled.conn();
    let visible = visible_in(c, viewer, cycles, state.clock.now()).await?;
    let filter = CommentFilter {
        revision_id: Some(revision_id),
        ..Default::default()
    };
    store::count_by_section(c, &visible, &filter).await
}

/// May `viewer` see this comment of this cycle?
pub async fn may_see(
    state: &AppState,
    viewer: &AuthUser,
    comment: &CommentRow,
    cycle: &CycleRow,
) -> AppResult<bool> {
    let mut pooled = state.db.read().await?;
    let q = cycle.question_id;
    let scope = scope_of(&mut pooled.conn(), viewer, cycle, q, state.clock.now()).await?;
    Ok(can_see(viewer, comment, scope))
}
