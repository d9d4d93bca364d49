//! `Block`: a paragraph, list item, table row, block quote or code block.

use std::sync::Arc;

use async_graphql::{Context, Enum, Object, Result};

use super::Content;
use crate::graphql::context::CtxExt;
use crate::service::records::BlockRow;

/// What kind of block a piece of text is.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "BlockKind", remote = "crate::domain::document::BlockKind")]
pub enum BlockKind {
    /// A paragraph.
    Paragraph,
    /// One item of a bulleted or numbered list.
    ListItem,
    /// One row of a table (the header row too).
    TableRow,
    /// A block quote, as one block.
    BlockQuote,
    /// A code block.
    CodeBlock,
}

/// A paragraph, list item, table row, block quote or code block: what comments anchor to.
pub struct Block {
    pub(super) content: Arc<Content>,
    pub(super) index: usize,
}

impl Block {
    /// The block with this anchor id.
    pub(crate) fn by_anchor(content: &Arc<Content>, anchor: &str) -> Option<Self> {
        content
            .blocks
            .iter()
            .position(|b| b.anchor_id == anchor)
            .map(|index| Self {
                content: content.clone(),
                index,
            })
    }
}

/// A paragraph, list item, table row, block quote or code block: what comments anchor to.
#[Object]
impl Block {
    /// Stable anchor id: kept by later revisions while the text is unchanged (even if moved).
    async fn anchor_id(&self) -> &str {
        &self.content.blocks[self.index].anchor_id
    }
    /// What kind of block it is.
    async fn kind(&self) -> BlockKind {
        self.content.blocks[self.index].kind.into()
    }
    /// Plain text, whitespace collapsed; table cells joined by ` | `. Quotes in comments match this text.
    async fn text(&self) -> &str {
        &self.content.blocks[self.index].text
    }
    /// The block's Markdown source.
    async fn markdown(&self, ctx: &Context<'_>) -> Result<String> {
        let md = ctx
            .loaders()?
            .markdown_of_revision
            .load_one(self.content.revision_id)
            .await?
            .unwrap_or_default();
        Ok(source_of(&self.content.blocks[self.index], &md)?.to_owned())
    }
    /// The block as HTML, sanitised (no raw HTML, scripts or unsafe links):
    /// a paragraph, quote or code block as its element, a list item as the
    /// content of its `<li>`, a table row as its `<td>` cells.
    async fn html(&self, ctx: &Context<'_>) -> Result<String> {
        let content = &self.content;
        let sources = async {
            let md = ctx
                .loaders()?
                .markdown_of_revision
                .load_one(content.revision_id)
                .await?
                .unwrap_or_default();
            content
                .blocks
                .iter()
                .map(|b| Ok((b.kind, source_of(b, &md)?.to_owned())))
                .collect::<Result<Vec<_>>>()
        };
        let all = ctx
            .state()?
            .html
            .of_revision(content.revision_id, sources)
            .await?;
        Ok(all.get(self.index).cloned().unwrap_or_default())
    }
    /// Place in document order, from 0.
    async fn position(&self) -> i64 {
        self.content.blocks[self.index].position
    }
    /// Anchor id of the block's section.
    async fn section_anchor_id(&self) -> &str {
        let s =
            usize::try_from(self.content.blocks[self.index].section_position).unwrap_or_default();
        self.content
            .sections
            .get(s)
            .map_or("", |s| s.anchor_id.as_str())
    }
}

/// A block's Markdown in its revision's source.
fn source_of<'a>(b: &BlockRow, md: &'a str) -> Result<&'a str> {
    let (start, end) = (
        usize::try_from(b.source_start)?,
        usize::try_from(b.source_end)?,
    );
    Ok(md.get(start..end).unwrap_or_default().trim_end())
}
