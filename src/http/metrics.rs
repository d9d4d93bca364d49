//! `GET /metrics`, in the Prometheus text format (`--metrics`: on the main
//! listener, on an address of its own, or off).
//!
//! What is measured is recorded where it happens, through the `metrics`
//! facade: requests and GraphQL operations ([`super::observe`]), sign-in
//! failures and lockouts, WebSocket connections and subscriptions, live
//! events and their lag (imports and exports are the requests of their
//! routes). The pools and the statement count are read at each scrape. With metrics off no recorder is installed
//! and every measurement is a no-op.
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `kitreview_http_requests_total` | counter | route, status (class) |
//! | `kitreview_http_request_duration_seconds` | histogram | route |
//! | `kitreview_graphql_operations_total` | counter | operation, outcome (`ok` or the error code) |
//! | `kitreview_graphql_operation_duration_seconds` | histogram | operation |
//! | `kitreview_db_pool_connections` | gauge | pool, state (`in_use`, `idle`) |
//! | `kitreview_db_pool_waiting` | gauge | — requests waiting for a connection |
//! | `kitreview_db_statements_total` | counter | — |
//! | `kitreview_ws_connections` | gauge | — |
//! | `kitreview_ws_subscriptions` | gauge | — |
//! | `kitreview_live_events_total` | counter | — events dispatched to subscribers |
//! | `kitreview_live_event_lag_seconds` | histogram | — from the commit to the dispatch |
//! | `kitreview_sign_in_failures_total` | counter | reason |
//! | `kitreview_sign_in_lockouts_total` | counter | key (`account`, `address`) |

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::HttpState;

const SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process's recorder, installed at the first call (several servers in
/// one process, as in the tests, share it); `None` if it cannot be.
pub fn install() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS)
                .and_then(PrometheusBuilder::install_recorder)
                .map_err(|e| tracing::warn!(error = %e, "metrics are off: no recorder"))
                .ok()
        })
        .as_ref()
}

/// `GET /metrics`.
pub async fn scrape(State(s): State<HttpState>) -> Response {
    let Some(handle) = install() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    for pool in s.app.db.pool_stats() {
        let in_use = f64::from(pool.size) - pool.idle as f64;
        metrics::gauge!("kitreview_db_pool_connections", "pool" => pool.name, "state" => "in_use")
            .set(in_use.max(0.0));
        metrics::gauge!("kitreview_db_pool_connections", "pool" => pool.name, "state" => "idle")
            .set(pool.idle as f64);
    }
    metrics::counter!("kitreview_db_statements_total").absolute(s.app.db.statements());
    metrics::gauge!("kitreview_ws_connections").set(s.sockets.open() as f64);
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}
