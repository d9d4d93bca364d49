//! `SectionDiff`: one section's fate between two revisions.

use std::sync::Arc;

use async_graphql::{Enum, Object};

use super::{BlockDiff, Content, Section};
use crate::domain::diff;
use crate::service::modules as service;

/// What happened to a section or block between two revisions.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "DiffStatus", remote = "crate::domain::diff::Status")]
pub enum DiffStatus {
    /// Only in the later revision.
    Added,
    /// Only in the earlier revision.
    Removed,
    /// In both, with different text (or, for a section, different heading or content).
    Changed,
    /// The same text at another place.
    Moved,
    /// The same text at the same place.
    Unchanged,
}

/// One section's fate.
pub struct SectionDiff {
    pub(super) from: Arc<Content>,
    pub(super) to: Arc<Content>,
    pub(super) change: diff::SectionChange,
    pub(super) addressed: Arc<Vec<service::Addressed>>,
}

/// One section's fate.
#[Object]
impl SectionDiff {
    /// What happened to it.
    async fn status(&self) -> DiffStatus {
        self.change.status.into()
    }
    /// The section in the earlier revision (null if added).
    async fn from_section(&self) -> Option<Section> {
        self.change.from.map(|index| Section {
            content: self.from.clone(),
            index,
        })
    }
    /// The section in the later revision (null if removed).
    async fn to_section(&self) -> Option<Section> {
        self.change.to.map(|index| Section {
            content: self.to.clone(),
            index,
        })
    }
    /// Its blocks' fates, in the later revision's order.
    async fn blocks(&self) -> Vec<BlockDiff> {
        self.change
            .blocks
            .iter()
            .map(|b| BlockDiff {
                from: self.from.clone(),
                to: self.to.clone(),
                change: b.clone(),
                addressed: self.addressed.clone(),
            })
            .collect()
    }
}
