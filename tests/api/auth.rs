//! Sign-in, throttling, password changes, and token validation (ours and an
//! external identity provider's).

use std::path::PathBuf;

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use kitreview::config::{ExternalAlgorithm, ExternalUserClaim};
use kitreview::domain::accounts::Role;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::common::{
    auth_args, code, db_args, Backend, Options, TestDb, TestServer, PASSWORD, SECRET,
};

const LOGIN: &str = "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token expiresAt viewer { email displayName } } }";
const VIEWER: &str = "{ viewer { displayName roles organization { shortName } } }";

async fn login_raw(s: &TestServer, email: &str, password: &str) -> Value {
    s.gql(None, LOGIN, json!({ "e": email, "p": password }))
        .await
}

async fn viewer_status(s: &TestServer, token: &str) -> (u16, Value) {
    s.gql_raw(Some(token), VIEWER, json!({})).await
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn hs256(claims: &Value, secret: &str) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()).expect("key"),
    )
    .expect("sign")
}

/// Claims like ours, for the user with row id 1.
fn our_claims(user_id: i64) -> Value {
    json!({
        "sub": format!("user:{user_id}"), "iss": "kitreview", "aud": "kitreview",
        "exp": now() + 600, "nbf": now() - 5, "iat": now() - 5, "pwv": 0, "jti": "t"
    })
}

async fn signs_in_and_reads_the_viewer(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    s.org("Kenya", Some("KE")).await;
    s.user("Wanjiru@Example.KE", "Kenya", &[Role::Member]).await;
    // E-mail is case-insensitive.
    let body = login_raw(&s, "wanjiru@example.ke", PASSWORD).await;
    let login = &body["data"]["login"];
    assert_eq!(login["viewer"]["email"], "Wanjiru@Example.KE");
    let expires =
        chrono::DateTime::parse_from_rfc3339(login["expiresAt"].as_str().expect("expiresAt"))
            .expect("rfc3339");
    let ttl = expires.timestamp() - now();
    assert!(
        (3590..=3610).contains(&ttl),
        "token lasts the configured hour, got {ttl}s"
    );
    let token = login["token"].as_str().expect("token");
    let data = s.ok(Some(token), VIEWER, json!({})).await;
    assert_eq!(data["viewer"]["roles"], json!(["MEMBER"]));
    assert_eq!(data["viewer"]["organization"]["shortName"], "Kenya");
    // Without a token the viewer is refused, but the request itself is fine.
    let (st, body) = s.gql_raw(None, VIEWER, json!({})).await;
    assert_eq!(st, 200);
    assert_eq!(code(&body), "UNAUTHENTICATED");
}

async fn wrong_email_and_wrong_password_look_the_same(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    s.user("known@example.org", "ITU", &[Role::Secretariat])
        .await;
    let a = login_raw(&s, "known@example.org", "wrong password 123").await;
    let c = login_raw(&s, "unknown@example.org", PASSWORD).await;
    let d = login_raw(&s, "not an email", PASSWORD).await;
    assert_eq!(code(&a), "UNAUTHENTICATED");
    assert_eq!(a["errors"][0]["message"], c["errors"][0]["message"]);
    assert_eq!(a["errors"][0]["message"], d["errors"][0]["message"]);
    assert!(a["data"]["login"].is_null());
}

async fn failures_are_throttled_per_account(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    s.user("target@example.org", "ITU", &[Role::Secretariat])
        .await;
    for _ in 0..5 {
        let body = login_raw(&s, "target@example.org", "guess guess guess").await;
        assert_eq!(code(&body), "UNAUTHENTICATED");
    }
    // Locked: even the right password waits, and the error says how long.
    let body = login_raw(&s, "target@example.org", PASSWORD).await;
    assert_eq!(code(&body), "RATE_LIMITED", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["retryAfterSeconds"], 60);
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap_or("")
        .contains("60 seconds"));
    s.clock.advance(chrono::Duration::seconds(61));
    let body = login_raw(&s, "target@example.org", PASSWORD).await;
    assert!(body["data"]["login"]["token"].is_string(), "{body}");
    // Success clears the account's failures.
    for _ in 0..4 {
        login_raw(&s, "target@example.org", "guess guess guess").await;
    }
    let body = login_raw(&s, "target@example.org", PASSWORD).await;
    assert!(body["data"]["login"]["token"].is_string(), "{body}");
}

async fn failures_are_throttled_per_client_address(b: Backend) {
    let opts = Options {
        trust_forwarded_for: true,
        ..Options::default()
    };
    let Some(s) = TestServer::start_with(b, opts).await else {
        return;
    };
    s.user("victim@example.org", "ITU", &[Role::Secretariat])
        .await;
    let attempt = |addr: &'static str, email: String, password: &'static str| {
        let req = s
            .http
            .post(s.url("/graphql"))
            .header("x-forwarded-for", addr)
            .json(&json!({ "query": LOGIN, "variables": { "e": email, "p": password } }));
        async move {
            req.send()
                .await
                .expect("request")
                .json::<Value>()
                .await
                .expect("json")
        }
    };
    // 20 failures on 20 different accounts from one address.
    for i in 0..20 {
        let body = attempt(
            "203.0.113.7",
            format!("user{i}@example.org"),
            "nope nope nope",
        )
        .await;
        assert_eq!(code(&body), "UNAUTHENTICATED");
    }
    let body = attempt("203.0.113.7", "victim@example.org".into(), PASSWORD).await;
    assert_eq!(code(&body), "RATE_LIMITED");
    assert_eq!(body["errors"][0]["extensions"]["retryAfterSeconds"], 300);
    // Another address is not affected.
    let body = attempt("198.51.100.9", "victim@example.org".into(), PASSWORD).await;
    assert!(body["data"]["login"]["token"].is_string(), "{body}");
}

/// Send every `(address, email, password)` sign-in at once, each from a task of
/// its own; the error code of each answer (`"OK"` for a token).
async fn burst(s: &TestServer, attempts: Vec<(&'static str, String, &'static str)>) -> Vec<String> {
    let mut tasks = Vec::new();
    for (addr, email, password) in attempts {
        let req = s
            .http
            .post(s.url("/graphql"))
            .header("x-forwarded-for", addr)
            .json(&json!({ "query": LOGIN, "variables": { "e": email, "p": password } }));
        tasks.push(tokio::spawn(async move {
            req.send()
                .await
                .expect("request")
                .json::<Value>()
                .await
                .expect("json")
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        let body = t.await.expect("task");
        codes.push(if body["data"]["login"]["token"].is_string() {
            "OK".to_owned()
        } else {
            code(&body).to_owned()
        });
    }
    codes
}

fn count(codes: &[String], code: &str) -> usize {
    codes.iter().filter(|c| *c == code).count()
}

async fn a_concurrent_burst_gets_no_more_checks_than_the_limit(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    s.user("target@example.org", "ITU", &[Role::Secretariat])
        .await;
    let guesses = |n: usize| {
        (0..n)
            .map(|_| {
                (
                    "203.0.113.7",
                    "target@example.org".to_owned(),
                    "guess guess guess",
                )
            })
            .collect::<Vec<_>>()
    };
    // 40 wrong passwords at once: 5 are checked, the other 35 wait.
    let codes = burst(&s, guesses(40)).await;
    assert_eq!(count(&codes, "UNAUTHENTICATED"), 5, "{codes:?}");
    assert_eq!(count(&codes, "RATE_LIMITED"), 35, "{codes:?}");
    // The right password after the limit is refused too, without a check.
    let body = login_raw(&s, "target@example.org", PASSWORD).await;
    assert_eq!(code(&body), "RATE_LIMITED", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["retryAfterSeconds"], 60);
    // Once the lock ends, the right password signs in and clears the count:
    // another burst gets its full 5 checks again.
    s.clock.advance(chrono::Duration::seconds(61));
    let body = login_raw(&s, "target@example.org", PASSWORD).await;
    assert!(body["data"]["login"]["token"].is_string(), "{body}");
    let codes = burst(&s, guesses(12)).await;
    assert_eq!(count(&codes, "UNAUTHENTICATED"), 5, "{codes:?}");
    assert_eq!(count(&codes, "RATE_LIMITED"), 7, "{codes:?}");
}

async fn a_concurrent_spray_from_one_address_is_capped(b: Backend) {
    let opts = Options {
        trust_forwarded_for: true,
        ..Options::default()
    };
    let Some(s) = TestServer::start_with(b, opts).await else {
        return;
    };
    s.user("victim@example.org", "ITU", &[Role::Secretariat])
        .await;
    // 200 accounts at once from one address: 20 are checked.
    let spray = (0..200)
        .map(|i| {
            (
                "203.0.113.7",
                format!("user{i}@example.org"),
                "nope nope nope",
            )
        })
        .collect();
    let codes = burst(&s, spray).await;
    assert_eq!(count(&codes, "UNAUTHENTICATED"), 20, "{codes:?}");
    assert_eq!(count(&codes, "RATE_LIMITED"), 180, "{codes:?}");
    let codes = burst(
        &s,
        vec![("203.0.113.7", "victim@example.org".into(), PASSWORD)],
    )
    .await;
    assert_eq!(codes, ["RATE_LIMITED"]);
    // Sign-ins that succeed are no failures of their address: after 19
    // failures and 10 successes, the 20th failure is still checked. (While a
    // sign-in is in flight it holds one of the address's attempts.)
    let failures: Vec<_> = (0..19)
        .map(|i| {
            (
                "198.51.100.9",
                format!("other{i}@example.org"),
                "nope nope nope",
            )
        })
        .collect();
    let codes = burst(&s, failures).await;
    assert_eq!(count(&codes, "UNAUTHENTICATED"), 19, "{codes:?}");
    for _ in 0..10 {
        let one = vec![("198.51.100.9", "victim@example.org".to_owned(), PASSWORD)];
        assert_eq!(burst(&s, one).await, ["OK"]);
    }
    let last = |email: &str| vec![("198.51.100.9", email.to_owned(), "nope nope nope")];
    assert_eq!(burst(&s, last("x@example.org")).await, ["UNAUTHENTICATED"]);
    assert_eq!(burst(&s, last("y@example.org")).await, ["RATE_LIMITED"]);
}

async fn changing_the_password_ends_older_tokens(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    s.user("me@example.org", "ITU", &[Role::Secretariat]).await;
    let old = s.login("me@example.org", PASSWORD).await;
    let other_old = s.login("me@example.org", PASSWORD).await;
    let change = "mutation($c: String!, $n: String!) { changePassword(input: {currentPassword: $c, newPassword: $n}) { token viewer { email } } }";
    let body = s
        .gql(
            Some(&old),
            change,
            json!({ "c": "not my password", "n": "a brand new passphrase" }),
        )
        .await;
    assert_eq!(code(&body), "VALIDATION");
    assert_eq!(body["errors"][0]["extensions"]["field"], "currentPassword");
    let body = s
        .gql(Some(&old), change, json!({ "c": PASSWORD, "n": "short" }))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "newPassword");
    // Nothing changed so far.
    assert_eq!(viewer_status(&s, &old).await.0, 200);

    let data = s
        .ok(
            Some(&old),
            change,
            json!({ "c": PASSWORD, "n": "a brand new passphrase" }),
        )
        .await;
    let fresh = data["changePassword"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_eq!(data["changePassword"]["viewer"]["email"], "me@example.org");
    for t in [&old, &other_old] {
        let (st, body) = viewer_status(&s, t).await;
        assert_eq!(st, 401);
        assert_eq!(code(&body), "UNAUTHENTICATED");
    }
    assert_eq!(viewer_status(&s, &fresh).await.0, 200);
    assert_eq!(
        code(&login_raw(&s, "me@example.org", PASSWORD).await),
        "UNAUTHENTICATED"
    );
    s.login("me@example.org", "a brand new passphrase").await;
}

async fn bad_tokens_are_refused(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    s.user("me@example.org", "ITU", &[Role::Secretariat]).await;
    let uid = {
        let mut pooled = s.state.db.read().await.expect("db");
        kitreview::db::accounts::user_by_email_key(&mut pooled.conn(), "me@example.org")
            .await
            .expect("query")
            .expect("user")
            .id
    };
    // A token made the way the server makes them is accepted ...
    let good = hs256(&our_claims(uid), SECRET);
    assert_eq!(viewer_status(&s, &good).await.0, 200);
    // ... within the 30 s leeway too.
    let mut c = our_claims(uid);
    c["exp"] = json!(now() - 10);
    assert_eq!(viewer_status(&s, &hs256(&c, SECRET)).await.0, 200);

    let mut bad: Vec<(&str, String)> = Vec::new();
    let mut c = our_claims(uid);
    c["exp"] = json!(now() - 120);
    bad.push(("expired", hs256(&c, SECRET)));
    let mut c = our_claims(uid);
    c["nbf"] = json!(now() + 600);
    bad.push(("not yet valid", hs256(&c, SECRET)));
    let mut c = our_claims(uid);
    c["aud"] = json!("someone-else");
    bad.push(("wrong audience", hs256(&c, SECRET)));
    let mut c = our_claims(uid);
    c["iss"] = json!("evil");
    bad.push(("wrong issuer", hs256(&c, SECRET)));
    let mut c = our_claims(uid);
    c.as_object_mut().expect("object").remove("aud");
    bad.push(("no audience", hs256(&c, SECRET)));
    let mut c = our_claims(uid);
    c.as_object_mut().expect("object").remove("exp");
    bad.push(("no expiry", hs256(&c, SECRET)));
    bad.push((
        "forged",
        hs256(&our_claims(uid), "another-secret-that-is-32-bytes-long!!"),
    ));
    let hs512 = encode(
        &Header::new(Algorithm::HS512),
        &our_claims(uid),
        &EncodingKey::from_secret(SECRET.as_bytes()).expect("key"),
    )
    .expect("sign");
    bad.push(("HS512 with the right secret", hs512));
    // alg: none, no signature.
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(our_claims(uid).to_string())
    );
    bad.push(("alg none", none));
    bad.push(("garbage", "not.a.token".into()));
    let mut c = our_claims(uid);
    c["sub"] = json!("user:999999");
    bad.push(("unknown user", hs256(&c, SECRET)));
    for (what, token) in bad {
        let (st, body) = viewer_status(&s, &token).await;
        assert_eq!(st, 401, "{what}: {body}");
        assert_eq!(code(&body), "UNAUTHENTICATED", "{what}");
    }
    // Not a bearer token at all.
    let res = s
        .http
        .post(s.url("/graphql"))
        .header("authorization", "Basic Zm9vOmJhcg==")
        .json(&json!({ "query": VIEWER }))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 401);
    assert!(res.headers().get("www-authenticate").is_some());
}

async fn deactivated_users_are_refused_at_once(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let admin = s.secretariat().await;
    s.org("Kenya", Some("KE")).await;
    let member = s.user("member@example.ke", "Kenya", &[Role::Member]).await;
    let token = s.login("member@example.ke", PASSWORD).await;
    assert_eq!(viewer_status(&s, &token).await.0, 200);
    let q = "mutation($id: ID!) { deactivateUser(input: {userId: $id}) { user { active } } }";
    let data = s.ok(Some(&admin), q, json!({ "id": member })).await;
    assert_eq!(data["deactivateUser"]["user"]["active"], false);
    let (st, body) = viewer_status(&s, &token).await;
    assert_eq!(st, 401);
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap_or("")
        .contains("deactivated"));
    assert_eq!(
        code(&login_raw(&s, "member@example.ke", PASSWORD).await),
        "UNAUTHENTICATED"
    );
    let q = "mutation($id: ID!) { reactivateUser(input: {userId: $id}) { user { active } } }";
    s.ok(Some(&admin), q, json!({ "id": member })).await;
    // Reactivation does not bring back the tokens issued before: sign in again.
    let (st, body) = viewer_status(&s, &token).await;
    assert_eq!(st, 401, "{body}");
    assert_eq!(code(&body), "UNAUTHENTICATED");
    let fresh = s.login("member@example.ke", PASSWORD).await;
    assert_eq!(viewer_status(&s, &fresh).await.0, 200);
}

async fn a_deactivated_account_is_no_password_oracle(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let admin = s.secretariat().await;
    let member = s.user("gone@example.org", "ITU", &[Role::Member]).await;
    let q = "mutation($id: ID!) { deactivateUser(input: {userId: $id}) { user { active } } }";
    s.ok(Some(&admin), q, json!({ "id": member })).await;
    let wrong = login_raw(&s, "nobody@example.org", "guess guess guess").await;
    // The right password of a deactivated account answers like a wrong one ...
    for _ in 0..5 {
        let body = login_raw(&s, "gone@example.org", PASSWORD).await;
        assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
        assert_eq!(body["errors"][0]["message"], wrong["errors"][0]["message"]);
    }
    // ... and counts as a failure: the account is locked after 5.
    let body = login_raw(&s, "gone@example.org", PASSWORD).await;
    assert_eq!(code(&body), "RATE_LIMITED", "{body}");
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn external_opts(
    alg: ExternalAlgorithm,
    key_file: Option<PathBuf>,
    jwks: Option<PathBuf>,
    claim: ExternalUserClaim,
) -> Options {
    let mut opts = Options::default();
    opts.auth.external_issuer = Some("https://idp.example.org".into());
    opts.auth.external_audience = Some("kitreview-api".into());
    opts.auth.external_algorithm = Some(alg);
    opts.auth.external_public_key_file = key_file;
    opts.auth.external_jwks_file = jwks;
    opts.auth.external_user_claim = claim;
    opts
}

fn idp_claims(email: &str) -> Value {
    json!({ "sub": "idp|42", "email": email, "iss": "https://idp.example.org", "aud": "kitreview-api", "exp": now() + 600, "iat": now() })
}

fn sign(alg: Algorithm, key: &EncodingKey, claims: &Value, kid: Option<&str>) -> String {
    let mut h = Header::new(alg);
    h.kid = kid.map(Into::into);
    encode(&h, claims, key).expect("sign")
}

async fn external_provider_tokens_map_to_users(b: Backend) {
    let rsa = EncodingKey::from_rsa_pem(&std::fs::read(fixture("idp-rsa.key")).expect("key"))
        .expect("rsa");
    let opts = external_opts(
        ExternalAlgorithm::Rs256,
        Some(fixture("idp-rsa.pub")),
        None,
        ExternalUserClaim::Email,
    );
    let Some(s) = TestServer::start_with(b, opts).await else {
        return;
    };
    s.user("Sso.User@example.org", "ITU", &[Role::Secretariat])
        .await;
    let token = sign(
        Algorithm::RS256,
        &rsa,
        &idp_claims("sso.user@example.org"),
        None,
    );
    let (st, body) = viewer_status(&s, &token).await;
    assert_eq!(st, 200, "{body}");
    // Our own tokens still work beside it.
    let ours = s.login("sso.user@example.org", PASSWORD).await;
    assert_eq!(viewer_status(&s, &ours).await.0, 200);

    let mut refused: Vec<(&str, String)> = Vec::new();
    let mut c = idp_claims("sso.user@example.org");
    c["aud"] = json!("kitreview");
    refused.push(("wrong audience", sign(Algorithm::RS256, &rsa, &c, None)));
    let mut c = idp_claims("sso.user@example.org");
    c["iss"] = json!("https://other.example.org");
    refused.push(("wrong issuer", sign(Algorithm::RS256, &rsa, &c, None)));
    let mut c = idp_claims("sso.user@example.org");
    c["exp"] = json!(now() - 120);
    refused.push(("expired", sign(Algorithm::RS256, &rsa, &c, None)));
    refused.push((
        "unknown user",
        sign(
            Algorithm::RS256,
            &rsa,
            &idp_claims("nobody@example.org"),
            None,
        ),
    ));
    // Algorithm confusion: HS256 "signed" with the public key as the secret.
    let public_pem = std::fs::read(fixture("idp-rsa.pub")).expect("pub");
    let confused = encode(
        &Header::new(Algorithm::HS256),
        &idp_claims("sso.user@example.org"),
        &EncodingKey::from_secret(&public_pem).expect("key"),
    )
    .expect("sign");
    refused.push(("HS256 with the public key", confused));
    // A different RSA algorithm with the right key is still not the configured one.
    refused.push((
        "RS512",
        sign(
            Algorithm::RS512,
            &rsa,
            &idp_claims("sso.user@example.org"),
            None,
        ),
    ));
    for (what, t) in refused {
        let (st, body) = viewer_status(&s, &t).await;
        assert_eq!(st, 401, "{what}: {body}");
    }
}

async fn external_es256_eddsa_jwks_and_subject_mapping(b: Backend) {
    // ES256 with a PEM key.
    let ec =
        EncodingKey::from_ec_pem(&std::fs::read(fixture("idp-ec.key")).expect("key")).expect("ec");
    let opts = external_opts(
        ExternalAlgorithm::Es256,
        Some(fixture("idp-ec.pub")),
        None,
        ExternalUserClaim::Email,
    );
    let Some(s) = TestServer::start_with(b, opts).await else {
        return;
    };
    s.user("ec@example.org", "ITU", &[Role::Secretariat]).await;
    let (st, body) = viewer_status(
        &s,
        &sign(Algorithm::ES256, &ec, &idp_claims("ec@example.org"), None),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    drop(s);

    // EdDSA with a PEM key.
    let ed =
        EncodingKey::from_ed_pem(&std::fs::read(fixture("idp-ed.key")).expect("key")).expect("ed");
    let opts = external_opts(
        ExternalAlgorithm::EdDsa,
        Some(fixture("idp-ed.pub")),
        None,
        ExternalUserClaim::Email,
    );
    let Some(s) = TestServer::start_with(b, opts).await else {
        return;
    };
    s.user("ed@example.org", "ITU", &[Role::Secretariat]).await;
    let (st, body) = viewer_status(
        &s,
        &sign(Algorithm::EdDSA, &ed, &idp_claims("ed@example.org"), None),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    drop(s);

    // RS256 keys from a JWKS file, chosen by kid; users mapped by `sub`.
    let rsa = EncodingKey::from_rsa_pem(&std::fs::read(fixture("idp-rsa.key")).expect("key"))
        .expect("rsa");
    let mut jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&rsa, Algorithm::RS256).expect("jwk");
    jwk.common.key_id = Some("key-1".into());
    let dir = tempfile::tempdir().expect("dir");
    let jwks_path = dir.path().join("jwks.json");
    std::fs::write(&jwks_path, json!({ "keys": [jwk] }).to_string()).expect("write");
    let opts = external_opts(
        ExternalAlgorithm::Rs256,
        None,
        Some(jwks_path),
        ExternalUserClaim::Sub,
    );
    let Some(s) = TestServer::start_with(b, opts).await else {
        return;
    };
    let admin = s.secretariat().await;
    let q = r#"mutation { createUser(input: {email: "sub@example.org", displayName: "Sub", roles: [SECRETARIAT], externalSubject: "idp|42"}) { user { id } } }"#;
    s.ok(Some(&admin), q, json!({})).await;
    let t = sign(
        Algorithm::RS256,
        &rsa,
        &idp_claims("ignored@example.org"),
        Some("key-1"),
    );
    let (st, body) = viewer_status(&s, &t).await;
    assert_eq!(st, 200, "{body}");
    let t = sign(
        Algorithm::RS256,
        &rsa,
        &idp_claims("ignored@example.org"),
        Some("unknown-kid"),
    );
    assert_eq!(viewer_status(&s, &t).await.0, 401);
    let t = sign(
        Algorithm::RS256,
        &rsa,
        &idp_claims("ignored@example.org"),
        None,
    );
    assert_eq!(viewer_status(&s, &t).await.0, 401);
}

async fn refuses_unsafe_token_configuration(b: Backend) {
    let Some(db) = TestDb::new(b).await else {
        return;
    };
    let clock = std::sync::Arc::new(kitreview::clock::SystemClock);
    let limits = kitreview::config::LimitArgs::default;
    let mut short = auth_args();
    short.jwt_secret = Some("too-short".parse().expect("infallible"));
    let err =
        kitreview::app::build_state(&db_args(&db.url), &short, limits(), false, clock.clone())
            .await
            .err()
            .expect("a short secret is refused");
    assert!(err.to_string().contains("at least 32 bytes"), "{err}");
    let mut lax = auth_args();
    lax.jwt_leeway_secs = 60;
    assert!(
        kitreview::app::build_state(&db_args(&db.url), &lax, limits(), false, clock.clone())
            .await
            .is_err()
    );
    let mut half = auth_args();
    half.external_issuer = Some("https://idp.example.org".into());
    let err = kitreview::app::build_state(&db_args(&db.url), &half, limits(), false, clock.clone())
        .await
        .err()
        .expect("an incomplete provider is refused");
    assert!(
        err.to_string().contains("KITREVIEW_EXTERNAL_AUDIENCE"),
        "{err}"
    );
    if b == Backend::Postgres {
        let mut none = auth_args();
        none.jwt_secret = None;
        let err = kitreview::app::build_state(&db_args(&db.url), &none, limits(), false, clock)
            .await
            .err()
            .expect("PostgreSQL needs a configured secret");
        assert!(
            err.to_string().contains("KITREVIEW_JWT_SECRET is required"),
            "{err}"
        );
    }
}

backend_tests!(
    signs_in_and_reads_the_viewer,
    wrong_email_and_wrong_password_look_the_same,
    failures_are_throttled_per_account,
    failures_are_throttled_per_client_address,
    changing_the_password_ends_older_tokens,
    bad_tokens_are_refused,
    deactivated_users_are_refused_at_once,
    a_deactivated_account_is_no_password_oracle,
    a_concurrent_burst_gets_no_more_checks_than_the_limit,
    a_concurrent_spray_from_one_address_is_capped,
    external_provider_tokens_map_to_users,
    external_es256_eddsa_jwks_and_subject_mapping,
    refuses_unsafe_token_configuration,
);
