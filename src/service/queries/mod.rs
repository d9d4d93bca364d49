//! The read side: one home per area for what a viewer may see, a page at a
//! time. Each function takes the viewer (or the proof of its rights) and
//! returns only what it may see, typed; the GraphQL layer turns the pages into
//! connections (`graphql::connection::query`) and never opens a pool itself.
//! Search, which has the same shape, lives in [`super::search`].

pub mod accounts;
pub mod audit;
pub mod comments;
pub mod consolidation;
pub mod modules;
pub mod notifications;

use std::future::Future;

use crate::error::AppResult;

/// The whole list's count when it is wanted: a query of its own, not run otherwise.
async fn count_if(
    wanted: bool,
    count: impl Future<Output = AppResult<i64>>,
) -> AppResult<Option<i64>> {
    Ok(if wanted { Some(count.await?) } else { None })
}
