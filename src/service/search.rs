//! Full-text search over comments (bodies, proposed changes, replies), with
//! the visibility of every other read path.

use std::collections::HashMap;

use crate::auth::AuthUser;
use crate::db::comments::{self as comments_store, CommentRow, ReplyRow};
use crate::db::cycles::{self as cycles_store, CycleRow};
use crate::db::search::{self as store, SearchFilter};
use crate::db::Conn;
use crate::domain::comments::ReplyState;
use crate::domain::search::{index_terms, Query};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Index a comment that has no thread yet (a draft, a new submission).
pub async fn index_new(c: &mut Conn<'_>, comment: &CommentRow) -> AppResult<()> {
    store::put(c, comment.id, &terms_of(comment, &[])).await
}

/// Index these comments, as they now are, again with their threads.
pub async fn reindex_rows(c: &mut Conn<'_>, comments: &[CommentRow]) -> AppResult<()> {
    let ids: Vec<i64> = comments.iter().map(|r| r.id).collect();
    let mut replies: HashMap<i64, Vec<ReplyRow>> = HashMap::new();
    for r in comments_store::replies_of(c, &ids).await? {
        replies.entry(r.comment_id).or_default().push(r);
    }
    for comment in comments {
        let thread = replies.remove(&comment.id).unwrap_or_default();
        let terms = terms_of(comment, &thread);
        store::put(c, comment.id, &terms).await?;
    }
    Ok(())
}

fn terms_of(comment: &CommentRow, replies: &[ReplyRow]) -> String {
    index_terms(
        std::iter::once(comment.body.as_str())
            .chain(comment.proposed_change.as_deref())
            .chain(
                replies
                    .iter()
                    .filter(|r| r.state == ReplyState::Active)
                    .map(|r| r.body.as_str()),
            ),
    )
}

/// What to search in.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub cycle_id: Option<i64>,
    pub module_id: Option<i64>,
    pub filter: SearchFilter,
}

/// One page of matches, best first, and the total when asked.
pub struct Found {
    pub hits: Vec<(CommentRow, f64)>,
    pub more: bool,
    pub total: Option<i64>,
}

/// Search the comments `user` may see.
pub async fn search(
    state: &AppState,
    user: &AuthUser,
    query: &Query,
    scope: &Scope,
    offset: i64,
    limit: i64,
    with_total: bool,
) -> AppResult<Found> {
    let now = state.clock.now();
    let mut pooled = state.db.read().await?;
    let c = &mut pooled.conn();
    let cycles: Vec<CycleRow> = match (scope.cycle_id, scope.module_id) {
        (Some(id), _) => cycles_store::by_ids(c, &[id]).await?,
        (None, Some(m)) => cycles_store::of_modules(c, &[m]).await?,
        (None, None) => cycles_store::all(c).await?,
    };
    let cycles: Vec<CycleRow> = cycles
        .into_iter()
        .filter(|cy| scope.module_id.is_none_or(|m| cy.module_id == m))
        .collect();
    let visible = if scope.filter.disposition.is_some() {
        super::consolidation::visible_with_dispositions(c, user, &cycles, now).await?
    } else {
        super::comments::visible_in(c, user, &cycles, now).await?
    };
    let rows = store::search(c, query, &visible, &scope.filter, offset, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    let rows: Vec<(i64, f64)> = rows.into_iter().take(limit as usize).collect();
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let mut by_id: HashMap<i64, CommentRow> = comments_store::by_ids(c, &ids)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let hits = rows
        .into_iter()
        .map(|(id, score)| {
            by_id
                .remove(&id)
                .map(|r| (r, score))
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("comment {id} vanished")))
        })
        .collect::<AppResult<Vec<_>>>()?;
    let total = if with_total {
        Some(store::count(c, query, &visible, &scope.filter).await?)
    } else {
        None
    };
    Ok(Found { hits, more, total })
}
