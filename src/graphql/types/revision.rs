//! `Revision`: an immutable, numbered snapshot of a module's text, its
//! sections and blocks, and the comments on it or carried into it.

use async_graphql::{Context, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::required;
use super::{
    Block, CarriedComment, CarriedCommentFilter, Comment, CommentFilterInput, CommentOrderBy,
    Content, Module, ReviewCycle, Section, User,
};
use crate::domain::ids::NodeKind;
use crate::graphql::connection::{self, Conn, PageArgs};
use crate::graphql::context::CtxExt;
use crate::graphql::ids::{self, decode_id};
use crate::graphql::loaders::all_of;
use crate::service::queries::comments as comment_queries;
use crate::service::queries::consolidation;
use crate::service::records::{CarriedFilter, RevisionRow};

/// An immutable, numbered snapshot of a module's text.
pub struct Revision(pub RevisionRow);

impl Revision {
    /// The revisions that addressed a comment, oldest first.
    pub(in crate::graphql) async fn addressing(
        ctx: &Context<'_>,
        comment_id: i64,
    ) -> Result<Vec<Revision>> {
        let loaders = ctx.loaders()?;
        let ids = all_of(&loaders.addressed_in, comment_id).await?;
        let revs = loaders.revisions.load_many(ids.iter().copied()).await?;
        Ok(ids
            .iter()
            .filter_map(|i| revs.get(i).cloned())
            .map(Revision)
            .collect())
    }
}

/// An immutable, numbered snapshot of a module's text.
#[Object]
impl Revision {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::id(NodeKind::Revision, self.0.id)
    }
    /// Number within the module: 1, 2, 3, ...
    async fn number(&self) -> i64 {
        self.0.number
    }
    /// The module.
    async fn module(&self, ctx: &Context<'_>) -> Result<Module> {
        required(ctx, self.0.module_id, "revision without module").await
    }
    /// The revision this one was based on (null for revision 1).
    async fn base_revision(&self, ctx: &Context<'_>) -> Result<Option<Revision>> {
        let Some(base) = self.0.base_revision_id else {
            return Ok(None);
        };
        Ok(ctx.loaders()?.revisions.load_one(base).await?.map(Revision))
    }
    /// Who published it.
    async fn author(&self, ctx: &Context<'_>) -> Result<User> {
        required(ctx, self.0.author_id, "revision without author").await
    }
    /// Summary of changes.
    async fn summary(&self) -> &str {
        &self.0.summary
    }
    /// SHA-256 of the Markdown source, hex.
    async fn content_hash(&self) -> &str {
        &self.0.content_hash
    }
    /// Words in headings and blocks.
    async fn word_count(&self) -> i64 {
        self.0.word_count
    }
    /// When it was published.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The Markdown source, byte for byte as uploaded. Costs 256 (up to 2 MiB of text).
    #[graphql(complexity = 256)]
    async fn markdown(&self, ctx: &Context<'_>) -> Result<String> {
        let md = ctx
            .loaders()?
            .markdown_of_revision
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        Ok(md.as_str().to_owned())
    }
    /// The plain text: headings and blocks in document order, one per paragraph. Costs 256.
    #[graphql(complexity = 256)]
    async fn text(&self, ctx: &Context<'_>) -> Result<String> {
        let c = Content::load(ctx, self.0.id).await?;
        let mut out = String::new();
        for (si, s) in c.sections.iter().enumerate() {
            let heading = [s.clause.as_str(), s.title.as_str()].join(" ");
            if !heading.trim().is_empty() {
                out.push_str(heading.trim());
                out.push_str("\n\n");
            }
            for &bi in c.by_section.get(si).into_iter().flatten() {
                out.push_str(&c.blocks[bi].text);
                out.push_str("\n\n");
            }
        }
        Ok(out.trim_end().to_owned())
    }
    /// The sections in document order, each with its blocks.
    #[graphql(complexity = "10 + 20 * child_complexity")]
    async fn sections(&self, ctx: &Context<'_>) -> Result<Vec<Section>> {
        let c = Content::load(ctx, self.0.id).await?;
        Ok((0..c.sections.len())
            .map(|i| Section {
                content: c.clone(),
                index: i,
            })
            .collect())
    }
    /// How many blocks the revision has.
    async fn block_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(Content::load(ctx, self.0.id).await?.blocks.len() as i64)
    }
    /// One block by its anchor id.
    async fn block(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The block's anchor id, e.g. `blk-1-12`.")] anchor_id: String,
    ) -> Result<Option<Block>> {
        Ok(Block::by_anchor(
            &Content::load(ctx, self.0.id).await?,
            &anchor_id,
        ))
    }
    /// The review cycles on this revision, newest first.
    async fn review_cycles(&self, ctx: &Context<'_>) -> Result<Vec<ReviewCycle>> {
        let rows = all_of(&ctx.loaders()?.cycles_of_module, self.0.module_id).await?;
        Ok(rows
            .into_iter()
            .filter(|c| c.revision_id == self.0.id)
            .map(ReviewCycle)
            .collect())
    }
    /// The comments made on this revision (all its cycles) that the viewer may see.
    #[graphql(complexity = "connection::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn comments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only comments that match.")] filter: Option<CommentFilterInput>,
        #[graphql(desc = "Order (default: document order).")] order_by: Option<CommentOrderBy>,
        #[graphql(desc = "Page size from the start (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> Result<Conn<Comment>> {
        let cycles: Vec<_> = all_of(&ctx.loaders()?.cycles_of_module, self.0.module_id)
            .await?
            .into_iter()
            .filter(|c| c.revision_id == self.0.id)
            .collect();
        Comment::list(
            ctx,
            &cycles,
            Some(self.0.id),
            filter,
            order_by,
            PageArgs::new(first, after, last, before),
        )
        .await
    }
    /// The comments made on the module's earlier revisions that the viewer may
    /// see, carried forward: each with where its anchor was re-found in this
    /// revision (computed when this revision was made), in this revision's
    /// document order (comments that fell back to the document first).
    #[graphql(complexity = "connection::cost(first, last, child_complexity)")]
    async fn carried_comments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only comments that match.")] filter: Option<CarriedCommentFilter>,
        #[graphql(desc = "Page size from the start (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> Result<Conn<CarriedComment>> {
        let (user, state) = (ctx.user()?, ctx.state()?);
        let filter = CarriedFilter::from(filter.unwrap_or_default());
        let revision = &self.0;
        connection::query(
            ctx,
            PageArgs::new(first, after, last, before),
            |page, total| async move {
                // The module's cycles: comments of all its revisions may be carried here.
                let cycles = all_of(&ctx.loaders()?.cycles_of_module, revision.module_id).await?;
                let (id, f) = (revision.id, &filter);
                let found = consolidation::carried(state, user, id, &cycles, f, &page, total);
                Ok::<_, async_graphql::Error>(found.await?)
            },
            |r| (r.doc_order, r.comment_id),
            CarriedComment,
        )
        .await
    }
    /// Submitted comments per section that the viewer may see (what a front end badges
    /// each section with); comments on the whole document have a null section.
    async fn comment_counts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this review cycle's comments.")] cycle_id: Option<ID>,
    ) -> Result<Vec<SectionCommentCount>> {
        let user = ctx.user()?;
        let only = cycle_id
            .map(|id| decode_id("cycleId", &id, NodeKind::ReviewCycle))
            .transpose()?;
        let cycles: Vec<_> = all_of(&ctx.loaders()?.cycles_of_module, self.0.module_id)
            .await?
            .into_iter()
            .filter(|c| c.revision_id == self.0.id && only.is_none_or(|o| o == c.id))
            .collect();
        let counts =
            comment_queries::counts_by_section(ctx.state()?, user, &cycles, self.0.id).await?;
        Ok(counts
            .into_iter()
            .map(|(section_anchor_id, count)| SectionCommentCount {
                section_anchor_id,
                count,
            })
            .collect())
    }
    /// One section by its anchor id.
    async fn section(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The section's anchor id, e.g. `sec-1-3`.")] anchor_id: String,
    ) -> Result<Option<Section>> {
        Ok(Section::by_anchor(
            &Content::load(ctx, self.0.id).await?,
            &anchor_id,
        ))
    }
}

/// Comment counts of one section (what a front end badges).
#[derive(SimpleObject)]
pub struct SectionCommentCount {
    /// The section's anchor id; null for comments on the whole document.
    pub section_anchor_id: Option<String>,
    /// Submitted (not withdrawn) comments the viewer may see.
    pub count: i64,
}
