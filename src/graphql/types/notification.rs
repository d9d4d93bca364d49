//! `Notification`: a new revision of a module you commented on or follow.

use async_graphql::{Context, Enum, Object, Result, ID};
use chrono::{DateTime, Utc};

use super::required;
use super::{Module, Revision};
use crate::domain::ids::NodeKind;
use crate::graphql::ids;
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
        required(ctx, self.0.module_id, "module").await
    }

    /// The new revision.
    async fn revision(&self, ctx: &Context<'_>) -> Result<Revision> {
        required(ctx, self.0.revision_id, "revision").await
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
