//! `markNotificationsRead`, and following modules.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};

use super::context::CtxExt;
use super::ids::{decode_id, decode_ids};
use super::types::{required, Module};
use crate::domain::ids::NodeKind;
use crate::service::notifications as service;
use crate::service::queries::notifications as queries;

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
            unread_count: queries::unread_count(ctx.state()?, user).await?,
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
    Ok(FollowModulePayload {
        module: required(ctx, id, "module").await?,
        following: follow,
    })
}
