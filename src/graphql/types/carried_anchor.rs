//! `CarriedAnchor`: where a comment is in one revision of its module.

use async_graphql::{Context, Enum, Object, Result};

use super::required;
use super::{Block, Content, Revision, Section};
use crate::service::records::CarriedRow;

/// How well a comment's anchor was re-found in a later revision.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "CarryStatus", remote = "crate::domain::carry::CarryStatus")]
pub enum CarryStatus {
    /// The same text in the same block (or the same section heading).
    Exact,
    /// The same text elsewhere: the block moved, or the quoted words are at another place.
    Moved,
    /// The block was rewritten; a block at least 0.5 similar (share of equal words) took its place.
    Fuzzy,
    /// The text is gone: the comment falls back to its section, or to the document.
    Orphaned,
}

/// Where a comment is in one revision: its own anchor in the revision it was
/// made on, else the projection computed when the later revision was made.
pub struct CarriedAnchor(pub CarriedRow);

/// Where a comment is in one revision.
#[Object]
impl CarriedAnchor {
    /// How well the anchor was re-found (EXACT in the comment's own revision).
    async fn status(&self) -> CarryStatus {
        self.0.status.into()
    }
    /// 1 for EXACT and MOVED, the similarity (0.5 to 1) for FUZZY, null for ORPHANED.
    async fn score(&self) -> Option<f64> {
        self.0.score
    }
    /// The revision.
    async fn revision(&self, ctx: &Context<'_>) -> Result<Revision> {
        required(ctx, self.0.revision_id, "carried revision").await
    }
    /// The section's anchor id (null when the comment falls back to the document).
    async fn section_anchor_id(&self) -> Option<&str> {
        self.0.section_anchor.as_deref()
    }
    /// The block's anchor id (null for section and document anchors, and ORPHANED).
    async fn block_anchor_id(&self) -> Option<&str> {
        self.0.block_anchor.as_deref()
    }
    /// Where the quoted words are in the block, in characters, when found.
    async fn quote_start(&self) -> Option<i64> {
        self.0.quote_start
    }
    /// End (exclusive) of the quoted words, in characters.
    async fn quote_end(&self) -> Option<i64> {
        self.0.quote_end
    }
    /// The section.
    async fn section(&self, ctx: &Context<'_>) -> Result<Option<Section>> {
        let Some(a) = &self.0.section_anchor else {
            return Ok(None);
        };
        Ok(Section::by_anchor(
            &Content::load(ctx, self.0.revision_id).await?,
            a,
        ))
    }
    /// The block.
    async fn block(&self, ctx: &Context<'_>) -> Result<Option<Block>> {
        let Some(a) = &self.0.block_anchor else {
            return Ok(None);
        };
        Ok(Block::by_anchor(
            &Content::load(ctx, self.0.revision_id).await?,
            a,
        ))
    }
}
