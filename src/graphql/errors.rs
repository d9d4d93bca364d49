//! Every GraphQL error leaves with `extensions.code`; internal details never leave.
//!
//! The transport calls [`classify`] on each error of a response. (A schema
//! extension would do the same, but async-graphql then runs every extension's
//! hooks around every field, which cost measurable time on large pages.)

use std::sync::Arc;

use async_graphql::{ServerError, Value};

use crate::error::AppError;

/// Set the code of one error from its source.
pub fn classify(err: &mut ServerError) {
    let source = err.source.clone();
    let app = source.as_deref().and_then(|s| {
        s.downcast_ref::<AppError>()
            .or_else(|| s.downcast_ref::<Arc<AppError>>().map(|a| a.as_ref()))
    });
    let mut ext = err.extensions.take().unwrap_or_default();
    match app {
        Some(app) => {
            ext.set("code", app.code());
            match app {
                AppError::Validation { field, .. } | AppError::Stale { field, .. } => {
                    ext.set("field", field.as_str())
                }
                AppError::RateLimited { retry_after_secs } => {
                    ext.set("retryAfterSeconds", Value::from(*retry_after_secs))
                }
                AppError::Internal(cause) => {
                    tracing::error!(error = ?cause, path = ?err.path, "internal error");
                    err.message = "internal error".into();
                }
                _ => {}
            }
        }
        // Already coded where it was raised (the response budget).
        None if ext.get("code").is_some() => {}
        None if err.path.is_empty() => ext.set("code", "GRAPHQL_VALIDATION_FAILED"),
        // A resolver's input that the schema's own types refused (a scalar that failed to parse).
        None => ext.set("code", "VALIDATION"),
    }
    err.extensions = Some(ext);
}
