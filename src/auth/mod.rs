//! Authentication and the viewer: passwords, tokens, the signing secret.

pub mod jwt;
pub mod password;
pub mod secret;
pub mod viewer;

pub use viewer::{AuthUser, Viewer};
