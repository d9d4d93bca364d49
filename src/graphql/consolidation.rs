//! Consolidation: setting dispositions and closing a cycle's consolidation.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};

use super::context::CtxExt;
use super::ids::decode_id;
use super::review::{CycleIdInput, ReviewCyclePayload};
use super::types::{Comment, DispositionKind, ReviewCycle};
use crate::domain::ids::NodeKind;
use crate::error::AppError;
use crate::service::consolidation::{self as service, DispositionInput};

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
    /// The comment's `dispositionVersion` when it was loaded: if its
    /// disposition has changed since, the call is refused (CONFLICT, naming
    /// who changed it and when) and nothing is stored. Omitted: the decision
    /// replaces whatever is stored.
    pub expected_version: Option<i32>,
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
        expected_version: d.expected_version.map(i64::from),
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
