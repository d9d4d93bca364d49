//! Kits, modules, revisions and diffs: who may change them, and how a revision is made.

use std::sync::Arc;

use super::audit::{self, Change};
use super::idempotency::{self, Claim, IdempotencyKey, Use};
use super::{field, Actor};
use crate::db::modules::{
    self as store, BlockRow, KitRow, ModuleChanges, ModuleRow, NewRevision, RevisionRow, SectionRow,
};
use crate::db::notifications;
use crate::db::{accounts, Conn};
use crate::domain::comments::CommentState;
use crate::domain::diff::{self, DiffBlock, DiffInput, DiffSection};
use crate::domain::document::{self, BlockKind, DocumentLimits, PreviousAnchors};
use crate::domain::events::Event;
use crate::domain::ids::NodeKind;
use crate::domain::modules::{self as rules, ModuleStatus};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

fn require_manager(actor: Actor<'_>, question_id: i64) -> AppResult<()> {
    if actor.manages_question(question_id) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only the rapporteurs of this question and the secretariat may do this",
        ))
    }
}

async fn kit_of(c: &mut Conn<'_>, kit_id: i64) -> AppResult<KitRow> {
    store::kit_by_id(c, kit_id)
        .await?
        .ok_or_else(|| AppError::not_found("kit"))
}

async fn module_and_kit(c: &mut Conn<'_>, module_id: i64) -> AppResult<(ModuleRow, KitRow)> {
    let module = store::module_by_id(c, module_id)
        .await?
        .ok_or_else(|| AppError::not_found("module"))?;
    let kit = kit_of(c, module.kit_id).await?;
    Ok((module, kit))
}

fn conflict_msg<T>(r: AppResult<T>, msg: impl FnOnce() -> String) -> AppResult<T> {
    r.map_err(|e| match e {
        AppError::Conflict(_) => AppError::Conflict(msg()),
        other => other,
    })
}

#[tracing::instrument(skip_all, fields(question_id))]
pub async fn create_kit(
    state: &AppState,
    actor: Actor<'_>,
    question_id: i64,
    title: &str,
    description: &str,
) -> AppResult<KitRow> {
    let title = field("title", rules::title(title))?;
    let description = field("description", rules::description(description))?;
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    accounts::question_by_id(&mut c, question_id)
        .await?
        .ok_or_else(|| AppError::not_found("question"))?;
    require_manager(actor, question_id)?;
    let row = store::insert_kit(&mut c, question_id, &title, &description, state.clock.now()).await;
    let row = conflict_msg(row, || {
        format!("this question already has a kit titled '{title}'")
    })?;
    let summary = format!("kit \"{}\" created", row.title);
    let change =
        Change::new("kit.created", NodeKind::Kit, row.id, summary).in_question(question_id);
    audit::record(&mut c, actor, change, state.clock.now()).await?;
    tx.commit().await?;
    Ok(row)
}

#[tracing::instrument(skip_all, fields(kit_id))]
pub async fn update_kit(
    state: &AppState,
    actor: Actor<'_>,
    kit_id: i64,
    title: Option<&str>,
    description: Option<&str>,
) -> AppResult<KitRow> {
    let title = title.map(|t| field("title", rules::title(t))).transpose()?;
    let description = description
        .map(|d| field("description", rules::description(d)))
        .transpose()?;
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    let kit = kit_of(&mut c, kit_id).await?;
    require_manager(actor, kit.question_id)?;
    let row = store::update_kit(&mut c, kit_id, title, description, state.clock.now()).await;
    let row = conflict_msg(row, || {
        "this question already has a kit with that title".into()
    })?
    .ok_or_else(|| AppError::not_found("kit"))?;
    let summary = format!("kit \"{}\" updated", row.title);
    let change =
        Change::new("kit.updated", NodeKind::Kit, row.id, summary).in_question(kit.question_id);
    audit::record(&mut c, actor, change, state.clock.now()).await?;
    tx.commit().await?;
    Ok(row)
}

#[tracing::instrument(skip_all, fields(kit_id))]
pub async fn create_module(
    state: &AppState,
    actor: Actor<'_>,
    kit_id: i64,
    number: i64,
    title: &str,
) -> AppResult<ModuleRow> {
    let number = field("number", rules::module_number(number))?;
    let title = field("title", rules::title(title))?;
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    let kit = kit_of(&mut c, kit_id).await?;
    require_manager(actor, kit.question_id)?;
    let row = store::insert_module(
        &mut c,
        kit_id,
        number,
        &title,
        ModuleStatus::Drafting.as_str(),
        state.clock.now(),
    )
    .await;
    let row = conflict_msg(row, || format!("this kit already has a module {number}"))?;
    let summary = format!("module {} \"{}\" created", row.number, row.title);
    let change = Change::new("module.created", NodeKind::Module, row.id, summary)
        .in_question(kit.question_id);
    audit::record(&mut c, actor, change, state.clock.now()).await?;
    tx.commit().await?;
    Ok(row)
}

/// Changes to a module; `None` leaves a field alone.
#[derive(Default)]
pub struct ModulePatch {
    pub number: Option<i64>,
    pub title: Option<String>,
    pub status: Option<ModuleStatus>,
}

#[tracing::instrument(skip_all, fields(module_id))]
pub async fn update_module(
    state: &AppState,
    actor: Actor<'_>,
    module_id: i64,
    patch: ModulePatch,
) -> AppResult<ModuleRow> {
    let mut ch = ModuleChanges::default();
    if let Some(n) = patch.number {
        ch.number = Some(field("number", rules::module_number(n))?);
    }
    if let Some(t) = &patch.title {
        ch.title = Some(field("title", rules::title(t))?);
    }
    if let Some(s) = patch.status {
        if !s.settable() {
            return Err(AppError::validation(
                "status",
                "IN_REVIEW and CONSOLIDATING follow the module's review cycles; set DRAFTING, APPROVED or WITHDRAWN",
            ));
        }
        ch.status = Some(s.as_str().to_owned());
    }
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    let (_, kit) = module_and_kit(&mut c, module_id).await?;
    require_manager(actor, kit.question_id)?;
    let number = ch.number;
    let row = store::update_module(&mut c, module_id, ch, state.clock.now()).await;
    let row = conflict_msg(row, || {
        format!(
            "this kit already has a module {}",
            number.unwrap_or_default()
        )
    })?
    .ok_or_else(|| AppError::not_found("module"))?;
    let summary = format!(
        "module {} \"{}\" updated (status {})",
        row.number, row.title, row.status
    );
    let change = Change::new("module.updated", NodeKind::Module, row.id, summary)
        .in_question(kit.question_id);
    audit::record(&mut c, actor, change, state.clock.now()).await?;
    tx.commit().await?;
    Ok(row)
}

/// Make revision N+1 of a module: an immutable snapshot of `markdown`.
/// `base_revision_id` must name the latest revision (none for the first), so
/// two rapporteurs uploading at once never overwrite each other (CONFLICT).
// Each argument is one of the mutation's inputs (or the caller); a struct
// would only rename them.
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(skip_all, fields(module_id, bytes = markdown.len()))]
pub async fn create_revision(
    state: &AppState,
    actor: Actor<'_>,
    module_id: i64,
    base_revision_id: Option<i64>,
    markdown: String,
    summary: &str,
    addressed_comment_ids: &[i64],
    key: Option<&IdempotencyKey>,
) -> AppResult<RevisionRow> {
    let Some(author_id) = actor.user_id() else {
        return Err(AppError::forbidden("a revision needs an author"));
    };
    let summary = field("summary", rules::summary(summary))?;
    let limits = DocumentLimits {
        max_bytes: state.limits.max_markdown_bytes,
    };
    // Parsing a large draft takes milliseconds of CPU: keep it off the async workers.
    let (markdown, parsed) = tokio::task::spawn_blocking(move || {
        let parsed = document::parse(&markdown, limits);
        (markdown, parsed)
    })
    .await
    .map_err(AppError::internal)?;
    let doc = field("markdown", parsed)?;
    let hash = document::content_hash(&markdown);
    let key = Use::new(
        key,
        "createRevision",
        &(
            module_id,
            base_revision_id,
            &hash,
            &summary,
            addressed_comment_ids,
        ),
    );

    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    if let Claim::Replay(ids) = idempotency::claim(&mut c, author_id, key.as_ref(), now).await? {
        let row = store::revision_by_id(&mut c, idempotency::single(&ids)?)
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("a replayed revision is gone")))?;
        tx.commit().await?;
        return Ok(row);
    }
    let (module, kit) = module_and_kit(&mut c, module_id).await?;
    require_manager(actor, kit.question_id)?;
    if module.status == ModuleStatus::Withdrawn.as_str() {
        return Err(AppError::Conflict(
            "the module is WITHDRAWN: it takes no new revisions".into(),
        ));
    }
    let latest = match module.revision_count {
        0 => None,
        n => store::revision_by_number(&mut c, module_id, n).await?,
    };
    match (&latest, base_revision_id) {
        (None, None) => {}
        (None, Some(_)) => {
            return Err(AppError::Conflict(
                "the module has no revision yet: leave baseRevisionId empty for revision 1".into(),
            ))
        }
        (Some(l), None) => {
            return Err(AppError::Conflict(format!(
            "the module already has revisions: base the new one on revision {} (baseRevisionId)",
            l.number
        )))
        }
        (Some(l), Some(base)) if l.id != base => {
            return Err(AppError::Conflict(format!(
                "baseRevisionId is not the latest revision: revision {} was published since; \
                 merge its changes and try again",
                l.number
            )))
        }
        (Some(_), Some(_)) => {}
    }
    let previous = match &latest {
        Some(l) => previous_anchors(&mut c, l.id).await?,
        None => PreviousAnchors::default(),
    };
    let number = module.revision_count + 1;
    let anchors = document::assign_anchors(&doc, &previous, number);
    if !store::claim_revision_number(&mut c, module_id, module.revision_count, now).await? {
        return Err(AppError::Conflict(
            "another revision was published at the same time; reload and try again".into(),
        ));
    }
    let row = store::insert_revision(
        &mut c,
        NewRevision {
            module_id,
            number,
            base_revision_id,
            author_id,
            summary: &summary,
            markdown: &markdown,
            content_hash: &hash,
            document: &doc,
            anchors: &anchors,
        },
        now,
    )
    .await?;
    super::carry::into_new_revision(&mut c, &row).await?;
    address(&mut c, &row, addressed_comment_ids).await?;
    let told =
        notifications::revision_published(&mut c, module_id, row.id, actor.user_id(), now).await?;
    let summary = format!(
        "revision {} of module {} published ({} comments addressed, {told} users notified)",
        row.number,
        module.number,
        addressed_comment_ids.len()
    );
    let change = Change::new("revision.published", NodeKind::Revision, row.id, summary)
        .in_question(kit.question_id);
    audit::record(&mut c, actor, change, now).await?;
    idempotency::settle(&mut c, author_id, key.as_ref(), &[row.id]).await?;
    tx.emit(Event::revision(module_id, row.id, now));
    tx.commit().await?;
    Ok(row)
}

/// Record the comments a new revision addresses: submitted comments made on
/// the module's earlier revisions.
async fn address(c: &mut Conn<'_>, revision: &RevisionRow, ids: &[i64]) -> AppResult<()> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(());
    }
    let earlier: Vec<i64> = store::revisions_between(c, revision.module_id, 1, revision.number - 1)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    let found = crate::db::comments::by_ids(c, &ids).await?;
    for id in &ids {
        let ok = found.iter().find(|f| f.id == *id).is_some_and(|f| {
            earlier.contains(&f.revision_id) && f.state == CommentState::Submitted.as_str()
        });
        if !ok {
            return Err(AppError::validation(
                "addressedCommentIds",
                format!(
                    "{} is not a submitted comment on an earlier revision of this module",
                    crate::domain::ids::GlobalId::new(crate::domain::ids::NodeKind::Comment, *id)
                ),
            ));
        }
    }
    crate::db::consolidation::insert_addressed(c, revision.id, &ids).await
}

async fn previous_anchors(c: &mut Conn<'_>, revision_id: i64) -> AppResult<PreviousAnchors> {
    let sections = store::sections_of(c, &[revision_id]).await?;
    let blocks = store::blocks_of(c, &[revision_id]).await?;
    Ok(PreviousAnchors {
        sections: sections
            .into_iter()
            .map(|s| (s.anchor_id, s.clause, s.title))
            .collect(),
        blocks: blocks
            .into_iter()
            .filter_map(|b| BlockKind::parse(&b.kind).map(|k| (b.anchor_id, k, b.text)))
            .collect(),
    })
}

/// A revision's sections and blocks, in document order.
#[derive(Clone)]
pub struct Structure {
    pub revision: RevisionRow,
    pub sections: Vec<SectionRow>,
    pub blocks: Vec<BlockRow>,
}

impl Structure {
    pub(crate) fn diff_input(&self) -> DiffInput<'_> {
        DiffInput {
            sections: self
                .sections
                .iter()
                .map(|s| DiffSection {
                    anchor: &s.anchor_id,
                    clause: &s.clause,
                    title: &s.title,
                })
                .collect(),
            blocks: self
                .blocks
                .iter()
                .map(|b| DiffBlock {
                    anchor: &b.anchor_id,
                    section: usize::try_from(b.section_position).unwrap_or_default(),
                    kind: BlockKind::parse(&b.kind).unwrap_or(BlockKind::Paragraph),
                    text: &b.text,
                })
                .collect(),
        }
    }
}

async fn structure(
    c: &mut Conn<'_>,
    module_id: i64,
    number: i64,
    arg: &str,
) -> AppResult<Structure> {
    let revision = store::revision_by_number(c, module_id, number)
        .await?
        .ok_or_else(|| AppError::validation(arg, format!("the module has no revision {number}")))?;
    let sections = store::sections_of(c, &[revision.id]).await?;
    let blocks = store::blocks_of(c, &[revision.id]).await?;
    Ok(Structure {
        revision,
        sections,
        blocks,
    })
}

/// The two revisions compared, and the comparison.
pub struct RevisionDiff {
    pub from: Structure,
    pub to: Structure,
    pub diff: Arc<diff::Diff>,
    /// The comments addressed by the revisions after the earlier side up to
    /// the later one, with their block on each side (when anchored to a block).
    pub addressed: Vec<Addressed>,
}

/// A comment that a revision between the two sides addresses.
#[derive(Debug, Clone)]
pub struct Addressed {
    pub comment_id: i64,
    pub from_block: Option<String>,
    pub to_block: Option<String>,
}

/// The comments addressed between two revisions, and their blocks on each side.
async fn addressed_between(
    c: &mut Conn<'_>,
    module_id: i64,
    from: &RevisionRow,
    to: &RevisionRow,
) -> AppResult<Vec<Addressed>> {
    let (lo, hi) = (from.number.min(to.number), from.number.max(to.number));
    if lo == hi {
        return Ok(Vec::new());
    }
    let between: Vec<i64> = store::revisions_between(c, module_id, lo + 1, hi)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    let ids = crate::db::consolidation::addressed_by(c, &between).await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let comments = crate::db::comments::by_ids(c, &ids).await?;
    let from_carried = crate::db::consolidation::carried_of(c, from.id, &ids).await?;
    let to_carried = crate::db::consolidation::carried_of(c, to.id, &ids).await?;
    // A comment's block in a revision: its own anchor there, else its projection.
    let block_in = |k: &crate::db::comments::CommentRow,
                    rev: i64,
                    carried: &[crate::db::consolidation::CarriedRow]| {
        if k.revision_id == rev {
            k.block_anchor.clone()
        } else {
            carried
                .iter()
                .find(|r| r.comment_id == k.id)
                .and_then(|r| r.block_anchor.clone())
        }
    };
    Ok(comments
        .iter()
        .map(|k| Addressed {
            comment_id: k.id,
            from_block: block_in(k, from.id, &from_carried),
            to_block: block_in(k, to.id, &to_carried),
        })
        .collect())
}

/// Diffs already computed, by (earlier, later) revision id: revisions never
/// change, so a diff never goes stale. Bounded by the bytes of its texts;
/// concurrent requests for the same pair wait for one computation.
pub struct DiffCache(quick_cache::sync::Cache<(i64, i64), Arc<diff::Diff>, DiffWeight>);

#[derive(Clone)]
pub struct DiffWeight;

impl quick_cache::Weighter<(i64, i64), Arc<diff::Diff>> for DiffWeight {
    fn weight(&self, _key: &(i64, i64), d: &Arc<diff::Diff>) -> u64 {
        let bytes: usize = d
            .sections
            .iter()
            .flat_map(|s| &s.blocks)
            .map(|b| 64 + b.changes.iter().map(|c| c.text.len() + 16).sum::<usize>())
            .sum();
        (bytes + 64) as u64
    }
}

impl DiffCache {
    pub fn new(max_bytes: u64) -> Self {
        Self(quick_cache::sync::Cache::with_weighter(
            1_000, max_bytes, DiffWeight,
        ))
    }

    async fn diff(&self, from: &Structure, to: &Structure) -> AppResult<Arc<diff::Diff>> {
        let key = (from.revision.id, to.revision.id);
        if let Some(d) = self.0.get(&key) {
            return Ok(d);
        }
        let (f, t) = (from.clone(), to.clone());
        self.0
            .get_or_insert_async(&key, async move {
                // CPU-bound (seconds for two 2 MiB revisions): off the runtime's
                // workers, so timeouts and other requests keep running.
                tokio::task::spawn_blocking(move || {
                    Arc::new(diff::diff(&f.diff_input(), &t.diff_input()))
                })
                .await
                .map_err(AppError::internal)
            })
            .await
    }
}

/// Compare two revisions of a module, in either direction. Any signed-in user may.
#[tracing::instrument(skip_all, fields(module_id, from, to))]
pub async fn diff_revisions(
    state: &AppState,
    module_id: i64,
    from: i64,
    to: i64,
) -> AppResult<RevisionDiff> {
    let (from, to, addressed) = {
        let mut pooled = state.db.read().await?;
        let mut c = pooled.conn();
        store::module_by_id(&mut c, module_id)
            .await?
            .ok_or_else(|| AppError::not_found("module"))?;
        let from = structure(&mut c, module_id, from, "fromRevision").await?;
        let to = structure(&mut c, module_id, to, "toRevision").await?;
        let addressed = addressed_between(&mut c, module_id, &from.revision, &to.revision).await?;
        (from, to, addressed)
    };
    let diff = state.diffs.diff(&from, &to).await?;
    Ok(RevisionDiff {
        from,
        to,
        diff,
        addressed,
    })
}
