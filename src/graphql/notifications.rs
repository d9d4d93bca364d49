//! `viewer.notifications`, `markNotificationsRead`, and following modules.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::connection::{self, Conn, PageArgs};
use super::context::CtxExt;
use super::loaders::required;
use super::modules::{Module, Revision};
use super::node::{decode_id, decode_ids, ids};
use crate::domain::ids::NodeKind;
use crate::service::notifications as service;
use crate::service::queries::notifications as queries;
use crate::service::records::NotificationRow;

/// What a notification is about.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::domain::notifications::NotificationKind")]
pub enum NotificationKind {
    /// A new revision of a module was published.
    RevisionPublished,
}

/// Why you were told.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::domain::notifications::NotificationReason")]
pub enum NotificationReason {
    /// Your organization commented on an earlier revision of the module.
    Commented,
    /// You follow the module.
    Following,
}

/// Something you should know about.
pub struct Notification(pub NotificationRow);

/// Something you should know about: a new revision of a module you commented on or follow.
#[Object]
impl Notification {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::id(NodeKind::Notification, self.0.id)
    }

    /// What it is about.
    async fn kind(&self) -> NotificationKind {
        self.0.kind.into()
    }

    /// Why you were told.
    async fn reason(&self) -> NotificationReason {
        self.0.reason.into()
    }

    /// The module concerned.
    async fn module(&self, ctx: &Context<'_>) -> Result<Module> {
        Ok(Module(
            required(&ctx.loaders()?.modules, self.0.module_id, "module").await?,
        ))
    }

    /// The new revision.
    async fn revision(&self, ctx: &Context<'_>) -> Result<Revision> {
        Ok(Revision(
            required(&ctx.loaders()?.revisions, self.0.revision_id, "revision").await?,
        ))
    }

    /// When it was published.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When you marked it read; null while unread.
    async fn read_at(&self) -> Option<DateTime<Utc>> {
        self.0.read_at
    }
}

/// A page of the viewer's notifications, newest first.
pub async fn list(
    ctx: &Context<'_>,
    unread: Option<bool>,
    args: PageArgs,
) -> Result<Conn<Notification>> {
    let (state, viewer) = (ctx.state()?, ctx.user()?);
    connection::query(
        ctx,
        args,
        |page, total| async move { queries::list(state, viewer, unread, &page, total).await },
        |r| (r.id, r.id),
        Notification,
    )
    .await
}

/// How many of the viewer's notifications are unread.
pub async fn unread_count(ctx: &Context<'_>) -> Result<i64> {
    Ok(queries::unread_count(ctx.state()?, ctx.user()?).await?)
}

/// Which notifications to mark read.
#[derive(InputObject)]
pub struct MarkNotificationsReadInput {
    /// These (at most 500, all yours); omit to mark every unread one read.
    pub ids: Option<Vec<ID>>,
}

/// The result of `markNotificationsRead`.
#[derive(SimpleObject)]
pub struct MarkNotificationsReadPayload {
    /// How many notifications were unread and are now read.
    pub marked: i64,
    /// How many remain unread.
    pub unread_count: i64,
}

/// The module to follow or stop following.
#[derive(InputObject)]
pub struct FollowModuleInput {
    /// The module.
    pub module_id: ID,
}

/// The result of `followModule` and `unfollowModule`.
#[derive(SimpleObject)]
pub struct FollowModulePayload {
    /// The module.
    pub module: Module,
    /// Whether you now follow it.
    pub following: bool,
}

#[derive(Default)]
pub struct NotificationsMutation;

#[Object]
impl NotificationsMutation {
    /// Mark some or all of your notifications read.
    async fn mark_notifications_read(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which notifications.")] input: MarkNotificationsReadInput,
    ) -> Result<MarkNotificationsReadPayload> {
        let user = ctx.user()?;
        let ids = input
            .ids
            .map(|ids| decode_ids("ids", &ids, NodeKind::Notification))
            .transpose()?;
        let marked = service::mark_read(ctx.state()?, user, ids.as_deref()).await?;
        Ok(MarkNotificationsReadPayload {
            marked: marked as i64,
            unread_count: unread_count(ctx).await?,
        })
    }

    /// Follow a module: you are notified of each new revision.
    async fn follow_module(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The module.")] input: FollowModuleInput,
    ) -> Result<FollowModulePayload> {
        set_following(ctx, &input.module_id, true).await
    }

    /// Stop following a module.
    async fn unfollow_module(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The module.")] input: FollowModuleInput,
    ) -> Result<FollowModulePayload> {
        set_following(ctx, &input.module_id, false).await
    }
}

async fn set_following(
    ctx: &Context<'_>,
    module_id: &ID,
    follow: bool,
) -> Result<FollowModulePayload> {
    let user = ctx.user()?;
    let id = decode_id("moduleId", module_id, NodeKind::Module)?;
    service::set_following(ctx.state()?, user, id, follow).await?;
    let module = required(&ctx.loaders()?.modules, id, "module").await?;
    Ok(FollowModulePayload {
        module: Module(module),
        following: follow,
    })
}

/// Does the viewer follow this module?
pub async fn follows(ctx: &Context<'_>, module_id: i64) -> Result<bool> {
    Ok(queries::follows(ctx.state()?, ctx.user()?, module_id).await?)
}
