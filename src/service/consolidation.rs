//! Consolidation: dispositions (kept with their history), a cycle's progress,
//! and marking the cycle consolidated.
//!
//! Dispositions may be recorded from the first submission, while the cycle
//! still runs (rapporteurs often start early); until the cycle closes they are
//! provisional and seen only by the rapporteurs of the question and the
//! secretariat, whatever the cycle's visibility.

use std::collections::HashMap;

use super::audit::{self, Change};
use super::comments::visible_in;
use super::cycles::managed;
use super::Actor;
use crate::auth::AuthUser;
use crate::db::accounts as accounts_store;
use crate::db::comments::{self as comments_store, CommentRow, Visible};
use crate::db::consolidation::{self as store, DispositionRow, ProgressGroup};
use crate::db::cycles::{self as cycles_store, CycleRow};
use crate::db::modules as modules_store;
use crate::db::Conn;
use crate::domain::audit::AuditAction;
use crate::domain::comments::{CommentState, CommentType};
use crate::domain::cycle::CycleStatus;
use crate::domain::disposition::{self as rules, DispositionKind};
use crate::domain::events::{Event, EventKind};
use crate::domain::ids::NodeKind;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The most dispositions one `setDispositions` call may set.
pub const MAX_BATCH: usize = 500;

/// One decision, as asked.
#[derive(Debug, Clone)]
pub struct DispositionInput {
    pub comment_id: i64,
    pub kind: DispositionKind,
    pub rationale: Option<String>,
    pub duplicate_of_id: Option<i64>,
    pub addressed_in_revision_id: Option<i64>,
    /// The `dispositionVersion` the decision was made on; `None` replaces
    /// whatever is stored.
    pub expected_version: Option<i64>,
}

/// Set dispositions, all or nothing. `batch` names inputs in errors as
/// `dispositions[3].field` (else `field`).
#[tracing::instrument(skip_all, fields(count = inputs.len()))]
pub async fn set_dispositions(
    state: &AppState,
    user: &AuthUser,
    inputs: &[DispositionInput],
    batch: bool,
) -> AppResult<Vec<CommentRow>> {
    let field = |i: usize, f: &str| {
        if batch {
            format!("dispositions[{i}].{f}")
        } else {
            f.to_owned()
        }
    };
    let asked = parse_batch(inputs, &field)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    let loaded = load_facts(&mut c, user, &asked, now).await?;
    if let Err(r) = rules::plan(user.id, &asked, &loaded.facts) {
        return Err(match r {
            rules::Refusal::Stale {
                index,
                expected,
                current,
            } => stale(&mut c, &asked[index], &loaded, expected, current)
                .await
                .map(|message| AppError::Stale {
                    field: field(index, "expectedVersion"),
                    message,
                })?,
            r => refused(r, &field),
        });
    }
    let events = apply(&mut c, user, &asked, &loaded, now).await?;
    for e in events {
        tx.emit(e);
    }
    tx.commit().await?;
    Ok(asked
        .iter()
        .filter_map(|a| loaded.comments.get(&a.comment_id).cloned())
        .collect())
}

/// Each decision checked on its own, before the database is touched.
fn parse_batch(
    inputs: &[DispositionInput],
    field: &impl Fn(usize, &str) -> String,
) -> AppResult<Vec<rules::Asked>> {
    if inputs.is_empty() {
        return Err(AppError::validation(
            "dispositions",
            "give at least one disposition",
        ));
    }
    if inputs.len() > MAX_BATCH {
        return Err(AppError::validation(
            "dispositions",
            format!(
                "at most {MAX_BATCH} dispositions per call; {} given",
                inputs.len()
            ),
        ));
    }
    let mut asked = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let decision = rules::check(
            input.kind,
            input.rationale.as_deref(),
            input.duplicate_of_id,
        )
        .map_err(|e| AppError::validation(field(i, e.field), e.message))?;
        if input.expected_version.is_some_and(|v| v < 0) {
            return Err(AppError::validation(
                field(i, "expectedVersion"),
                "expectedVersion is a comment's dispositionVersion: 0 or more",
            ));
        }
        asked.push(rules::Asked {
            comment_id: input.comment_id,
            decision,
            addressed_in: input.addressed_in_revision_id,
            expected_version: input.expected_version,
        });
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(i) = asked.iter().position(|a| !seen.insert(a.comment_id)) {
        return Err(AppError::validation(
            field(i, "commentId"),
            "the same comment is named twice in one call",
        ));
    }
    Ok(asked)
}

/// The facts of a batch and the rows they came from.
struct Loaded {
    facts: rules::Facts,
    comments: HashMap<i64, CommentRow>,
    cycles: HashMap<i64, CycleRow>,
    current: HashMap<i64, DispositionRow>,
}

/// Everything the rules look at, in a fixed number of queries (plus one lock
/// and one read of duplicate links per cycle concerned, usually one).
async fn load_facts(
    c: &mut Conn<'_>,
    user: &AuthUser,
    asked: &[rules::Asked],
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Loaded> {
    let decided: Vec<i64> = asked.iter().map(|a| a.comment_id).collect();
    let mut named = decided.clone();
    named.extend(asked.iter().filter_map(|a| a.decision.duplicate_of));
    named.sort_unstable();
    named.dedup();
    let rows: HashMap<i64, CommentRow> = comments_store::by_ids(c, &named)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    // Lock every cycle concerned, in one order, before reading what is decided:
    // concurrent decisions (and the consolidation) on a cycle serialize.
    let mut cycle_ids: Vec<i64> = decided
        .iter()
        .filter_map(|id| rows.get(id))
        .map(|r| r.cycle_id)
        .collect();
    cycle_ids.sort_unstable();
    cycle_ids.dedup();
    let mut facts = rules::Facts::default();
    let mut cycles = HashMap::new();
    for id in cycle_ids {
        let Some(cycle) = cycles_store::lock(c, id).await? else {
            continue;
        };
        let managed = user.manages_question(cycle.question_id);
        facts.cycles.insert(
            id,
            rules::CycleFacts {
                status: cycle.period().status(now),
                managed,
            },
        );
        let links = store::duplicate_links(c, id).await?;
        facts.links.insert(id, links.into_iter().collect());
        cycles.insert(id, cycle);
    }
    for r in rows.values() {
        // Visibility matters only to tell FORBIDDEN from NOT_FOUND.
        let visible = match cycles.get(&r.cycle_id) {
            Some(cy) if !user.manages_question(cy.question_id) => {
                let scope = super::comments::scope_of(c, user, cy, cy.question_id, now).await?;
                super::comments::can_see(user, r, scope)
            }
            _ => true,
        };
        facts.comments.insert(
            r.id,
            rules::CommentFacts {
                id: r.id,
                cycle_id: r.cycle_id,
                revision_id: r.revision_id,
                author_id: r.author_id,
                state: r.state,
                visible,
            },
        );
    }
    let mut revision_ids: Vec<i64> = rows.values().map(|r| r.revision_id).collect();
    revision_ids.extend(asked.iter().filter_map(|a| a.addressed_in));
    revision_ids.sort_unstable();
    revision_ids.dedup();
    for r in modules_store::revisions_by_ids(c, &revision_ids).await? {
        facts.revisions.insert(
            r.id,
            rules::RevisionFacts {
                module_id: r.module_id,
                number: r.number,
            },
        );
    }
    let current: HashMap<i64, DispositionRow> = store::dispositions_of(c, &decided)
        .await?
        .into_iter()
        .map(|d| (d.comment_id, d))
        .collect();
    facts.versions = current
        .values()
        .map(|d| (d.comment_id, d.version))
        .collect();
    Ok(Loaded {
        facts,
        comments: rows,
        cycles,
        current,
    })
}

/// The message for a decision made on a stale read: who changed the
/// disposition last, and when (read in the same transaction).
async fn stale(
    c: &mut Conn<'_>,
    asked: &rules::Asked,
    loaded: &Loaded,
    expected: i64,
    current: i64,
) -> AppResult<String> {
    let number = loaded
        .comments
        .get(&asked.comment_id)
        .and_then(|r| r.number);
    let now = loaded.current.get(&asked.comment_id);
    let who = match now {
        Some(d) => accounts_store::user_by_id(c, d.decided_by)
            .await?
            .map(|u| u.display_name),
        None => None,
    };
    Ok(rules::stale_message(
        number,
        who.as_deref(),
        now.map(|d| d.decided_at),
        expected,
        current,
    ))
}

fn refused(r: rules::Refusal, field: &impl Fn(usize, &str) -> String) -> AppError {
    match r {
        rules::Refusal::NotFound(what) => AppError::not_found(what),
        rules::Refusal::Forbidden => AppError::forbidden(
            "only the rapporteurs of this question and the secretariat may set dispositions",
        ),
        rules::Refusal::Consolidated => AppError::CycleClosed(
            "the review cycle is consolidated: its dispositions are final".into(),
        ),
        rules::Refusal::Invalid {
            index,
            field: f,
            message,
        } => AppError::validation(field(index, f), message),
        rules::Refusal::Stale { .. } => AppError::Conflict(
            "the disposition was changed since it was loaded; reload it and decide again".into(),
        ),
    }
}

/// Store a planned batch: the revisions that address comments, and each
/// decision that changes something, with its audit entry and live event.
async fn apply(
    c: &mut Conn<'_>,
    user: &AuthUser,
    asked: &[rules::Asked],
    loaded: &Loaded,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Vec<Event>> {
    let mut events = Vec::new();
    for a in asked {
        let (Some(comment), Some(cycle)) = (
            loaded.comments.get(&a.comment_id),
            loaded
                .comments
                .get(&a.comment_id)
                .and_then(|r| loaded.cycles.get(&r.cycle_id)),
        ) else {
            return Err(AppError::internal(anyhow::anyhow!(
                "a planned disposition lost its comment"
            )));
        };
        if let Some(rev) = a.addressed_in {
            let done = store::addressed_in(c, &[comment.id]).await?;
            if !done.iter().any(|(_, r)| *r == rev) {
                store::insert_addressed(c, rev, &[comment.id]).await?;
            }
        }
        let before = loaded.current.get(&comment.id);
        let after = DispositionRow {
            comment_id: comment.id,
            cycle_id: comment.cycle_id,
            kind: a.decision.kind,
            rationale: a.decision.rationale.clone(),
            duplicate_of_id: a.decision.duplicate_of,
            decided_by: user.id,
            decided_at: now,
            version: before.map_or(0, |b| b.version) + 1,
        };
        let unchanged = before.is_some_and(|b| {
            b.kind == after.kind
                && b.rationale == after.rationale
                && b.duplicate_of_id == after.duplicate_of_id
        });
        if unchanged {
            continue;
        }
        // The cycle is locked and the version checked (plan): a refusal here
        // means the row changed under the lock, which the lock rules out.
        if !store::save(c, before, &after).await? {
            return Err(AppError::Stale {
                field: "expectedVersion".into(),
                message: format!(
                    "comment No. {} was changed since it was loaded; reload it and decide again",
                    comment.number.unwrap_or_default()
                ),
            });
        }
        let summary = format!(
            "disposition of comment {} set to {}",
            comment.number.unwrap_or_default(),
            after.kind
        );
        let change = Change::new(
            AuditAction::DispositionSet,
            NodeKind::Comment,
            comment.id,
            summary,
        )
        .in_question(cycle.question_id);
        audit::record(c, Actor::User(user), change, now).await?;
        events.push(Event::comment(
            EventKind::DispositionSet,
            cycle.module_id,
            cycle.id,
            comment.id,
            now,
        ));
    }
    Ok(events)
}

/// Mark a closed cycle consolidated: every submitted comment has a disposition.
#[tracing::instrument(skip_all, fields(cycle_id))]
pub async fn mark_consolidated(
    state: &AppState,
    user: &AuthUser,
    cycle_id: i64,
) -> AppResult<CycleRow> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    let cycle = managed(&mut c, user, cycle_id).await?;
    match cycle.period().status(now) {
        CycleStatus::Closed => {}
        CycleStatus::Consolidated => {
            return Err(AppError::Conflict(
                "the review cycle is already consolidated".into(),
            ))
        }
        s => {
            return Err(AppError::Conflict(format!(
                "the review cycle is {}: it can be consolidated once it has closed",
                s.as_str()
            )))
        }
    }
    if let Some(until) = cycles_store::last_late_until(&mut c, cycle_id).await? {
        if until > now {
            return Err(AppError::Conflict(format!(
                "a late-submission grant runs until {}: consolidate after it ends",
                until.to_rfc3339()
            )));
        }
    }
    // Lock the cycle first, then count: no submission slips in between.
    if !store::mark_consolidated(&mut c, cycle_id, now).await? {
        return Err(AppError::Conflict(
            "the review cycle is already consolidated".into(),
        ));
    }
    let remaining = store::undecided(&mut c, cycle_id).await?;
    if remaining > 0 {
        return Err(AppError::validation(
            "cycleId",
            format!(
                "{remaining} submitted comment{} still {} no disposition",
                if remaining == 1 { "" } else { "s" },
                if remaining == 1 { "has" } else { "have" }
            ),
        ));
    }
    let row = cycles_store::by_id(&mut c, cycle_id)
        .await?
        .ok_or_else(|| AppError::not_found("review cycle"))?;
    audit::record(
        &mut c,
        Actor::User(user),
        Change::new(
            AuditAction::CycleConsolidated,
            NodeKind::ReviewCycle,
            row.id,
            format!("review cycle \"{}\" marked consolidated", row.title),
        )
        .in_cycle(row.id),
        now,
    )
    .await?;
    tx.emit(Event::cycle_status(row.module_id, row.id, now));
    tx.commit().await?;
    Ok(row)
}

/// A cycle's progress as one viewer may see it.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// Submitted and withdrawn comments.
    pub total: i64,
    pub submitted: i64,
    pub withdrawn: i64,
    /// Submitted comments with a disposition.
    pub decided: i64,
    /// Submitted comments without one.
    pub remaining: i64,
    pub by_disposition: Vec<(DispositionKind, i64)>,
    /// (type, total, remaining)
    pub by_type: Vec<(CommentType, i64, i64)>,
    /// (organization, total, remaining)
    pub by_organization: Vec<(i64, i64, i64)>,
}

/// Counts over the comments the viewer can see; `None` while dispositions
/// are not yet visible to this viewer.
pub async fn progress(
    state: &AppState,
    user: &AuthUser,
    cycle: &CycleRow,
) -> AppResult<Option<Progress>> {
    let now = state.clock.now();
    let mut pooled = state.db.read().await?;
    let mut c = pooled.conn();
    if !dispositions_visible(user, cycle, now) {
        return Ok(None);
    }
    let visible = visible_in(&mut c, user, std::slice::from_ref(cycle), now).await?;
    let groups = store::progress(&mut c, &visible, cycle.id).await?;
    Ok(Some(summarize(&groups)))
}

fn summarize(groups: &[ProgressGroup]) -> Progress {
    let mut p = Progress::default();
    let mut kinds: HashMap<DispositionKind, i64> = HashMap::new();
    // By the stored spelling, as the API has always listed them.
    let mut types: std::collections::BTreeMap<&'static str, (CommentType, i64, i64)> =
        Default::default();
    let mut orgs: std::collections::BTreeMap<i64, (i64, i64)> = Default::default();
    for g in groups {
        let submitted = g.state == CommentState::Submitted;
        let open = submitted && g.disposition.is_none();
        p.total += g.count;
        if submitted {
            p.submitted += g.count;
        } else {
            p.withdrawn += g.count;
        }
        if open {
            p.remaining += g.count;
        } else if submitted {
            p.decided += g.count;
        }
        if let Some(k) = g.disposition {
            *kinds.entry(k).or_default() += g.count;
        }
        let t = types
            .entry(g.comment_type.as_str())
            .or_insert((g.comment_type, 0, 0));
        t.1 += g.count;
        let o = orgs.entry(g.organization_id).or_default();
        o.0 += g.count;
        if open {
            t.2 += g.count;
            o.1 += g.count;
        }
    }
    p.by_disposition = DispositionKind::ALL
        .iter()
        .map(|k| (*k, kinds.get(k).copied().unwrap_or_default()))
        .collect();
    p.by_type = types.into_values().collect();
    p.by_organization = orgs.into_iter().map(|(o, (n, r))| (o, n, r)).collect();
    p
}

/// May `user` see the dispositions of this cycle now? Until the cycle closes
/// they are provisional, seen only by the rapporteurs of its question and the
/// secretariat. The read paths ask this (`Comment.disposition`, progress, the
/// table, filters by disposition); the live module applies the same domain
/// rule to its events itself.
pub fn dispositions_visible(
    user: &AuthUser,
    cycle: &CycleRow,
    now: chrono::DateTime<chrono::Utc>,
) -> bool {
    rules::visible(
        cycle.period().status(now),
        user.manages_question(cycle.question_id),
    )
}

/// The comments `user` may see in `cycles`, limited to the cycles whose
/// dispositions they may see: filtering by a disposition not yet shown to
/// them would reveal it.
pub async fn visible_with_dispositions(
    c: &mut Conn<'_>,
    user: &AuthUser,
    cycles: &[CycleRow],
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Visible> {
    let mut visible = super::comments::visible_in(c, user, cycles, now).await?;
    let shown = |id: &i64| {
        cycles
            .iter()
            .find(|c| c.id == *id)
            .is_some_and(|cy| dispositions_visible(user, cy, now))
    };
    visible.all_cycles.retain(|id| shown(id));
    visible.sealed_cycles.retain(|id| shown(id));
    Ok(visible)
}
