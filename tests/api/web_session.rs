//! The browser workspace's sign-in session: the `HttpOnly` cookie set by
//! `POST /session`, its CSRF token, the cross-site refusals (sign-in, GraphQL,
//! sign-out, imports, WebSocket), sign-out (which ends the session on the
//! server too), expiry, and the page shell's security headers.
//!
//! The client keeps no cookie jar: every `Cookie` header is sent by hand, so
//! each assertion says exactly what the browser would have sent.

use base64::Engine as _;
use chrono::Duration;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use kitreview::domain::accounts::Role;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::backend_tests;
use crate::common::ws::Ws;
use crate::common::{code, Backend, TestServer, PASSWORD, SECRET};

const EMAIL: &str = "wanjiru@example.ke";
const EVIL: &str = "https://evil.example";
const VIEWER: &str = "{ viewer { email } }";
const CREATE_Q: &str =
    "mutation($c: String!) { createQuestion(input: {code: $c, title: \"e-services\"}) { question { code } } }";
const QUESTION: &str = "query($c: String!) { question(code: $c) { code } }";

/// A `Set-Cookie` header, taken apart.
#[derive(Debug)]
struct SetCookie {
    name: String,
    value: String,
    /// Attributes, lower-cased names, with their values (`""` for flags).
    attrs: Vec<(String, String)>,
}

impl SetCookie {
    fn parse(raw: &str) -> Self {
        let mut parts = raw.split(';').map(str::trim);
        let (name, value) = parts
            .next()
            .and_then(|nv| nv.split_once('='))
            .expect("name=value");
        let attrs = parts
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.to_ascii_lowercase(), v.to_owned()),
                None => (p.to_ascii_lowercase(), String::new()),
            })
            .collect();
        Self {
            name: name.to_owned(),
            value: value.to_owned(),
            attrs,
        }
    }

    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn has(&self, name: &str) -> bool {
        self.attr(name).is_some()
    }
}

/// The response's `Set-Cookie` headers.
fn set_cookies(res: &reqwest::Response) -> Vec<SetCookie> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| SetCookie::parse(v.to_str().expect("text")))
        .collect()
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// What a page of this site sends as `Origin`.
fn origin(s: &TestServer) -> String {
    s.base.clone()
}

fn cookie(token: &str) -> String {
    // The session cookie among others, as a browser sends them.
    format!("kitreview_lang=en; kitreview_session={token}")
}

/// `POST /session` with `{email, password}` as JSON, plus `extra` headers.
async fn sign_in_raw(
    s: &TestServer,
    email: &str,
    password: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = s
        .http
        .post(s.url("/session"))
        .json(&json!({ "email": email, "password": password }));
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    req.send().await.expect("request")
}

/// A signed-in browser: the session token (the cookie's value) and its CSRF token.
struct Browser {
    token: String,
    csrf: String,
}

async fn sign_in(s: &TestServer, email: &str, password: &str) -> Browser {
    let o = origin(s);
    let res = sign_in_raw(s, email, password, &[("origin", &o)]).await;
    assert_eq!(res.status(), 200);
    let c = set_cookies(&res);
    assert_eq!(c.len(), 1, "{c:?}");
    let body: Value = res.json().await.expect("JSON");
    Browser {
        token: c[0].value.clone(),
        csrf: body["csrfToken"].as_str().expect("csrfToken").to_owned(),
    }
}

/// `GET /session` with the given `Cookie` header: the response.
async fn session_raw(s: &TestServer, cookie_header: Option<&str>) -> reqwest::Response {
    let mut req = s.http.get(s.url("/session"));
    if let Some(c) = cookie_header {
        req = req.header("cookie", c);
    }
    req.send().await.expect("request")
}

async fn session(s: &TestServer, cookie_header: Option<&str>) -> Value {
    let res = session_raw(s, cookie_header).await;
    assert_eq!(res.status(), 200);
    res.json().await.expect("JSON")
}

/// `POST /graphql` with explicit headers; status and body.
async fn gql_with(
    s: &TestServer,
    headers: &[(&str, &str)],
    query: &str,
    vars: Value,
) -> (u16, Value) {
    let mut req = s
        .http
        .post(s.url("/graphql"))
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "query": query, "variables": vars }));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    (status, res.json().await.expect("JSON"))
}

/// `GET /graphql?query=…` with explicit headers; status and body.
async fn gql_get(s: &TestServer, headers: &[(&str, &str)], query: &str) -> (u16, Value) {
    let mut req = s
        .http
        .get(s.url("/graphql"))
        .query(&[("query", query)])
        .header("accept", "application/graphql-response+json");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    (status, res.json().await.expect("JSON"))
}

/// The account the tests sign in with (of the secretariat, so it can write).
async fn member(s: &TestServer) {
    s.user(EMAIL, "ITU", &[Role::Secretariat]).await;
}

/// Item 1 of the brief: the cookie's attributes, a body without the token, and `GET /session`.
async fn sign_in_sets_an_http_only_session_cookie(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    member(&s).await;
    let o = origin(&s);
    let res = sign_in_raw(&s, EMAIL, PASSWORD, &[("origin", &o)]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "cache-control"), "no-store");
    let cookies = set_cookies(&res);
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let c = &cookies[0];
    assert_eq!(c.name, "kitreview_session");
    assert!(c.value.split('.').count() == 3, "a JWT: {c:?}");
    assert!(c.has("httponly"), "{c:?}");
    assert_eq!(c.attr("samesite"), Some("Lax"), "{c:?}");
    assert_eq!(c.attr("path"), Some("/"), "{c:?}");
    // The session ttl of the test server (auth_args: one hour).
    assert_eq!(c.attr("max-age"), Some("3600"), "{c:?}");
    assert!(!c.has("secure"), "plain HTTP: no Secure: {c:?}");
    let token = c.value.clone();
    let text = res.text().await.expect("body");
    assert!(
        !text.contains(&token),
        "the body must not carry the token: {text}"
    );
    assert!(!text.contains("eyJ"), "no JWT at all in the body: {text}");
    let body: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(body["signedIn"], true);
    let csrf = body["csrfToken"].as_str().expect("csrfToken").to_owned();
    assert_eq!(csrf.len(), 32);
    assert!(body["expiresAt"].is_string());

    // Behind the TLS proxy (`--secure-cookies auto`): Secure.
    let res = sign_in_raw(
        &s,
        EMAIL,
        PASSWORD,
        &[("origin", &o), ("x-forwarded-proto", "https")],
    )
    .await;
    assert_eq!(res.status(), 200);
    let c = &set_cookies(&res)[0];
    assert!(c.has("secure"), "{c:?}");
    assert!(c.has("httponly"), "{c:?}");

    // GET /session with the cookie: signed in, the same CSRF token, no token.
    let res = session_raw(&s, Some(&cookie(&token))).await;
    assert_eq!(res.status(), 200);
    assert!(set_cookies(&res).is_empty());
    let text = res.text().await.expect("body");
    assert!(!text.contains(&token), "{text}");
    let now: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(now["signedIn"], true, "{now}");
    assert_eq!(now["csrfToken"], csrf.as_str());
    // Without: signed out; a bearer token does not count as a browser session.
    assert_eq!(session(&s, None).await, json!({ "signedIn": false }));
    let res = s
        .http
        .get(s.url("/session"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    assert_eq!(res.json::<Value>().await.expect("JSON")["signedIn"], false);
    // A cookie that is no token of ours: signed out, and the cookie cleared.
    let res = session_raw(&s, Some("kitreview_session=not.a.token")).await;
    let c = set_cookies(&res);
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0].attr("max-age"), Some("0"));
    assert_eq!(res.json::<Value>().await.expect("JSON")["signedIn"], false);
}

/// Item 2 of the brief: a wrong password: 401, no cookie; repeated failures are throttled like
/// the `login` mutation, and share its counts.
async fn wrong_passwords_are_refused_and_throttled(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    member(&s).await;
    let o = origin(&s);
    for _ in 0..5 {
        let res = sign_in_raw(&s, EMAIL, "guess guess guess", &[("origin", &o)]).await;
        assert_eq!(res.status(), 401);
        assert!(set_cookies(&res).is_empty());
        let body: Value = res.json().await.expect("JSON");
        assert_eq!(code(&body), "UNAUTHENTICATED");
    }
    // Locked: even the right password waits.
    let res = sign_in_raw(&s, EMAIL, PASSWORD, &[("origin", &o)]).await;
    assert_eq!(res.status(), 429);
    assert_eq!(header(&res, "retry-after"), "60");
    assert!(set_cookies(&res).is_empty());
    let body: Value = res.json().await.expect("JSON");
    assert_eq!(code(&body), "RATE_LIMITED");
    // The same lock as the `login` mutation's.
    let body = s
        .gql(
            None,
            "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token } }",
            json!({ "e": EMAIL, "p": PASSWORD }),
        )
        .await;
    assert_eq!(code(&body), "RATE_LIMITED", "{body}");
    s.clock.advance(Duration::seconds(61));
    sign_in(&s, EMAIL, PASSWORD).await;
    // And failures of the mutation count against the session endpoint.
    for _ in 0..5 {
        s.gql(
            None,
            "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token } }",
            json!({ "e": EMAIL, "p": "guess guess guess" }),
        )
        .await;
    }
    let res = sign_in_raw(&s, EMAIL, PASSWORD, &[("origin", &o)]).await;
    assert_eq!(res.status(), 429);
    assert!(!header(&res, "retry-after").is_empty());
}

/// Item 3 of the brief: sign-in from another site, or as a form, is refused.
async fn cross_site_and_form_sign_ins_are_refused(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    member(&s).await;
    let res = sign_in_raw(&s, EMAIL, PASSWORD, &[("origin", EVIL)]).await;
    assert_eq!(res.status(), 403);
    assert!(set_cookies(&res).is_empty());
    assert_eq!(code(&res.json().await.expect("JSON")), "FORBIDDEN");
    // A browser that sends no Origin but says the request is cross-site.
    let res = sign_in_raw(&s, EMAIL, PASSWORD, &[("sec-fetch-site", "cross-site")]).await;
    assert_eq!(res.status(), 403);
    assert!(set_cookies(&res).is_empty());
    // What an HTML form can send.
    let o = origin(&s);
    for ct in [
        "application/x-www-form-urlencoded",
        "text/plain",
        "multipart/form-data; boundary=x",
    ] {
        let res = s
            .http
            .post(s.url("/session"))
            .header("origin", &o)
            .header("content-type", ct)
            .body(format!("email={EMAIL}&password={PASSWORD}"))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 415, "{ct}");
        assert!(set_cookies(&res).is_empty());
    }
    // A form posted from another site is refused before its type is looked at.
    let res = s
        .http
        .post(s.url("/session"))
        .header("origin", EVIL)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=a&password=b")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 403);
    // The same origin, and a client that is no browser page (no Origin, no
    // Sec-Fetch-Site), may sign in.
    let res = sign_in_raw(&s, EMAIL, PASSWORD, &[("sec-fetch-site", "same-origin")]).await;
    assert_eq!(res.status(), 200);
    let res = sign_in_raw(&s, EMAIL, PASSWORD, &[]).await;
    assert_eq!(res.status(), 200);
}

/// Item 4 of the brief: graphQL over POST with the cookie needs the CSRF token and this site's
/// Origin; over GET it needs neither (GET never mutates); a bearer token needs
/// no CSRF token.
async fn graphql_with_the_cookie_needs_the_csrf_token(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    member(&s).await;
    let br = sign_in(&s, EMAIL, PASSWORD).await;
    let c = cookie(&br.token);
    let o = origin(&s);
    let create = json!({ "c": "17-2/2" });

    // No X-CSRF-Token: a mutation and a query over POST are refused.
    for (q, v) in [(CREATE_Q, create.clone()), (VIEWER, json!({}))] {
        let (status, body) = gql_with(&s, &[("cookie", &c), ("origin", &o)], q, v.clone()).await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(code(&body), "FORBIDDEN");
        assert!(
            body.get("data").is_none() || body["data"].is_null(),
            "{body}"
        );
        // Without Origin either (a client that is no browser page).
        let (status, _) = gql_with(&s, &[("cookie", &c)], q, v).await;
        assert_eq!(status, 403);
    }
    // A wrong token; the token of another session.
    let other = sign_in(&s, EMAIL, PASSWORD).await;
    assert_ne!(other.csrf, br.csrf);
    for wrong in ["0123456789abcdef0123456789abcdef", other.csrf.as_str(), ""] {
        let (status, body) = gql_with(
            &s,
            &[("cookie", &c), ("origin", &o), ("x-csrf-token", wrong)],
            CREATE_Q,
            create.clone(),
        )
        .await;
        assert_eq!(status, 403, "{wrong}: {body}");
    }
    // Nothing was created.
    let bearer = s.login(EMAIL, PASSWORD).await;
    assert!(s.ok(Some(&bearer), QUESTION, create.clone()).await["question"].is_null());
    // The right token: works.
    let (status, body) = gql_with(
        &s,
        &[("cookie", &c), ("origin", &o), ("x-csrf-token", &br.csrf)],
        CREATE_Q,
        create.clone(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["createQuestion"]["question"]["code"], "17-2/2");
    let (status, body) = gql_with(
        &s,
        &[
            ("cookie", &c),
            ("sec-fetch-site", "same-origin"),
            ("x-csrf-token", &br.csrf),
        ],
        VIEWER,
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["viewer"]["email"], EMAIL);
    // The right token from another site: refused.
    let (status, body) = gql_with(
        &s,
        &[("cookie", &c), ("origin", EVIL), ("x-csrf-token", &br.csrf)],
        CREATE_Q,
        json!({ "c": "17-3/2" }),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = gql_with(
        &s,
        &[
            ("cookie", &c),
            ("sec-fetch-site", "cross-site"),
            ("x-csrf-token", &br.csrf),
        ],
        VIEWER,
        json!({}),
    )
    .await;
    assert_eq!(status, 403);
    // GET: the cookie alone reads.
    let (status, body) = gql_get(&s, &[("cookie", &c)], VIEWER).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["viewer"]["email"], EMAIL);
    // ... and never mutates.
    let (status, body) = gql_get(
        &s,
        &[("cookie", &c), ("x-csrf-token", &br.csrf)],
        "mutation { createQuestion(input: {code: \"17-4/2\", title: \"t\"}) { question { code } } }",
    )
    .await;
    assert_eq!(status, 405, "{body}");
    // A bearer token needs no CSRF token, and wins over a cookie.
    let (status, body) = gql_with(
        &s,
        &[
            ("authorization", &format!("Bearer {bearer}")),
            ("origin", EVIL),
        ],
        VIEWER,
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["viewer"]["email"], EMAIL);
    let (status, body) = gql_with(
        &s,
        &[
            ("authorization", &format!("Bearer {bearer}")),
            ("cookie", &c),
        ],
        VIEWER,
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    for c in ["17-3/2", "17-4/2"] {
        assert!(s.ok(Some(&bearer), QUESTION, json!({ "c": c })).await["question"].is_null());
    }
}

/// Item 5 of the brief: sign-out needs the CSRF token, clears the cookie, and ends the session
/// on the server: a copy of the cookie no longer signs anyone in.
async fn sign_out_clears_and_ends_the_session(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    member(&s).await;
    let br = sign_in(&s, EMAIL, PASSWORD).await;
    let c = cookie(&br.token);
    let o = origin(&s);
    let sign_out = |headers: Vec<(&'static str, String)>| {
        let mut req = s.http.post(s.url("/session/sign-out"));
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.send()
    };
    // Without the CSRF token, or from another site: refused, nothing cleared.
    let res = sign_out(vec![("cookie", c.clone()), ("origin", o.clone())])
        .await
        .expect("request");
    assert_eq!(res.status(), 403);
    assert!(set_cookies(&res).is_empty());
    let res = sign_out(vec![
        ("cookie", c.clone()),
        ("origin", EVIL.into()),
        ("x-csrf-token", br.csrf.clone()),
    ])
    .await
    .expect("request");
    assert_eq!(res.status(), 403);
    assert_eq!(session(&s, Some(&c)).await["signedIn"], true);

    // Another browser of the same user, and a bearer token, stay signed in.
    let other = sign_in(&s, EMAIL, PASSWORD).await;
    let bearer = s.login(EMAIL, PASSWORD).await;
    // A live connection of the session, and one of the other session.
    let live = |token: String| {
        let (base, o) = (s.base.clone(), o.clone());
        async move {
            let mut ws =
                Ws::connect_with_headers(&base, &[("cookie", &cookie(&token)), ("origin", &o)])
                    .await;
            ws.send(json!({ "type": "connection_init" })).await;
            assert_eq!(ws.next_json().await["type"], "connection_ack");
            ws
        }
    };
    let mut this_ws = live(br.token.clone()).await;
    let mut other_ws = live(other.token.clone()).await;

    let res = sign_out(vec![
        ("cookie", c.clone()),
        ("origin", o.clone()),
        ("x-csrf-token", br.csrf.clone()),
    ])
    .await
    .expect("request");
    assert_eq!(res.status(), 204);
    let cleared = set_cookies(&res);
    assert_eq!(cleared.len(), 1, "{cleared:?}");
    assert_eq!(cleared[0].name, "kitreview_session");
    assert_eq!(cleared[0].value, "");
    assert_eq!(cleared[0].attr("max-age"), Some("0"));
    assert_eq!(cleared[0].attr("path"), Some("/"));
    assert!(cleared[0].has("httponly"));

    // Its live connection closes; the other session's stays.
    let (code_, reason) = this_ws.closed().await;
    assert_eq!(code_, 4403, "{reason}");
    other_ws.subscribe("1", VIEWER, json!({})).await;
    assert_eq!(other_ws.next_data("1").await["viewer"]["email"], EMAIL);

    // The old cookie (a stolen copy) no longer works anywhere.
    assert_eq!(session(&s, Some(&c)).await["signedIn"], false);
    let (status, body) = gql_get(&s, &[("cookie", &c)], VIEWER).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(code(&body), "UNAUTHENTICATED");
    let (status, _) = gql_with(
        &s,
        &[("cookie", &c), ("origin", &o), ("x-csrf-token", &br.csrf)],
        VIEWER,
        json!({}),
    )
    .await;
    assert_eq!(status, 401);
    // Nor as a bearer token.
    let (status, _) = s.gql_raw(Some(&br.token), VIEWER, json!({})).await;
    assert_eq!(status, 401);
    // Nor on a WebSocket.
    let mut ws = Ws::connect_with_headers(&s.base, &[("cookie", &c), ("origin", &o)]).await;
    ws.send(json!({ "type": "connection_init" })).await;
    assert_eq!(ws.closed().await.0, 4403);

    // The other session and the bearer token still work.
    assert_eq!(
        session(&s, Some(&cookie(&other.token))).await["signedIn"],
        true
    );
    assert_eq!(
        s.ok(Some(&bearer), VIEWER, json!({})).await["viewer"]["email"],
        EMAIL
    );
    // Signing out twice is harmless; so is signing out without a cookie.
    let res = sign_out(vec![
        ("cookie", c.clone()),
        ("origin", o.clone()),
        ("x-csrf-token", br.csrf.clone()),
    ])
    .await
    .expect("request");
    assert_eq!(res.status(), 204);
    let res = sign_out(vec![]).await.expect("request");
    assert_eq!(res.status(), 204);
    assert_eq!(
        session(&s, Some(&cookie(&other.token))).await["signedIn"],
        true
    );
}

/// The claims of a token of ours, read without checking (the test made it).
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64");
    serde_json::from_slice(&bytes).expect("JSON")
}

fn hs256(claims: &Value) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(SECRET.as_bytes()).expect("key"),
    )
    .expect("sign")
}

/// Item 6 of the brief: an expired session: `GET /session` says signed out and clears the
/// cookie; GraphQL refuses it.
///
/// Tokens expire by the system clock (see `TokenService::issue`), not the
/// test's ManualClock, so the expired session is the same token re-signed with
/// its `exp` in the past (beyond the 30 s leeway).
async fn an_expired_session_is_signed_out(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    member(&s).await;
    let br = sign_in(&s, EMAIL, PASSWORD).await;
    let mut c = claims(&br.token);
    let exp = c["exp"].as_i64().expect("exp");
    let iat = c["iat"].as_i64().expect("iat");
    assert_eq!(
        exp - iat,
        3600,
        "the token lives as long as the session: {c}"
    );
    let now = chrono::Utc::now().timestamp();
    c["exp"] = json!(now - 120);
    c["iat"] = json!(now - 3720);
    c["nbf"] = json!(now - 3720);
    let expired = hs256(&c);
    s.clock.advance(Duration::seconds(3601));

    let res = session_raw(&s, Some(&cookie(&expired))).await;
    assert_eq!(res.status(), 200);
    let cleared = set_cookies(&res);
    assert_eq!(cleared.len(), 1, "{cleared:?}");
    assert_eq!(cleared[0].value, "");
    assert_eq!(cleared[0].attr("max-age"), Some("0"));
    assert_eq!(
        res.json::<Value>().await.expect("JSON"),
        json!({ "signedIn": false })
    );

    let (status, body) = gql_get(&s, &[("cookie", &cookie(&expired))], VIEWER).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(code(&body), "UNAUTHENTICATED");
    let (status, body) = gql_with(
        &s,
        &[
            ("cookie", &cookie(&expired)),
            ("origin", &origin(&s)),
            ("x-csrf-token", &kitreview::http::auth::csrf_token(&expired)),
        ],
        VIEWER,
        json!({}),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(code(&body), "UNAUTHENTICATED");
}

/// Item 7 of the brief: a WebSocket signs in with the cookie only when opened by this site.
async fn websockets_sign_in_with_the_cookie_only_from_this_site(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    member(&s).await;
    let br = sign_in(&s, EMAIL, PASSWORD).await;
    let c = cookie(&br.token);
    let o = origin(&s);
    let viewer_over_ws = |mut ws: Ws| async move {
        ws.send(json!({ "type": "connection_init" })).await;
        let ack = ws.next_json().await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        ws.subscribe("1", VIEWER, json!({})).await;
        let data = ws.next_data("1").await;
        data["viewer"]["email"].clone()
    };
    // This site's page, or a client with no Origin.
    let ws = Ws::connect_with_headers(&s.base, &[("cookie", &c), ("origin", &o)]).await;
    assert_eq!(viewer_over_ws(ws).await, EMAIL);
    let ws = Ws::connect_with_headers(&s.base, &[("cookie", &c)]).await;
    assert_eq!(viewer_over_ws(ws).await, EMAIL);
    // Another site's page: the cookie is ignored, so an init without a token
    // is refused like any anonymous one.
    for headers in [
        vec![("cookie", c.as_str()), ("origin", EVIL)],
        vec![("cookie", c.as_str()), ("sec-fetch-site", "cross-site")],
        vec![("cookie", c.as_str()), ("origin", "null")],
    ] {
        let mut ws = Ws::connect_with_headers(&s.base, &headers).await;
        ws.send(json!({ "type": "connection_init" })).await;
        let (code, reason) = ws.closed().await;
        assert_eq!(code, 4403, "{headers:?}: {reason}");
    }
    // A token in connection_init still works from anywhere, and wins.
    let bearer = s.login(EMAIL, PASSWORD).await;
    let mut ws = Ws::connect_with_headers(&s.base, &[("origin", EVIL)]).await;
    ws.send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {bearer}") } }))
        .await;
    assert_eq!(ws.next_json().await["type"], "connection_ack");
}

/// A request sent byte for byte (no client-side path normalisation): the
/// status and the whole response.
async fn raw_get(s: &TestServer, path: &str, accept: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(s.addr)
        .await
        .expect("connect");
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n",
        s.addr
    );
    stream.write_all(req.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    stream.read_to_end(&mut out).await.expect("read");
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text}"));
    (status, text)
}

/// Item 8 of the brief: the page shell: strict CSP, never framed, the browser's language; no
/// path leaves the assets; the API's clients get JSON 404s.
async fn pages_have_a_strict_policy(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let page = |lang: Option<&'static str>| {
        let mut req = s
            .http
            .get(s.url("/"))
            .header("accept", "text/html,application/xhtml+xml");
        if let Some(l) = lang {
            req = req.header("accept-language", l);
        }
        req.send()
    };
    let res = page(None).await.expect("request");
    assert_eq!(res.status(), 200);
    assert!(header(&res, "content-type").starts_with("text/html"));
    let csp = header(&res, "content-security-policy").to_owned();
    let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
    let script = directives
        .iter()
        .find(|d| d.starts_with("script-src"))
        .unwrap_or_else(|| panic!("no script-src: {csp}"));
    assert_eq!(*script, "script-src 'self'", "{csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert!(directives.contains(&"frame-ancestors 'none'"), "{csp}");
    assert!(directives.contains(&"default-src 'none'"), "{csp}");
    assert_eq!(header(&res, "x-frame-options"), "DENY");
    assert_eq!(header(&res, "x-content-type-options"), "nosniff");
    let html = res.text().await.expect("body");
    assert!(html.contains("<html lang=\"en\">"), "{html}");
    // No inline script in the shell (the CSP would block it anyway).
    for (i, _) in html.match_indices("<script") {
        let tag = &html[i..i + html[i..].find('>').expect("tag end")];
        assert!(tag.contains("src="), "an inline script: {tag}");
    }
    let res = page(Some("fr-CH, fr;q=0.9, en;q=0.8"))
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    assert!(res
        .text()
        .await
        .expect("body")
        .contains("<html lang=\"fr\">"));
    // Another page of the workspace: the same shell and policy.
    let res = s
        .http
        .get(s.url("/cycles/abc"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "content-security-policy"), csp);

    // Path traversal out of the assets.
    for path in [
        "/assets/../Cargo.toml",
        "/assets/..%2FCargo.toml",
        "/assets/..%2f..%2fCargo.toml",
        "/assets/%2e%2e/Cargo.toml",
        "/assets/%2e%2e%2fCargo.toml",
        "/assets/..%5cCargo.toml",
        "/assets//etc/passwd",
        "/assets/%2Fetc%2Fpasswd",
        "/assets/../src/main.rs",
        "/assets/../../../../etc/passwd",
    ] {
        for accept in ["text/html", "*/*"] {
            let (status, text) = raw_get(&s, path, accept).await;
            assert!(!text.contains("[package]"), "{path} served Cargo.toml");
            assert!(!text.contains("root:"), "{path} served /etc/passwd");
            assert!(!text.contains("fn main"), "{path} served src/main.rs");
            // The shell is no file; anything else must be a 404 (or a 400 for
            // a request hyper refuses).
            if !text.contains("<html") {
                assert!(status == 404 || status == 400, "{path}: {status}\n{text}");
            }
        }
    }
    let (status, _) = raw_get(&s, "/assets/../Cargo.toml", "*/*").await;
    assert_eq!(status, 404);
    // An asset is served, with the policy.
    let (status, text) = raw_get(&s, "/assets/index.html", "*/*").await;
    assert_eq!(status, 200);
    assert!(text
        .to_ascii_lowercase()
        .contains("content-security-policy: default-src 'none'"));

    // An API client on an unknown path: a JSON 404.
    let res = s
        .http
        .get(s.url("/no/such/thing"))
        .header("accept", "application/json")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 404);
    assert!(header(&res, "content-type").starts_with("application/json"));
    let body: Value = res.json().await.expect("JSON");
    assert_eq!(code(&body), "NOT_FOUND");
}

/// Item 9 of the brief: exports open with the cookie alone (a link in the browser) and show what
/// the bearer token would; the import needs the CSRF token.
async fn exports_and_imports_with_the_cookie(b: Backend) {
    let Some(d) = crate::files::demo(b).await else {
        return;
    };
    let s = &d.s;
    let pw = kitreview::demo::DEMO_PASSWORD;
    for (email, bearer) in [
        ("rapporteur@itu.example", &d.rapporteur),
        ("delegate.kenya@itu.example", &d.kenya),
        ("delegate.france@itu.example", &d.france),
    ] {
        let br = sign_in(s, email, pw).await;
        for cycle in [&d.open_cycle, &d.done_cycle] {
            for file in ["comments.csv", "comments.xlsx"] {
                let path = format!("/exports/cycles/{cycle}/{file}");
                let by_bearer = d.get(Some(bearer), &path).await;
                let res = s
                    .http
                    .get(s.url(&path))
                    .header("cookie", cookie(&br.token))
                    .send()
                    .await
                    .expect("request");
                let status = res.status().as_u16();
                assert_eq!(status, by_bearer.0, "{email} {path}");
                if file.ends_with(".csv") {
                    let body = res.bytes().await.expect("body").to_vec();
                    assert_eq!(
                        String::from_utf8_lossy(&body),
                        String::from_utf8_lossy(&by_bearer.2),
                        "{email} {path}"
                    );
                }
            }
        }
    }
    // The rapporteur's CSV of the sealed cycle has rows, so the comparison
    // above compared something.
    let (status, _, csv) = d
        .get(
            Some(&d.rapporteur),
            &format!("/exports/cycles/{}/comments.csv", d.done_cycle),
        )
        .await;
    assert_eq!(status, 200);
    assert!(csv.iter().filter(|c| **c == b'\n').count() > 1);
    // Without any credential: 401.
    let (status, _, _) = d
        .get(
            None,
            &format!("/exports/cycles/{}/comments.csv", d.done_cycle),
        )
        .await;
    assert_eq!(status, 401);

    // The import: with the cookie it needs the CSRF token and this site.
    let br = sign_in(s, "delegate.kenya@itu.example", pw).await;
    let before = d.count(&d.open_cycle).await;
    let url = s.url(&format!("/imports/cycles/{}/comments", d.open_cycle));
    let o = origin(s);
    let post = |headers: Vec<(&'static str, String)>| {
        let mut req = s
            .http
            .post(&url)
            .header("content-type", "text/csv")
            .body("not,a,template\n");
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.send()
    };
    let res = post(vec![("cookie", cookie(&br.token)), ("origin", o.clone())])
        .await
        .expect("request");
    assert_eq!(res.status(), 403);
    let res = post(vec![
        ("cookie", cookie(&br.token)),
        ("origin", EVIL.into()),
        ("x-csrf-token", br.csrf.clone()),
    ])
    .await
    .expect("request");
    assert_eq!(res.status(), 403);
    // With it, the request reaches the import (which refuses this file).
    let res = post(vec![
        ("cookie", cookie(&br.token)),
        ("origin", o.clone()),
        ("x-csrf-token", br.csrf.clone()),
    ])
    .await
    .expect("request");
    let status = res.status().as_u16();
    assert!(status != 401 && status != 403, "{status}");
    assert_eq!(d.count(&d.open_cycle).await, before);
}

/// `POST /session/password`: only this site's page with the session and its
/// CSRF token; a wrong current password is a VALIDATION error; a change
/// renews the cookie (still signed in) and ends every other session.
async fn a_password_change_renews_the_session_and_ends_the_others(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    member(&s).await;
    let br = sign_in(&s, EMAIL, PASSWORD).await;
    let other = sign_in(&s, EMAIL, PASSWORD).await;
    let bearer = s.login(EMAIL, PASSWORD).await;
    let o = origin(&s);
    let new = "a much longer passphrase";
    let change = |headers: Vec<(&'static str, String)>, current: &str| {
        let mut req = s
            .http
            .post(s.url("/session/password"))
            .json(&json!({ "currentPassword": current, "newPassword": new }));
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.send()
    };
    let c = cookie(&br.token);
    // No session, no CSRF token, another site: refused.
    let res = change(vec![("origin", o.clone())], PASSWORD)
        .await
        .expect("request");
    assert_eq!(res.status(), 401);
    let res = change(vec![("cookie", c.clone()), ("origin", o.clone())], PASSWORD)
        .await
        .expect("request");
    assert_eq!(res.status(), 403);
    let res = change(
        vec![
            ("cookie", c.clone()),
            ("origin", EVIL.into()),
            ("x-csrf-token", br.csrf.clone()),
        ],
        PASSWORD,
    )
    .await
    .expect("request");
    assert_eq!(res.status(), 403);
    // A wrong current password.
    let ok = vec![
        ("cookie", c.clone()),
        ("origin", o.clone()),
        ("x-csrf-token", br.csrf.clone()),
    ];
    let res = change(ok.clone(), "not the password")
        .await
        .expect("request");
    assert_eq!(res.status(), 400);
    assert!(set_cookies(&res).is_empty());
    let body: Value = res.json().await.expect("JSON");
    assert_eq!(code(&body), "VALIDATION", "{body}");
    assert_eq!(session(&s, Some(&c)).await["signedIn"], true);

    let res = change(ok, PASSWORD).await.expect("request");
    assert_eq!(res.status(), 200);
    let renewed = set_cookies(&res);
    assert_eq!(renewed.len(), 1, "{renewed:?}");
    assert!(renewed[0].has("httponly") && renewed[0].value != br.token);
    let body: Value = res.json().await.expect("JSON");
    let fresh = cookie(&renewed[0].value);
    assert_eq!(
        session(&s, Some(&fresh)).await["csrfToken"],
        body["csrfToken"]
    );
    let (status, v) = gql_with(
        &s,
        &[
            ("cookie", &fresh),
            ("origin", &o),
            ("x-csrf-token", body["csrfToken"].as_str().expect("csrf")),
        ],
        VIEWER,
        json!({}),
    )
    .await;
    assert_eq!(
        (status, &v["data"]["viewer"]["email"]),
        (200, &json!(EMAIL)),
        "{v}"
    );
    // Every earlier session and token has ended; the new password signs in.
    assert_eq!(session(&s, Some(&c)).await["signedIn"], false);
    assert_eq!(
        session(&s, Some(&cookie(&other.token))).await["signedIn"],
        false
    );
    let (status, _) = gql_with(
        &s,
        &[("authorization", &format!("Bearer {bearer}"))],
        VIEWER,
        json!({}),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(
        sign_in_raw(&s, EMAIL, PASSWORD, &[("origin", &o)])
            .await
            .status(),
        401
    );
    sign_in(&s, EMAIL, new).await;
}

backend_tests!(
    sign_in_sets_an_http_only_session_cookie,
    wrong_passwords_are_refused_and_throttled,
    cross_site_and_form_sign_ins_are_refused,
    graphql_with_the_cookie_needs_the_csrf_token,
    sign_out_clears_and_ends_the_session,
    an_expired_session_is_signed_out,
    websockets_sign_in_with_the_cookie_only_from_this_site,
    pages_have_a_strict_policy,
    exports_and_imports_with_the_cookie,
    a_password_change_renews_the_session_and_ends_the_others,
);
