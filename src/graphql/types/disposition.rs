//! `Disposition`: the rapporteurs' decision on a comment.

use async_graphql::{Context, Enum, Object, Result};
use chrono::{DateTime, Utc};

use super::required;
use super::{Comment, DispositionChange, Revision, User};
use crate::graphql::context::CtxExt;
use crate::graphql::loaders::all_of;
use crate::service::records::DispositionRow;

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
            Some(row) => Comment::visible(ctx, row).await,
            None => Ok(None),
        }
    }
    /// Who decided last.
    async fn decided_by(&self, ctx: &Context<'_>) -> Result<User> {
        required(ctx, self.0.decided_by, "disposition's user").await
    }
    /// When it was decided last.
    async fn decided_at(&self) -> DateTime<Utc> {
        self.0.decided_at
    }
    /// The revisions that addressed the comment, oldest first.
    async fn addressed_in(&self, ctx: &Context<'_>) -> Result<Vec<Revision>> {
        Revision::addressing(ctx, self.0.comment_id).await
    }
    /// Every change of this disposition, oldest first.
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<DispositionChange>> {
        Ok(
            all_of(&ctx.loaders()?.disposition_changes, self.0.comment_id)
                .await?
                .into_iter()
                .map(DispositionChange)
                .collect(),
        )
    }
}
