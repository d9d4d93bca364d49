//! `Section`: a heading and what follows it up to the next heading.

use std::sync::Arc;

use async_graphql::Object;

use super::{Block, Content};

/// A heading and what follows it up to the next heading.
pub struct Section {
    pub(super) content: Arc<Content>,
    pub(super) index: usize,
}

impl Section {
    /// The section with this anchor id.
    pub(crate) fn by_anchor(content: &Arc<Content>, anchor: &str) -> Option<Self> {
        content
            .sections
            .iter()
            .position(|s| s.anchor_id == anchor)
            .map(|index| Self {
                content: content.clone(),
                index,
            })
    }
}

/// A heading and what follows it up to the next heading.
#[Object]
impl Section {
    /// Stable anchor id: kept by later revisions while the heading (or its clause number) stays.
    async fn anchor_id(&self) -> &str {
        &self.content.sections[self.index].anchor_id
    }
    /// Clause number, e.g. `3.1` (empty for the document title and text before the first heading).
    async fn clause(&self) -> &str {
        &self.content.sections[self.index].clause
    }
    /// Heading text without the clause number.
    async fn title(&self) -> &str {
        &self.content.sections[self.index].title
    }
    /// Heading level 1-6 (0 for text before the first heading).
    async fn level(&self) -> i64 {
        self.content.sections[self.index].level
    }
    /// Place in document order, from 0.
    async fn position(&self) -> i64 {
        self.content.sections[self.index].position
    }
    /// The section's blocks in document order.
    async fn blocks(&self) -> Vec<Block> {
        self.content
            .by_section
            .get(self.index)
            .into_iter()
            .flatten()
            .map(|&index| Block {
                content: self.content.clone(),
                index,
            })
            .collect()
    }
}
