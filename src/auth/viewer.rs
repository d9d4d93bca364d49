//! Who is asking: the signed-in user with roles and rapporteur assignments.

use std::sync::Arc;

use crate::domain::accounts::{Role, RoleSet};
use crate::error::{AppError, AppResult};

/// A signed-in, active user, as loaded for this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser {
    pub id: i64,
    pub organization_id: i64,
    pub roles: RoleSet,
    /// Ids of the questions this user is a rapporteur of.
    pub rapporteur_of: Vec<i64>,
}

impl AuthUser {
    pub fn is_secretariat(&self) -> bool {
        self.roles.contains(Role::Secretariat)
    }

    /// A rapporteur of this question (and holding the RAPPORTEUR role).
    pub fn is_rapporteur_of(&self, question_id: i64) -> bool {
        self.roles.contains(Role::Rapporteur) && self.rapporteur_of.contains(&question_id)
    }

    /// May manage the content and cycles of this question.
    pub fn manages_question(&self, question_id: i64) -> bool {
        self.is_secretariat() || self.is_rapporteur_of(question_id)
    }

    /// Fail unless SECRETARIAT.
    pub fn require_secretariat(&self) -> AppResult<()> {
        if self.is_secretariat() {
            Ok(())
        } else {
            Err(AppError::forbidden("only the secretariat may do this"))
        }
    }
}

/// The viewer of a request.
#[derive(Debug, Clone, Default)]
pub enum Viewer {
    /// No token was presented.
    #[default]
    Anonymous,
    User(Arc<AuthUser>),
}

impl Viewer {
    /// The signed-in user, or UNAUTHENTICATED.
    pub fn user(&self) -> AppResult<&AuthUser> {
        match self {
            Viewer::User(u) => Ok(u),
            Viewer::Anonymous => Err(AppError::Unauthenticated(
                "sign in first: send `Authorization: Bearer <token>` (see the login mutation)"
                    .into(),
            )),
        }
    }
}
