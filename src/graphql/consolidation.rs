//! Dispositions, progress, the consolidated table and carried-forward comments.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::accounts::{Organization, User};
use super::connection::{self, Conn, PageArgs};
use super::context::CtxExt;
use super::loaders::required;
use super::modules::{Block, Content, Revision, Section};
use super::node::{decode_id, ids};
use super::review::{visible_comment, Comment, CycleIdInput, ReviewCycle, ReviewCyclePayload};
use crate::domain::disposition as rules;
use crate::domain::ids::NodeKind;
use crate::error::AppError;
use crate::service::consolidation::{self as service, DispositionInput};
use crate::service::queries::consolidation as queries;
use crate::service::records::{
    CarriedFilter, CarriedRow, ChangeRow, CommentRow, CycleRow, DispositionRow, RevisionRow,
};
use crate::service::table::TableRow;

/// The decision on a comment.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(
    name = "DispositionKind",
    remote = "crate::domain::disposition::DispositionKind"
)]
pub enum DispositionKind {
    /// Accepted as proposed.
    Accepted,
    /// Accepted with different wording (IEEE: Revised).
    AcceptedInPrinciple,
    /// Not accepted; the rationale says why.
    Rejected,
    /// Taken note of; no change to the text.
    Noted,
    /// The same as another comment of the cycle (`duplicateOf`).
    Duplicate,
    /// Withdrawn by its organization during the meeting.
    Withdrawn,
}

/// How well a comment's anchor was re-found in a later revision.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "CarryStatus", remote = "crate::domain::carry::CarryStatus")]
pub enum CarryStatus {
    /// The same text in the same block (or the same section heading).
    Exact,
    /// The same text elsewhere: the block moved, or the quoted words are at another place.
    Moved,
    /// The block was rewritten; a block at least 0.5 similar (share of equal words) took its place.
    Fuzzy,
    /// The text is gone: the comment falls back to its section, or to the document.
    Orphaned,
}

/// The disposition of a comment, when the viewer may see it.
pub async fn disposition_of(
    ctx: &Context<'_>,
    comment: &CommentRow,
) -> Result<Option<Disposition>> {
    if comment.state == crate::domain::comments::CommentState::Draft
        || !may_see_dispositions(ctx, comment.cycle_id).await?
    {
        return Ok(None);
    }
    Ok(ctx
        .loaders()?
        .dispositions
        .load_one(comment.id)
        .await?
        .map(Disposition))
}

async fn may_see_dispositions(ctx: &Context<'_>, cycle_id: i64) -> Result<bool> {
    let loaders = ctx.loaders()?;
    let cycle = required(&loaders.cycles, cycle_id, "comment's cycle").await?;
    let now = ctx.state()?.clock.now();
    Ok(service::dispositions_visible(ctx.user()?, &cycle, now))
}

/// The revisions that addressed a comment, oldest first.
pub async fn addressed_in(ctx: &Context<'_>, comment_id: i64) -> Result<Vec<Revision>> {
    let loaders = ctx.loaders()?;
    let ids = loaders
        .addressed_in
        .load_one(comment_id)
        .await?
        .unwrap_or_default();
    let revs = loaders.revisions.load_many(ids.iter().copied()).await?;
    Ok(ids
        .iter()
        .filter_map(|i| revs.get(i).cloned())
        .map(Revision)
        .collect())
}

/// A rapporteurs' decision on a comment.
pub struct Disposition(pub DispositionRow);

/// A rapporteurs' decision on a comment.
#[Object]
impl Disposition {
    /// The decision.
    async fn kind(&self) -> DispositionKind {
        self.0.kind.into()
    }
    /// Why (required for every kind but ACCEPTED).
    async fn rationale(&self) -> Option<&str> {
        self.0.rationale.as_deref()
    }
    /// For DUPLICATE: the comment this one duplicates.
    async fn duplicate_of(&self, ctx: &Context<'_>) -> Result<Option<Comment>> {
        let Some(id) = self.0.duplicate_of_id else {
            return Ok(None);
        };
        match ctx.loaders()?.comments.load_one(id).await? {
            Some(row) => visible_comment(ctx, row).await,
            None => Ok(None),
        }
    }
    /// Who decided last.
    async fn decided_by(&self, ctx: &Context<'_>) -> Result<User> {
        Ok(User::new(
            required(
                &ctx.loaders()?.users,
                self.0.decided_by,
                "disposition's user",
            )
            .await?,
        ))
    }
    /// When it was decided last.
    async fn decided_at(&self) -> DateTime<Utc> {
        self.0.decided_at
    }
    /// The revisions that addressed the comment, oldest first.
    async fn addressed_in(&self, ctx: &Context<'_>) -> Result<Vec<Revision>> {
        addressed_in(ctx, self.0.comment_id).await
    }
    /// Every change of this disposition, oldest first.
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<DispositionChange>> {
        Ok(ctx
            .loaders()?
            .disposition_changes
            .load_one(self.0.comment_id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(DispositionChange)
            .collect())
    }
}

/// A disposition's values at one moment.
#[derive(SimpleObject)]
pub struct DispositionValue {
    /// The decision.
    pub kind: DispositionKind,
    /// The rationale.
    pub rationale: Option<String>,
    /// For DUPLICATE: the id of the comment duplicated.
    pub duplicate_of_id: Option<ID>,
}

fn value(
    kind: rules::DispositionKind,
    rationale: &Option<String>,
    dup: Option<i64>,
) -> DispositionValue {
    DispositionValue {
        kind: kind.into(),
        rationale: rationale.clone(),
        duplicate_of_id: dup.map(|d| ids::id(NodeKind::Comment, d)),
    }
}

/// One change of a disposition: who, when, before and after.
pub struct DispositionChange(pub ChangeRow);

/// One change of a disposition: who, when, before and after.
#[Object]
impl DispositionChange {
    /// Who changed it.
    async fn changed_by(&self, ctx: &Context<'_>) -> Result<User> {
        Ok(User::new(
            required(&ctx.loaders()?.users, self.0.changed_by, "change's user").await?,
        ))
    }
    /// When.
    async fn changed_at(&self) -> DateTime<Utc> {
        self.0.changed_at
    }
    /// The disposition before (null for the first decision).
    async fn before(&self) -> Option<DispositionValue> {
        self.0
            .before_kind
            .map(|k| value(k, &self.0.before_rationale, self.0.before_duplicate_of_id))
    }
    /// The disposition after.
    async fn after(&self) -> DispositionValue {
        value(
            self.0.after_kind,
            &self.0.after_rationale,
            self.0.after_duplicate_of_id,
        )
    }
}

/// Where a comment is in one revision: its own anchor in the revision it was
/// made on, else the projection computed when the later revision was made.
pub struct CarriedAnchor(pub CarriedRow);

/// Where a comment is in one revision.
#[Object]
impl CarriedAnchor {
    /// How well the anchor was re-found (EXACT in the comment's own revision).
    async fn status(&self) -> CarryStatus {
        self.0.status.into()
    }
    /// 1 for EXACT and MOVED, the similarity (0.5 to 1) for FUZZY, null for ORPHANED.
    async fn score(&self) -> Option<f64> {
        self.0.score
    }
    /// The revision.
    async fn revision(&self, ctx: &Context<'_>) -> Result<Revision> {
        Ok(Revision(
            required(
                &ctx.loaders()?.revisions,
                self.0.revision_id,
                "carried revision",
            )
            .await?,
        ))
    }
    /// The section's anchor id (null when the comment falls back to the document).
    async fn section_anchor_id(&self) -> Option<&str> {
        self.0.section_anchor.as_deref()
    }
    /// The block's anchor id (null for section and document anchors, and ORPHANED).
    async fn block_anchor_id(&self) -> Option<&str> {
        self.0.block_anchor.as_deref()
    }
    /// Where the quoted words are in the block, in characters, when found.
    async fn quote_start(&self) -> Option<i64> {
        self.0.quote_start
    }
    /// End (exclusive) of the quoted words, in characters.
    async fn quote_end(&self) -> Option<i64> {
        self.0.quote_end
    }
    /// The section.
    async fn section(&self, ctx: &Context<'_>) -> Result<Option<Section>> {
        let Some(a) = &self.0.section_anchor else {
            return Ok(None);
        };
        Ok(Section::by_anchor(
            &Content::load(ctx, self.0.revision_id).await?,
            a,
        ))
    }
    /// The block.
    async fn block(&self, ctx: &Context<'_>) -> Result<Option<Block>> {
        let Some(a) = &self.0.block_anchor else {
            return Ok(None);
        };
        Ok(Block::by_anchor(
            &Content::load(ctx, self.0.revision_id).await?,
            a,
        ))
    }
}

/// `comment.anchorIn(revisionId:)`: null for a revision before the comment's
/// or of another module.
pub async fn anchor_in(
    ctx: &Context<'_>,
    comment: &CommentRow,
    revision: &ID,
) -> Result<Option<CarriedAnchor>> {
    let revision_id = decode_id("revisionId", revision, NodeKind::Revision)?;
    if revision_id == comment.revision_id {
        return Ok(Some(CarriedAnchor(CarriedRow {
            revision_id,
            comment_id: comment.id,
            status: crate::domain::carry::CarryStatus::Exact,
            score: Some(1.0),
            section_anchor: comment.section_anchor.clone(),
            block_anchor: comment.block_anchor.clone(),
            quote_start: comment.quote_start,
            quote_end: comment.quote_end,
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

/// A comment of an earlier revision, where it is in this one.
pub struct CarriedComment(pub CarriedRow);

/// A comment of an earlier revision, where it is in this one.
#[Object]
impl CarriedComment {
    /// The comment (its own anchor, on its own revision, stays the truth).
    async fn comment(&self, ctx: &Context<'_>) -> Result<Comment> {
        Ok(Comment(
            required(
                &ctx.loaders()?.comments,
                self.0.comment_id,
                "carried comment",
            )
            .await?,
        ))
    }
    /// Where it is in this revision.
    async fn anchor(&self) -> CarriedAnchor {
        CarriedAnchor(self.0.clone())
    }
}

/// Filters on carried comments.
#[derive(InputObject, Default)]
pub struct CarriedCommentFilter {
    /// Only comments re-found this way.
    pub status: Option<CarryStatus>,
    /// Only comments with this disposition (as far as the viewer may see dispositions).
    pub disposition: Option<DispositionKind>,
}

/// `revision.carriedComments`: comments of earlier revisions the viewer may see, in this revision's document order.
pub async fn carried_comments(
    ctx: &Context<'_>,
    revision: &RevisionRow,
    filter: Option<CarriedCommentFilter>,
    args: PageArgs,
) -> Result<Conn<CarriedComment>> {
    let user = ctx.user()?;
    let state = ctx.state()?;
    let f = filter.unwrap_or_default();
    let filter = CarriedFilter {
        status: f.status.map(Into::into),
        disposition: f.disposition.map(Into::into),
    };
    connection::query(
        ctx,
        args,
        |page, total| async move {
            let cycles: Vec<CycleRow> = ctx
                .loaders()?
                .cycles_of_module
                .load_one(revision.module_id)
                .await?
                .unwrap_or_default();
            let rows = queries::carried(state, user, revision.id, &cycles, &filter, &page, total);
            Ok::<_, async_graphql::Error>(rows.await?)
        },
        |r| (r.doc_order, r.comment_id),
        CarriedComment,
    )
    .await
}

/// How many comments have one disposition.
#[derive(SimpleObject)]
pub struct DispositionCount {
    /// The disposition.
    pub kind: DispositionKind,
    /// How many comments have it.
    pub count: i64,
}

/// Comments of one type.
#[derive(SimpleObject)]
pub struct TypeCount {
    /// The type.
    #[graphql(name = "type")]
    pub comment_type: super::review::CommentType,
    /// Submitted and withdrawn comments of this type.
    pub count: i64,
    /// Submitted ones still without a disposition.
    pub remaining: i64,
}

/// Comments of one organization.
pub struct OrganizationCount {
    organization_id: i64,
    count: i64,
    remaining: i64,
}

/// Comments of one organization.
#[Object]
impl OrganizationCount {
    /// The organization.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Organization> {
        Ok(Organization(
            required(
                &ctx.loaders()?.organizations,
                self.organization_id,
                "organization",
            )
            .await?,
        ))
    }
    /// Submitted and withdrawn comments.
    async fn count(&self) -> i64 {
        self.count
    }
    /// Submitted ones still without a disposition.
    async fn remaining(&self) -> i64 {
        self.remaining
    }
}

/// Where the consolidation of a cycle stands.
#[derive(SimpleObject)]
pub struct CycleProgress {
    /// Submitted and withdrawn comments the viewer can see.
    pub total: i64,
    /// Submitted (not withdrawn).
    pub submitted: i64,
    /// Withdrawn by their organizations (they need no disposition).
    pub withdrawn: i64,
    /// Submitted comments with a disposition.
    pub decided: i64,
    /// Submitted comments still without one.
    pub remaining: i64,
    /// Counts by disposition (every kind, zeros included).
    pub by_disposition: Vec<DispositionCount>,
    /// Counts by type.
    pub by_type: Vec<TypeCount>,
    /// Counts by organization.
    pub by_organization: Vec<OrganizationCount>,
}

/// `cycle.progress`.
pub async fn progress(ctx: &Context<'_>, cycle: &CycleRow) -> Result<Option<CycleProgress>> {
    let user = ctx.user()?;
    let Some(p) = service::progress(ctx.state()?, user, cycle).await? else {
        return Ok(None);
    };
    let by_type = p
        .by_type
        .into_iter()
        .map(|(t, count, remaining)| TypeCount {
            comment_type: t.into(),
            count,
            remaining,
        })
        .collect();
    Ok(Some(CycleProgress {
        total: p.total,
        submitted: p.submitted,
        withdrawn: p.withdrawn,
        decided: p.decided,
        remaining: p.remaining,
        by_disposition: p
            .by_disposition
            .into_iter()
            .map(|(k, count)| DispositionCount {
                kind: k.into(),
                count,
            })
            .collect(),
        by_type,
        by_organization: p
            .by_organization
            .into_iter()
            .map(|(organization_id, count, remaining)| OrganizationCount {
                organization_id,
                count,
                remaining,
            })
            .collect(),
    }))
}

/// One row of the consolidated comments table (the ISO template's columns plus the disposition).
pub struct ConsolidatedRow(pub TableRow);

/// One row of the consolidated comments table.
#[Object]
impl ConsolidatedRow {
    /// The comment.
    async fn comment(&self, ctx: &Context<'_>) -> Result<Comment> {
        Ok(Comment(
            required(&ctx.loaders()?.comments, self.0.comment_id, "table comment").await?,
        ))
    }
    /// Comment number.
    async fn number(&self) -> i64 {
        self.0.number
    }
    /// MB/NC: the ISO 3166 code of a member state, else the organization's short name.
    async fn organization(&self) -> &str {
        &self.0.organization
    }
    /// Clause (`General` for comments on the whole document).
    async fn clause(&self) -> &str {
        &self.0.clause
    }
    /// Paragraph/Figure/Table: the block ("Paragraph 2", "Table row 3"), and the quoted words.
    async fn location(&self) -> &str {
        &self.0.location
    }
    /// Type of comment: `ge`, `te` or `ed`.
    async fn type_code(&self) -> &str {
        self.0.type_code
    }
    /// The comment.
    async fn body(&self) -> &str {
        &self.0.comment
    }
    /// Proposed change (empty when none).
    async fn proposed_change(&self) -> &str {
        &self.0.proposed_change
    }
    /// The disposition, when decided and visible to the viewer (WITHDRAWN for withdrawn comments).
    async fn disposition(&self) -> Option<DispositionKind> {
        self.0.disposition.map(Into::into)
    }
    /// Observations: the rationale (and the comment duplicated).
    async fn rationale(&self) -> &str {
        &self.0.rationale
    }
}

/// `cycle.consolidatedTable`.
pub async fn consolidated_table(
    ctx: &Context<'_>,
    cycle: &CycleRow,
    args: PageArgs,
) -> Result<Conn<ConsolidatedRow>> {
    let user = ctx.user()?;
    let state = ctx.state()?;
    connection::query(
        ctx,
        args,
        |page, total| async move { queries::table(state, user, cycle.id, &page, total).await },
        |r| r.key,
        ConsolidatedRow,
    )
    .await
}

/// One decision.
#[derive(InputObject)]
pub struct SetDispositionInput {
    /// The comment (submitted or withdrawn).
    pub comment_id: ID,
    /// The decision.
    pub kind: DispositionKind,
    /// Why; required for every kind but ACCEPTED.
    pub rationale: Option<String>,
    /// For DUPLICATE: another comment of the same cycle.
    pub duplicate_of_id: Option<ID>,
    /// A later revision of the module that addresses the comment.
    pub addressed_in_revision_id: Option<ID>,
}

/// Many decisions at once.
#[derive(InputObject)]
pub struct SetDispositionsInput {
    /// The decisions (at most 500); all are applied or none.
    pub dispositions: Vec<SetDispositionInput>,
}

/// The comment with its new disposition.
#[derive(SimpleObject)]
pub struct SetDispositionPayload {
    /// The comment.
    pub comment: Comment,
}

/// The comments with their new dispositions.
#[derive(SimpleObject)]
pub struct SetDispositionsPayload {
    /// The comments, in the order given.
    pub comments: Vec<Comment>,
}

fn disposition_input(i: usize, batch: bool, d: SetDispositionInput) -> Result<DispositionInput> {
    let f = |name: &str| {
        if batch {
            format!("dispositions[{i}].{name}")
        } else {
            name.to_owned()
        }
    };
    Ok(DispositionInput {
        comment_id: decode_id(&f("commentId"), &d.comment_id, NodeKind::Comment)?,
        kind: d.kind.into(),
        rationale: d.rationale,
        duplicate_of_id: d
            .duplicate_of_id
            .map(|id| decode_id(&f("duplicateOfId"), &id, NodeKind::Comment))
            .transpose()?,
        addressed_in_revision_id: d
            .addressed_in_revision_id
            .map(|id| decode_id(&f("addressedInRevisionId"), &id, NodeKind::Revision))
            .transpose()?,
    })
}

#[derive(Default)]
pub struct ConsolidationMutation;

#[Object]
impl ConsolidationMutation {
    /// Decide on a comment (rapporteurs of the question and the secretariat).
    /// Every change is kept in `disposition.history`.
    async fn set_disposition(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: SetDispositionInput,
    ) -> Result<SetDispositionPayload> {
        let user = ctx.user()?;
        let d = disposition_input(0, false, input)?;
        let rows = service::set_dispositions(ctx.state()?, user, &[d], false).await?;
        let comment = rows
            .into_iter()
            .next()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("no comment returned")))?;
        Ok(SetDispositionPayload {
            comment: Comment(comment),
        })
    }
    /// Decide on many comments at once: all or nothing.
    async fn set_dispositions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: SetDispositionsInput,
    ) -> Result<SetDispositionsPayload> {
        let user = ctx.user()?;
        let items = input
            .dispositions
            .into_iter()
            .enumerate()
            .map(|(i, d)| disposition_input(i, true, d))
            .collect::<Result<Vec<_>>>()?;
        let rows = service::set_dispositions(ctx.state()?, user, &items, true).await?;
        Ok(SetDispositionsPayload {
            comments: rows.into_iter().map(Comment).collect(),
        })
    }
    /// Close the consolidation of a closed cycle: every submitted comment must
    /// have a disposition (else VALIDATION saying how many remain). The cycle
    /// becomes CONSOLIDATED and its module CONSOLIDATING.
    async fn mark_cycle_consolidated(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CycleIdInput,
    ) -> Result<ReviewCyclePayload> {
        let user = ctx.user()?;
        let id = decode_id("cycleId", &input.cycle_id, NodeKind::ReviewCycle)?;
        let row = service::mark_consolidated(ctx.state()?, user, id).await?;
        Ok(ReviewCyclePayload {
            cycle: ReviewCycle(row),
        })
    }
}
