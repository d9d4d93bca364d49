//! Kits, modules and revisions: the mutations, their inputs and payloads.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};

use super::context::CtxExt;
use super::ids::{decode_id, decode_ids};
use super::types::{Kit, Module, ModuleStatus, Revision};
use crate::domain::ids::NodeKind;
use crate::service::idempotency::IdempotencyKey;
use crate::service::modules::RevisionInput;
use crate::service::{modules as service, Actor};

/// A new kit.
#[derive(InputObject)]
pub struct CreateKitInput {
    /// The question it belongs to.
    pub question_id: ID,
    /// Title, unique within the question.
    pub title: String,
    /// Description.
    pub description: Option<String>,
}

/// The kit created.
#[derive(SimpleObject)]
pub struct CreateKitPayload {
    /// The new kit.
    pub kit: Kit,
}

/// Changes to a kit: omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateKitInput {
    /// The kit.
    pub kit_id: ID,
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub description: Option<String>,
}

/// The kit changed.
#[derive(SimpleObject)]
pub struct UpdateKitPayload {
    /// The kit as it is now.
    pub kit: Kit,
}

/// A new module.
#[derive(InputObject)]
pub struct CreateModuleInput {
    /// The kit it belongs to.
    pub kit_id: ID,
    /// Number within the kit, 1-999, unique.
    pub number: i64,
    /// Title.
    pub title: String,
}

/// The module created.
#[derive(SimpleObject)]
pub struct CreateModulePayload {
    /// The new module (DRAFTING, no revision yet).
    pub module: Module,
}

/// Changes to a module: omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateModuleInput {
    /// The module.
    pub module_id: ID,
    /// New number.
    pub number: Option<i64>,
    /// New title.
    pub title: Option<String>,
    /// New status: DRAFTING, APPROVED or WITHDRAWN (the others follow review cycles).
    pub status: Option<ModuleStatus>,
}

/// The module changed.
#[derive(SimpleObject)]
pub struct UpdateModulePayload {
    /// The module as it is now.
    pub module: Module,
}

/// A new revision of a module.
#[derive(InputObject)]
pub struct CreateRevisionInput {
    /// The module.
    pub module_id: ID,
    /// The latest revision, which this one revises; null for revision 1.
    /// If another revision was published meanwhile the request fails with CONFLICT.
    pub base_revision_id: Option<ID>,
    /// The full text, as Markdown (at most 2 MiB by default).
    pub markdown: String,
    /// Summary of changes.
    pub summary: String,
    /// Submitted comments on earlier revisions of this module that this
    /// revision addresses (shown in the diff and on their dispositions).
    pub addressed_comment_ids: Option<Vec<ID>>,
    /// A key of your choosing (a UUID, say) that makes a retry safe: sent again
    /// with the same key and input within 24 hours, the mutation returns what
    /// it created the first time instead of creating it again; with other
    /// input it fails with CONFLICT.
    pub idempotency_key: Option<String>,
}

/// The revision created.
#[derive(SimpleObject)]
pub struct CreateRevisionPayload {
    /// The new revision.
    pub revision: Revision,
}

#[derive(Default)]
pub struct ModulesMutation;

#[Object]
impl ModulesMutation {
    /// Create a kit under a question. Rapporteurs of the question and the secretariat.
    async fn create_kit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CreateKitInput,
    ) -> Result<CreateKitPayload> {
        let viewer = ctx.user()?;
        let q = decode_id("questionId", &input.question_id, NodeKind::Question)?;
        let row = service::create_kit(
            ctx.state()?,
            Actor::User(viewer),
            q,
            &input.title,
            input.description.as_deref().unwrap_or(""),
        )
        .await?;
        Ok(CreateKitPayload { kit: Kit(row) })
    }

    /// Change a kit. Rapporteurs of the question and the secretariat.
    async fn update_kit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: UpdateKitInput,
    ) -> Result<UpdateKitPayload> {
        let viewer = ctx.user()?;
        let id = decode_id("kitId", &input.kit_id, NodeKind::Kit)?;
        let row = service::update_kit(
            ctx.state()?,
            Actor::User(viewer),
            id,
            input.title.as_deref(),
            input.description.as_deref(),
        )
        .await?;
        Ok(UpdateKitPayload { kit: Kit(row) })
    }

    /// Create a module in a kit. Rapporteurs of the question and the secretariat.
    async fn create_module(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CreateModuleInput,
    ) -> Result<CreateModulePayload> {
        let viewer = ctx.user()?;
        let kit = decode_id("kitId", &input.kit_id, NodeKind::Kit)?;
        let row = service::create_module(
            ctx.state()?,
            Actor::User(viewer),
            kit,
            input.number,
            &input.title,
        )
        .await?;
        Ok(CreateModulePayload {
            module: Module(row),
        })
    }

    /// Change a module. Rapporteurs of the question and the secretariat.
    async fn update_module(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: UpdateModuleInput,
    ) -> Result<UpdateModulePayload> {
        let viewer = ctx.user()?;
        let id = decode_id("moduleId", &input.module_id, NodeKind::Module)?;
        let patch = service::ModulePatch {
            number: input.number,
            title: input.title,
            status: input.status.map(Into::into),
        };
        let row = service::update_module(ctx.state()?, Actor::User(viewer), id, patch).await?;
        Ok(UpdateModulePayload {
            module: Module(row),
        })
    }

    /// Publish the next revision of a module. Rapporteurs of the question and the secretariat.
    async fn create_revision(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CreateRevisionInput,
    ) -> Result<CreateRevisionPayload> {
        let viewer = ctx.user()?;
        let module = decode_id("moduleId", &input.module_id, NodeKind::Module)?;
        let base = input
            .base_revision_id
            .map(|id| decode_id("baseRevisionId", &id, NodeKind::Revision))
            .transpose()?;
        let addressed = decode_ids(
            "addressedCommentIds",
            input.addressed_comment_ids.as_deref().unwrap_or_default(),
            NodeKind::Comment,
        )?;
        let key = IdempotencyKey::optional("idempotencyKey", input.idempotency_key.as_deref())?;
        let row = service::create_revision(
            ctx.state()?,
            Actor::User(viewer),
            RevisionInput {
                module_id: module,
                base_revision_id: base,
                markdown: input.markdown,
                summary: &input.summary,
                addressed_comment_ids: &addressed,
                idempotency_key: key.as_ref(),
            },
        )
        .await?;
        Ok(CreateRevisionPayload {
            revision: Revision(row),
        })
    }
}
