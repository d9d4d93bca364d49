//! `CommentSearchHit`: one comment found by `searchComments`, with its snippets.

use std::sync::Arc;

use async_graphql::{Context, Enum, Object, Result, SimpleObject};

use super::{Comment, Reply};
use crate::domain::comments::ReplyState;
use crate::domain::search::{snippet, Query};
use crate::graphql::context::CtxExt;
use crate::graphql::loaders::all_of;
use crate::service::records::CommentRow;

/// Where a snippet comes from.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum SearchField {
    /// The comment's text.
    Body,
    /// The comment's proposed change.
    ProposedChange,
    /// A reply in the comment's thread.
    Reply,
}

/// A range of a snippet's text, in Unicode code points.
#[derive(SimpleObject)]
pub struct TextRange {
    /// The first character (code point), from 0.
    pub start: i32,
    /// How many characters (code points).
    pub length: i32,
}

/// A passage around the words found, with the words to highlight.
#[derive(SimpleObject)]
pub struct SearchSnippet {
    /// Which text of the comment it comes from.
    pub field: SearchField,
    /// The passage; `…` marks text left out.
    pub text: String,
    /// The matching words in `text`.
    pub highlights: Vec<TextRange>,
    /// For a snippet of a reply: the reply.
    pub reply: Option<Reply>,
}

fn to_snippet(
    field: SearchField,
    text: &str,
    q: &Query,
    reply: Option<Reply>,
) -> Option<SearchSnippet> {
    snippet(text, q).map(|s| SearchSnippet {
        field,
        text: s.text,
        highlights: s
            .highlights
            .into_iter()
            .map(|(start, length)| TextRange {
                start: start as i32,
                length: length as i32,
            })
            .collect(),
        reply,
    })
}

/// One comment found.
pub struct CommentSearchHit {
    pub(in crate::graphql) row: CommentRow,
    pub(in crate::graphql) score: f64,
    pub(in crate::graphql) query: Arc<Query>,
}

/// One comment found, with its score and where its words matched.
#[Object]
impl CommentSearchHit {
    /// The comment.
    async fn comment(&self) -> Comment {
        Comment(self.row.clone())
    }

    /// The relevance (higher is better; comparable within one search only).
    async fn score(&self) -> f64 {
        self.score
    }

    /// Where the words were found: the body, the proposed change, replies.
    async fn snippets(&self, ctx: &Context<'_>) -> Result<Vec<SearchSnippet>> {
        let q = &self.query;
        let mut out = Vec::new();
        out.extend(to_snippet(SearchField::Body, &self.row.body, q, None));
        if let Some(p) = &self.row.proposed_change {
            out.extend(to_snippet(SearchField::ProposedChange, p, q, None));
        }
        let replies = all_of(&ctx.loaders()?.replies_of_comment, self.row.id).await?;
        for r in replies
            .into_iter()
            .filter(|r| r.state == ReplyState::Active)
        {
            let body = r.body.clone();
            out.extend(to_snippet(SearchField::Reply, &body, q, Some(Reply(r))));
        }
        Ok(out)
    }
}
