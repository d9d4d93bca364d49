//! `CommentEdit`: the text of a comment before one edit.

use async_graphql::{Context, Object, Result};
use chrono::{DateTime, Utc};

use super::required;
use super::{CommentType, User};
use crate::service::records::EditRow;

/// The text of a comment before one edit.
pub struct CommentEdit(pub EditRow);

/// The text of a comment before one edit.
#[Object]
impl CommentEdit {
    /// When the edit was made.
    async fn edited_at(&self) -> DateTime<Utc> {
        self.0.edited_at
    }
    /// Who made it.
    async fn editor(&self, ctx: &Context<'_>) -> Result<User> {
        required(ctx, self.0.editor_id, "edit without editor").await
    }
    /// The type before the edit.
    #[graphql(name = "type")]
    async fn comment_type(&self) -> Result<CommentType> {
        Ok(self.0.comment_type.into())
    }
    /// The body before the edit.
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// The proposed change before the edit.
    async fn proposed_change(&self) -> Option<&str> {
        self.0.proposed_change.as_deref()
    }
    /// The language before the edit.
    async fn language(&self) -> Option<&str> {
        self.0.language.as_deref()
    }
}
