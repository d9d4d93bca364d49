//! `RevisionDiff`: what changed between two revisions.

use std::sync::Arc;

use async_graphql::{Context, Object, Result, SimpleObject};

use super::{Comment, Content, Revision, SectionDiff};
use crate::domain::diff;
use crate::service::modules as service;
use crate::service::records::RevisionRow;

/// Counts of a diff.
#[derive(SimpleObject)]
pub struct DiffSummary {
    /// Sections only in the later revision.
    pub sections_added: i64,
    /// Sections only in the earlier revision.
    pub sections_removed: i64,
    /// Sections whose heading or content changed.
    pub sections_changed: i64,
    /// Sections that moved.
    pub sections_moved: i64,
    /// Sections identical in both.
    pub sections_unchanged: i64,
    /// Blocks only in the later revision.
    pub blocks_added: i64,
    /// Blocks only in the earlier revision.
    pub blocks_removed: i64,
    /// Blocks whose text changed.
    pub blocks_changed: i64,
    /// Blocks with the same text elsewhere.
    pub blocks_moved: i64,
    /// Blocks identical and in place.
    pub blocks_unchanged: i64,
    /// Words added (in added and changed blocks).
    pub words_added: i64,
    /// Words removed (in removed and changed blocks).
    pub words_removed: i64,
}

/// The differences between two revisions.
pub struct RevisionDiff {
    from: Arc<Content>,
    to: Arc<Content>,
    from_row: RevisionRow,
    to_row: RevisionRow,
    diff: Arc<diff::Diff>,
    addressed: Arc<Vec<service::Addressed>>,
}

impl RevisionDiff {
    pub(super) fn new(d: service::RevisionDiff) -> Self {
        Self {
            from: Content::new(d.from.revision.id, d.from.sections, d.from.blocks),
            to: Content::new(d.to.revision.id, d.to.sections, d.to.blocks),
            from_row: d.from.revision,
            to_row: d.to.revision,
            diff: d.diff,
            addressed: Arc::new(d.addressed),
        }
    }
}

/// The differences between two revisions.
#[Object]
impl RevisionDiff {
    /// The earlier side.
    async fn from(&self) -> Revision {
        Revision(self.from_row.clone())
    }
    /// The later side.
    async fn to(&self) -> Revision {
        Revision(self.to_row.clone())
    }
    /// Counts.
    async fn summary(&self) -> DiffSummary {
        let s = &self.diff.summary;
        let n = |x: usize| x as i64;
        DiffSummary {
            sections_added: n(s.sections.added),
            sections_removed: n(s.sections.removed),
            sections_changed: n(s.sections.changed),
            sections_moved: n(s.sections.moved),
            sections_unchanged: n(s.sections.unchanged),
            blocks_added: n(s.blocks.added),
            blocks_removed: n(s.blocks.removed),
            blocks_changed: n(s.blocks.changed),
            blocks_moved: n(s.blocks.moved),
            blocks_unchanged: n(s.blocks.unchanged),
            words_added: n(s.words_added),
            words_removed: n(s.words_removed),
        }
    }
    /// Sections in the later revision's order; removed ones after what preceded them.
    async fn sections(&self) -> Vec<SectionDiff> {
        (0..self.diff.sections.len())
            .map(|i| SectionDiff {
                from: self.from.clone(),
                to: self.to.clone(),
                change: self.diff.sections[i].clone(),
                addressed: self.addressed.clone(),
            })
            .collect()
    }
    /// Every comment addressed (`createRevision.addressedCommentIds`) by the
    /// revisions after the earlier side up to the later one, that the viewer may see.
    async fn addressed_comments(&self, ctx: &Context<'_>) -> Result<Vec<Comment>> {
        Comment::visible_among(ctx, self.addressed.iter().map(|a| a.comment_id).collect()).await
    }
}
