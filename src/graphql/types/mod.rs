//! The object types of the schema, one file per type with all its fields
//! (and the enums, value objects and field arguments that belong to it).
//! Types refer to each other freely, as the graph does; they use the
//! infrastructure around them (connections, ids, loaders, the request
//! context) and the services, never the root files.

use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::{Context, Result};

use crate::error::AppError;
use crate::graphql::context::CtxExt;
use crate::graphql::loaders::{ById, RowById};
use crate::service::records::{
    CommentRow, ModuleRow, OrganizationRow, QuestionRow, RevisionRow, UserRow,
};

mod audit_event;
mod block;
mod block_diff;
mod carried_anchor;
mod carried_comment;
mod comment;
mod comment_edit;
mod comment_search_hit;
mod consolidated_row;
mod content;
mod cycle_progress;
mod disposition;
mod disposition_change;
mod kit;
mod module;
mod notification;
mod organization;
mod question;
mod reply;
mod review_cycle;
mod review_event;
mod revision;
mod revision_diff;
mod section;
mod section_diff;
mod user;

pub use audit_event::AuditEvent;
pub use block::{Block, BlockKind};
pub use block_diff::{BlockDiff, TextChange, TextChangeOp};
pub use carried_anchor::{CarriedAnchor, CarryStatus};
pub use carried_comment::{CarriedComment, CarriedCommentFilter};
pub use comment::{
    AnchorKind, Comment, CommentAnchor, CommentFilterInput, CommentOrderBy, CommentState,
    CommentType, Quote,
};
pub use comment_edit::CommentEdit;
pub use comment_search_hit::{CommentSearchHit, SearchField, SearchSnippet, TextRange};
pub use consolidated_row::ConsolidatedRow;
pub use content::Content;
pub use cycle_progress::{CycleProgress, DispositionCount, OrganizationCount, TypeCount};
pub use disposition::{Disposition, DispositionKind};
pub use disposition_change::{DispositionChange, DispositionValue};
pub use kit::Kit;
pub use module::{Module, ModuleStatus};
pub use notification::{Notification, NotificationKind, NotificationReason};
pub use organization::{Organization, OrganizationKind, Region};
pub use question::Question;
pub use reply::Reply;
pub use review_cycle::{CycleStatus, ReviewCycle, Visibility};
pub use review_event::{ReviewEvent, ReviewEventKind};
pub use revision::{Revision, SectionCommentCount};
pub use revision_diff::{DiffSummary, RevisionDiff};
pub use section::Section;
pub use section_diff::{DiffStatus, SectionDiff};
pub use user::{Role, User};

/// An object type over one row that the request's loaders find by id.
pub(crate) trait Loaded {
    type Row: RowById;
    fn from_row(row: Self::Row) -> Self;
}

macro_rules! loaded {
    ($($object:ty: $row:ty = $make:expr),* $(,)?) => {
        $(
            impl Loaded for $object {
                type Row = $row;
                fn from_row(row: $row) -> Self {
                    $make(row)
                }
            }
        )*
    };
}

loaded! {
    Comment: CommentRow = Comment,
    Module: ModuleRow = Module,
    Organization: OrganizationRow = Organization,
    Question: QuestionRow = Question,
    Revision: RevisionRow = Revision,
    User: UserRow = User::new,
}

/// The object a foreign key points to: its absence is a broken invariant (INTERNAL).
pub(crate) async fn required<T: Loaded>(ctx: &Context<'_>, id: i64, what: &str) -> Result<T>
where
    ById<T::Row>: Loader<i64, Value = T::Row, Error = Arc<AppError>>,
{
    Ok(T::from_row(ctx.loaders()?.required(id, what).await?))
}
