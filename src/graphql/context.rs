//! What resolvers read from the request context: state, viewer, loaders.

use async_graphql::Context;

use super::loaders::Loaders;
use crate::auth::{AuthUser, Viewer};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Everything a request carries into the schema.
pub struct RequestData {
    pub viewer: Viewer,
    /// Shared with a subscription's event stream, which resets it per event.
    pub loaders: std::sync::Arc<Loaders>,
    /// The client's address, for sign-in throttling.
    pub client_addr: Option<std::net::IpAddr>,
}

/// Typed access to the request data.
pub trait CtxExt {
    fn state(&self) -> AppResult<&AppState>;
    fn request(&self) -> AppResult<&RequestData>;
    /// The signed-in user, or UNAUTHENTICATED.
    fn user(&self) -> AppResult<&AuthUser> {
        self.request()?.viewer.user()
    }
    fn loaders(&self) -> AppResult<&Loaders> {
        Ok(&self.request()?.loaders)
    }
}

impl CtxExt for Context<'_> {
    fn state(&self) -> AppResult<&AppState> {
        self.data::<AppState>()
            .map_err(|_| AppError::internal(anyhow::anyhow!("no AppState in the request")))
    }
    fn request(&self) -> AppResult<&RequestData> {
        self.data::<RequestData>()
            .map_err(|_| AppError::internal(anyhow::anyhow!("no RequestData in the request")))
    }
}
