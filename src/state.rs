//! The state every request shares: database, clock, token and password services, limits.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::jwt::TokenService;
use crate::auth::password::PasswordHasher;
use crate::clock::SharedClock;
use crate::config::LimitArgs;
use crate::db::Db;

/// Shared application state; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub db: Db,
    pub clock: SharedClock,
    pub tokens: TokenService,
    pub passwords: PasswordHasher,
    /// Lifetime of tokens returned by `login`.
    pub token_ttl: Duration,
    /// Lifetime of a workspace session (the sign-in cookie).
    pub session_ttl: Duration,
    pub secure_cookies: crate::config::SecureCookies,
    pub limits: LimitArgs,
    /// Take the client address from `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
    /// Live updates: where committed events are fanned out to subscribers.
    pub live: crate::live::Hub,
    /// Revision diffs already computed (revisions never change).
    pub diffs: crate::service::modules::DiffCache,
    /// Revisions rendered as HTML for the workspace (revisions never change).
    pub html: crate::service::rendering::HtmlCache,
    /// Who recently seen tokens are, while nothing was written since.
    pub auth_cache: crate::service::session::AuthCache,
    /// Origins whose pages may call the API from a browser (CORS).
    pub cors_origins: Vec<axum::http::HeaderValue>,
}

impl AppState {
    pub fn new(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
