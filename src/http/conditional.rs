//! Conditional reads: `GET /graphql` answers a query with an `ETag` made from
//! the request (document, operation, variables), the viewer and the
//! [`Freshness`] of the data, and answers `304 Not Modified` when the client
//! sends it back in `If-None-Match` and nothing it depends on has changed.
//!
//! The tag is per viewer (never shared between two users, whatever they may
//! see) and per data version (any committed write, on any instance, changes
//! it; so does a deadline passing). Only queries over GET, only answers
//! without errors: a mutation is never conditional, and POST is not
//! cacheable.

use axum::http::{header, HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};

use super::media::Media;
use crate::auth::Viewer;
use crate::service::freshness::Freshness;

/// Whether `If-None-Match` holds `etag` (weak comparison, as for GET; `*` matches).
pub fn none_match_holds(headers: &HeaderMap, etag: &str) -> bool {
    let strip = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let wanted = strip(etag);
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == "*" || strip(t) == wanted)
}

/// The tag of a query's answer; `None` for an anonymous viewer.
pub fn etag(
    viewer: &Viewer,
    media: Media,
    query: &str,
    operation_name: Option<&str>,
    variables: Option<&serde_json::Map<String, serde_json::Value>>,
    fresh: Freshness,
) -> Option<String> {
    let Viewer::User(user) = viewer else {
        return None;
    };
    let mut h = Sha256::new();
    // Lengths before the texts: no two different requests hash alike.
    for part in [
        query.as_bytes(),
        operation_name.unwrap_or("").as_bytes(),
        media.content_type().as_bytes(),
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    let vars = variables
        .map(|v| serde_json::to_vec(v).unwrap_or_default())
        .unwrap_or_default();
    h.update((vars.len() as u64).to_le_bytes());
    h.update(&vars);
    h.update(user.id.to_le_bytes());
    h.update(fresh.data.to_le_bytes());
    h.update(
        fresh
            .last_deadline
            .map_or(i64::MIN, |t| t.timestamp_micros())
            .to_le_bytes(),
    );
    Some(format!("W/\"{}\"", hex::encode(&h.finalize()[..16])))
}

/// The headers of an answer that carries a tag: the browser keeps it for this
/// user only and asks again every time (`no-cache` is "revalidate").
pub fn tag(headers: &mut HeaderMap, etag: &str) {
    if let Ok(v) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, v);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    headers.insert(
        header::VARY,
        HeaderValue::from_static("Accept, Authorization, Cookie"),
    );
}
