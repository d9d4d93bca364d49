//! Study questions: the list, and the secretariat's mutations (rapporteurs included).

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};

use super::connection::{self, Conn, PageArgs};
use super::context::CtxExt;
use super::ids::decode_id;
use super::types::{Question, User};
use crate::domain::ids::NodeKind;
use crate::service::queries::accounts as queries;
use crate::service::{accounts as service, Actor};

#[derive(Default)]
pub struct QuestionsQuery;

#[Object]
impl QuestionsQuery {
    /// Every question, oldest first.
    #[graphql(complexity = "connection::cost(first, last, child_complexity)")]
    async fn questions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> Result<Conn<Question>> {
        ctx.user()?;
        let state = ctx.state()?;
        connection::query(
            ctx,
            PageArgs::new(first, after, last, before),
            |page, total| async move { queries::questions(state, &page, total).await },
            |r| (r.id, r.id),
            Question,
        )
        .await
    }

    /// One question by its code, e.g. `17-2/2`.
    async fn question(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Code, e.g. `17-2/2`.")] code: String,
    ) -> Result<Option<Question>> {
        ctx.user()?;
        Ok(queries::question_by_code(ctx.state()?, code.trim())
            .await?
            .map(Question))
    }
}

/// A new question.
#[derive(InputObject)]
pub struct CreateQuestionInput {
    /// Code like `17-2/2`.
    pub code: String,
    /// Title.
    pub title: String,
    /// Study group; when given it must match the code.
    pub study_group: Option<i64>,
}

/// The question created.
#[derive(SimpleObject)]
pub struct CreateQuestionPayload {
    /// The new question.
    pub question: Question,
}

/// Changes to a question: omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateQuestionInput {
    /// The question to change.
    pub question_id: ID,
    /// New code.
    pub code: Option<String>,
    /// New title.
    pub title: Option<String>,
}

/// The question changed.
#[derive(SimpleObject)]
pub struct UpdateQuestionPayload {
    /// The question as it is now.
    pub question: Question,
}

/// A rapporteur assignment.
#[derive(InputObject)]
pub struct RapporteurInput {
    /// The question.
    pub question_id: ID,
    /// The user.
    pub user_id: ID,
}

/// The question and user after the change.
#[derive(SimpleObject)]
pub struct RapporteurPayload {
    /// The question.
    pub question: Question,
    /// The user.
    pub user: User,
}

#[derive(Default)]
pub struct QuestionsMutation;

#[Object]
impl QuestionsMutation {
    /// Create a question. Secretariat only.
    async fn create_question(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CreateQuestionInput,
    ) -> Result<CreateQuestionPayload> {
        let viewer = ctx.user()?;
        let row = service::create_question(
            ctx.state()?,
            Actor::User(viewer),
            &input.code,
            &input.title,
            input.study_group,
        )
        .await?;
        Ok(CreateQuestionPayload {
            question: Question(row),
        })
    }

    /// Change a question. Secretariat only.
    async fn update_question(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: UpdateQuestionInput,
    ) -> Result<UpdateQuestionPayload> {
        let viewer = ctx.user()?;
        let id = decode_id("questionId", &input.question_id, NodeKind::Question)?;
        let row = service::update_question(
            ctx.state()?,
            Actor::User(viewer),
            id,
            input.code.as_deref(),
            input.title.as_deref(),
        )
        .await?;
        Ok(UpdateQuestionPayload {
            question: Question(row),
        })
    }

    /// Make a user a rapporteur of a question (the RAPPORTEUR role is added if missing).
    /// Secretariat only.
    async fn assign_rapporteur(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: RapporteurInput,
    ) -> Result<RapporteurPayload> {
        let viewer = ctx.user()?;
        let q = decode_id("questionId", &input.question_id, NodeKind::Question)?;
        let u = decode_id("userId", &input.user_id, NodeKind::User)?;
        let (question, user) =
            service::assign_rapporteur(ctx.state()?, Actor::User(viewer), q, u).await?;
        Ok(RapporteurPayload {
            question: Question(question),
            user: User::new(user),
        })
    }

    /// Remove a rapporteur from a question. Secretariat only.
    async fn unassign_rapporteur(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: RapporteurInput,
    ) -> Result<RapporteurPayload> {
        let viewer = ctx.user()?;
        let q = decode_id("questionId", &input.question_id, NodeKind::Question)?;
        let u = decode_id("userId", &input.user_id, NodeKind::User)?;
        let (question, user) =
            service::unassign_rapporteur(ctx.state()?, Actor::User(viewer), q, u).await?;
        Ok(RapporteurPayload {
            question: Question(question),
            user: User::new(user),
        })
    }
}
