//! Carried-forward comments and the consolidated table, as a viewer may see them.

use super::count_if;
use crate::auth::AuthUser;
use crate::db::consolidation as store;
use crate::domain::page::{Page, PageOf};
use crate::error::AppResult;
use crate::service::comments::visible_in;
use crate::service::consolidation::visible_with_dispositions;
use crate::service::records::{CarriedFilter, CarriedRow, CycleRow};
use crate::service::table::{Table, TableRow};
use crate::state::AppState;

/// One page of the comments of earlier revisions that `viewer` may see, where
/// they are in revision `revision_id`, in its document order. `cycles` are the
/// module's. Filtering by a disposition keeps to the cycles whose dispositions
/// the viewer may see: filtering by one not yet shown would reveal it.
pub async fn carried(
    state: &AppState,
    viewer: &AuthUser,
    revision_id: i64,
    cycles: &[CycleRow],
    filter: &CarriedFilter,
    page: &Page,
    with_total: bool,
) -> AppResult<PageOf<CarriedRow>> {
    let now = state.clock.now();
    let mut pooled = state.db.read().await?;
    let c = &mut pooled.conn();
    let visible = if filter.disposition.is_some() {
        visible_with_dispositions(c, viewer, cycles, now).await?
    } else {
        visible_in(c, viewer, cycles, now).await?
    };
    let rows = store::carried_list(c, revision_id, &visible, filter, page).await?;
    let total = count_if(
        with_total,
        store::carried_count(c, revision_id, &visible, filter),
    )
    .await?;
    Ok(PageOf::new(rows, total))
}

/// One page of a cycle's consolidated table as `viewer` may see it.
pub async fn table(
    state: &AppState,
    viewer: &AuthUser,
    cycle_id: i64,
    page: &Page,
    with_total: bool,
) -> AppResult<PageOf<TableRow>> {
    let table = Table::open(state, viewer, cycle_id).await?;
    let mut pooled = state.db.read().await?;
    let c = &mut pooled.conn();
    let rows = table.page(c, page).await?;
    let total = count_if(with_total, table.count(c)).await?;
    Ok(PageOf::new(rows, total))
}
