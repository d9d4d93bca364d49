//! Review cycles, comments and replies: the mutations, their inputs and payloads.

use async_graphql::{Context, InputObject, MaybeUndefined, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::context::CtxExt;
use super::ids::decode_id;
use super::maybe;
use super::types::{AnchorKind, Comment, CommentType, Reply, ReviewCycle, Visibility};
use crate::domain::comments as rules;
use crate::domain::ids::NodeKind;
use crate::error::{AppError, AppResult};
use crate::service::comments::{self as service, AnchorInput, CommentPatch, TextInput};
use crate::service::cycles as cycle_service;
use crate::service::idempotency::IdempotencyKey;

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
