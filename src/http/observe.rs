//! What each request leaves behind: one access-log line (method, path without
//! its query string, status, duration, request id, client address, user id
//! and, for GraphQL, the operation) at the `info` level, and its metrics.
//!
//! The handlers say what they learn while the request runs (who it is, which
//! operation, its outcome) through a task-local note, read when it ends.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::{client_ip, HttpState};

/// What a request's handlers learned.
#[derive(Default)]
struct Notes {
    user_id: Option<i64>,
    /// The GraphQL operation's label and outcome (`ok` or an error code).
    operation: Option<(String, &'static str)>,
}

tokio::task_local! {
    static NOTES: Mutex<Notes>;
}

fn note(f: impl FnOnce(&mut Notes)) {
    let _ = NOTES.try_with(|n| {
        if let Ok(mut n) = n.lock() {
            f(&mut n);
        }
    });
}

/// The request is this user's.
pub fn user(id: i64) {
    note(|n| n.user_id = Some(id));
}

/// The request ran this GraphQL operation (its name, or `None` when
/// anonymous) with this outcome.
pub fn operation(name: Option<&str>, outcome: &'static str) {
    let label = operation_label(name);
    note(|n| n.operation = Some((label, outcome)));
}

/// Operation names come from clients: only plain names, and at most
/// `MAX_NAMES` distinct ones are kept as labels (any other is `other`), so
/// that no client can make the metrics grow without bound.
const MAX_NAMES: usize = 200;

fn operation_label(name: Option<&str>) -> String {
    static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let Some(name) = name else {
        return "anonymous".into();
    };
    let plain = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !plain {
        return "other".into();
    }
    let Ok(mut seen) = SEEN.get_or_init(Default::default).lock() else {
        return "other".into();
    };
    if seen.contains(name) || seen.len() < MAX_NAMES {
        seen.insert(name.to_owned());
        name.to_owned()
    } else {
        "other".into()
    }
}

/// The middleware: times the request, logs it, counts it.
pub async fn access(
    State(s): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    // The route, not the path: ids in paths would make a label per object.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "page".to_owned(), |m| m.as_str().to_owned());
    let client = client_ip(peer, req.headers(), s.app.trust_forwarded_for);
    let notes = Mutex::new(Notes::default());
    let (res, notes) = NOTES
        .scope(notes, async {
            let res = next.run(req).await;
            let notes = NOTES.with(|n| {
                n.lock()
                    .map(|mut n| std::mem::take(&mut *n))
                    .unwrap_or_default()
            });
            (res, notes)
        })
        .await;
    let elapsed = started.elapsed();
    let status = res.status().as_u16();
    let (operation, outcome) = notes
        .operation
        .as_ref()
        .map_or(("", ""), |(o, out)| (o.as_str(), *out));
    tracing::info!(
        target: "kitreview::access",
        method = %method,
        path = %path,
        status,
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        request_id = crate::service::audit::request_id().as_deref().unwrap_or(""),
        client = %client,
        user_id = notes.user_id,
        operation,
        outcome,
        "request"
    );
    let class = match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    metrics::counter!("kitreview_http_requests_total", "route" => route.clone(), "status" => class)
        .increment(1);
    metrics::histogram!("kitreview_http_request_duration_seconds", "route" => route)
        .record(elapsed.as_secs_f64());
    if let Some((operation, outcome)) = notes.operation {
        metrics::counter!(
            "kitreview_graphql_operations_total",
            "operation" => operation.clone(),
            "outcome" => outcome
        )
        .increment(1);
        metrics::histogram!("kitreview_graphql_operation_duration_seconds", "operation" => operation)
            .record(elapsed.as_secs_f64());
    }
    res
}
