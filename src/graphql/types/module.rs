//! `Module`: a chapter of a kit, its status, review cycles and revisions.

use async_graphql::{Context, Enum, Object, Result, ID};
use chrono::{DateTime, Utc};

use super::{Kit, ReviewCycle, Revision, RevisionDiff};
use crate::domain::ids::NodeKind;
use crate::domain::modules as rules;
use crate::graphql::connection::{self, Conn, PageArgs};
use crate::graphql::context::CtxExt;
use crate::graphql::ids;
use crate::graphql::loaders::all_of;
use crate::service::modules as service;
use crate::service::queries::modules as queries;
use crate::service::queries::notifications;
use crate::service::records::{KitRow, ModuleRow, RevisionRow};

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

/// A chapter of a kit, e.g. "Module 1: e-Government readiness assessment framework".
pub struct Module(pub ModuleRow);

impl Module {
    async fn kit_row(&self, ctx: &Context<'_>) -> Result<KitRow> {
        Ok(ctx
            .loaders()?
            .required(self.0.kit_id, "module without kit")
            .await?)
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
        Ok(notifications::follows(ctx.state()?, ctx.user()?, self.0.id).await?)
    }
    /// Where the module stands: IN_REVIEW while one of its review cycles is open,
    /// CONSOLIDATING once the cycle on its latest revision is consolidated (until the next revision).
    async fn status(&self, ctx: &Context<'_>) -> Result<ModuleStatus> {
        let stored = self.0.status;
        if stored != rules::ModuleStatus::Drafting {
            return Ok(stored.into());
        }
        let now = ctx.state()?.clock.now();
        let cycles = all_of(&ctx.loaders()?.cycles_of_module, self.0.id).await?;
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
            let r: RevisionRow = ctx
                .loaders()?
                .required(c.revision_id, "cycle's revision")
                .await?;
            if r.number == self.0.revision_count {
                return Ok(rules::ModuleStatus::Consolidating.into());
            }
        }
        Ok(stored.into())
    }
    /// The module's review cycles, newest first.
    async fn review_cycles(&self, ctx: &Context<'_>) -> Result<Vec<ReviewCycle>> {
        let rows = all_of(&ctx.loaders()?.cycles_of_module, self.0.id).await?;
        Ok(rows.into_iter().map(ReviewCycle).collect())
    }
    /// The scheduled or open review cycle, if any.
    async fn active_cycle(&self, ctx: &Context<'_>) -> Result<Option<ReviewCycle>> {
        let now = ctx.state()?.clock.now();
        let rows = all_of(&ctx.loaders()?.cycles_of_module, self.0.id).await?;
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
