//! `BlockDiff`: one block's fate between two revisions, with its word-level changes.

use std::sync::Arc;

use async_graphql::{Context, Enum, Object, Result, SimpleObject};

use super::{Block, Comment, Content, DiffStatus};
use crate::domain::diff;
use crate::service::modules as service;

/// A run of words in a changed block.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "TextChangeOp", remote = "crate::domain::diff::Op")]
pub enum TextChangeOp {
    /// In both texts.
    Equal,
    /// Only in the later text.
    Insert,
    /// Only in the earlier text.
    Delete,
}

/// A run of words in a changed block; the EQUAL and DELETE runs rebuild the earlier text,
/// the EQUAL and INSERT runs the later one.
#[derive(SimpleObject)]
pub struct TextChange {
    /// Which text the run belongs to.
    pub op: TextChangeOp,
    /// The words, with their spacing and punctuation.
    pub text: String,
}

/// One block's fate.
pub struct BlockDiff {
    pub(super) from: Arc<Content>,
    pub(super) to: Arc<Content>,
    pub(super) change: diff::BlockChange,
    pub(super) addressed: Arc<Vec<service::Addressed>>,
}

/// One block's fate.
#[Object]
impl BlockDiff {
    /// What happened to it.
    async fn status(&self) -> DiffStatus {
        self.change.status.into()
    }
    /// The block in the earlier revision (null if added).
    async fn from_block(&self) -> Option<Block> {
        self.change.from.map(|index| Block {
            content: self.from.clone(),
            index,
        })
    }
    /// The block in the later revision (null if removed).
    async fn to_block(&self) -> Option<Block> {
        self.change.to.map(|index| Block {
            content: self.to.clone(),
            index,
        })
    }
    /// For a CHANGED block: how similar the texts are (share of equal words, 0 to 1).
    async fn similarity(&self) -> Option<f64> {
        self.change.similarity.map(f64::from)
    }
    /// The comments this change addressed: addressed by a revision between the
    /// two sides, and anchored to this block on either side.
    async fn addressed_comments(&self, ctx: &Context<'_>) -> Result<Vec<Comment>> {
        let from = self
            .change
            .from
            .map(|i| self.from.blocks[i].anchor_id.as_str());
        let to = self.change.to.map(|i| self.to.blocks[i].anchor_id.as_str());
        let ids = self
            .addressed
            .iter()
            .filter(|a| {
                (from.is_some() && a.from_block.as_deref() == from)
                    || (to.is_some() && a.to_block.as_deref() == to)
            })
            .map(|a| a.comment_id)
            .collect();
        Comment::visible_among(ctx, ids).await
    }
    /// For a CHANGED block: the word-level changes.
    async fn changes(&self) -> Vec<TextChange> {
        self.change
            .changes
            .iter()
            .map(|c| TextChange {
                op: c.op.into(),
                text: c.text.clone(),
            })
            .collect()
    }
}
