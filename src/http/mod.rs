//! HTTP: the router, GraphQL over HTTP, health checks, and the limits on every request.

pub mod auth;
pub mod conditional;
pub mod cors;
pub mod files;
pub mod graphql;
pub mod media;
pub mod metrics;
pub mod observe;
pub mod server;
pub mod session;
pub mod slots;
pub mod web;
pub mod ws;

use std::net::SocketAddr;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use tower::util::option_layer;
use tower_http::compression::{self, predicate::Predicate as _, CompressionLayer};
use tower_http::trace::TraceLayer;

use crate::graphql::KitSchema;
use crate::state::AppState;

/// What every handler gets.
#[derive(Clone)]
pub struct HttpState {
    pub app: AppState,
    pub schema: KitSchema,
    pub sockets: ws::Sockets,
}

/// `GET /metrics` alone, for a listener of its own.
pub fn metrics_router(app: AppState, schema: KitSchema, sockets: ws::Sockets) -> Router {
    Router::new()
        .route("/metrics", get(metrics::scrape))
        .with_state(HttpState {
            app,
            schema,
            sockets,
        })
}

/// The whole HTTP surface; `/metrics` too when `with_metrics`.
pub fn router(
    app: AppState,
    schema: KitSchema,
    sockets: ws::Sockets,
    with_metrics: bool,
) -> Router {
    let limits = app.limits.clone();
    let cors_origins = app.cors_origins.clone();
    let state = HttpState {
        app,
        schema,
        sockets,
    };
    Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/session", get(session::current).post(session::sign_in))
        .route("/session/sign-out", post(session::sign_out))
        .route("/session/password", post(session::change_password))
        // The workspace's scripts, styles and catalogues compress 3-4×: worth
        // it on the slow links of some delegations (the API's JSON is not
        // compressed here; a proxy in front may).
        .route(
            "/assets/{*path}",
            get(web::asset).layer(CompressionLayer::new().compress_when(
                compression::predicate::DefaultPredicate::new().and(web::small_asset),
            )),
        )
        .fallback(web::page)
        .route("/healthz", get(healthz))
        // Elsewhere or off: a plain 404, not the workspace's page.
        .route(
            "/metrics",
            if with_metrics {
                get(metrics::scrape)
            } else {
                get(|| async { StatusCode::NOT_FOUND })
            },
        )
        .route("/readyz", get(readyz))
        .route("/exports/cycles/{id}/{file}", get(files::export))
        .route(
            "/imports/cycles/{id}/comments",
            post(files::import).layer(DefaultBodyLimit::max(limits.max_upload_bytes)),
        )
        .layer(DefaultBodyLimit::max(limits.body_limit_bytes))
        .layer(axum::middleware::from_fn_with_state(
            limits.request_timeout,
            time_limit,
        ))
        .layer(option_layer(cors::layer(&cors_origins)))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            observe::access,
        ))
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn(request_id))
        .with_state(state)
}

/// Every request runs within `--request-timeout`, unless it has sent a COMMIT
/// (see [`crate::deadline`]): a 503 with code TIMEOUT always means that nothing
/// was stored, and the request may be sent again.
async fn time_limit(
    State(limit): State<std::time::Duration>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    match crate::deadline::run(limit, next.run(req)).await {
        Some(res) => res,
        None => {
            let e = crate::error::AppError::Timeout(format!(
                "the request ran past its time limit of {}; nothing was stored",
                humantime::format_duration(limit)
            ));
            let body = serde_json::json!({ "errors": [ {
                "message": e.to_string(),
                "extensions": { "code": e.code() },
            } ] });
            let mut res = (StatusCode::SERVICE_UNAVAILABLE, body.to_string()).into_response();
            let h = res.headers_mut();
            h.insert(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/json"),
            );
            h.insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
            res
        }
    }
}

/// Every request has an id made by the server (never the client's
/// `X-Request-Id`, which could forge or repeat ids in the audit trail). It is
/// returned in the response and kept with each audit event the request writes.
async fn request_id(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let id = crate::service::audit::new_request_id();
    let mut res = crate::service::audit::REQUEST_ID
        .scope(id.clone(), next.run(req))
        .await;
    if let Ok(v) = axum::http::HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok\n"
}

/// The database answers (and on SQLite a write can begin), within a second.
async fn readyz(State(s): State<HttpState>) -> impl IntoResponse {
    match tokio::time::timeout(std::time::Duration::from_secs(1), s.app.db.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready\n"),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
        }
        Err(_) => {
            tracing::warn!("readiness check timed out");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
        }
    }
}

/// The client address used for throttling: the peer, or the last `X-Forwarded-For`
/// hop (the one our own proxy added) when configured to trust it.
pub fn client_ip(
    peer: SocketAddr,
    headers: &axum::http::HeaderMap,
    trust_forwarded: bool,
) -> std::net::IpAddr {
    if trust_forwarded {
        if let Some(ip) = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .rev()
            .find_map(|s| s.trim().parse().ok())
        {
            return ip;
        }
    }
    peer.ip()
}
