//! `ReviewCycle`: a comment period on one revision, its comments, progress
//! and consolidated table.

use async_graphql::{Context, Enum, Object, Result, ID};
use chrono::{DateTime, Utc};

use super::required;
use super::{
    Comment, CommentFilterInput, CommentOrderBy, ConsolidatedRow, CycleProgress, Module, Revision,
};
use crate::domain::cycle::{self as cycle_rules, Window};
use crate::domain::ids::NodeKind;
use crate::graphql::connection::{self, Conn, PageArgs};
use crate::graphql::context::CtxExt;
use crate::graphql::ids;
use crate::service::consolidation;
use crate::service::queries::consolidation as queries;
use crate::service::records::CycleRow;

/// Where a review cycle stands (it follows the clock: a cycle closes at `closesAt` exactly).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "CycleStatus", remote = "crate::domain::cycle::CycleStatus")]
pub enum CycleStatus {
    /// Not open yet.
    Scheduled,
    /// Taking comments.
    Open,
    /// Past `closesAt`; only organizations with a late grant may still submit.
    Closed,
    /// Every comment has a disposition.
    Consolidated,
}

/// Who sees submitted comments while the cycle is open.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "Visibility", remote = "crate::domain::cycle::Visibility")]
pub enum Visibility {
    /// Every signed-in participant sees submitted comments at once.
    Open,
    /// Members see only their own organization's comments until the close; rapporteurs see all.
    Sealed,
}

/// A comment period on one revision.
pub struct ReviewCycle(pub CycleRow);

impl ReviewCycle {
    async fn window(&self, ctx: &Context<'_>) -> Result<Window> {
        let now = ctx.state()?.clock.now();
        let late = ctx.loaders()?.late_grant.load_one(self.0.id).await?;
        Ok(cycle_rules::window(&self.0.period(), late, now))
    }
}

/// A comment period on one revision.
#[Object]
impl ReviewCycle {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::id(NodeKind::ReviewCycle, self.0.id)
    }
    /// Title, e.g. "Comments on Module 1, revision 1".
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// When comments open (UTC).
    async fn opens_at(&self) -> DateTime<Utc> {
        self.0.opens_at
    }
    /// When comments close (UTC): the cycle is CLOSED from this instant.
    async fn closes_at(&self) -> DateTime<Utc> {
        self.0.closes_at
    }
    /// Status now.
    async fn status(&self, ctx: &Context<'_>) -> Result<CycleStatus> {
        Ok(self.0.period().status(ctx.state()?.clock.now()).into())
    }
    /// Who sees submitted comments while it is open.
    async fn visibility(&self) -> Result<Visibility> {
        Ok(self.0.visibility.into())
    }
    /// The revision under review.
    async fn revision(&self, ctx: &Context<'_>) -> Result<Revision> {
        required(ctx, self.0.revision_id, "cycle without revision").await
    }
    /// The module.
    async fn module(&self, ctx: &Context<'_>) -> Result<Module> {
        required(ctx, self.0.module_id, "cycle without module").await
    }
    /// The comments the viewer may see: their own drafts, and submitted comments as the
    /// visibility policy allows.
    #[graphql(complexity = "connection::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn comments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only comments that match.")] filter: Option<CommentFilterInput>,
        #[graphql(desc = "Order (default: document order).")] order_by: Option<CommentOrderBy>,
        #[graphql(desc = "Page size from the start (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> Result<Conn<Comment>> {
        Comment::list(
            ctx,
            std::slice::from_ref(&self.0),
            None,
            filter,
            order_by,
            PageArgs::new(first, after, last, before),
        )
        .await
    }
    /// Where the consolidation stands: counts by disposition, type and
    /// organization, and how many remain. Null while the viewer may not see
    /// dispositions (members, before the close).
    async fn progress(&self, ctx: &Context<'_>) -> Result<Option<CycleProgress>> {
        let user = ctx.user()?;
        let progress = consolidation::progress(ctx.state()?, user, &self.0).await?;
        Ok(progress.map(CycleProgress::from))
    }
    /// The consolidated comments table, in document order (document-level
    /// comments first), as the viewer may see it. Also downloadable as
    /// `/exports/cycles/{id}/comments.csv` and `.xlsx`.
    #[graphql(complexity = "connection::cost(first, last, child_complexity)")]
    async fn consolidated_table(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> Result<Conn<ConsolidatedRow>> {
        let (user, state) = (ctx.user()?, ctx.state()?);
        connection::query(
            ctx,
            PageArgs::new(first, after, last, before),
            |page, total| async move { queries::table(state, user, self.0.id, &page, total).await },
            |r| r.key,
            ConsolidatedRow,
        )
        .await
    }
    /// Whether the viewer may extend, close and grant late submissions.
    async fn viewer_can_manage(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(ctx.user()?.manages_question(self.0.question_id))
    }
    /// Whether the viewer's organization may submit comments now (open, or a late grant).
    async fn viewer_can_comment(&self, ctx: &Context<'_>) -> Result<bool> {
        ctx.user()?;
        Ok(matches!(
            self.window(ctx).await?,
            Window::OnTime | Window::Late
        ))
    }
    /// Until when the viewer's organization may submit late, if granted.
    async fn viewer_late_until(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        ctx.user()?;
        Ok(ctx.loaders()?.late_grant.load_one(self.0.id).await?)
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
