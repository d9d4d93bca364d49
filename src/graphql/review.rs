//! Review cycles, comments, edits and replies; the visibility rules hold on
//! every path (lists, counts, node, threads).

use async_graphql::{Context, Enum, InputObject, MaybeUndefined, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::accounts::{Organization, User};
use super::connection::{self, Conn, PageArgs};
use super::context::CtxExt;
use super::loaders::required;
use super::maybe;
use super::modules::{Module, Revision};
use super::node::{decode_id, ids};
use crate::auth::AuthUser;
use crate::domain::comments as rules;
use crate::domain::comments::ReplyState;
use crate::domain::cycle::{self as cycle_rules, Window};
use crate::domain::ids::NodeKind;
use crate::error::{AppError, AppResult};
use crate::service::comments::{self as service, AnchorInput, CommentPatch, TextInput};
use crate::service::cycles as cycle_service;
use crate::service::idempotency::IdempotencyKey;
use crate::service::queries::comments as queries;
use crate::service::records::{
    CommentFilter, CommentOrder, CommentRow, CycleRow, EditRow, ReplyRow,
};

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
        let r = required(
            &ctx.loaders()?.revisions,
            self.0.revision_id,
            "cycle without revision",
        )
        .await?;
        Ok(Revision(r))
    }
    /// The module.
    async fn module(&self, ctx: &Context<'_>) -> Result<Module> {
        let m = required(
            &ctx.loaders()?.modules,
            self.0.module_id,
            "cycle without module",
        )
        .await?;
        Ok(Module(m))
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
        comment_list(
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
    async fn progress(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<super::consolidation::CycleProgress>> {
        super::consolidation::progress(ctx, &self.0).await
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
    ) -> Result<Conn<super::consolidation::ConsolidatedRow>> {
        let args = PageArgs::new(first, after, last, before);
        super::consolidation::consolidated_table(ctx, &self.0, args).await
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

/// One page of the comments of `cycles` the viewer may see.
pub async fn comment_list(
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

/// A comment by a user on behalf of an organization, in a review cycle.
pub struct Comment(pub CommentRow);

impl Comment {
    async fn cycle_row(&self, ctx: &Context<'_>) -> Result<CycleRow> {
        Ok(required(
            &ctx.loaders()?.cycles,
            self.0.cycle_id,
            "comment without cycle",
        )
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
    async fn anchor(&self) -> Result<CommentAnchor> {
        let r = &self.0;
        Ok(CommentAnchor {
            kind: r.anchor_kind.into(),
            section_anchor_id: r.section_anchor.clone(),
            block_anchor_id: r.block_anchor.clone(),
            quote: r.quote_exact.clone().map(|exact| Quote {
                exact,
                prefix: r.quote_prefix.clone(),
                suffix: r.quote_suffix.clone(),
                start: r.quote_start.unwrap_or_default(),
                end: r.quote_end.unwrap_or_default(),
            }),
        })
    }
    /// Who wrote it.
    async fn author(&self, ctx: &Context<'_>) -> Result<User> {
        let u = required(
            &ctx.loaders()?.users,
            self.0.author_id,
            "comment without author",
        )
        .await?;
        Ok(User::new(u))
    }
    /// On whose behalf.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Organization> {
        let o = required(
            &ctx.loaders()?.organizations,
            self.0.organization_id,
            "comment without organization",
        )
        .await?;
        Ok(Organization(o))
    }
    /// The review cycle.
    async fn cycle(&self, ctx: &Context<'_>) -> Result<ReviewCycle> {
        Ok(ReviewCycle(self.cycle_row(ctx).await?))
    }
    /// The revision it was made on.
    async fn revision(&self, ctx: &Context<'_>) -> Result<Revision> {
        let r = required(
            &ctx.loaders()?.revisions,
            self.0.revision_id,
            "comment without revision",
        )
        .await?;
        Ok(Revision(r))
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
    async fn disposition(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<super::consolidation::Disposition>> {
        super::consolidation::disposition_of(ctx, &self.0).await
    }
    /// Where the comment is in a revision of its module: its own anchor in the
    /// revision it was made on, else the carried-forward projection (null for
    /// earlier revisions and other modules).
    async fn anchor_in(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A revision of the comment's module.")] revision_id: ID,
    ) -> Result<Option<super::consolidation::CarriedAnchor>> {
        super::consolidation::anchor_in(ctx, &self.0, &revision_id).await
    }
    /// The later revisions that address this comment, oldest first.
    async fn addressed_in(&self, ctx: &Context<'_>) -> Result<Vec<Revision>> {
        super::consolidation::addressed_in(ctx, self.0.id).await
    }
    /// Earlier versions of the text, oldest first (one per edit after submission).
    async fn edits(&self, ctx: &Context<'_>) -> Result<Vec<CommentEdit>> {
        let rows = ctx
            .loaders()?
            .edits_of_comment
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
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
                let all = ctx
                    .loaders()?
                    .replies_of_comment
                    .load_one(self.0.id)
                    .await?
                    .unwrap_or_default();
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
        Ok(
            self.0.state == crate::domain::comments::CommentState::Submitted
                && service::may_change(user, &self.0, self.window(ctx).await?).is_ok(),
        )
    }
    /// Whether the viewer may reply.
    async fn viewer_can_reply(&self, ctx: &Context<'_>) -> Result<bool> {
        ctx.user()?;
        let cycle = self.cycle_row(ctx).await?;
        Ok(self.0.state != crate::domain::comments::CommentState::Draft
            && cycle.consolidated_at.is_none())
    }
}

/// The text of a comment before one edit.
pub struct CommentEdit(pub EditRow);

/// The text of a comment before one edit.
#[Object]
impl CommentEdit {
    /// When the edit was made.
    async fn edited_at(&self) -> DateTime<Utc> {
        self.0.edited_at
    }
    /// Who made it.
    async fn editor(&self, ctx: &Context<'_>) -> Result<User> {
        let u = required(
            &ctx.loaders()?.users,
            self.0.editor_id,
            "edit without editor",
        )
        .await?;
        Ok(User::new(u))
    }
    /// The type before the edit.
    #[graphql(name = "type")]
    async fn comment_type(&self) -> Result<CommentType> {
        Ok(self.0.comment_type.into())
    }
    /// The body before the edit.
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// The proposed change before the edit.
    async fn proposed_change(&self) -> Option<&str> {
        self.0.proposed_change.as_deref()
    }
    /// The language before the edit.
    async fn language(&self) -> Option<&str> {
        self.0.language.as_deref()
    }
}

/// A message in a comment's thread.
pub struct Reply(pub ReplyRow);

/// A message in a comment's thread.
#[Object]
impl Reply {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::id(NodeKind::Reply, self.0.id)
    }
    /// The message (Markdown); empty once withdrawn.
    async fn body(&self) -> &str {
        if self.0.state == ReplyState::Active {
            &self.0.body
        } else {
            ""
        }
    }
    /// Whether its author withdrew it.
    async fn withdrawn(&self) -> bool {
        self.0.state != ReplyState::Active
    }
    /// Who wrote it.
    async fn author(&self, ctx: &Context<'_>) -> Result<User> {
        let u = required(
            &ctx.loaders()?.users,
            self.0.author_id,
            "reply without author",
        )
        .await?;
        Ok(User::new(u))
    }
    /// The author's organization.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Organization> {
        let o = required(
            &ctx.loaders()?.organizations,
            self.0.organization_id,
            "reply without organization",
        )
        .await?;
        Ok(Organization(o))
    }
    /// Whether the viewer may edit or withdraw it.
    async fn viewer_can_edit(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(ctx.user()?.id == self.0.author_id && self.0.state == ReplyState::Active)
    }
    /// When it was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// Can the viewer see this comment (for `node`)?
pub async fn visible_comment(ctx: &Context<'_>, row: CommentRow) -> Result<Option<Comment>> {
    let user: &AuthUser = ctx.user()?;
    let cycle = ctx.loaders()?.cycles.load_one(row.cycle_id).await?;
    let Some(cycle) = cycle else { return Ok(None) };
    let seen = queries::may_see(ctx.state()?, user, &row, &cycle).await?;
    Ok(seen.then_some(Comment(row)))
}

/// Can the viewer see this reply (its comment)?
pub async fn visible_reply(ctx: &Context<'_>, row: ReplyRow) -> Result<Option<Reply>> {
    let comment = ctx.loaders()?.comments.load_one(row.comment_id).await?;
    let Some(comment) = comment else {
        return Ok(None);
    };
    Ok(visible_comment(ctx, comment).await?.map(|_| Reply(row)))
}

/// Comment counts of one section (what a front end badges).
#[derive(SimpleObject)]
pub struct SectionCommentCount {
    /// The section's anchor id; null for comments on the whole document.
    pub section_anchor_id: Option<String>,
    /// Submitted (not withdrawn) comments the viewer may see.
    pub count: i64,
}

/// A quote as the commenter gives it.
#[derive(InputObject)]
pub struct QuoteInput {
    /// The exact text, as it appears in the block's `text`.
    pub exact: String,
    /// Text just before it, to tell repeated passages apart.
    pub prefix: Option<String>,
    /// Text just after it.
    pub suffix: Option<String>,
    /// Start offset in characters (Unicode code points) of the block's text.
    pub start: Option<i32>,
    /// End offset (exclusive).
    pub end: Option<i32>,
}

/// What a new comment points at, in the cycle's revision.
#[derive(InputObject)]
pub struct CommentAnchorInput {
    /// Document, section, block or quote.
    pub kind: AnchorKind,
    /// For SECTION: the section's anchor id.
    pub section_anchor_id: Option<String>,
    /// For BLOCK and QUOTE: the block's anchor id.
    pub block_anchor_id: Option<String>,
    /// For QUOTE: the passage.
    pub quote: Option<QuoteInput>,
}

fn anchor_input(a: CommentAnchorInput) -> AppResult<AnchorInput> {
    let offset = |v: Option<i32>, f: &str| -> AppResult<Option<usize>> {
        v.map(|n| {
            usize::try_from(n).map_err(|_| AppError::validation(f, "offsets are not negative"))
        })
        .transpose()
    };
    let quote = match a.quote {
        Some(q) => Some(rules::QuoteSelector {
            exact: q.exact,
            prefix: q.prefix,
            suffix: q.suffix,
            start: offset(q.start, "anchor.quote.start")?,
            end: offset(q.end, "anchor.quote.end")?,
        }),
        None => None,
    };
    Ok(AnchorInput {
        kind: a.kind.into(),
        section_anchor_id: a.section_anchor_id,
        block_anchor_id: a.block_anchor_id,
        quote,
    })
}

/// A new comment.
#[derive(InputObject)]
pub struct CreateCommentDraftInput {
    /// The review cycle.
    pub cycle_id: ID,
    /// What it points at.
    pub anchor: CommentAnchorInput,
    /// General, technical or editorial.
    #[graphql(name = "type")]
    pub comment_type: CommentType,
    /// The comment (Markdown, at most 64 KiB).
    pub body: String,
    /// Proposed replacement text.
    pub proposed_change: Option<String>,
    /// Language (BCP 47, e.g. `en`, `fr`).
    pub language: Option<String>,
    /// A key of your choosing (a UUID, say) that makes a retry safe: sent again
    /// with the same key and input within 24 hours, the mutation returns what
    /// it created the first time instead of creating it again; with other
    /// input it fails with CONFLICT.
    pub idempotency_key: Option<String>,
}

/// Submit a draft (`commentId`), or a new comment (the other fields).
#[derive(InputObject)]
pub struct SubmitCommentInput {
    /// A draft of yours to submit.
    pub comment_id: Option<ID>,
    /// For a new comment: the review cycle.
    pub cycle_id: Option<ID>,
    /// For a new comment: what it points at.
    pub anchor: Option<CommentAnchorInput>,
    /// For a new comment: its type.
    #[graphql(name = "type")]
    pub comment_type: Option<CommentType>,
    /// For a new comment: the comment.
    pub body: Option<String>,
    /// For a new comment: proposed replacement text.
    pub proposed_change: Option<String>,
    /// For a new comment: language (BCP 47).
    pub language: Option<String>,
    /// A key of your choosing (a UUID, say) that makes a retry safe: sent again
    /// with the same key and input within 24 hours, the mutation returns what
    /// it created the first time instead of creating it again; with other
    /// input it fails with CONFLICT.
    pub idempotency_key: Option<String>,
}

/// Changes to a comment: omitted fields stay; null clears an optional one.
#[derive(InputObject)]
pub struct UpdateCommentInput {
    /// The comment.
    pub comment_id: ID,
    /// New type.
    #[graphql(name = "type")]
    pub comment_type: Option<CommentType>,
    /// New body.
    pub body: Option<String>,
    /// New proposed change, or null to clear it.
    pub proposed_change: MaybeUndefined<String>,
    /// New language, or null to clear it.
    pub language: MaybeUndefined<String>,
    /// New anchor (drafts only).
    pub anchor: Option<CommentAnchorInput>,
}

/// Which comment.
#[derive(InputObject)]
pub struct CommentIdInput {
    /// The comment.
    pub comment_id: ID,
}

/// The comment after the change.
#[derive(SimpleObject)]
pub struct CommentPayload {
    /// The comment as it is now.
    pub comment: Comment,
}

/// The draft deleted.
#[derive(SimpleObject)]
pub struct DeleteCommentDraftPayload {
    /// Its id.
    pub deleted_comment_id: ID,
}

/// A new reply.
#[derive(InputObject)]
pub struct AddReplyInput {
    /// The comment.
    pub comment_id: ID,
    /// The message (Markdown, at most 64 KiB).
    pub body: String,
    /// A key of your choosing (a UUID, say) that makes a retry safe: sent again
    /// with the same key and input within 24 hours, the mutation returns what
    /// it created the first time instead of creating it again; with other
    /// input it fails with CONFLICT.
    pub idempotency_key: Option<String>,
}

/// An edit of one's reply.
#[derive(InputObject)]
pub struct UpdateReplyInput {
    /// The reply.
    pub reply_id: ID,
    /// The new message.
    pub body: String,
}

/// Which reply.
#[derive(InputObject)]
pub struct ReplyIdInput {
    /// The reply.
    pub reply_id: ID,
}

/// The reply after the change.
#[derive(SimpleObject)]
pub struct ReplyPayload {
    /// The reply as it is now.
    pub reply: Reply,
}

/// A new review cycle.
#[derive(InputObject)]
pub struct OpenReviewCycleInput {
    /// The revision (the module's latest).
    pub revision_id: ID,
    /// Title.
    pub title: String,
    /// When comments open (UTC); may be now or in the past for a cycle open at once.
    pub opens_at: DateTime<Utc>,
    /// When comments close (UTC), in the future.
    pub closes_at: DateTime<Utc>,
    /// Who sees submitted comments while it is open.
    pub visibility: Visibility,
}

/// A later close.
#[derive(InputObject)]
pub struct ExtendReviewCycleInput {
    /// The cycle.
    pub cycle_id: ID,
    /// The new close, later than the current one.
    pub closes_at: DateTime<Utc>,
}

/// Which cycle.
#[derive(InputObject)]
pub struct CycleIdInput {
    /// The cycle.
    pub cycle_id: ID,
}

/// A late-submission grant.
#[derive(InputObject)]
pub struct GrantLateSubmissionInput {
    /// The cycle.
    pub cycle_id: ID,
    /// The organization that may submit late.
    pub organization_id: ID,
    /// Until when (after the cycle's close).
    pub until: DateTime<Utc>,
}

/// The cycle after the change.
#[derive(SimpleObject)]
pub struct ReviewCyclePayload {
    /// The cycle as it is now.
    pub cycle: ReviewCycle,
}

fn text_input(
    t: CommentType,
    body: String,
    proposed_change: Option<String>,
    language: Option<String>,
) -> TextInput {
    TextInput {
        comment_type: t.into(),
        body,
        proposed_change,
        language,
    }
}

#[derive(Default)]
pub struct ReviewMutation;

#[Object]
impl ReviewMutation {
    /// Open a comment period on a module's latest revision. Rapporteurs of the question and the secretariat.
    async fn open_review_cycle(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: OpenReviewCycleInput,
    ) -> Result<ReviewCyclePayload> {
        let user = ctx.user()?;
        let rev = decode_id("revisionId", &input.revision_id, NodeKind::Revision)?;
        let row = cycle_service::open(
            ctx.state()?,
            user,
            rev,
            &input.title,
            input.opens_at,
            input.closes_at,
            input.visibility.into(),
        )
        .await?;
        Ok(ReviewCyclePayload {
            cycle: ReviewCycle(row),
        })
    }

    /// Move a scheduled or open cycle's close later.
    async fn extend_review_cycle(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: ExtendReviewCycleInput,
    ) -> Result<ReviewCyclePayload> {
        let user = ctx.user()?;
        let id = decode_id("cycleId", &input.cycle_id, NodeKind::ReviewCycle)?;
        let row = cycle_service::extend(ctx.state()?, user, id, input.closes_at).await?;
        Ok(ReviewCyclePayload {
            cycle: ReviewCycle(row),
        })
    }

    /// Close a cycle now.
    async fn close_review_cycle_now(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CycleIdInput,
    ) -> Result<ReviewCyclePayload> {
        let user = ctx.user()?;
        let id = decode_id("cycleId", &input.cycle_id, NodeKind::ReviewCycle)?;
        let row = cycle_service::close_now(ctx.state()?, user, id).await?;
        Ok(ReviewCyclePayload {
            cycle: ReviewCycle(row),
        })
    }

    /// Let one organization submit after the close; its comments are marked late.
    async fn grant_late_submission(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: GrantLateSubmissionInput,
    ) -> Result<ReviewCyclePayload> {
        let user = ctx.user()?;
        let id = decode_id("cycleId", &input.cycle_id, NodeKind::ReviewCycle)?;
        let org = decode_id(
            "organizationId",
            &input.organization_id,
            NodeKind::Organization,
        )?;
        let row = cycle_service::grant_late(ctx.state()?, user, id, org, input.until).await?;
        Ok(ReviewCyclePayload {
            cycle: ReviewCycle(row),
        })
    }

    /// Save a comment as a draft (yours alone, no number).
    async fn create_comment_draft(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CreateCommentDraftInput,
    ) -> Result<CommentPayload> {
        let user = ctx.user()?;
        let cycle = decode_id("cycleId", &input.cycle_id, NodeKind::ReviewCycle)?;
        let anchor = anchor_input(input.anchor)?;
        let text = text_input(
            input.comment_type,
            input.body,
            input.proposed_change,
            input.language,
        );
        let key = IdempotencyKey::optional("idempotencyKey", input.idempotency_key.as_deref())?;
        let row =
            service::create_draft(ctx.state()?, user, cycle, &anchor, &text, key.as_ref()).await?;
        Ok(CommentPayload {
            comment: Comment(row),
        })
    }

    /// Submit a draft, or a new comment directly; it takes the cycle's next number.
    async fn submit_comment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: SubmitCommentInput,
    ) -> Result<CommentPayload> {
        let user = ctx.user()?;
        let state = ctx.state()?;
        let key = IdempotencyKey::optional("idempotencyKey", input.idempotency_key.as_deref())?;
        let key = key.as_ref();
        let row = match input.comment_id {
            Some(id) => {
                let id = decode_id("commentId", &id, NodeKind::Comment)?;
                service::submit_draft(state, user, id, key).await?
            }
            None => {
                let cycle = input.cycle_id.ok_or_else(|| {
                    AppError::validation(
                        "cycleId",
                        "give commentId (a draft) or cycleId and the comment",
                    )
                })?;
                let cycle = decode_id("cycleId", &cycle, NodeKind::ReviewCycle)?;
                let anchor = anchor_input(input.anchor.ok_or_else(|| {
                    AppError::validation("anchor", "a new comment needs an anchor")
                })?)?;
                let t = input
                    .comment_type
                    .ok_or_else(|| AppError::validation("type", "a new comment needs a type"))?;
                let body = input
                    .body
                    .ok_or_else(|| AppError::validation("body", "a new comment needs a body"))?;
                let text = text_input(t, body, input.proposed_change, input.language);
                service::submit_new(state, user, cycle, &anchor, &text, key).await?
            }
        };
        Ok(CommentPayload {
            comment: Comment(row),
        })
    }

    /// Edit a comment: a draft by its author, a submitted one by its organization while it may
    /// still submit. Edits of submitted comments are kept.
    async fn update_comment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: UpdateCommentInput,
    ) -> Result<CommentPayload> {
        let user = ctx.user()?;
        let id = decode_id("commentId", &input.comment_id, NodeKind::Comment)?;
        let patch = CommentPatch {
            comment_type: input.comment_type.map(Into::into),
            body: input.body,
            proposed_change: maybe(input.proposed_change),
            language: maybe(input.language),
            anchor: input.anchor.map(anchor_input).transpose()?,
        };
        let row = service::update(ctx.state()?, user, id, patch).await?;
        Ok(CommentPayload {
            comment: Comment(row),
        })
    }

    /// Withdraw a submitted comment (it keeps its number).
    async fn withdraw_comment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CommentIdInput,
    ) -> Result<CommentPayload> {
        let user = ctx.user()?;
        let id = decode_id("commentId", &input.comment_id, NodeKind::Comment)?;
        let row = service::withdraw(ctx.state()?, user, id).await?;
        Ok(CommentPayload {
            comment: Comment(row),
        })
    }

    /// Delete one of your drafts.
    async fn delete_comment_draft(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CommentIdInput,
    ) -> Result<DeleteCommentDraftPayload> {
        let user = ctx.user()?;
        let id = decode_id("commentId", &input.comment_id, NodeKind::Comment)?;
        service::delete_draft(ctx.state()?, user, id).await?;
        Ok(DeleteCommentDraftPayload {
            deleted_comment_id: input.comment_id,
        })
    }

    /// Reply in a comment's thread (anyone who can see the comment).
    async fn add_reply(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: AddReplyInput,
    ) -> Result<ReplyPayload> {
        let user = ctx.user()?;
        let id = decode_id("commentId", &input.comment_id, NodeKind::Comment)?;
        let key = IdempotencyKey::optional("idempotencyKey", input.idempotency_key.as_deref())?;
        let row = service::add_reply(ctx.state()?, user, id, &input.body, key.as_ref()).await?;
        Ok(ReplyPayload { reply: Reply(row) })
    }

    /// Edit your reply.
    async fn update_reply(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: UpdateReplyInput,
    ) -> Result<ReplyPayload> {
        let user = ctx.user()?;
        let id = decode_id("replyId", &input.reply_id, NodeKind::Reply)?;
        let row = service::change_reply(ctx.state()?, user, id, Some(&input.body)).await?;
        Ok(ReplyPayload { reply: Reply(row) })
    }

    /// Withdraw your reply.
    async fn withdraw_reply(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: ReplyIdInput,
    ) -> Result<ReplyPayload> {
        let user = ctx.user()?;
        let id = decode_id("replyId", &input.reply_id, NodeKind::Reply)?;
        let row = service::change_reply(ctx.state()?, user, id, None).await?;
        Ok(ReplyPayload { reply: Reply(row) })
    }
}
