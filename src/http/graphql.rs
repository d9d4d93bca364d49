//! `POST /graphql` and `GET /graphql` as the GraphQL-over-HTTP spec says:
//! `Accept` negotiation, the request's shape checked before anything runs,
//! 4xx statuses for request errors under `application/graphql-response+json`,
//! no mutations over GET, and GraphiQL for browsers.

use std::net::SocketAddr;

use async_graphql::parser::types::OperationType;
use async_graphql::ServerError;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::ws::{rejection::WebSocketUpgradeRejection, WebSocketUpgrade};
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::conditional;
use super::media::{self, Media};
use super::{client_ip, HttpState};
use crate::graphql::request::{self, Refused};

/// The checked parameters of one GraphQL request.
struct Params {
    query: String,
    operation_name: Option<String>,
    variables: Option<Map<String, Value>>,
}

/// A request that fails before execution: no `data` in the answer.
struct RequestError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl RequestError {
    fn bad(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "BAD_REQUEST",
            message: message.into(),
        }
    }
}

fn error_body(code: &str, message: &str) -> Value {
    json!({ "errors": [ { "message": message, "extensions": { "code": code } } ] })
}

fn json_response(status: StatusCode, media: Media, body: &Value) -> Response {
    bytes_response(status, media, body.to_string().into_bytes())
}

fn bytes_response(status: StatusCode, media: Media, body: Vec<u8>) -> Response {
    let mut res = (status, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.content_type()),
    );
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// A malformed request (not JSON, parameters of the wrong type) is a 400 whatever
/// the media type. A document that does not parse keeps its 400 under
/// `application/graphql-response+json`, but is a 200 under legacy `application/json`,
/// whose clients read the errors from the body.
fn request_error(media: Media, e: RequestError) -> Response {
    let status = match media {
        Media::Json if e.status == StatusCode::BAD_REQUEST && e.code != "BAD_REQUEST" => {
            StatusCode::OK
        }
        _ => e.status,
    };
    json_response(status, media, &error_body(e.code, &e.message))
}

fn opt_string(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, RequestError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(RequestError::bad(format!("`{key}` must be a string"))),
    }
}

fn opt_object(v: Option<&Value>, key: &str) -> Result<Option<Map<String, Value>>, RequestError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m.clone())),
        Some(_) => Err(RequestError::bad(format!("`{key}` must be an object"))),
    }
}

fn params_from_body(body: &[u8]) -> Result<Params, RequestError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| RequestError::bad(format!("the body is not valid JSON: {e}")))?;
    let obj = match value {
        Value::Object(o) => o,
        Value::Array(_) => {
            return Err(RequestError::bad(
                "batched requests are not supported: send one operation per request",
            ))
        }
        _ => return Err(RequestError::bad("the body must be a JSON object")),
    };
    let query = match obj.get("query") {
        Some(Value::String(q)) => q.clone(),
        None | Some(Value::Null) => {
            return Err(RequestError::bad("the `query` parameter is missing"))
        }
        Some(_) => return Err(RequestError::bad("`query` must be a string")),
    };
    let operation_name = opt_string(&obj, "operationName")?;
    let variables = opt_object(obj.get("variables"), "variables")?;
    opt_object(obj.get("extensions"), "extensions")?;
    Ok(Params {
        query,
        operation_name,
        variables,
    })
}

fn params_from_query_string(raw: &str) -> Result<Params, RequestError> {
    let mut query = None;
    let mut operation_name = None;
    let mut variables = None;
    for (k, v) in url::form_urlencoded::parse(raw.as_bytes()) {
        match k.as_ref() {
            "query" => query = Some(v.into_owned()),
            "operationName" if !v.is_empty() => operation_name = Some(v.into_owned()),
            "variables" if !v.is_empty() => {
                let parsed: Value = serde_json::from_str(&v)
                    .map_err(|_| RequestError::bad("`variables` must be a JSON object"))?;
                variables = opt_object(Some(&parsed), "variables")?;
            }
            "extensions" if !v.is_empty() => {
                let parsed: Value = serde_json::from_str(&v)
                    .map_err(|_| RequestError::bad("`extensions` must be a JSON object"))?;
                opt_object(Some(&parsed), "extensions")?;
            }
            _ => {}
        }
    }
    let query = query.ok_or_else(|| RequestError::bad("the `query` parameter is missing"))?;
    Ok(Params {
        query,
        operation_name,
        variables,
    })
}

async fn execute(
    s: HttpState,
    media: Media,
    params: Params,
    headers: HeaderMap,
    peer: SocketAddr,
    is_get: bool,
) -> Response {
    // A query over GET is conditional: its tag is computed from what the
    // data looked like before it runs (a write meanwhile changes the next
    // tag). The same read serves the token check.
    let fresh = if is_get && super::auth::has_credential(&headers) {
        crate::service::freshness::current(&s.app).await.ok()
    } else {
        None
    };
    let viewer = match super::auth::viewer_at(&s, &headers, !is_get, fresh.map(|f| f.data)).await {
        Ok(v) => v,
        Err((status, e)) => {
            let mut res = json_response(status, media, &error_body(e.code(), &e.to_string()));
            if status == StatusCode::UNAUTHORIZED {
                res.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
            }
            if status == StatusCode::SERVICE_UNAVAILABLE {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            return res;
        }
    };
    let etag = fresh.and_then(|fresh| {
        conditional::etag(
            &viewer,
            media,
            &params.query,
            params.operation_name.as_deref(),
            params.variables.as_ref(),
            fresh,
        )
    });
    let client_addr = Some(client_ip(peer, &headers, s.app.trust_forwarded_for));
    let prepared = match request::prepare(
        &s.app,
        params.query,
        params.operation_name,
        params.variables,
        viewer,
        client_addr,
    ) {
        Ok(p) => p,
        Err(refused) => {
            super::observe::operation(None, refused.code());
            let status = match refused {
                Refused::TooLong { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                Refused::Introspection => StatusCode::UNAUTHORIZED,
                _ => StatusCode::BAD_REQUEST,
            };
            let body = json!({ "errors": [refused.to_json()] });
            let status = match (media, status) {
                (Media::Json, StatusCode::BAD_REQUEST) => StatusCode::OK,
                (_, st) => st,
            };
            return json_response(status, media, &body);
        }
    };
    match prepared.ty {
        Some(OperationType::Mutation) if is_get => {
            let mut res = request_error(
                media,
                RequestError {
                    status: StatusCode::METHOD_NOT_ALLOWED,
                    code: "METHOD_NOT_ALLOWED",
                    message: "mutations are not allowed over GET; use POST".into(),
                },
            );
            if media == Media::Json {
                *res.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            }
            res.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            return res;
        }
        Some(OperationType::Subscription) => {
            return request_error(
                media,
                RequestError::bad("subscriptions are not served over plain HTTP"),
            )
        }
        _ => {}
    }
    if let Some(tag) = etag.as_deref() {
        if conditional::none_match_holds(&headers, tag) {
            let mut res = StatusCode::NOT_MODIFIED.into_response();
            conditional::tag(res.headers_mut(), tag);
            return res;
        }
    }
    let name = prepared.name().map(str::to_owned);
    let mut response = s.schema.execute(prepared.request).await;
    prepared.shape.finish(&mut response);
    let clean = response.errors.is_empty();
    super::observe::operation(name.as_deref(), outcome(&response));
    let mut res = graphql_response(media, response);
    if let (Some(tag), true) = (etag.as_deref(), clean) {
        conditional::tag(res.headers_mut(), tag);
    }
    res
}

/// `ok`, or the code of the first error (one of a fixed set).
fn outcome(response: &async_graphql::Response) -> &'static str {
    let Some(e) = response.errors.first() else {
        return "ok";
    };
    let code = e
        .extensions
        .as_ref()
        .and_then(|x| x.get("code"))
        .map(|v| v.to_string());
    match code.as_deref().map(|c| c.trim_matches('"')) {
        Some(c) => crate::error::KNOWN_CODES
            .iter()
            .find(|k| **k == c)
            .copied()
            .unwrap_or("error"),
        None => "error",
    }
}

/// A response with no data and only path-less errors failed before execution
/// (validation, variables, limits): under `application/graphql-response+json`
/// that is a 400 and the answer has no `data` entry.
fn graphql_response(media: Media, response: async_graphql::Response) -> Response {
    let before_execution = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    // The database could not be reached and nothing was produced: 503, and
    // the client may retry (nothing was written).
    let unavailable = response.data == async_graphql::Value::Null
        && response.errors.iter().any(|e| {
            e.extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .is_some_and(|c| {
                    *c == async_graphql::Value::from("UNAVAILABLE")
                        || *c == async_graphql::Value::from("TIMEOUT")
                })
        });
    let status = if unavailable {
        StatusCode::SERVICE_UNAVAILABLE
    } else if before_execution && media == Media::GraphqlResponseJson {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    // Serialize straight to bytes: building a JSON value tree first doubled the
    // allocations on large pages.
    let body = if before_execution {
        serde_json::to_vec(&json!({ "errors": errors_json(&response.errors) }))
    } else {
        serde_json::to_vec(&response)
    };
    match body {
        Ok(bytes) => {
            let mut res = bytes_response(status, media, bytes);
            if unavailable {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            res
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot serialize a response");
            json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                media,
                &error_body("INTERNAL", "internal error"),
            )
        }
    }
}

fn errors_json(errors: &[ServerError]) -> Value {
    serde_json::to_value(errors).unwrap_or_else(|_| json!([{ "message": "internal error" }]))
}

fn not_acceptable() -> Response {
    json_response(
        StatusCode::NOT_ACCEPTABLE,
        Media::Json,
        &error_body(
            "NOT_ACCEPTABLE",
            "this endpoint answers application/graphql-response+json or application/json",
        ),
    )
}

/// `POST /graphql`.
pub async fn post(
    State(s): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let Some(media) = media::negotiate(accept) else {
        return not_acceptable();
    };
    // A page of another site that posts with the session cookie (a form can
    // send text/plain) is refused as such, whatever its body.
    if let Err((status, e)) = super::auth::refuse_cross_site(&s, &headers) {
        return json_response(status, media, &error_body(e.code(), &e.to_string()));
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if !media::is_json_body(content_type) {
        return json_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            &error_body(
                "UNSUPPORTED_MEDIA_TYPE",
                "send the request as `Content-Type: application/json` (UTF-8)",
            ),
        );
    }
    let body = match body {
        Ok(b) => b,
        Err(rejection) => {
            let status = rejection.status();
            let (code, message) = if status == StatusCode::PAYLOAD_TOO_LARGE {
                (
                    "PAYLOAD_TOO_LARGE",
                    format!(
                        "the request body is over the limit of {} bytes",
                        s.app.limits.body_limit_bytes
                    ),
                )
            } else {
                ("BAD_REQUEST", rejection.body_text())
            };
            return json_response(status, media, &error_body(code, &message));
        }
    };
    match params_from_body(&body) {
        Ok(params) => execute(s, media, params, headers, peer, false).await,
        Err(e) => request_error(media, e),
    }
}

/// `GET /graphql`: a WebSocket (graphql-transport-ws) when asked to upgrade,
/// GraphiQL for a browser, else a query (never a mutation).
pub async fn get(
    State(s): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let upgrade = headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if upgrade {
        return match ws {
            Ok(ws) => {
                // The cookie signs a socket in only when a page of this site
                // opened it (cross-site WebSocket hijacking).
                let cookie = super::auth::session_cookie(&headers)
                    .filter(|_| super::auth::same_origin(&s, &headers));
                super::ws::upgrade(s, ws, peer, cookie)
            }
            Err(rejection) => rejection.into_response(),
        };
    }
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let raw = raw.unwrap_or_default();
    if media::wants_html(accept) && !raw.contains("query=") {
        return super::web::graphiql();
    }
    // A browser that followed a link with a query still gets JSON.
    let media = match media::negotiate(accept) {
        Some(m) => m,
        None if media::wants_html(accept) => Media::Json,
        None => return not_acceptable(),
    };
    match params_from_query_string(&raw) {
        Ok(params) => execute(s, media, params, headers, peer, true).await,
        Err(e) => request_error(media, e),
    }
}
