//! Signing in, the viewer, password changes, and the secretariat's way back
//! in for a user who forgot their password or locked their account.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::context::CtxExt;
use super::ids::decode_id;
use super::types::User;
use crate::domain::ids::NodeKind;
use crate::error::AppError;
use crate::service::{passwords, session as service, Actor};

/// Credentials.
#[derive(InputObject)]
pub struct LoginInput {
    /// E-mail address (case-insensitive).
    pub email: String,
    /// Password.
    #[graphql(secret)]
    pub password: String,
    /// A new password of your own (at least 12 characters), set as you sign
    /// in; required (PASSWORD_CHANGE_REQUIRED) when `password` is a
    /// temporary one from the secretariat.
    #[graphql(secret)]
    pub new_password: Option<String>,
}

/// A signed-in session.
#[derive(SimpleObject)]
pub struct LoginPayload {
    /// Bearer token: send it as `Authorization: Bearer <token>`.
    pub token: String,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
    /// The signed-in user.
    pub viewer: User,
}

/// A password change.
#[derive(InputObject)]
pub struct ChangePasswordInput {
    /// The current password.
    #[graphql(secret)]
    pub current_password: String,
    /// The new password (at least 12 characters).
    #[graphql(secret)]
    pub new_password: String,
}

/// The new session after a password change (every earlier token stops working).
#[derive(SimpleObject)]
pub struct ChangePasswordPayload {
    /// A fresh bearer token.
    pub token: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// The user.
    pub viewer: User,
}

/// Whose password to reset, or whose sign-in to unlock.
#[derive(InputObject)]
pub struct UserPasswordInput {
    /// The user.
    pub user_id: ID,
}

/// A temporary password, shown this once: pass it on to the user.
#[derive(SimpleObject)]
pub struct ResetUserPasswordPayload {
    /// The user as it is now.
    pub user: User,
    /// The temporary password. It is not stored in clear and cannot be shown
    /// again; it signs in only to choose a new password (`login` with
    /// `newPassword`).
    pub temporary_password: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// The user after the unlock.
#[derive(SimpleObject)]
pub struct UnlockUserSignInPayload {
    /// The user as it is now.
    pub user: User,
}

#[derive(Default)]
pub struct SessionQuery;

#[Object]
impl SessionQuery {
    /// The signed-in user.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<User> {
        let id = ctx.user()?.id;
        let row = ctx.loaders()?.users.load_one(id).await?.ok_or_else(|| {
            AppError::Unauthenticated("the signed-in user no longer exists".into())
        })?;
        Ok(User::new(row))
    }
}

#[derive(Default)]
pub struct SessionMutation;

#[Object]
impl SessionMutation {
    /// Sign in with e-mail and password. A wrong e-mail and a wrong password give
    /// the same error; repeated failures are throttled (RATE_LIMITED). A
    /// temporary password (`resetUserPassword`) signs in only with
    /// `newPassword`: without it, PASSWORD_CHANGE_REQUIRED.
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: LoginInput,
    ) -> Result<LoginPayload> {
        let addr = ctx.request()?.client_addr;
        let s = {
            let state = ctx.state()?;
            service::login(
                state,
                &input.email,
                &input.password,
                input.new_password.as_deref(),
                addr,
                state.token_ttl,
            )
            .await?
        };
        Ok(LoginPayload {
            token: s.token,
            expires_at: s.expires_at,
            viewer: User::own(s.user),
        })
    }

    /// Change your own password. Every token issued before stops working; use the returned one.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: ChangePasswordInput,
    ) -> Result<ChangePasswordPayload> {
        let viewer = ctx.user()?;
        let s = service::change_password(
            ctx.state()?,
            viewer,
            &input.current_password,
            &input.new_password,
        )
        .await?;
        Ok(ChangePasswordPayload {
            token: s.token,
            expires_at: s.expires_at,
            viewer: User::own(s.user),
        })
    }

    /// Give a user who forgot their password a temporary one, shown once in
    /// the answer: their earlier password and tokens stop working, a sign-in
    /// lock is lifted, and the temporary password signs in (for 7 days) only
    /// to choose a new one. Recorded in the audit trail. Secretariat only;
    /// not for your own account.
    async fn reset_user_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: UserPasswordInput,
    ) -> Result<ResetUserPasswordPayload> {
        let viewer = ctx.user()?;
        let id = decode_id("userId", &input.user_id, NodeKind::User)?;
        let reset = passwords::reset_password(ctx.state()?, Actor::User(viewer), id).await?;
        Ok(ResetUserPasswordPayload {
            user: User::new(reset.user),
            temporary_password: reset.password,
            expires_at: reset.expires_at,
        })
    }

    /// Let a user whose account failed sign-ins locked (`signInLockedUntil`)
    /// try again at once; their password is unchanged. Recorded in the audit
    /// trail. Secretariat only.
    async fn unlock_user_sign_in(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: UserPasswordInput,
    ) -> Result<UnlockUserSignInPayload> {
        let viewer = ctx.user()?;
        let id = decode_id("userId", &input.user_id, NodeKind::User)?;
        let row = passwords::unlock_sign_in(ctx.state()?, Actor::User(viewer), id).await?;
        Ok(UnlockUserSignInPayload {
            user: User::new(row),
        })
    }
}
