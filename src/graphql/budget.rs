//! The response-size budget: every field's value is weighed as it resolves, and
//! once a query or mutation has produced more than its budget the rest of its
//! fields fail at once and the whole answer becomes one RESPONSE_TOO_LARGE
//! error. A response is therefore never built far past the budget in memory
//! (900 aliases of a 2 MiB text stop after the budget, not at 1.9 GB).
//!
//! Subscriptions are not weighed here: their events are small and each is sent
//! on its own; the document limits (aliases, expanded size) bound them.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextResolve, ResolveInfo,
};
use async_graphql::{ErrorExtensions, Response, ServerError, ServerResult, Value};

/// The error code of a response over the budget.
pub const CODE: &str = "RESPONSE_TOO_LARGE";

/// Creates one budget per request.
pub struct ResponseBudget {
    pub max_bytes: usize,
}

impl ExtensionFactory for ResponseBudget {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Budget {
            max: self.max_bytes,
            used: AtomicUsize::new(0),
            active: AtomicBool::new(false),
            over: AtomicBool::new(false),
        })
    }
}

struct Budget {
    max: usize,
    used: AtomicUsize,
    /// Set while a query or mutation executes (not for subscription events).
    active: AtomicBool,
    over: AtomicBool,
}

impl Budget {
    fn error(&self) -> ServerError {
        let e = async_graphql::Error::new(format!(
            "the response is over the limit of {} bytes: ask for fewer fields or smaller pages",
            self.max
        ))
        .extend_with(|_, ext| ext.set("code", CODE));
        ServerError {
            message: e.message,
            source: None,
            locations: Vec::new(),
            path: Vec::new(),
            extensions: e.extensions,
        }
    }
}

/// About what `v` adds to the JSON text, not counting nested objects (their
/// fields are weighed as they resolve).
fn weight(v: &Value) -> usize {
    match v {
        Value::Null => 4,
        Value::Number(_) => 8,
        Value::Boolean(_) => 5,
        Value::String(s) => s.len() + 2,
        Value::Enum(e) => e.len() + 2,
        Value::Binary(b) => b.len() * 4 / 3 + 2,
        Value::List(items) => 2 + items.iter().map(|i| weight(i) + 1).sum::<usize>(),
        Value::Object(_) => 2,
    }
}

#[async_trait::async_trait]
impl Extension for Budget {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        self.active.store(true, Ordering::Relaxed);
        let response = next.run(ctx, operation_name).await;
        if self.over.load(Ordering::Relaxed) {
            Response::from_errors(vec![self.error()])
        } else {
            response
        }
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if !self.active.load(Ordering::Relaxed) {
            return next.run(ctx, info).await;
        }
        if self.over.load(Ordering::Relaxed) {
            return Err(self.error());
        }
        let key = info.alias.unwrap_or(info.name).len() + 4;
        let value = next.run(ctx, info).await?;
        let n = key + value.as_ref().map_or(4, weight);
        let used = self.used.fetch_add(n, Ordering::Relaxed).saturating_add(n);
        if used > self.max {
            self.over.store(true, Ordering::Relaxed);
            return Err(self.error());
        }
        Ok(value)
    }
}
