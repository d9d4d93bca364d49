//! Who may see what: the one home of the visibility rules that every read path
//! applies (lists, counts, `node(id:)`, search, exports, live updates).
//!
//! - Comments: drafts are their author's alone; a cycle's submitted comments
//!   are seen by everyone in an OPEN cycle, and in a SEALED one only by their
//!   own organization until the cycle closes (or an organization's late grant
//!   ends), and by the question's rapporteurs and the secretariat always.
//! - Dispositions: provisional while the cycle runs, seen by those who manage
//!   its question, and by everyone once it has closed.

use chrono::{DateTime, Utc};

use super::comments::CommentState;
use super::cycle::{self, CycleStatus, Period, Visibility, Window};

pub use super::disposition::visible as dispositions_visible;

/// How much of a cycle's submitted comments one viewer may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every submitted comment (and the viewer's own drafts).
    All,
    /// Only the viewer's organization's submitted comments (and own drafts).
    OwnOrganization,
}

/// Rapporteurs of the question and the secretariat see everything; in an OPEN
/// cycle everyone does; in a SEALED one members see their own organization's
/// comments until the cycle closes, or, for an organization granted late
/// submission (`in_late_window`), until its grant ends: it may still submit,
/// so it must not read the others' comments first.
pub fn scope(
    visibility: Visibility,
    status: CycleStatus,
    manages: bool,
    in_late_window: bool,
) -> Scope {
    if manages || visibility == Visibility::Open {
        Scope::All
    } else if in_late_window {
        Scope::OwnOrganization
    } else if matches!(status, CycleStatus::Closed | CycleStatus::Consolidated) {
        Scope::All
    } else {
        Scope::OwnOrganization
    }
}

/// May this viewer see this comment?
pub fn visible(
    scope: Scope,
    state: CommentState,
    viewer_id: i64,
    viewer_org: i64,
    author_id: i64,
    comment_org: i64,
) -> bool {
    match state {
        CommentState::Draft => author_id == viewer_id,
        _ => scope == Scope::All || comment_org == viewer_org,
    }
}

/// A viewer's scope in a cycle at `now`, with their organization's late grant
/// (`own_late_until`) if any.
pub fn cycle_scope(
    visibility: Visibility,
    period: &Period,
    manages: bool,
    own_late_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Scope {
    scope(
        visibility,
        period.status(now),
        manages,
        cycle::window(period, own_late_until, now) == Window::Late,
    )
}

/// Can a late grant change what a viewer sees of a cycle? Only in a SEALED
/// cycle that has closed, for someone who does not manage its question (so
/// grants need not be read for every other cycle).
pub fn grant_may_matter(visibility: Visibility, status: CycleStatus, manages: bool) -> bool {
    visibility == Visibility::Sealed && status == CycleStatus::Closed && !manages
}
