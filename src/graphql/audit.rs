//! `auditLog`: who changed what, and when, for the secretariat (everything)
//! and for rapporteurs (the events of the questions they are rapporteurs of).

use async_graphql::{Context, InputObject, Object, Result, ID};
use chrono::{DateTime, Utc};

use super::connection::{self, Conn, PageArgs};
use super::context::CtxExt;
use super::ids::decode_id;
use super::types::AuditEvent;
use crate::domain::audit::AuditAction;
use crate::domain::ids::{GlobalId, NodeKind};
use crate::domain::page::PageOf;
use crate::error::AppError;
use crate::service::queries::audit::AuditReader;
use crate::service::records::AuditFilter;

/// Which events to list.
#[derive(InputObject, Default)]
pub struct AuditLogFilter {
    /// Only events of this question.
    pub question_id: Option<ID>,
    /// Only changes by this user.
    pub actor_id: Option<ID>,
    /// Only this action (`comment.submitted`, ...).
    pub action: Option<String>,
    /// Only changes to this object (any global id).
    pub entity_id: Option<ID>,
    /// Only events at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only events before this time.
    pub until: Option<DateTime<Utc>>,
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The audit trail, newest first: every change, by whom, when, from which
    /// request. The secretariat sees everything; a rapporteur sees the events
    /// of their questions, except those of other people's drafts
    /// (`comment.drafted`, `comment.draft_edited`, `comment.draft_deleted`);
    /// anyone else is FORBIDDEN.
    #[graphql(complexity = "connection::cost(first, None, child_complexity)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the events that match.")] filter: Option<AuditLogFilter>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
    ) -> Result<Conn<AuditEvent>> {
        let user = ctx.user()?;
        let reader = AuditReader::of(user)?;
        let f = filter.unwrap_or_default();
        let entity = f
            .entity_id
            .map(|id| {
                GlobalId::parse(id.as_str())
                    .map(|g| (g.kind, g.id))
                    .map_err(|_| AppError::validation("filter.entityId", "not a valid id"))
            })
            .transpose()?;
        let state = ctx.state()?;
        connection::query(
            ctx,
            PageArgs::forward(first, after),
            |page, total| async move {
                // An action that does not exist matches no event.
                let action = match f.action.as_deref().map(str::parse::<AuditAction>) {
                    Some(Err(_)) => return Ok(PageOf::empty()),
                    Some(Ok(a)) => Some(a),
                    None => None,
                };
                let asked = AuditFilter {
                    question_id: f
                        .question_id
                        .map(|id| decode_id("filter.questionId", &id, NodeKind::Question))
                        .transpose()?,
                    actor_id: f
                        .actor_id
                        .map(|id| decode_id("filter.actorId", &id, NodeKind::User))
                        .transpose()?,
                    action,
                    entity,
                    since: f.since,
                    until: f.until,
                    ..Default::default()
                };
                reader.list(state, asked, &page, total).await
            },
            |r| (r.id, r.id),
            AuditEvent,
        )
        .await
    }
}
