//! `User`: a person who signs in, with (for the user alone) their notifications.

use async_graphql::{Context, Enum, Object, Result, ID};
use chrono::{DateTime, Utc};

use super::required;
use super::{Notification, Organization, Question};
use crate::domain::accounts as domain;
use crate::domain::ids::NodeKind;
use crate::error::AppError;
use crate::graphql::connection::{self, Conn, PageArgs};
use crate::graphql::context::CtxExt;
use crate::graphql::ids;
use crate::graphql::loaders::all_of;
use crate::service::queries::notifications;
use crate::service::records::UserRow;

/// A user's roles. RAPPORTEUR powers apply to the questions the user is assigned to.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "Role", remote = "crate::domain::accounts::Role")]
pub enum Role {
    /// Comments on drafts on behalf of the user's organization.
    Member,
    /// Runs review cycles and consolidation for assigned questions.
    Rapporteur,
    /// Administers the service: organizations, users, questions.
    Secretariat,
}

/// A person who signs in.
pub struct User {
    pub row: UserRow,
    /// Returned to the user it names by `login` or `changePassword`, before the
    /// request has a viewer.
    own_session: bool,
}

impl User {
    fn require_self(&self, ctx: &Context<'_>) -> Result<(), AppError> {
        if ctx.user()?.id == self.row.id {
            Ok(())
        } else {
            Err(AppError::forbidden("only you can see your notifications"))
        }
    }

    /// May the viewer see this user's account details: the user's own
    /// session just opened, the user, or the secretariat?
    fn account_visible(&self, ctx: &Context<'_>) -> Result<bool, AppError> {
        if self.own_session {
            return Ok(true);
        }
        let viewer = ctx.user()?;
        Ok(viewer.id == self.row.id || viewer.is_secretariat())
    }

    pub fn new(row: UserRow) -> Self {
        Self {
            row,
            own_session: false,
        }
    }

    /// The user of a session just opened.
    pub fn own(row: UserRow) -> Self {
        Self {
            row,
            own_session: true,
        }
    }
}

/// A person who signs in.
#[Object]
impl User {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::id(NodeKind::User, self.row.id)
    }

    /// Your notifications, newest first (`viewer { notifications }`): new
    /// revisions of modules your organization commented on or you follow.
    /// FORBIDDEN on any other user.
    #[graphql(complexity = "connection::cost(first, None, child_complexity)")]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "true: only unread ones; false: only read ones.")] unread: Option<bool>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
    ) -> Result<Conn<Notification>> {
        self.require_self(ctx)?;
        let (state, viewer) = (ctx.state()?, ctx.user()?);
        connection::query(
            ctx,
            PageArgs::forward(first, after),
            |page, total| async move { notifications::list(state, viewer, unread, &page, total).await },
            |r| (r.id, r.id),
            Notification,
        )
        .await
    }

    /// How many of your notifications are unread. FORBIDDEN on any other user.
    async fn unread_notification_count(&self, ctx: &Context<'_>) -> Result<i64> {
        self.require_self(ctx)?;
        Ok(notifications::unread_count(ctx.state()?, ctx.user()?).await?)
    }
    /// E-mail address (the sign-in name); visible to the user and the secretariat only.
    async fn email(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self
            .account_visible(ctx)?
            .then_some(self.row.email.as_str()))
    }
    /// Name shown to others.
    async fn display_name(&self) -> &str {
        &self.row.display_name
    }
    /// The organization the user acts for.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Organization> {
        required(ctx, self.row.organization_id, "user without organization").await
    }
    /// The user's roles.
    async fn roles(&self) -> Vec<Role> {
        domain::RoleSet::from_bits(self.row.roles)
            .to_vec()
            .into_iter()
            .map(Into::into)
            .collect()
    }
    /// Whether the user may sign in. A deactivated user's tokens stop working at once.
    async fn active(&self) -> bool {
        self.row.active
    }
    /// The questions this user is a rapporteur of.
    async fn rapporteur_of(&self, ctx: &Context<'_>) -> Result<Vec<Question>> {
        let loaders = ctx.loaders()?;
        let ids = all_of(&loaders.questions_of_rapporteur, self.row.id).await?;
        let rows = loaders.questions.load_many(ids.iter().copied()).await?;
        Ok(ids
            .iter()
            .filter_map(|i| rows.get(i).cloned())
            .map(Question)
            .collect())
    }
    /// Until when the temporary password the secretariat issued works (it
    /// signs in only to choose a new one); null once the user has chosen
    /// their own. Visible to the user and the secretariat only.
    async fn temporary_password_expires_at(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<DateTime<Utc>>> {
        let visible = self.account_visible(ctx)?;
        Ok(self.row.password_temporary_until.filter(|_| visible))
    }
    /// Until when failed sign-ins keep the user out (`unlockUserSignIn` lets
    /// them in at once); null when they may sign in. Secretariat only (null
    /// for others).
    async fn sign_in_locked_until(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        if !ctx.user()?.is_secretariat() {
            return Ok(None);
        }
        let until = ctx.loaders()?.sign_in_locks.load_one(self.row.id).await?;
        let now = ctx.state()?.clock.now();
        Ok(until.filter(|u| *u > now))
    }
    /// When the account was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
}
