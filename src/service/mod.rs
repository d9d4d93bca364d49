//! Use cases: check who may do it, validate, write in one transaction.
//! Called by the GraphQL resolvers and the command line alike.

pub mod accounts;
pub mod audit;
pub mod carry;
pub mod comments;
pub mod consolidation;
pub mod cycles;
pub mod freshness;
pub mod idempotency;
pub mod import;
pub mod modules;
pub mod notifications;
pub mod passwords;
pub mod queries;
pub mod records;
pub mod rendering;
pub mod search;
pub mod session;
pub mod table;
pub mod workbook;

use crate::auth::AuthUser;
use crate::error::{AppError, AppResult};

/// Who performs a change: a signed-in user, or the operator at the command line.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    /// `kitreview user create` and the demo loader: trusted, local.
    Operator,
    User(&'a AuthUser),
}

impl Actor<'_> {
    pub fn require_secretariat(&self) -> AppResult<()> {
        match self {
            Actor::Operator => Ok(()),
            Actor::User(u) => u.require_secretariat(),
        }
    }

    /// May manage this question's kits, modules, revisions and cycles.
    pub fn manages_question(&self, question_id: i64) -> bool {
        match self {
            Actor::Operator => true,
            Actor::User(u) => u.manages_question(question_id),
        }
    }

    pub fn user_id(&self) -> Option<i64> {
        match self {
            Actor::Operator => None,
            Actor::User(u) => Some(u.id),
        }
    }
}

/// Map a domain validation failure onto an input field.
pub(crate) fn field<T>(name: &str, r: Result<T, crate::domain::accounts::Invalid>) -> AppResult<T> {
    r.map_err(|e| AppError::validation(name, e.0))
}
