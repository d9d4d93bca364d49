//! `Kit`: a toolkit under a question.

use async_graphql::{Context, Object, Result, ID};
use chrono::{DateTime, Utc};

use super::required;
use super::{Module, Question};
use crate::domain::ids::NodeKind;
use crate::graphql::context::CtxExt;
use crate::graphql::ids;
use crate::graphql::loaders::all_of;
use crate::service::records::KitRow;

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
        required(ctx, self.0.question_id, "kit without question").await
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
        let rows = all_of(&ctx.loaders()?.modules_of_kit, self.0.id).await?;
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
