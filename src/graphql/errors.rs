//! Every GraphQL error leaves with `extensions.code`; internal details never leave.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextRequest};
use async_graphql::{Response, ServerError, Value};

use crate::error::AppError;

/// Schema extension that fills in `extensions.code` (and `field`, `retryAfterSeconds`).
pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodesExtension)
    }
}

struct ErrorCodesExtension;

#[async_trait::async_trait]
impl Extension for ErrorCodesExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        for err in &mut response.errors {
            classify(err);
        }
        response
    }
}

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
                AppError::Validation { field, .. } => ext.set("field", field.as_str()),
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
        None if err.path.is_empty() => ext.set("code", "GRAPHQL_VALIDATION_FAILED"),
        // A resolver's input that the schema's own types refused (a scalar that failed to parse).
        None => ext.set("code", "VALIDATION"),
    }
    err.extensions = Some(ext);
}
