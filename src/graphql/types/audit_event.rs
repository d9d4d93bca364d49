//! `AuditEvent`: one recorded change.

use async_graphql::{Context, Object, Result, ID};
use chrono::{DateTime, Utc};

use super::{Organization, User};
use crate::domain::ids::NodeKind;
use crate::graphql::context::CtxExt;
use crate::graphql::ids;
use crate::service::records::AuditRow;

/// One recorded change: who did what to which object, when, from which request.
pub struct AuditEvent(pub AuditRow);

/// One recorded change: who did what to which object, when, from which request.
#[Object]
impl AuditEvent {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::id(NodeKind::AuditEvent, self.0.id)
    }

    /// When the change was committed (the service clock).
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// Who made it; null for the operator (command line, demo loader) or a
    /// user who no longer exists.
    async fn actor(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.0.actor_id else {
            return Ok(None);
        };
        Ok(ctx.loaders()?.users.load_one(id).await?.map(User::new))
    }

    /// The actor's organization at the time.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        let Some(id) = self.0.organization_id else {
            return Ok(None);
        };
        Ok(ctx
            .loaders()?
            .organizations
            .load_one(id)
            .await?
            .map(Organization))
    }

    /// What was done, as `area.verb`: `comment.submitted`, `comment.edited`
    /// (`comment.draft_edited` for a draft),
    /// `disposition.set`, `cycle.extended`, `revision.published`, `user.deactivated`, ...
    async fn action(&self) -> &'static str {
        self.0.action.as_str()
    }

    /// The type of what it was done to (`Comment`, `ReviewCycle`, ...).
    async fn entity_type(&self) -> &'static str {
        self.0.entity_kind.as_str()
    }

    /// The global id of what it was done to (use `node(id:)`; a deleted draft no longer resolves).
    async fn entity_id(&self) -> ID {
        ids::id(self.0.entity_kind, self.0.entity_id)
    }

    /// A one-line summary (no comment text).
    async fn summary(&self) -> &str {
        &self.0.summary
    }

    /// The id of the request that made the change (the `X-Request-Id` header
    /// of its HTTP response).
    async fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }
}
