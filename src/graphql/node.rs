//! Global object identification: the `Node` interface, `node(id:)` and `nodes(ids:)`.

use async_graphql::{Context, Interface, Object, Result, ID};

use super::context::CtxExt;
use super::types::{
    AuditEvent, Comment, Kit, Module, Notification, Organization, Question, Reply, ReviewCycle,
    Revision, User,
};
use crate::domain::ids::{GlobalId, NodeKind};
use crate::error::{AppError, AppResult};

/// An object with a global id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Global id."))]
// A node lives for one field resolution; boxing the comment would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Node {
    Organization(Organization),
    User(User),
    Question(Question),
    Kit(Kit),
    Module(Module),
    Revision(Revision),
    ReviewCycle(ReviewCycle),
    Comment(Comment),
    Reply(Reply),
    Notification(Notification),
    AuditEvent(AuditEvent),
}

/// The most ids one `nodes` call takes.
pub const MAX_NODES: usize = 100;

/// Errors keep their code (a database that does not answer is UNAVAILABLE
/// here as on every other read path).
async fn load_node(ctx: &Context<'_>, gid: GlobalId) -> Result<Option<Node>> {
    let loaders = ctx.loaders()?;
    Ok(match gid.kind {
        NodeKind::Organization => loaders
            .organizations
            .load_one(gid.id)
            .await?
            .map(|r| Node::Organization(Organization(r))),
        NodeKind::User => {
            // The directory is the secretariat's (as `users` is): anyone else
            // finds only their own account by id.
            let viewer = ctx.user()?;
            if !viewer.is_secretariat() && viewer.id != gid.id {
                return Ok(None);
            }
            loaders
                .users
                .load_one(gid.id)
                .await?
                .map(|r| Node::User(User::new(r)))
        }
        NodeKind::Question => loaders
            .questions
            .load_one(gid.id)
            .await?
            .map(|r| Node::Question(Question(r))),
        NodeKind::Kit => loaders
            .kits
            .load_one(gid.id)
            .await?
            .map(|r| Node::Kit(Kit(r))),
        NodeKind::Module => loaders
            .modules
            .load_one(gid.id)
            .await?
            .map(|r| Node::Module(Module(r))),
        NodeKind::Revision => loaders
            .revisions
            .load_one(gid.id)
            .await?
            .map(|r| Node::Revision(Revision(r))),
        NodeKind::ReviewCycle => loaders
            .cycles
            .load_one(gid.id)
            .await?
            .map(|r| Node::ReviewCycle(ReviewCycle(r))),
        NodeKind::Comment => match loaders.comments.load_one(gid.id).await? {
            Some(row) => Comment::visible(ctx, row).await?.map(Node::Comment),
            None => None,
        },
        NodeKind::Reply => match loaders.replies.load_one(gid.id).await? {
            Some(row) => Reply::visible(ctx, row).await?.map(Node::Reply),
            None => None,
        },
        NodeKind::Notification => {
            // Only the user a notification is for may see it.
            let user = ctx.user()?;
            loaders
                .notifications
                .load_one(gid.id)
                .await?
                .filter(|n| n.user_id == user.id)
                .map(|n| Node::Notification(Notification(n)))
        }
        NodeKind::AuditEvent => {
            let user = ctx.user()?;
            loaders
                .audit_events
                .load_one(gid.id)
                .await?
                .filter(|row| crate::service::queries::audit::may_read(user, row))
                .map(|row| Node::AuditEvent(AuditEvent(row)))
        }
    })
}

fn parse(id: &ID) -> AppResult<GlobalId> {
    GlobalId::parse(id.as_str())
        .map_err(|_| AppError::validation("id", format!("'{}' is not a valid id", id.as_str())))
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Fetch any object by its global id; null when it does not exist or is not visible to you.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global id.")] id: ID,
    ) -> Result<Option<Node>> {
        ctx.user()?;
        load_node(ctx, parse(&id)?).await
    }

    /// Fetch up to 100 objects by global id, in the order asked; null for each one that
    /// does not exist or is not visible to you. Costs as many nodes as ids are asked for.
    #[graphql(complexity = "1 + ids.len().max(1) * child_complexity")]
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Up to 100 global ids.")] ids: Vec<ID>,
    ) -> Result<Vec<Option<Node>>> {
        ctx.user()?;
        if ids.len() > MAX_NODES {
            return Err(
                AppError::validation("ids", format!("at most {MAX_NODES} ids at once")).into(),
            );
        }
        let gids = ids.iter().map(parse).collect::<AppResult<Vec<_>>>()?;
        let mut out = Vec::with_capacity(gids.len());
        // The loaders batch these into one query per kind.
        let futs = gids.into_iter().map(|g| load_node(ctx, g));
        for n in futures_util::future::join_all(futs).await {
            out.push(n?);
        }
        Ok(out)
    }
}
