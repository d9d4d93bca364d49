//! `ReviewEvent`: something that happened in a review cycle or on a module,
//! as a subscriber may see it.

use std::sync::Arc;

use async_graphql::{Enum, Object, Result};
use chrono::{DateTime, Utc};

use super::{Comment, CycleStatus, Module, Reply, ReviewCycle, Revision};
use crate::domain::cycle::CycleStatus as Status;
use crate::domain::events::EventKind;
use crate::error::AppError;
use crate::live::Delivered;

/// What happened.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ReviewEventKind {
    /// A comment was submitted (or imported): `comment` is set.
    CommentSubmitted,
    /// A comment's text or anchor changed: `comment` is set.
    CommentUpdated,
    /// A comment was withdrawn: `comment` is set.
    CommentWithdrawn,
    /// A reply was added: `comment` and `reply` are set.
    ReplyAdded,
    /// A disposition was set or changed (seen by rapporteurs and the
    /// secretariat until the cycle closes): `comment` is set.
    DispositionSet,
    /// The cycle opened, closed (by the clock or by hand), was reopened by an
    /// extension, or was consolidated: `cycle` and `cycleStatus` are set.
    CycleStatusChanged,
    /// A new revision of the module was published: `revision` is set.
    RevisionPublished,
}

impl ReviewEventKind {
    /// The kind of a live event, if subscriptions tell it.
    pub(in crate::graphql) fn of(k: EventKind) -> Option<ReviewEventKind> {
        Some(match k {
            EventKind::CommentSubmitted => ReviewEventKind::CommentSubmitted,
            EventKind::CommentUpdated => ReviewEventKind::CommentUpdated,
            EventKind::CommentWithdrawn => ReviewEventKind::CommentWithdrawn,
            EventKind::ReplyAdded => ReviewEventKind::ReplyAdded,
            EventKind::DispositionSet => ReviewEventKind::DispositionSet,
            EventKind::CycleStatusChanged => ReviewEventKind::CycleStatusChanged,
            EventKind::RevisionPublished => ReviewEventKind::RevisionPublished,
            EventKind::AccountChanged => return None,
        })
    }
}

/// One live event.
pub struct ReviewEvent {
    pub(in crate::graphql) kind: ReviewEventKind,
    pub(in crate::graphql) delivered: Arc<Delivered>,
    pub(in crate::graphql) status: Option<Status>,
}

/// Something that happened in a review cycle or on a module, as you may see it.
#[Object]
impl ReviewEvent {
    /// What happened.
    async fn kind(&self) -> ReviewEventKind {
        self.kind
    }

    /// When the change was committed (or, for the clock's openings and
    /// closings, when this server noticed them).
    async fn at(&self) -> DateTime<Utc> {
        self.delivered.event.at
    }

    /// The module concerned.
    async fn module(&self) -> Result<Module> {
        self.delivered
            .module
            .clone()
            .map(Module)
            .ok_or_else(|| AppError::not_found("module").into())
    }

    /// The review cycle concerned (null for a new revision).
    async fn cycle(&self) -> Option<ReviewCycle> {
        self.delivered.cycle.clone().map(ReviewCycle)
    }

    /// The cycle's status when the event was delivered.
    async fn cycle_status(&self) -> Option<CycleStatus> {
        self.status.map(Into::into)
    }

    /// The comment concerned, as it is after the change.
    async fn comment(&self) -> Option<Comment> {
        self.delivered.comment.clone().map(Comment)
    }

    /// The reply added (REPLY_ADDED).
    async fn reply(&self) -> Option<Reply> {
        self.delivered.reply.clone().map(Reply)
    }

    /// The new revision (REVISION_PUBLISHED).
    async fn revision(&self) -> Option<Revision> {
        self.delivered.revision.clone().map(Revision)
    }
}
