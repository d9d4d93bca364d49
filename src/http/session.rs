//! The session endpoints that sign a browser in with a cookie (see
//! [`super::auth`] for how a request presents it):
//!
//! - `GET /session`: whether the browser is signed in, and its CSRF token.
//! - `POST /session` (`{"email", "password", "newPassword"?}`, JSON): sign
//!   in, same throttling and temporary passwords as the `login` mutation;
//!   sets the `HttpOnly` session cookie.
//! - `POST /session/password` (`{"currentPassword", "newPassword"}`, JSON,
//!   with the CSRF token): change your password; every earlier token stops
//!   working and the cookie carries the new one.
//! - `POST /session/sign-out`: ends the session (its token is revoked) and
//!   clears the cookie.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::SecondsFormat;
use serde_json::json;

use super::auth::{self, Credential, SESSION_COOKIE};
use super::web::refused;
use super::{client_ip, HttpState};
use crate::config::SecureCookies;
use crate::error::AppError;
use crate::service::session;

fn json_answer(status: StatusCode, body: serde_json::Value) -> Response {
    let mut res = (status, body.to_string()).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn secure(s: &HttpState, headers: &HeaderMap) -> bool {
    match s.app.secure_cookies {
        SecureCookies::Always => true,
        SecureCookies::Never => false,
        SecureCookies::Auto => headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https")),
    }
}

fn session_cookie(value: String, max_age_secs: i64, secure: bool) -> HeaderValue {
    let c = cookie::Cookie::build((SESSION_COOKIE, value))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build();
    HeaderValue::from_str(&c.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `GET /session`.
pub async fn current(State(s): State<HttpState>, headers: HeaderMap) -> Response {
    let token = match auth::credential(&headers) {
        Ok(Credential::Cookie(t)) => t,
        _ => return json_answer(StatusCode::OK, json!({ "signedIn": false })),
    };
    match auth::authenticate(&s, &token).await {
        Ok(_) => json_answer(
            StatusCode::OK,
            json!({
                "signedIn": true,
                "csrfToken": auth::csrf_token(&token),
                "expiresAt": crate::auth::jwt::expires_at(&token)
                    .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
            }),
        ),
        // An expired or revoked session: the browser is signed out.
        Err((StatusCode::UNAUTHORIZED, _)) => {
            let mut res = json_answer(StatusCode::OK, json!({ "signedIn": false }));
            res.headers_mut().insert(
                header::SET_COOKIE,
                session_cookie(String::new(), 0, secure(&s, &headers)),
            );
            res
        }
        Err((status, e)) => refused(status, &e),
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignIn {
    email: String,
    password: String,
    /// Required when `password` is a temporary one.
    new_password: Option<String>,
}

/// `POST /session`: sign in. Only from this site's pages (no login CSRF), as
/// JSON (which a cross-site form cannot send).
pub async fn sign_in(
    State(s): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !auth::same_origin(&s, &headers) {
        return refused(
            StatusCode::FORBIDDEN,
            &AppError::forbidden("cross-site sign-in refused"),
        );
    }
    let input: SignIn = match json_body(&headers, &body, "send {\"email\", \"password\"}") {
        Ok(v) => v,
        Err((status, e)) => return refused(status, &e),
    };
    let addr = Some(client_ip(peer, &headers, s.app.trust_forwarded_for));
    match session::login(
        &s.app,
        &input.email,
        &input.password,
        input.new_password.as_deref(),
        addr,
        s.app.session_ttl,
    )
    .await
    {
        Ok(signed) => signed_in(&s, &headers, signed),
        Err(e) => failed(e),
    }
}

/// A JSON body (which a cross-site form cannot send) of the expected shape.
fn json_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &[u8],
    shape: &str,
) -> Result<T, auth::Refusal> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::validation("body", format!("{shape} as application/json")),
        ));
    }
    serde_json::from_slice(body).map_err(|_| {
        (
            StatusCode::BAD_REQUEST,
            AppError::validation("body", format!("{shape} as JSON strings")),
        )
    })
}

/// The answer that starts (or renews) a browser session: the cookie with the
/// token, and the CSRF token the page sends back.
fn signed_in(s: &HttpState, headers: &HeaderMap, signed: session::Session) -> Response {
    // Tokens expire by the system clock, in whole seconds (hence rounded up).
    let left = (signed.expires_at - chrono::Utc::now()).num_milliseconds();
    let max_age = (left.max(0) + 999) / 1000;
    let mut res = json_answer(
        StatusCode::OK,
        json!({
            "signedIn": true,
            "csrfToken": auth::csrf_token(&signed.token),
            "expiresAt": signed.expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        }),
    );
    res.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(signed.token, max_age, secure(s, headers)),
    );
    res
}

fn failed(e: AppError) -> Response {
    let mut res = super::files::error(&e);
    let retry = match e {
        AppError::RateLimited { retry_after_secs } => Some(retry_after_secs),
        AppError::Unavailable(_) | AppError::Timeout(_) => Some(1),
        _ => None,
    };
    if let Some(v) = retry.and_then(|r| HeaderValue::from_str(&r.to_string()).ok()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// `POST /session/password`: the signed-in browser changes its password
/// (the `changePassword` mutation, whose new token a page could not keep
/// since the cookie is `HttpOnly`). With the CSRF checks.
pub async fn change_password(
    State(s): State<HttpState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(token) = auth::session_cookie(&headers) else {
        return refused(
            StatusCode::UNAUTHORIZED,
            &AppError::Unauthenticated("sign in first".into()),
        );
    };
    if let Err((status, e)) = auth::check_csrf(&s, &headers, &token) {
        return refused(status, &e);
    }
    let input: PasswordChange = match json_body(
        &headers,
        &body,
        "send {\"currentPassword\", \"newPassword\"}",
    ) {
        Ok(v) => v,
        Err((status, e)) => return refused(status, &e),
    };
    let viewer = match auth::authenticate(&s, &token).await {
        Ok(crate::auth::Viewer::User(u)) => u,
        Ok(_) => {
            return refused(
                StatusCode::UNAUTHORIZED,
                &AppError::Unauthenticated("sign in first".into()),
            )
        }
        Err((status, e)) => return refused(status, &e),
    };
    match session::change_password(
        &s.app,
        &viewer,
        &input.current_password,
        &input.new_password,
    )
    .await
    {
        Ok(signed) => signed_in(&s, &headers, signed),
        Err(e) => failed(e),
    }
}

/// `POST /session/sign-out`: the session ends on the server (its token is
/// revoked, so a copy of the cookie stops working too) and the cookie is
/// cleared; with the CSRF checks, so another site cannot sign a user out.
pub async fn sign_out(State(s): State<HttpState>, headers: HeaderMap) -> Response {
    if let Some(token) = auth::session_cookie(&headers) {
        if let Err((status, e)) = auth::check_csrf(&s, &headers, &token) {
            return refused(status, &e);
        }
        if let Err(e) = session::sign_out(&s.app, &token).await {
            return failed(e);
        }
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(String::new(), 0, secure(&s, &headers)),
    );
    res
}
