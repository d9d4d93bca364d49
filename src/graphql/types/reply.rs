//! `Reply`: a message in a comment's thread.

use async_graphql::{Context, Object, Result, ID};
use chrono::{DateTime, Utc};

use super::required;
use super::{Comment, Organization, User};
use crate::domain::comments::ReplyState;
use crate::domain::ids::NodeKind;
use crate::graphql::context::CtxExt;
use crate::graphql::ids;
use crate::service::records::ReplyRow;

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
        required(ctx, self.0.author_id, "reply without author").await
    }
    /// The author's organization.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Organization> {
        required(ctx, self.0.organization_id, "reply without organization").await
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

impl Reply {
    /// The reply, if the viewer may see it (its comment).
    pub(in crate::graphql) async fn visible(
        ctx: &Context<'_>,
        row: ReplyRow,
    ) -> Result<Option<Reply>> {
        let comment = ctx.loaders()?.comments.load_one(row.comment_id).await?;
        let Some(comment) = comment else {
            return Ok(None);
        };
        Ok(Comment::visible(ctx, comment).await?.map(|_| Reply(row)))
    }
}
