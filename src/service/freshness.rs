//! Whether a read's answer may have changed: [`Freshness`] names everything
//! besides the request and the viewer that it depends on, so equal
//! freshness, request and viewer give an equal answer (the ETag of
//! `GET /graphql`).

use chrono::{DateTime, Utc};

use crate::db::versions;
use crate::error::AppResult;
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Freshness {
    /// Raised by every committed write, on every instance sharing the database.
    pub data: i64,
    /// The last cycle opening, close or late-grant end at or before now.
    pub last_deadline: Option<DateTime<Utc>>,
}

/// Read before the answer is computed: a write committed meanwhile makes the
/// next request's freshness differ, so an answer is never kept past a change.
pub async fn current(state: &AppState) -> AppResult<Freshness> {
    let mut pooled = state.db.read().await?;
    let (data, last_deadline) = versions::current(&mut pooled.conn(), state.clock.now()).await?;
    Ok(Freshness {
        data,
        last_deadline,
    })
}
