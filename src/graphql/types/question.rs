//! `Question`: a study question, its rapporteurs and kits.

use async_graphql::{Context, Object, Result, ID};
use chrono::{DateTime, Utc};

use super::{Kit, User};
use crate::domain::ids::NodeKind;
use crate::graphql::context::CtxExt;
use crate::graphql::ids;
use crate::graphql::loaders::all_of;
use crate::service::records::QuestionRow;

/// A study question, e.g. 17-2/2 (study group 2).
pub struct Question(pub QuestionRow);

/// A study question, e.g. 17-2/2 (study group 2).
#[Object]
impl Question {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::id(NodeKind::Question, self.0.id)
    }
    /// The question's code, e.g. `17-2/2`.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// The study group (the number after the `/`).
    async fn study_group(&self) -> i64 {
        self.0.study_group
    }
    /// The rapporteurs assigned to this question.
    async fn rapporteurs(&self, ctx: &Context<'_>) -> Result<Vec<User>> {
        let loaders = ctx.loaders()?;
        let ids = all_of(&loaders.rapporteurs_of_question, self.0.id).await?;
        let rows = loaders.users.load_many(ids.iter().copied()).await?;
        Ok(ids
            .iter()
            .filter_map(|i| rows.get(i).cloned())
            .map(User::new)
            .collect())
    }
    /// The question's toolkits, oldest first.
    async fn kits(&self, ctx: &Context<'_>) -> Result<Vec<Kit>> {
        let rows = all_of(&ctx.loaders()?.kits_of_question, self.0.id).await?;
        Ok(rows.into_iter().map(Kit).collect())
    }
    /// Whether the viewer may manage this question's kits, modules and review cycles.
    async fn viewer_can_manage(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(ctx.user()?.manages_question(self.0.id))
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
