//! Who sent a request: a bearer token (`Authorization`), or the browser
//! workspace's session cookie, which is accepted only with the protections a
//! cookie needs:
//!
//! - The cookie is `HttpOnly` (page scripts cannot read the token), `SameSite=Lax`
//!   and `Secure` behind TLS.
//! - A state-changing request that relies on the cookie must come from this
//!   site (`Origin`, else `Sec-Fetch-Site`) and carry `X-CSRF-Token`: a value
//!   derived from the session token, which only a page of this site can learn
//!   (from `GET /session`, same-origin). A forged cross-site form or `fetch`
//!   has neither.
//! - A WebSocket signs in with the cookie only when its `Origin` is this site
//!   (no cross-site WebSocket hijacking).

use axum::http::{header, HeaderMap, StatusCode};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::HttpState;
use crate::auth::Viewer;
use crate::error::AppError;
use crate::service::session;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "kitreview_session";
/// The header that carries the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How a request identified itself.
pub enum Credential {
    None,
    Bearer(String),
    Cookie(String),
}

/// A refused credential: the status to answer and why.
pub type Refusal = (StatusCode, AppError);

fn unauthorized(msg: &str) -> Refusal {
    (
        StatusCode::UNAUTHORIZED,
        AppError::Unauthenticated(msg.into()),
    )
}

fn forbidden(msg: &str) -> Refusal {
    (StatusCode::FORBIDDEN, AppError::Forbidden(msg.into()))
}

/// The value of the cookie `name`, if the request has one.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// The session cookie's value, if the request has one.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE).filter(|v| !v.is_empty())
}

/// The bearer token or session cookie of a request. `Authorization` wins
/// when both are present.
pub fn credential(headers: &HeaderMap) -> Result<Credential, Refusal> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let text = value
            .to_str()
            .map_err(|_| unauthorized("the Authorization header is not valid text"))?;
        let token = text
            .strip_prefix("Bearer ")
            .or_else(|| text.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unauthorized("use `Authorization: Bearer <token>`"))?;
        return Ok(Credential::Bearer(token.to_owned()));
    }
    Ok(match session_cookie(headers) {
        Some(token) => Credential::Cookie(token),
        None => Credential::None,
    })
}

/// The CSRF token that goes with a session token: unforgeable without the
/// session token, which only the browser's cookie jar holds.
pub fn csrf_token(session_token: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"kitreview csrf v1\0")
        .chain_update(session_token.as_bytes())
        .finalize();
    hex::encode(&digest[..16])
}

/// The host (and port) this request was sent to, as the browser saw it.
fn request_host<'a>(s: &HttpState, headers: &'a HeaderMap) -> Option<&'a str> {
    let forwarded = s
        .app
        .trust_forwarded_for
        .then(|| headers.get("x-forwarded-host"))
        .flatten();
    forwarded
        .or_else(|| headers.get(header::HOST))
        .and_then(|v| v.to_str().ok())
        .map(|h| h.split(',').next().unwrap_or(h).trim())
}

/// Whether the request comes from a page of this site: its `Origin` names
/// this host, or (browsers that send no `Origin`) `Sec-Fetch-Site` says
/// same-origin. A request with neither header is not from a browser page.
pub fn same_origin(s: &HttpState, headers: &HeaderMap) -> bool {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let Some(origin) = origin.to_str().ok().and_then(|o| url::Url::parse(o).ok()) else {
            return false;
        };
        let Some(host) = request_host(s, headers) else {
            return false;
        };
        let origin_host = match (origin.host_str(), origin.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => return false,
        };
        return origin_host.eq_ignore_ascii_case(host);
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => site == "same-origin" || site == "none",
        None => true,
    }
}

fn cross_site() -> Refusal {
    forbidden(
        "cross-site request refused: the session cookie is only accepted from this site's pages",
    )
}

/// Refuse a request that carries the session cookie from another site's page,
/// before anything else is read of it.
pub fn refuse_cross_site(s: &HttpState, headers: &HeaderMap) -> Result<(), Refusal> {
    if session_cookie(headers).is_some() && !same_origin(s, headers) {
        return Err(cross_site());
    }
    Ok(())
}

/// Refuse a cookie-authenticated state-changing request that is not from this
/// site or lacks the CSRF token.
pub fn check_csrf(s: &HttpState, headers: &HeaderMap, session_token: &str) -> Result<(), Refusal> {
    if !same_origin(s, headers) {
        return Err(cross_site());
    }
    let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    let expected = csrf_token(session_token);
    match sent {
        Some(v) if bool::from(v.trim().as_bytes().ct_eq(expected.as_bytes())) => Ok(()),
        Some(_) => Err(forbidden(
            "the X-CSRF-Token header does not match this session; reload the page",
        )),
        None => Err(forbidden(
            "a request signed in with the session cookie must send the X-CSRF-Token header (from GET /session)",
        )),
    }
}

/// Resolve a token to a viewer; a bad token is a 401, a database that does
/// not answer a 503.
pub async fn authenticate(s: &HttpState, token: &str) -> Result<Viewer, Refusal> {
    authenticate_at(s, token, None).await
}

async fn authenticate_at(
    s: &HttpState,
    token: &str,
    version: Option<i64>,
) -> Result<Viewer, Refusal> {
    match session::authenticate_at(&s.app, token, version).await {
        Ok(user) => {
            super::observe::user(user.id);
            Ok(Viewer::User(std::sync::Arc::new(user)))
        }
        Err(e @ AppError::Unauthenticated(_)) => Err((StatusCode::UNAUTHORIZED, e)),
        Err(e @ (AppError::Unavailable(_) | AppError::Timeout(_))) => {
            Err((StatusCode::SERVICE_UNAVAILABLE, e))
        }
        Err(e) => {
            tracing::error!(error = ?e, "authentication failed");
            Err((
                StatusCode::INTERNAL_SERVER_ERROR,
                AppError::internal(anyhow::anyhow!("{e}")),
            ))
        }
    }
}

/// The viewer of an HTTP request. `changes_state` is true for requests that
/// may write (POST): those need the CSRF checks when signed in by cookie.
pub async fn viewer(
    s: &HttpState,
    headers: &HeaderMap,
    changes_state: bool,
) -> Result<Viewer, Refusal> {
    viewer_at(s, headers, changes_state, None).await
}

/// [`viewer`], with the data version the caller has just read (see
/// [`session::authenticate_at`]).
pub async fn viewer_at(
    s: &HttpState,
    headers: &HeaderMap,
    changes_state: bool,
    version: Option<i64>,
) -> Result<Viewer, Refusal> {
    match credential(headers)? {
        Credential::None => Ok(Viewer::Anonymous),
        Credential::Bearer(token) => authenticate_at(s, &token, version).await,
        Credential::Cookie(token) => {
            if changes_state {
                check_csrf(s, headers, &token)?;
            }
            authenticate_at(s, &token, version).await
        }
    }
}

/// Whether the request presents a token (a bearer token or the session cookie).
pub fn has_credential(headers: &HeaderMap) -> bool {
    !matches!(credential(headers), Ok(Credential::None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_token_depends_on_the_session() {
        assert_eq!(csrf_token("a"), csrf_token("a"));
        assert_ne!(csrf_token("a"), csrf_token("b"));
        assert_eq!(csrf_token("a").len(), 32);
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "lang=fr; kitreview_session=abc.def; other=1"
                .parse()
                .unwrap(),
        );
        assert_eq!(session_cookie(&h).as_deref(), Some("abc.def"));
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "lang=fr".parse().unwrap());
        assert_eq!(session_cookie(&h), None);
    }
}
