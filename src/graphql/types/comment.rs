//! `Comment`: a comment by a user on behalf of an organization, in a review
//! cycle, with everything about it the viewer may see (its thread, edits,
//! disposition, where it is in later revisions); the visibility rules hold on
//! every path (lists, counts, node, threads).

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::required;
use super::{
    CarriedAnchor, CommentEdit, Disposition, Organization, Reply, ReviewCycle, Revision, User,
};
use crate::domain::comments::CommentState as CommentStateRow;
use crate::domain::cycle::{self as cycle_rules, Window};
use crate::domain::ids::NodeKind;
use crate::error::AppResult;
use crate::graphql::connection::{self, Conn, PageArgs};
use crate::graphql::context::CtxExt;
use crate::graphql::ids::{self, decode_id};
use crate::graphql::loaders::all_of;
use crate::service::comments as service;
use crate::service::consolidation::dispositions_visible;
use crate::service::queries::comments as queries;
use crate::service::records::{
    CarriedRow, CommentFilter, CommentOrder, CommentRow, CycleRow, DispositionRow,
};

/// The ISO template's type of comment.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "CommentType", remote = "crate::domain::comments::CommentType")]
pub enum CommentType {
    /// General (`ge`).
    General,
    /// Technical (`te`).
    Technical,
    /// Editorial (`ed`).
    Editorial,
}

/// Where a comment is in its life.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(
    name = "CommentState",
    remote = "crate::domain::comments::CommentState"
)]
pub enum CommentState {
    /// Seen by its author only; no number.
    Draft,
    /// Submitted, with its number.
    Submitted,
    /// Withdrawn by its organization; keeps its number.
    Withdrawn,
}

/// What a comment points at.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "AnchorKind", remote = "crate::domain::comments::AnchorKind")]
pub enum AnchorKind {
    /// The whole document.
    Document,
    /// A section (by anchor id).
    Section,
    /// A block (by anchor id).
    Block,
    /// An exact passage inside a block.
    Quote,
}

/// The order of a list of comments.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum CommentOrderBy {
    /// Document-level comments first, then by section, block and place in the block.
    #[default]
    DocumentOrder,
    /// By comment number; drafts last.
    Number,
    /// By submission time, which is the order numbers were given in.
    SubmittedAt,
}

impl From<CommentOrderBy> for CommentOrder {
    fn from(o: CommentOrderBy) -> Self {
        match o {
            CommentOrderBy::DocumentOrder => CommentOrder::Document,
            CommentOrderBy::Number | CommentOrderBy::SubmittedAt => CommentOrder::Number,
        }
    }
}

/// Filters on a list of comments.
#[derive(InputObject, Default)]
pub struct CommentFilterInput {
    /// Only comments on this section (including its blocks and quotes).
    pub section_anchor_id: Option<String>,
    /// Only comments of this type.
    #[graphql(name = "type")]
    pub comment_type: Option<CommentType>,
    /// Only comments of this organization.
    pub organization_id: Option<ID>,
    /// Only comments in this state.
    pub state: Option<CommentState>,
    /// Only late (or only on-time) comments.
    pub late: Option<bool>,
}

impl CommentFilterInput {
    /// The filter as the list query takes it (`revision_id`: only that revision's comments).
    fn decode(self, revision_id: Option<i64>) -> AppResult<CommentFilter> {
        Ok(CommentFilter {
            section_anchor: self.section_anchor_id,
            comment_type: self.comment_type.map(Into::into),
            organization_id: self
                .organization_id
                .map(|id| decode_id("filter.organizationId", &id, NodeKind::Organization))
                .transpose()?,
            state: self.state.map(Into::into),
            late: self.late,
            revision_id,
            non_draft: false,
        })
    }
}

/// A quote inside a block (W3C TextQuoteSelector and TextPositionSelector).
#[derive(SimpleObject)]
pub struct Quote {
    /// The quoted text.
    pub exact: String,
    /// Text just before it, if the commenter gave some.
    pub prefix: Option<String>,
    /// Text just after it, if the commenter gave some.
    pub suffix: Option<String>,
    /// Start, in characters (Unicode code points) of the block's text.
    pub start: i64,
    /// End (exclusive), in characters.
    pub end: i64,
}

/// What a comment points at, in the revision it was made on.
#[derive(SimpleObject)]
pub struct CommentAnchor {
    /// Document, section, block or quote.
    pub kind: AnchorKind,
    /// The section's anchor id (also set for block and quote anchors).
    pub section_anchor_id: Option<String>,
    /// The block's anchor id (block and quote anchors).
    pub block_anchor_id: Option<String>,
    /// The quote (quote anchors).
    pub quote: Option<Quote>,
}

impl From<&crate::domain::comments::Anchor> for CommentAnchor {
    fn from(a: &crate::domain::comments::Anchor) -> Self {
        CommentAnchor {
            kind: a.kind().into(),
            section_anchor_id: a.section().map(str::to_owned),
            block_anchor_id: a.block().map(str::to_owned),
            quote: a.quote().map(|q| Quote {
                exact: q.exact.clone(),
                prefix: q.prefix.clone(),
                suffix: q.suffix.clone(),
                start: q.start,
                end: q.end,
            }),
        }
    }
}

/// A comment by a user on behalf of an organization, in a review cycle.
pub struct Comment(pub CommentRow);

impl Comment {
    /// Its disposition, if the viewer may see it (batched per request).
    async fn disposition_row(&self, ctx: &Context<'_>) -> Result<Option<DispositionRow>> {
        if self.0.state == CommentStateRow::Draft {
            return Ok(None);
        }
        let cycle: CycleRow = ctx
            .loaders()?
            .required(self.0.cycle_id, "comment's cycle")
            .await?;
        let now = ctx.state()?.clock.now();
        if !dispositions_visible(ctx.user()?, &cycle, now) {
            return Ok(None);
        }
        Ok(ctx.loaders()?.dispositions.load_one(self.0.id).await?)
    }

    /// One page of the comments of `cycles` the viewer may see.
    pub(in crate::graphql) async fn list(
        ctx: &Context<'_>,
        cycles: &[CycleRow],
        revision_id: Option<i64>,
        filter: Option<CommentFilterInput>,
        order_by: Option<CommentOrderBy>,
        args: PageArgs,
    ) -> Result<Conn<Comment>> {
        let user = ctx.user()?;
        let order: CommentOrder = order_by.unwrap_or_default().into();
        let state = ctx.state()?;
        connection::query(
            ctx,
            args,
            |page, total| async move {
                let filter = filter.unwrap_or_default().decode(revision_id)?;
                queries::list(state, user, cycles, &filter, order, &page, total).await
            },
            |r| order.key_of(r),
            Comment,
        )
        .await
    }

    /// The comment, if the viewer may see it (`node`, links between comments).
    pub(in crate::graphql) async fn visible(
        ctx: &Context<'_>,
        row: CommentRow,
    ) -> Result<Option<Comment>> {
        let user = ctx.user()?;
        let cycle = ctx.loaders()?.cycles.load_one(row.cycle_id).await?;
        let Some(cycle) = cycle else { return Ok(None) };
        let seen = queries::may_see(ctx.state()?, user, &row, &cycle).await?;
        Ok(seen.then_some(Comment(row)))
    }

    /// The comments among `ids` that the viewer may see, in that order.
    pub(in crate::graphql) async fn visible_among(
        ctx: &Context<'_>,
        ids: Vec<i64>,
    ) -> Result<Vec<Comment>> {
        let rows = ctx
            .loaders()?
            .comments
            .load_many(ids.iter().copied())
            .await?;
        let mut out = Vec::new();
        for id in ids {
            if let Some(row) = rows.get(&id) {
                if let Some(c) = Comment::visible(ctx, row.clone()).await? {
                    out.push(c);
                }
            }
        }
        Ok(out)
    }

    async fn cycle_row(&self, ctx: &Context<'_>) -> Result<CycleRow> {
        Ok(ctx
            .loaders()?
            .required(self.0.cycle_id, "comment without cycle")
            .await?)
    }

    async fn window(&self, ctx: &Context<'_>) -> Result<Window> {
        let cycle = self.cycle_row(ctx).await?;
        let now = ctx.state()?.clock.now();
        let user = ctx.user()?;
        let late = if user.organization_id == self.0.organization_id {
            ctx.loaders()?.late_grant.load_one(cycle.id).await?
        } else {
            None
        };
        Ok(cycle_rules::window(&cycle.period(), late, now))
    }
}

/// A comment by a user on behalf of an organization, in a review cycle.
#[Object]
impl Comment {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::id(NodeKind::Comment, self.0.id)
    }
    /// Number in its cycle (1, 2, 3, ...; gap-free); null for a draft.
    async fn number(&self) -> Option<i64> {
        self.0.number
    }
    /// Draft, submitted or withdrawn.
    async fn state(&self) -> Result<CommentState> {
        Ok(self.0.state.into())
    }
    /// General, technical or editorial.
    #[graphql(name = "type")]
    async fn comment_type(&self) -> Result<CommentType> {
        Ok(self.0.comment_type.into())
    }
    /// The template's code for the type: `ge`, `te` or `ed`.
    async fn type_code(&self) -> Result<&'static str> {
        Ok(self.0.comment_type.code())
    }
    /// The comment (Markdown).
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// Proposed replacement text.
    async fn proposed_change(&self) -> Option<&str> {
        self.0.proposed_change.as_deref()
    }
    /// Language of the comment (BCP 47).
    async fn language(&self) -> Option<&str> {
        self.0.language.as_deref()
    }
    /// Submitted after the close under a late grant.
    async fn late(&self) -> bool {
        self.0.late
    }
    /// What it points at.
    async fn anchor(&self) -> CommentAnchor {
        CommentAnchor::from(&self.0.anchor)
    }
    /// Who wrote it.
    async fn author(&self, ctx: &Context<'_>) -> Result<User> {
        required(ctx, self.0.author_id, "comment without author").await
    }
    /// On whose behalf.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Organization> {
        required(ctx, self.0.organization_id, "comment without organization").await
    }
    /// The review cycle.
    async fn cycle(&self, ctx: &Context<'_>) -> Result<ReviewCycle> {
        Ok(ReviewCycle(self.cycle_row(ctx).await?))
    }
    /// The revision it was made on.
    async fn revision(&self, ctx: &Context<'_>) -> Result<Revision> {
        required(ctx, self.0.revision_id, "comment without revision").await
    }
    /// When it was submitted.
    async fn submitted_at(&self) -> Option<DateTime<Utc>> {
        self.0.submitted_at
    }
    /// When it was withdrawn.
    async fn withdrawn_at(&self) -> Option<DateTime<Utc>> {
        self.0.withdrawn_at
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// The rapporteurs' decision. Provisional until the cycle closes: until then
    /// only the rapporteurs of the question and the secretariat see it.
    async fn disposition(&self, ctx: &Context<'_>) -> Result<Option<Disposition>> {
        Ok(self.disposition_row(ctx).await?.map(Disposition))
    }
    /// How many times its disposition changed (the length of
    /// `disposition.history`): 0 while never decided, and for those who may
    /// not see the disposition yet. Pass it back as `SetDispositionInput.expectedVersion`
    /// so that a decision made on a stale read is refused (CONFLICT).
    async fn disposition_version(&self, ctx: &Context<'_>) -> Result<i32> {
        let version = self.disposition_row(ctx).await?.map_or(0, |d| d.version);
        Ok(i32::try_from(version).unwrap_or(i32::MAX))
    }
    /// Where the comment is in a revision of its module: its own anchor in the
    /// revision it was made on, else the carried-forward projection (null for
    /// earlier revisions and other modules).
    async fn anchor_in(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A revision of the comment's module.")] revision_id: ID,
    ) -> Result<Option<CarriedAnchor>> {
        let revision_id = decode_id("revisionId", &revision_id, NodeKind::Revision)?;
        let comment = &self.0;
        if revision_id == comment.revision_id {
            return Ok(Some(CarriedAnchor(CarriedRow {
                revision_id,
                comment_id: comment.id,
                status: crate::domain::carry::CarryStatus::Exact,
                score: Some(1.0),
                section_anchor: comment.anchor.section().map(str::to_owned),
                block_anchor: comment.anchor.block().map(str::to_owned),
                quote_start: comment.anchor.quote().map(|q| q.start),
                quote_end: comment.anchor.quote().map(|q| q.end),
                doc_order: comment.doc_order,
            })));
        }
        Ok(ctx
            .loaders()?
            .carried_in
            .load_one((revision_id, comment.id))
            .await?
            .map(CarriedAnchor))
    }
    /// The later revisions that address this comment, oldest first.
    async fn addressed_in(&self, ctx: &Context<'_>) -> Result<Vec<Revision>> {
        Revision::addressing(ctx, self.0.id).await
    }
    /// Earlier versions of the text, oldest first (one per edit after submission).
    async fn edits(&self, ctx: &Context<'_>) -> Result<Vec<CommentEdit>> {
        let rows = all_of(&ctx.loaders()?.edits_of_comment, self.0.id).await?;
        Ok(rows.into_iter().map(CommentEdit).collect())
    }
    /// The thread, oldest first.
    #[graphql(complexity = "connection::cost(first, last, child_complexity)")]
    async fn replies(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> Result<Conn<Reply>> {
        connection::query(
            ctx,
            PageArgs::new(first, after, last, before),
            |page, _| async move {
                let all = all_of(&ctx.loaders()?.replies_of_comment, self.0.id).await?;
                Ok::<_, async_graphql::Error>(page.cut_by_id(all, |r| r.id))
            },
            |r| (r.id, r.id),
            Reply,
        )
        .await
    }
    /// Whether the viewer may edit it now.
    async fn viewer_can_edit(&self, ctx: &Context<'_>) -> Result<bool> {
        let user = ctx.user()?;
        Ok(service::may_change(user, &self.0, self.window(ctx).await?).is_ok())
    }
    /// Whether the viewer may withdraw it now.
    async fn viewer_can_withdraw(&self, ctx: &Context<'_>) -> Result<bool> {
        let user = ctx.user()?;
        Ok(self.0.state == CommentStateRow::Submitted
            && service::may_change(user, &self.0, self.window(ctx).await?).is_ok())
    }
    /// Whether the viewer may reply.
    async fn viewer_can_reply(&self, ctx: &Context<'_>) -> Result<bool> {
        ctx.user()?;
        let cycle = self.cycle_row(ctx).await?;
        Ok(self.0.state != CommentStateRow::Draft && cycle.consolidated_at.is_none())
    }
}
