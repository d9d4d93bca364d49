//! The sections and blocks of one revision, loaded once and shared by the
//! `Revision`, `Section`, `Block` and diff objects that show them.

use std::sync::Arc;

use async_graphql::{Context, Result};

use crate::graphql::context::CtxExt;
use crate::service::records::{BlockRow, SectionRow};

/// The sections and blocks of one revision, shared by the views on them.
pub struct Content {
    pub revision_id: i64,
    pub sections: Vec<SectionRow>,
    pub blocks: Vec<BlockRow>,
    /// Block indexes of each section.
    pub(super) by_section: Vec<Vec<usize>>,
}

impl Content {
    pub fn new(revision_id: i64, sections: Vec<SectionRow>, blocks: Vec<BlockRow>) -> Arc<Self> {
        let mut by_section = vec![Vec::new(); sections.len()];
        for (i, b) in blocks.iter().enumerate() {
            if let Some(v) = usize::try_from(b.section_position)
                .ok()
                .and_then(|s| by_section.get_mut(s))
            {
                v.push(i);
            }
        }
        Arc::new(Self {
            revision_id,
            sections,
            blocks,
            by_section,
        })
    }

    pub(crate) async fn load(ctx: &Context<'_>, revision_id: i64) -> Result<Arc<Self>> {
        let loaders = ctx.loaders()?;
        let (sections, blocks) = futures_util::try_join!(
            loaders.sections_of_revision.load_one(revision_id),
            loaders.blocks_of_revision.load_one(revision_id),
        )?;
        Ok(Self::new(
            revision_id,
            sections.unwrap_or_default(),
            blocks.unwrap_or_default(),
        ))
    }
}
