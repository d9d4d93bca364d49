//! Signing in, the viewer, and password changes.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::context::CtxExt;
use super::types::User;
use crate::error::AppError;
use crate::service::session as service;

/// Credentials.
#[derive(InputObject)]
pub struct LoginInput {
    /// E-mail address (case-insensitive).
    pub email: String,
    /// Password.
    #[graphql(secret)]
    pub password: String,
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
    /// the same error; repeated failures are throttled (RATE_LIMITED).
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: LoginInput,
    ) -> Result<LoginPayload> {
        let addr = ctx.request()?.client_addr;
        let s = {
            let state = ctx.state()?;
            service::login(state, &input.email, &input.password, addr, state.token_ttl).await?
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
}
