//! The audit trail: one append-only row per change, written in the change's
//! own transaction (triggers refuse UPDATE and DELETE on both databases).

use chrono::{DateTime, Utc};

use super::sql::{finish_page, Arg, Sql};
use super::Conn;
use crate::domain::audit::AuditAction;
use crate::domain::audit::{DRAFT_ACTIONS, LEGACY_DRAFT_EDIT};
use crate::domain::ids::NodeKind;
use crate::domain::page::Page;
use crate::error::AppResult;

/// A stored audit event.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub action: AuditAction,
    pub entity_kind: NodeKind,
    pub entity_id: i64,
    pub question_id: Option<i64>,
    pub summary: String,
    pub request_id: Option<String>,
}

/// A new audit event.
#[derive(Debug, Clone)]
pub struct NewAudit {
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub action: AuditAction,
    pub entity_kind: NodeKind,
    pub entity_id: i64,
    pub question_id: Option<i64>,
    /// When the question is not given: the module's (or the cycle's module's).
    pub module_id: Option<i64>,
    pub cycle_id: Option<i64>,
    pub summary: String,
    pub request_id: Option<String>,
}

pub async fn insert(c: &mut Conn<'_>, n: NewAudit) -> AppResult<()> {
    Sql::new(
        "INSERT INTO audit_events (at, actor_id, organization_id, action, entity_kind, entity_id, \
         question_id, summary, request_id) VALUES ($1, $2, $3, $4, $5, $6, \
         COALESCE($7, (SELECT k.question_id FROM modules m JOIN kits k ON k.id = m.kit_id \
                       WHERE m.id = COALESCE($10, (SELECT module_id FROM review_cycles WHERE id = $11)))), \
         $8, $9)",
    )
    .arg(n.at)
    .arg(n.actor_id)
    .arg(n.organization_id)
    .arg(n.action)
    .arg(n.entity_kind)
    .arg(n.entity_id)
    .arg(n.question_id)
    .arg(n.summary)
    .arg(n.request_id)
    .arg(n.module_id)
    .arg(n.cycle_id)
    .execute(c)
    .await?;
    Ok(())
}

/// What an audit query is limited to.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only events of these questions (`None`: every event, for the secretariat).
    pub questions: Option<Vec<i64>>,
    /// Draft events only of this actor (`None`: every draft event, for the
    /// secretariat); see [`crate::domain::audit`].
    pub drafts_of: Option<i64>,
    pub question_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub action: Option<AuditAction>,
    pub entity: Option<(NodeKind, i64)>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

fn filtered(sql: &mut Sql, f: &AuditFilter) {
    sql.push(" WHERE 1 = 1");
    if let Some(qs) = &f.questions {
        sql.push(" AND question_id IN ");
        sql.bind_list(qs.iter().map(|q| Arg::I64(*q)));
    }
    if let Some(reader) = f.drafts_of {
        // The SQL form of `domain::audit::draft_rule_allows`.
        let (legacy_action, legacy_summary) = LEGACY_DRAFT_EDIT;
        sql.push(" AND (actor_id = ").bind(reader);
        sql.push(" OR NOT (action IN ");
        sql.bind_list(DRAFT_ACTIONS.iter().map(|a| Arg::from(*a)));
        sql.push(" OR (action = ").bind(legacy_action);
        sql.push(" AND summary = ").bind(legacy_summary);
        sql.push(")))");
    }
    if let Some(q) = f.question_id {
        sql.push(" AND question_id = ").bind(q);
    }
    if let Some(a) = f.actor_id {
        sql.push(" AND actor_id = ").bind(a);
    }
    if let Some(a) = f.action {
        sql.push(" AND action = ").bind(a);
    }
    if let Some((kind, id)) = &f.entity {
        sql.push(" AND entity_kind = ").bind(*kind);
        sql.push(" AND entity_id = ").bind(*id);
    }
    if let Some(t) = f.since {
        sql.push(" AND at >= ").bind(t);
    }
    if let Some(t) = f.until {
        sql.push(" AND at < ").bind(t);
    }
}

/// Newest first.
pub async fn list(
    c: &mut Conn<'_>,
    f: &AuditFilter,
    page: &Page,
) -> AppResult<(Vec<AuditRow>, bool)> {
    let mut sql = Sql::new(
        "SELECT id, at, actor_id, organization_id, action, entity_kind, entity_id, question_id, \
         summary, request_id FROM audit_events",
    );
    filtered(&mut sql, f);
    sql.page_desc("id", page);
    Ok(finish_page(sql.fetch_all(c).await?, page))
}

pub async fn count(c: &mut Conn<'_>, f: &AuditFilter) -> AppResult<i64> {
    let mut sql = Sql::new("SELECT COUNT(*) FROM audit_events");
    filtered(&mut sql, f);
    sql.fetch_i64(c).await
}

pub async fn by_id(c: &mut Conn<'_>, id: i64) -> AppResult<Option<AuditRow>> {
    Sql::new(
        "SELECT id, at, actor_id, organization_id, action, entity_kind, entity_id, question_id, \
         summary, request_id FROM audit_events WHERE id = $1",
    )
    .arg(id)
    .fetch_optional(c)
    .await
}

/// Events by id (for `nodes`), in no particular order.
pub async fn by_ids(c: &mut Conn<'_>, ids: &[i64]) -> AppResult<Vec<AuditRow>> {
    let mut sql = Sql::new(
        "SELECT id, at, actor_id, organization_id, action, entity_kind, entity_id, question_id, \
         summary, request_id FROM audit_events WHERE id IN ",
    );
    sql.bind_list(ids.iter().map(|i| Arg::I64(*i)));
    sql.fetch_all(c).await
}
