//! `CarriedComment`: a comment of an earlier revision, where it is in a later one.

use async_graphql::{Context, InputObject, Object, Result};

use super::required;
use super::{CarriedAnchor, CarryStatus, Comment, DispositionKind};
use crate::service::records::{CarriedFilter, CarriedRow};

/// A comment of an earlier revision, where it is in this one.
pub struct CarriedComment(pub CarriedRow);

/// A comment of an earlier revision, where it is in this one.
#[Object]
impl CarriedComment {
    /// The comment (its own anchor, on its own revision, stays the truth).
    async fn comment(&self, ctx: &Context<'_>) -> Result<Comment> {
        required(ctx, self.0.comment_id, "carried comment").await
    }
    /// Where it is in this revision.
    async fn anchor(&self) -> CarriedAnchor {
        CarriedAnchor(self.0.clone())
    }
}

/// Filters on carried comments.
#[derive(InputObject, Default)]
pub struct CarriedCommentFilter {
    /// Only comments re-found this way.
    pub status: Option<CarryStatus>,
    /// Only comments with this disposition (as far as the viewer may see dispositions).
    pub disposition: Option<DispositionKind>,
}

impl From<CarriedCommentFilter> for CarriedFilter {
    fn from(f: CarriedCommentFilter) -> Self {
        CarriedFilter {
            status: f.status.map(Into::into),
            disposition: f.disposition.map(Into::into),
        }
    }
}
