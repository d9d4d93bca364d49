//! Comments on a cycle's revision: drafts, submission with gap-free numbers,
//! edits (kept), withdrawal, replies; and what each viewer may see.
//!
//! Who may do what: a draft is its author's alone. A submitted comment speaks
//! for the organization, so any colleague of the author's organization may edit
//! or withdraw it while the organization may still submit (the cycle is open, or
//! it holds a late grant). Anyone who can see a submitted comment may reply.

mod access;
mod replies;

use access::visible_comment;
pub use access::{can_see, scope_for, scope_of, visible_in};
pub use replies::{add_reply, change_reply};

use std::collections::HashMap;

use super::audit::{self, Change};
use super::idempotency::{self, Claim, IdempotencyKey, Use};
use super::{search, Actor};
use crate::auth::AuthUser;
use crate::db::comments::{self as store, CommentRow, CommentText, NewComment, ReplyRow, Visible};
use crate::db::cycles::{self as cycles_store, CycleRow};
use crate::db::modules as modules_store;
use crate::db::Conn;
use crate::domain::audit::AuditAction;
use crate::domain::comments::{
    self as rules, Anchor, AnchorKind, CommentState, CommentType, Quote, QuoteSelector, ReplyState,
    Scope,
};
use crate::domain::cycle::{self, CycleStatus, Window};
use crate::domain::events::{Event, EventKind};
use crate::domain::ids::NodeKind;
use crate::domain::visibility;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Where a new comment points, as asked.
#[derive(Debug, Clone)]
pub struct AnchorInput {
    pub kind: AnchorKind,
    pub section_anchor_id: Option<String>,
    pub block_anchor_id: Option<String>,
    pub quote: Option<QuoteSelector>,
}

/// A comment's text, as asked.
#[derive(Debug, Clone)]
pub struct TextInput {
    pub comment_type: CommentType,
    pub body: String,
    pub proposed_change: Option<String>,
    pub language: Option<String>,
}

pub(crate) fn check_text(t: &TextInput) -> AppResult<CommentText> {
    let body = rules::body(&t.body, "body").map_err(|e| AppError::validation("body", e.0))?;
    let proposed_change = t
        .proposed_change
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            rules::body(p, "proposedChange")
                .map_err(|e| AppError::validation("proposedChange", e.0))
        })
        .transpose()?;
    let language = t
        .language
        .as_deref()
        .map(|l| rules::language(l).map_err(|e| AppError::validation("language", e.0)))
        .transpose()?;
    Ok(CommentText {
        comment_type: t.comment_type,
        body,
        proposed_change,
        language,
    })
}

/// An anchor checked against its revision, with its place in document order.
#[derive(Debug, Clone)]
pub(crate) struct Placed {
    pub anchor: Anchor,
    pub doc_order: i64,
}

/// Check an anchor against the revision's sections and blocks.
async fn resolve_anchor(c: &mut Conn<'_>, revision_id: i64, a: &AnchorInput) -> AppResult<Placed> {
    let need = |v: &Option<String>, field: &str| -> AppResult<String> {
        v.clone().filter(|s| !s.trim().is_empty()).ok_or_else(|| {
            AppError::validation(field, format!("a {} anchor needs {field}", a.kind.as_str()))
        })
    };
    match a.kind {
        AnchorKind::Document => Ok(Placed {
            anchor: Anchor::Document,
            doc_order: rules::document_order(None, None, None),
        }),
        AnchorKind::Section => {
            let anchor = need(&a.section_anchor_id, "anchor.sectionAnchorId")?;
            let sections = modules_store::sections_of(c, &[revision_id]).await?;
            let s = sections
                .iter()
                .find(|s| s.anchor_id == anchor)
                .ok_or_else(|| {
                    AppError::validation(
                        "anchor.sectionAnchorId",
                        format!("the revision has no section '{anchor}'"),
                    )
                })?;
            Ok(Placed {
                doc_order: rules::document_order(Some(s.position as usize), None, None),
                anchor: Anchor::Section { section: anchor },
            })
        }
        AnchorKind::Block | AnchorKind::Quote => {
            let anchor = need(&a.block_anchor_id, "anchor.blockAnchorId")?;
            let block = modules_store::block_by_anchor(c, revision_id, &anchor)
                .await?
                .ok_or_else(|| {
                    AppError::validation(
                        "anchor.blockAnchorId",
                        format!("the revision has no block '{anchor}'"),
                    )
                })?;
            let sections = modules_store::sections_of(c, &[revision_id]).await?;
            let section = sections
                .iter()
                .find(|s| s.position == block.section_position)
                .map(|s| s.anchor_id.clone());
            let at = |start: Option<usize>| {
                rules::document_order(
                    Some(block.section_position as usize),
                    Some(block.position as usize),
                    start,
                )
            };
            if a.kind == AnchorKind::Block {
                return Ok(Placed {
                    doc_order: at(None),
                    anchor: Anchor::Block {
                        section,
                        block: anchor,
                    },
                });
            }
            let q = a.quote.as_ref().ok_or_else(|| {
                AppError::validation("anchor.quote", "a QUOTE anchor needs quote.exact")
            })?;
            let (start, end) = rules::resolve_quote(&block.text, q)
                .map_err(|e| AppError::validation("anchor.quote", e.0))?;
            Ok(Placed {
                doc_order: at(Some(start)),
                anchor: Anchor::Quote {
                    section,
                    block: anchor,
                    // The block's own words: a quote found after typographic
                    // normalisation is kept as the text says it.
                    quote: Quote {
                        exact: block.text.chars().skip(start).take(end - start).collect(),
                        prefix: q.prefix.as_ref().filter(|p| !p.is_empty()).map(|p| {
                            let n = p.chars().count().min(start);
                            block.text.chars().skip(start - n).take(n).collect()
                        }),
                        suffix: q.suffix.as_ref().filter(|s| !s.is_empty()).map(|s| {
                            block
                                .text
                                .chars()
                                .skip(end)
                                .take(s.chars().count())
                                .collect()
                        }),
                        start: start as i64,
                        end: end as i64,
                    },
                },
            })
        }
    }
}

pub(crate) async fn cycle_of(c: &mut Conn<'_>, cycle_id: i64) -> AppResult<CycleRow> {
    cycles_store::by_id(c, cycle_id)
        .await?
        .ok_or_else(|| AppError::not_found("review cycle"))
}

/// The organization's submission window in this cycle.
pub(crate) async fn window(
    c: &mut Conn<'_>,
    cycle: &CycleRow,
    org: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Window> {
    let late = cycles_store::late_until(c, cycle.id, org).await?;
    Ok(cycle::window(&cycle.period(), late, now))
}

pub(crate) fn closed(w: Window) -> AppError {
    match w {
        Window::NotOpen => AppError::CycleClosed("the review cycle has not opened yet".into()),
        _ => AppError::CycleClosed("the review cycle is closed".into()),
    }
}

async fn insert(
    c: &mut Conn<'_>,
    user: &AuthUser,
    cycle: &CycleRow,
    anchor: &AnchorInput,
    text: &TextInput,
    start: store::Start,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<CommentRow> {
    let text = check_text(text)?;
    let placed = resolve_anchor(c, cycle.revision_id, anchor).await?;
    store::insert(
        c,
        NewComment {
            cycle_id: cycle.id,
            revision_id: cycle.revision_id,
            author_id: user.id,
            organization_id: user.organization_id,
            anchor: &placed.anchor,
            doc_order: placed.doc_order,
            text: &text,
        },
        start,
        now,
    )
    .await
}

async fn number_and_submit(
    c: &mut Conn<'_>,
    cycle: &CycleRow,
    comment_id: i64,
    w: Window,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<CommentRow> {
    let number = cycles_store::take_number(c, cycle.id).await?;
    store::submit(c, comment_id, number, w == Window::Late, now).await
}

/// After a change to a comment, in its transaction: the audit entry and
/// the search terms. (The caller raises the live event on the transaction.)
pub(crate) async fn record(
    c: &mut Conn<'_>,
    user: &AuthUser,
    row: &CommentRow,
    action: AuditAction,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    let label = match row.number {
        Some(n) => format!("comment {n}"),
        None => "a draft comment".to_owned(),
    };
    let verb = action.verb();
    audit::record(
        c,
        Actor::User(user),
        Change::new(action, NodeKind::Comment, row.id, format!("{label} {verb}"))
            .in_cycle(row.cycle_id),
        now,
    )
    .await?;
    match action {
        // No thread yet: nothing to read back.
        AuditAction::CommentDrafted | AuditAction::CommentSubmitted => {
            search::index_new(c, row).await
        }
        _ => search::reindex_rows(c, std::slice::from_ref(row)).await,
    }
}

pub(crate) fn event(
    kind: EventKind,
    cycle: &CycleRow,
    row: &CommentRow,
    now: chrono::DateTime<chrono::Utc>,
) -> Event {
    Event::comment(kind, cycle.module_id, cycle.id, row.id, now)
}

/// Save a draft (seen by its author only, no number yet). Drafts may be written
/// as soon as the cycle exists, until it closes.
#[tracing::instrument(skip_all, fields(cycle_id))]
pub async fn create_draft(
    state: &AppState,
    user: &AuthUser,
    cycle_id: i64,
    anchor: &AnchorInput,
    text: &TextInput,
    key: Option<&IdempotencyKey>,
) -> AppResult<CommentRow> {
    let now = state.clock.now();
    let key = Use::new(key, "createCommentDraft", &(cycle_id, anchor, text));
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    if let Claim::Replay(ids) = idempotency::claim(&mut c, user.id, key.as_ref(), now).await? {
        let row = replayed(&mut c, &ids).await?;
        tx.commit().await?;
        return Ok(row);
    }
    let cycle = cycle_of(&mut c, cycle_id).await?;
    let w = window(&mut c, &cycle, user.organization_id, now).await?;
    if w == Window::Closed {
        return Err(closed(w));
    }
    let row = insert(&mut c, user, &cycle, anchor, text, store::Start::Draft, now).await?;
    super::carry::comment_forward(&mut c, &row).await?;
    record(&mut c, user, &row, AuditAction::CommentDrafted, now).await?;
    idempotency::settle(&mut c, user.id, key.as_ref(), &[row.id]).await?;
    tx.commit().await?;
    Ok(row)
}

/// The comment a replayed idempotency key created.
async fn replayed(c: &mut Conn<'_>, ids: &[i64]) -> AppResult<CommentRow> {
    store::by_id(c, idempotency::single(ids)?)
        .await?
        .ok_or_else(|| {
            AppError::Conflict(
                "the draft made with this idempotency key has since been deleted".into(),
            )
        })
}

/// Submit a new comment at once: it takes the cycle's next number.
#[tracing::instrument(skip_all, fields(cycle_id))]
pub async fn submit_new(
    state: &AppState,
    user: &AuthUser,
    cycle_id: i64,
    anchor: &AnchorInput,
    text: &TextInput,
    key: Option<&IdempotencyKey>,
) -> AppResult<CommentRow> {
    // Validate before taking the write lock.
    let text = check_text(text)?;
    let now = state.clock.now();
    let key = Use::new(key, "submitComment", &(cycle_id, anchor, &text));
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    if let Claim::Replay(ids) = idempotency::claim(&mut c, user.id, key.as_ref(), now).await? {
        let row = replayed(&mut c, &ids).await?;
        tx.commit().await?;
        return Ok(row);
    }
    let cycle = cycle_of(&mut c, cycle_id).await?;
    let w = window(&mut c, &cycle, user.organization_id, now).await?;
    if !matches!(w, Window::OnTime | Window::Late) {
        return Err(closed(w));
    }
    let row = submit_in(&mut c, user, &cycle, anchor, &text, w, now).await?;
    record(&mut c, user, &row, AuditAction::CommentSubmitted, now).await?;
    idempotency::settle(&mut c, user.id, key.as_ref(), &[row.id]).await?;
    tx.emit(event(EventKind::CommentSubmitted, &cycle, &row, now));
    tx.commit().await?;
    Ok(row)
}

/// Submit a new comment inside the caller's transaction, with its text
/// checked ([`check_text`]) and in a window (`w`) the caller has checked: it
/// takes the cycle's next number.
pub(crate) async fn submit_in(
    c: &mut Conn<'_>,
    user: &AuthUser,
    cycle: &CycleRow,
    anchor: &AnchorInput,
    text: &CommentText,
    w: Window,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<CommentRow> {
    // The anchor is checked before the number is taken: the cycle row stays
    // locked from there to the commit.
    let placed = resolve_anchor(c, cycle.revision_id, anchor).await?;
    let number = cycles_store::take_number(c, cycle.id).await?;
    let row = store::insert(
        c,
        NewComment {
            cycle_id: cycle.id,
            revision_id: cycle.revision_id,
            author_id: user.id,
            organization_id: user.organization_id,
            anchor: &placed.anchor,
            doc_order: placed.doc_order,
            text,
        },
        store::Start::Submitted {
            number,
            late: w == Window::Late,
        },
        now,
    )
    .await?;
    super::carry::comment_forward(c, &row).await?;
    Ok(row)
}

/// Submit one of the user's drafts.
#[tracing::instrument(skip_all, fields(comment_id))]
pub async fn submit_draft(
    state: &AppState,
    user: &AuthUser,
    comment_id: i64,
    key: Option<&IdempotencyKey>,
) -> AppResult<CommentRow> {
    let now = state.clock.now();
    let key = Use::new(key, "submitComment", &comment_id);
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    if let Claim::Replay(ids) = idempotency::claim(&mut c, user.id, key.as_ref(), now).await? {
        let row = replayed(&mut c, &ids).await?;
        tx.commit().await?;
        return Ok(row);
    }
    let (comment, cycle) = visible_comment(&mut c, user, comment_id, now).await?;
    if comment.state != CommentState::Draft {
        return Err(AppError::Conflict(format!(
            "comment {} is already {}",
            comment.number.unwrap_or_default(),
            comment.state
        )));
    }
    let w = window(&mut c, &cycle, comment.organization_id, now).await?;
    if !matches!(w, Window::OnTime | Window::Late) {
        return Err(closed(w));
    }
    let row = number_and_submit(&mut c, &cycle, comment.id, w, now).await?;
    record(&mut c, user, &row, AuditAction::CommentSubmitted, now).await?;
    idempotency::settle(&mut c, user.id, key.as_ref(), &[row.id]).await?;
    tx.emit(event(EventKind::CommentSubmitted, &cycle, &row, now));
    tx.commit().await?;
    Ok(row)
}

/// Changes to a comment; `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct CommentPatch {
    pub comment_type: Option<CommentType>,
    pub body: Option<String>,
    pub proposed_change: Option<Option<String>>,
    pub language: Option<Option<String>>,
    /// Drafts only.
    pub anchor: Option<AnchorInput>,
}

/// May this user change (edit, withdraw) this comment now? `Ok` or the reason.
pub fn may_change(user: &AuthUser, comment: &CommentRow, w: Window) -> AppResult<()> {
    match comment.state {
        CommentState::Draft if comment.author_id != user.id => Err(AppError::not_found("comment")),
        CommentState::Draft if w == Window::Closed => Err(closed(w)),
        CommentState::Draft => Ok(()),
        CommentState::Withdrawn => Err(AppError::Conflict("the comment is withdrawn".into())),
        CommentState::Submitted if comment.organization_id != user.organization_id => Err(
            AppError::forbidden("only the organization that submitted a comment may change it"),
        ),
        CommentState::Submitted if !matches!(w, Window::OnTime | Window::Late) => Err(closed(w)),
        CommentState::Submitted => Ok(()),
    }
}

/// Edit a comment. Edits of a submitted comment are kept (`comment.edits`).
#[tracing::instrument(skip_all, fields(comment_id))]
pub async fn update(
    state: &AppState,
    user: &AuthUser,
    comment_id: i64,
    patch: CommentPatch,
) -> AppResult<CommentRow> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    let (comment, cycle) = visible_comment(&mut c, user, comment_id, now).await?;
    let w = window(&mut c, &cycle, comment.organization_id, now).await?;
    may_change(user, &comment, w)?;
    let is_draft = comment.state == CommentState::Draft;
    let current_type = comment.comment_type;
    let wanted = TextInput {
        comment_type: patch.comment_type.unwrap_or(current_type),
        body: patch.body.clone().unwrap_or_else(|| comment.body.clone()),
        proposed_change: patch
            .proposed_change
            .clone()
            .unwrap_or_else(|| comment.proposed_change.clone()),
        language: patch
            .language
            .clone()
            .unwrap_or_else(|| comment.language.clone()),
    };
    let text = check_text(&wanted)?;
    if let Some(anchor) = &patch.anchor {
        if !is_draft {
            return Err(AppError::validation(
                "anchor",
                "a submitted comment's anchor cannot change",
            ));
        }
        let placed = resolve_anchor(&mut c, comment.revision_id, anchor).await?;
        store::set_anchor(&mut c, comment.id, &placed.anchor, placed.doc_order, now).await?;
    }
    if !is_draft {
        let before = CommentText {
            comment_type: comment.comment_type,
            body: comment.body.clone(),
            proposed_change: comment.proposed_change.clone(),
            language: comment.language.clone(),
        };
        store::insert_edit(&mut c, comment.id, user.id, &before, now).await?;
    }
    let row = store::set_text(&mut c, comment.id, &text, now).await?;
    if patch.anchor.is_some() {
        super::carry::comment_forward(&mut c, &row).await?;
    }
    let action = if is_draft {
        AuditAction::CommentDraftEdited
    } else {
        AuditAction::CommentEdited
    };
    record(&mut c, user, &row, action, now).await?;
    tx.emit(event(EventKind::CommentUpdated, &cycle, &row, now));
    tx.commit().await?;
    Ok(row)
}

/// Withdraw a submitted comment; it keeps its number.
#[tracing::instrument(skip_all, fields(comment_id))]
pub async fn withdraw(state: &AppState, user: &AuthUser, comment_id: i64) -> AppResult<CommentRow> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    let (comment, cycle) = visible_comment(&mut c, user, comment_id, now).await?;
    if comment.state == CommentState::Draft {
        return Err(AppError::validation(
            "commentId",
            "a draft is not submitted: delete it instead",
        ));
    }
    let w = window(&mut c, &cycle, comment.organization_id, now).await?;
    may_change(user, &comment, w)?;
    let row = store::withdraw(&mut c, comment.id, now).await?;
    record(&mut c, user, &row, AuditAction::CommentWithdrawn, now).await?;
    tx.emit(event(EventKind::CommentWithdrawn, &cycle, &row, now));
    tx.commit().await?;
    Ok(row)
}

/// Delete one of the user's drafts.
#[tracing::instrument(skip_all, fields(comment_id))]
pub async fn delete_draft(state: &AppState, user: &AuthUser, comment_id: i64) -> AppResult<()> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    let (comment, _) = visible_comment(&mut c, user, comment_id, now).await?;
    if comment.state != CommentState::Draft {
        return Err(AppError::validation(
            "commentId",
            "only drafts can be deleted; withdraw a submitted comment",
        ));
    }
    crate::db::search::remove(&mut c, comment.id).await?;
    store::delete_draft(&mut c, comment.id).await?;
    audit::record(
        &mut c,
        Actor::User(user),
        Change::new(
            AuditAction::CommentDraftDeleted,
            NodeKind::Comment,
            comment.id,
            "a draft comment deleted",
        )
        .in_cycle(comment.cycle_id),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
