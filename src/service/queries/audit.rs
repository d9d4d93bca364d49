//! The audit log: the secretariat reads everything; a rapporteur reads the
//! events of the questions they are rapporteurs of, except other people's
//! draft events; anyone else nothing.

use super::count_if;
use crate::auth::AuthUser;
use crate::db::audit as store;
use crate::domain::accounts::Role;
use crate::domain::audit as rules;
use crate::domain::page::{Page, PageOf};
use crate::error::{AppError, AppResult};
use crate::service::records::{AuditFilter, AuditRow};
use crate::state::AppState;

/// The questions whose events `user` may read: `None` for all (secretariat).
fn readable_questions(user: &AuthUser) -> AppResult<Option<Vec<i64>>> {
    if user.is_secretariat() {
        return Ok(None);
    }
    if user.roles.contains(Role::Rapporteur) && !user.rapporteur_of.is_empty() {
        return Ok(Some(user.rapporteur_of.clone()));
    }
    Err(AppError::forbidden(
        "the audit log is for the secretariat and the rapporteurs of a question",
    ))
}

/// Whose draft events `user` may read: `None` for all (secretariat), else only their own.
fn readable_drafts(user: &AuthUser) -> Option<i64> {
    (!user.is_secretariat()).then_some(user.id)
}

/// May `user` read this event? The rules that [`AuditReader::list`] applies in SQL.
pub fn may_read(user: &AuthUser, row: &AuditRow) -> bool {
    let in_scope = match readable_questions(user) {
        Ok(None) => true,
        Ok(Some(qs)) => row.question_id.is_some_and(|q| qs.contains(&q)),
        Err(_) => false,
    };
    in_scope
        && readable_drafts(user).is_none_or(|reader| {
            rules::draft_rule_allows(reader, row.action, &row.summary, row.actor_id)
        })
}

/// A viewer allowed to read (part of) the audit log.
#[derive(Debug, Clone)]
pub struct AuditReader {
    questions: Option<Vec<i64>>,
    drafts_of: Option<i64>,
}

impl AuditReader {
    /// The reader `user` is; FORBIDDEN for anyone but the secretariat and rapporteurs.
    pub fn of(user: &AuthUser) -> AppResult<Self> {
        Ok(Self {
            questions: readable_questions(user)?,
            drafts_of: readable_drafts(user),
        })
    }

    /// One page of the events this reader may read among those `asked` for,
    /// newest first (its reading scope replaces whatever `asked` says of it).
    pub async fn list(
        &self,
        state: &AppState,
        asked: AuditFilter,
        page: &Page,
        with_total: bool,
    ) -> AppResult<PageOf<AuditRow>> {
        let filter = AuditFilter {
            questions: self.questions.clone(),
            drafts_of: self.drafts_of,
            ..asked
        };
        let mut pooled = state.db.read().await?;
        let c = &mut pooled.conn();
        let rows = store::list(c, &filter, page).await?;
        let total = count_if(with_total, store::count(c, &filter)).await?;
        Ok(PageOf::new(rows, total))
    }
}
