//! Kits, modules, revisions (sections and blocks) and diffs.

use std::sync::Arc;

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::accounts::User;
use super::connection::{self, Conn, PageArgs};
use super::context::CtxExt;
use super::loaders::required;
use super::node::{decode_id, ids};
use super::questions::Question;
use super::review::{
    comment_list, Comment, CommentFilterInput, CommentOrderBy, ReviewCycle, SectionCommentCount,
};
use crate::domain::diff;
use crate::domain::ids::NodeKind;
use crate::domain::modules as rules;
use crate::service::idempotency::IdempotencyKey;
use crate::service::modules::RevisionInput;
use crate::service::queries::comments as comment_queries;
use crate::service::queries::modules as queries;
use crate::service::records::{BlockRow, KitRow, ModuleRow, RevisionRow, SectionRow};
use crate::service::{modules as service, Actor};

/// Where a module stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "ModuleStatus", remote = "crate::domain::modules::ModuleStatus")]
pub enum ModuleStatus {
    /// Being written; no review cycle is open.
    Drafting,
    /// A review cycle is scheduled or open.
    InReview,
    /// The last cycle is closed and its comments are being consolidated.
    Consolidating,
    /// Approved by the study group.
    Approved,
    /// Abandoned; takes no new revisions.
    Withdrawn,
}

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

/// A toolkit under a question, e.g. "ITU e-Government Toolkit".
pub struct Kit(pub KitRow);

/// A toolkit under a question, e.g. "ITU e-Government Toolkit".
#[Object]
impl Kit {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::id(NodeKind::Kit, self.0.id)
    }
    /// The question the kit belongs to.
    async fn question(&self, ctx: &Context<'_>) -> Result<Question> {
        let q = required(
            &ctx.loaders()?.questions,
            self.0.question_id,
            "kit without question",
        )
        .await?;
        Ok(Question(q))
    }
    /// Title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Description (may be empty).
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The kit's modules, by number.
    async fn modules(&self, ctx: &Context<'_>) -> Result<Vec<Module>> {
        let rows = ctx
            .loaders()?
            .modules_of_kit
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Module).collect())
    }
    /// Whether the viewer may edit the kit and add modules to it.
    async fn viewer_can_edit(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(ctx.user()?.manages_question(self.0.question_id))
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A chapter of a kit, e.g. "Module 1: e-Government readiness assessment framework".
pub struct Module(pub ModuleRow);

impl Module {
    async fn kit_row(&self, ctx: &Context<'_>) -> Result<KitRow> {
        Ok(required(&ctx.loaders()?.kits, self.0.kit_id, "module without kit").await?)
    }
}

/// A chapter of a kit, e.g. "Module 1: e-Government readiness assessment framework".
#[Object]
impl Module {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::id(NodeKind::Module, self.0.id)
    }
    /// The kit.
    async fn kit(&self, ctx: &Context<'_>) -> Result<Kit> {
        Ok(Kit(self.kit_row(ctx).await?))
    }
    /// Number within the kit ("Module 1").
    async fn number(&self) -> i64 {
        self.0.number
    }
    /// Title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Do you follow this module (told of each new revision)?
    async fn viewer_follows(&self, ctx: &Context<'_>) -> Result<bool> {
        super::notifications::follows(ctx, self.0.id).await
    }
    /// Where the module stands: IN_REVIEW while one of its review cycles is open,
    /// CONSOLIDATING once the cycle on its latest revision is consolidated (until the next revision).
    async fn status(&self, ctx: &Context<'_>) -> Result<ModuleStatus> {
        let stored = self.0.status;
        if stored != rules::ModuleStatus::Drafting {
            return Ok(stored.into());
        }
        let now = ctx.state()?.clock.now();
        let cycles = ctx
            .loaders()?
            .cycles_of_module
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        use crate::domain::cycle::CycleStatus;
        if cycles
            .iter()
            .any(|c| c.period().status(now) == CycleStatus::Open)
        {
            return Ok(rules::ModuleStatus::InReview.into());
        }
        // CONSOLIDATING: a cycle on the latest revision is consolidated, and
        // the next revision is not out yet.
        for c in cycles
            .iter()
            .filter(|c| c.period().status(now) == CycleStatus::Consolidated)
        {
            let r = required(&ctx.loaders()?.revisions, c.revision_id, "cycle's revision").await?;
            if r.number == self.0.revision_count {
                return Ok(rules::ModuleStatus::Consolidating.into());
            }
        }
        Ok(stored.into())
    }
    /// The module's review cycles, newest first.
    async fn review_cycles(&self, ctx: &Context<'_>) -> Result<Vec<ReviewCycle>> {
        let rows = ctx
            .loaders()?
            .cycles_of_module
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(ReviewCycle).collect())
    }
    /// The scheduled or open review cycle, if any.
    async fn active_cycle(&self, ctx: &Context<'_>) -> Result<Option<ReviewCycle>> {
        let now = ctx.state()?.clock.now();
        let rows = ctx
            .loaders()?
            .cycles_of_module
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        Ok(rows
            .into_iter()
            .find(|c| c.period().is_active(now))
            .map(ReviewCycle))
    }
    /// How many revisions the module has (the latest one's number).
    async fn revision_count(&self) -> i64 {
        self.0.revision_count
    }
    /// The revisions, newest first.
    #[graphql(complexity = "connection::cost(first, last, child_complexity)")]
    async fn revisions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> Result<Conn<Revision>> {
        ctx.user()?;
        let state = ctx.state()?;
        connection::query(
            ctx,
            PageArgs::new(first, after, last, before),
            |page, _| async move { queries::revisions(state, &self.0, &page).await },
            |r| (r.number, r.number),
            Revision,
        )
        .await
    }
    /// The latest revision; null before the first.
    async fn current_revision(&self, ctx: &Context<'_>) -> Result<Option<Revision>> {
        if self.0.revision_count == 0 {
            return Ok(None);
        }
        Ok(
            queries::revision_by_number(ctx.state()?, self.0.id, self.0.revision_count)
                .await?
                .map(Revision),
        )
    }
    /// One revision by number.
    async fn revision(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Revision number (1, 2, ...).")] number: i64,
    ) -> Result<Option<Revision>> {
        Ok(queries::revision_by_number(ctx.state()?, self.0.id, number)
            .await?
            .map(Revision))
    }
    /// What changed between two revisions (either direction): sections and blocks
    /// aligned, with word-level changes inside changed blocks.
    /// Costs 500: a diff of two large revisions takes seconds to compute the first time.
    #[graphql(complexity = "500 + child_complexity")]
    async fn diff(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The earlier side's revision number.")] from_revision: i64,
        #[graphql(desc = "The later side's revision number.")] to_revision: i64,
    ) -> Result<RevisionDiff> {
        ctx.user()?;
        let d =
            service::diff_revisions(ctx.state()?, self.0.id, from_revision, to_revision).await?;
        Ok(RevisionDiff::new(d))
    }
    /// Whether the viewer may change the module and publish revisions.
    async fn viewer_can_edit(&self, ctx: &Context<'_>) -> Result<bool> {
        let kit = self.kit_row(ctx).await?;
        Ok(ctx.user()?.manages_question(kit.question_id))
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it last changed (a new revision included).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// The sections and blocks of one revision, shared by the views on them.
pub struct Content {
    pub revision_id: i64,
    pub sections: Vec<SectionRow>,
    pub blocks: Vec<BlockRow>,
    /// Block indexes of each section.
    by_section: Vec<Vec<usize>>,
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

/// An immutable, numbered snapshot of a module's text.
pub struct Revision(pub RevisionRow);

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
        let m = required(
            &ctx.loaders()?.modules,
            self.0.module_id,
            "revision without module",
        )
        .await?;
        Ok(Module(m))
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
        let u = required(
            &ctx.loaders()?.users,
            self.0.author_id,
            "revision without author",
        )
        .await?;
        Ok(User::new(u))
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
        let c = Content::load(ctx, self.0.id).await?;
        Ok(c.blocks
            .iter()
            .position(|b| b.anchor_id == anchor_id)
            .map(|index| Block {
                content: c.clone(),
                index,
            }))
    }
    /// The review cycles on this revision, newest first.
    async fn review_cycles(&self, ctx: &Context<'_>) -> Result<Vec<ReviewCycle>> {
        let rows = ctx
            .loaders()?
            .cycles_of_module
            .load_one(self.0.module_id)
            .await?
            .unwrap_or_default();
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
        let cycles: Vec<_> = ctx
            .loaders()?
            .cycles_of_module
            .load_one(self.0.module_id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .filter(|c| c.revision_id == self.0.id)
            .collect();
        comment_list(
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
        #[graphql(desc = "Only comments that match.")] filter: Option<
            super::consolidation::CarriedCommentFilter,
        >,
        #[graphql(desc = "Page size from the start (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> Result<Conn<super::consolidation::CarriedComment>> {
        let args = PageArgs::new(first, after, last, before);
        super::consolidation::carried_comments(ctx, &self.0, filter, args).await
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
        let cycles: Vec<_> = ctx
            .loaders()?
            .cycles_of_module
            .load_one(self.0.module_id)
            .await?
            .unwrap_or_default()
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
        let c = Content::load(ctx, self.0.id).await?;
        Ok(c.sections
            .iter()
            .position(|s| s.anchor_id == anchor_id)
            .map(|index| Section {
                content: c.clone(),
                index,
            }))
    }
}

/// A heading and what follows it up to the next heading.
pub struct Section {
    content: Arc<Content>,
    index: usize,
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

/// A paragraph, list item, table row, block quote or code block: what comments anchor to.
pub struct Block {
    content: Arc<Content>,
    index: usize,
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
        let b = &self.content.blocks[self.index];
        let md = ctx
            .loaders()?
            .markdown_of_revision
            .load_one(self.content.revision_id)
            .await?
            .unwrap_or_default();
        let (start, end) = (
            usize::try_from(b.source_start)?,
            usize::try_from(b.source_end)?,
        );
        Ok(md.get(start..end).unwrap_or_default().trim_end().to_owned())
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

/// A run of words in a changed block; the EQUAL and DELETE runs rebuild the earlier text,
/// the EQUAL and INSERT runs the later one.
#[derive(SimpleObject)]
pub struct TextChange {
    /// Which text the run belongs to.
    pub op: TextChangeOp,
    /// The words, with their spacing and punctuation.
    pub text: String,
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
    fn new(d: service::RevisionDiff) -> Self {
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

/// The comments among `ids` that the viewer may see.
async fn visible_comments(ctx: &Context<'_>, ids: Vec<i64>) -> Result<Vec<Comment>> {
    let rows = ctx
        .loaders()?
        .comments
        .load_many(ids.iter().copied())
        .await?;
    let mut out = Vec::new();
    for id in ids {
        if let Some(row) = rows.get(&id) {
            if let Some(c) = super::review::visible_comment(ctx, row.clone()).await? {
                out.push(c);
            }
        }
    }
    Ok(out)
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
        visible_comments(ctx, self.addressed.iter().map(|a| a.comment_id).collect()).await
    }
}

/// One section's fate.
pub struct SectionDiff {
    from: Arc<Content>,
    to: Arc<Content>,
    change: diff::SectionChange,
    addressed: Arc<Vec<service::Addressed>>,
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

/// One block's fate.
pub struct BlockDiff {
    from: Arc<Content>,
    to: Arc<Content>,
    change: diff::BlockChange,
    addressed: Arc<Vec<service::Addressed>>,
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
        visible_comments(ctx, ids).await
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

/// A new kit.
#[derive(InputObject)]
pub struct CreateKitInput {
    /// The question it belongs to.
    pub question_id: ID,
    /// Title, unique within the question.
    pub title: String,
    /// Description.
    pub description: Option<String>,
}

/// The kit created.
#[derive(SimpleObject)]
pub struct CreateKitPayload {
    /// The new kit.
    pub kit: Kit,
}

/// Changes to a kit: omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateKitInput {
    /// The kit.
    pub kit_id: ID,
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub description: Option<String>,
}

/// The kit changed.
#[derive(SimpleObject)]
pub struct UpdateKitPayload {
    /// The kit as it is now.
    pub kit: Kit,
}

/// A new module.
#[derive(InputObject)]
pub struct CreateModuleInput {
    /// The kit it belongs to.
    pub kit_id: ID,
    /// Number within the kit, 1-999, unique.
    pub number: i64,
    /// Title.
    pub title: String,
}

/// The module created.
#[derive(SimpleObject)]
pub struct CreateModulePayload {
    /// The new module (DRAFTING, no revision yet).
    pub module: Module,
}

/// Changes to a module: omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateModuleInput {
    /// The module.
    pub module_id: ID,
    /// New number.
    pub number: Option<i64>,
    /// New title.
    pub title: Option<String>,
    /// New status: DRAFTING, APPROVED or WITHDRAWN (the others follow review cycles).
    pub status: Option<ModuleStatus>,
}

/// The module changed.
#[derive(SimpleObject)]
pub struct UpdateModulePayload {
    /// The module as it is now.
    pub module: Module,
}

/// A new revision of a module.
#[derive(InputObject)]
pub struct CreateRevisionInput {
    /// The module.
    pub module_id: ID,
    /// The latest revision, which this one revises; null for revision 1.
    /// If another revision was published meanwhile the request fails with CONFLICT.
    pub base_revision_id: Option<ID>,
    /// The full text, as Markdown (at most 2 MiB by default).
    pub markdown: String,
    /// Summary of changes.
    pub summary: String,
    /// Submitted comments on earlier revisions of this module that this
    /// revision addresses (shown in the diff and on their dispositions).
    pub addressed_comment_ids: Option<Vec<ID>>,
    /// A key of your choosing (a UUID, say) that makes a retry safe: sent again
    /// with the same key and input within 24 hours, the mutation returns what
    /// it created the first time instead of creating it again; with other
    /// input it fails with CONFLICT.
    pub idempotency_key: Option<String>,
}

/// The revision created.
#[derive(SimpleObject)]
pub struct CreateRevisionPayload {
    /// The new revision.
    pub revision: Revision,
}

#[derive(Default)]
pub struct ModulesMutation;

#[Object]
impl ModulesMutation {
    /// Create a kit under a question. Rapporteurs of the question and the secretariat.
    async fn create_kit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CreateKitInput,
    ) -> Result<CreateKitPayload> {
        let viewer = ctx.user()?;
        let q = decode_id("questionId", &input.question_id, NodeKind::Question)?;
        let row = service::create_kit(
            ctx.state()?,
            Actor::User(viewer),
            q,
            &input.title,
            input.description.as_deref().unwrap_or(""),
        )
        .await?;
        Ok(CreateKitPayload { kit: Kit(row) })
    }

    /// Change a kit. Rapporteurs of the question and the secretariat.
    async fn update_kit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: UpdateKitInput,
    ) -> Result<UpdateKitPayload> {
        let viewer = ctx.user()?;
        let id = decode_id("kitId", &input.kit_id, NodeKind::Kit)?;
        let row = service::update_kit(
            ctx.state()?,
            Actor::User(viewer),
            id,
            input.title.as_deref(),
            input.description.as_deref(),
        )
        .await?;
        Ok(UpdateKitPayload { kit: Kit(row) })
    }

    /// Create a module in a kit. Rapporteurs of the question and the secretariat.
    async fn create_module(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CreateModuleInput,
    ) -> Result<CreateModulePayload> {
        let viewer = ctx.user()?;
        let kit = decode_id("kitId", &input.kit_id, NodeKind::Kit)?;
        let row = service::create_module(
            ctx.state()?,
            Actor::User(viewer),
            kit,
            input.number,
            &input.title,
        )
        .await?;
        Ok(CreateModulePayload {
            module: Module(row),
        })
    }

    /// Change a module. Rapporteurs of the question and the secretariat.
    async fn update_module(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: UpdateModuleInput,
    ) -> Result<UpdateModulePayload> {
        let viewer = ctx.user()?;
        let id = decode_id("moduleId", &input.module_id, NodeKind::Module)?;
        let patch = service::ModulePatch {
            number: input.number,
            title: input.title,
            status: input.status.map(Into::into),
        };
        let row = service::update_module(ctx.state()?, Actor::User(viewer), id, patch).await?;
        Ok(UpdateModulePayload {
            module: Module(row),
        })
    }

    /// Publish the next revision of a module. Rapporteurs of the question and the secretariat.
    async fn create_revision(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CreateRevisionInput,
    ) -> Result<CreateRevisionPayload> {
        let viewer = ctx.user()?;
        let module = decode_id("moduleId", &input.module_id, NodeKind::Module)?;
        let base = input
            .base_revision_id
            .map(|id| decode_id("baseRevisionId", &id, NodeKind::Revision))
            .transpose()?;
        let addressed = super::node::decode_ids(
            "addressedCommentIds",
            input.addressed_comment_ids.as_deref().unwrap_or_default(),
            NodeKind::Comment,
        )?;
        let key = IdempotencyKey::optional("idempotencyKey", input.idempotency_key.as_deref())?;
        let row = service::create_revision(
            ctx.state()?,
            Actor::User(viewer),
            RevisionInput {
                module_id: module,
                base_revision_id: base,
                markdown: input.markdown,
                summary: &input.summary,
                addressed_comment_ids: &addressed,
                idempotency_key: key.as_ref(),
            },
        )
        .await?;
        Ok(CreateRevisionPayload {
            revision: Revision(row),
        })
    }
}
