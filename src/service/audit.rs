//! Recording who changed what: every use case that writes appends one audit
//! event in its own transaction, with the request's id.

use crate::db::audit::{self as store, NewAudit};
use crate::db::Conn;
use crate::domain::audit::AuditAction;
use crate::domain::ids::NodeKind;
use crate::error::AppResult;

use super::Actor;

tokio::task_local! {
    /// The id of the request being served (HTTP `X-Request-Id`, or one made
    /// for each WebSocket operation).
    pub static REQUEST_ID: String;
}

/// A new request id: 96 random bits, hex.
pub fn new_request_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// The current request's id, when there is one.
pub fn request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// One change, as recorded.
pub struct Change {
    /// What was done.
    pub action: AuditAction,
    /// What it was done to.
    pub entity: (NodeKind, i64),
    /// The question it belongs to, so its rapporteurs see it (given, or
    /// found from the module or the cycle).
    pub question_id: Option<i64>,
    pub module_id: Option<i64>,
    pub cycle_id: Option<i64>,
    /// A one-line human summary (no comment text: the log is for who and when).
    pub summary: String,
}

impl Change {
    pub fn new(action: AuditAction, kind: NodeKind, id: i64, summary: impl Into<String>) -> Self {
        Self {
            action,
            entity: (kind, id),
            question_id: None,
            module_id: None,
            cycle_id: None,
            summary: summary.into(),
        }
    }

    pub fn in_question(mut self, question_id: i64) -> Self {
        self.question_id = Some(question_id);
        self
    }

    pub fn in_module(mut self, module_id: i64) -> Self {
        self.module_id = Some(module_id);
        self
    }

    pub fn in_cycle(mut self, cycle_id: i64) -> Self {
        self.cycle_id = Some(cycle_id);
        self
    }
}

/// Append `change`, done by `actor` at `now`, in the caller's transaction.
pub async fn record(
    c: &mut Conn<'_>,
    actor: Actor<'_>,
    change: Change,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    let (actor_id, organization_id) = match actor {
        Actor::Operator => (None, None),
        Actor::User(u) => (Some(u.id), Some(u.organization_id)),
    };
    store::insert(
        c,
        NewAudit {
            at: now,
            actor_id,
            organization_id,
            action: change.action,
            entity_kind: change.entity.0,
            entity_id: change.entity.1,
            question_id: change.question_id,
            module_id: change.module_id,
            cycle_id: change.cycle_id,
            summary: change.summary,
            request_id: request_id(),
        },
    )
    .await
}
