//! `ConsolidatedRow`: one row of a cycle's consolidated comments table.

use async_graphql::{Context, Object, Result};

use super::required;
use super::{Comment, DispositionKind};
use crate::service::table::TableRow;

/// One row of the consolidated comments table (the ISO template's columns plus the disposition).
pub struct ConsolidatedRow(pub TableRow);

/// One row of the consolidated comments table.
#[Object]
impl ConsolidatedRow {
    /// The comment.
    async fn comment(&self, ctx: &Context<'_>) -> Result<Comment> {
        required(ctx, self.0.comment_id, "table comment").await
    }
    /// Comment number.
    async fn number(&self) -> i64 {
        self.0.number
    }
    /// MB/NC: the ISO 3166 code of a member state, else the organization's short name.
    async fn organization(&self) -> &str {
        &self.0.organization
    }
    /// Clause (`General` for comments on the whole document).
    async fn clause(&self) -> &str {
        &self.0.clause
    }
    /// Paragraph/Figure/Table: the block ("Paragraph 2", "Table row 3"), and the quoted words.
    async fn location(&self) -> &str {
        &self.0.location
    }
    /// Type of comment: `ge`, `te` or `ed`.
    async fn type_code(&self) -> &str {
        self.0.type_code
    }
    /// The comment.
    async fn body(&self) -> &str {
        &self.0.comment
    }
    /// Proposed change (empty when none).
    async fn proposed_change(&self) -> &str {
        &self.0.proposed_change
    }
    /// The disposition, when decided and visible to the viewer (WITHDRAWN for withdrawn comments).
    async fn disposition(&self) -> Option<DispositionKind> {
        self.0.disposition.map(Into::into)
    }
    /// Observations: the rationale (and the comment duplicated).
    async fn rationale(&self) -> &str {
        &self.0.rationale
    }
}
