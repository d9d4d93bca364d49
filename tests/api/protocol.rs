//! GraphQL over HTTP: negotiation, status codes, GET, limits, health, shutdown.

use serde_json::{json, Value};

use crate::backend_tests;
use crate::common::{code, Backend, Options, TestServer};
use kitreview::domain::accounts::Role;

const GRJ: &str = "application/graphql-response+json";

async fn post(
    s: &TestServer,
    accept: Option<&str>,
    content_type: Option<&str>,
    body: &str,
) -> (u16, String, Value) {
    let mut req = s.http.post(s.url("/graphql")).body(body.to_owned());
    if let Some(a) = accept {
        req = req.header("accept", a);
    }
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = res.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, ct, body)
}

async fn negotiates_the_response_type(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let q = r#"{"query":"{ __typename }"}"#;
    let (st, ct, body) = post(&s, Some(GRJ), Some("application/json"), q).await;
    assert_eq!((st, ct.starts_with(GRJ)), (200, true));
    assert_eq!(body["data"]["__typename"], "Query");
    let (st, ct, _) = post(&s, Some("application/json"), Some("application/json"), q).await;
    assert_eq!((st, ct.starts_with("application/json")), (200, true));
    let (st, ct, _) = post(&s, None, Some("application/json; charset=utf-8"), q).await;
    assert_eq!((st, ct.starts_with("application/json")), (200, true));
    let (st, ct, _) = post(&s, Some("*/*"), Some("application/json"), q).await;
    assert_eq!((st, ct.starts_with("application/json")), (200, true));
    let (st, _, body) = post(&s, Some("text/plain"), Some("application/json"), q).await;
    assert_eq!(st, 406);
    assert_eq!(code(&body), "NOT_ACCEPTABLE");
}

async fn request_errors_use_400_under_graphql_response_json(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let cases = [
        (r#"{ "not a JSON"#, "BAD_REQUEST"),
        (r#"{"qeury":"{ __typename }"}"#, "BAD_REQUEST"),
        (r#"{"query":{"obj":1}}"#, "BAD_REQUEST"),
        (
            r#"{"query":"{ __typename }","variables":"x"}"#,
            "BAD_REQUEST",
        ),
        (
            r#"{"query":"{ __typename }","operationName":3}"#,
            "BAD_REQUEST",
        ),
        (
            r#"{"query":"{ __typename }","extensions":[1]}"#,
            "BAD_REQUEST",
        ),
        (
            r#"[{"query":"{ __typename }"},{"query":"{ __typename }"}]"#,
            "BAD_REQUEST",
        ),
        (r#"{"query":"{"}"#, "GRAPHQL_PARSE_FAILED"),
        (
            r#"{"query":"{ noSuchField }"}"#,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            r#"{"query":"query($n: Int!) { __typename }","variables":{"n":"x"}}"#,
            "GRAPHQL_VALIDATION_FAILED",
        ),
    ];
    for (body, expected) in cases {
        let (st, _, res) = post(&s, Some(GRJ), Some("application/json"), body).await;
        assert_eq!(st, 400, "{body} -> {res}");
        assert_eq!(code(&res), expected, "{body} -> {res}");
        assert!(
            res.get("data").is_none(),
            "no data entry for a request error: {res}"
        );
        // The legacy type: a malformed request is still a 400; a document that
        // does not parse or validate answers 200 with the same errors.
        let (st, _, res) = post(&s, Some("application/json"), Some("application/json"), body).await;
        let legacy = if expected == "BAD_REQUEST" { 400 } else { 200 };
        assert_eq!(st, legacy, "{body} -> {res}");
        assert_eq!(code(&res), expected);
    }
    let (_, _, res) = post(&s, Some(GRJ), Some("application/json"), "[1,2]").await;
    assert!(res["errors"][0]["message"]
        .as_str()
        .unwrap_or("")
        .contains("batched"));
}

async fn refuses_other_content_types(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let q = r#"{"query":"{ __typename }"}"#;
    for ct in [
        None,
        Some("text/plain"),
        Some("application/json; charset=latin1"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let (st, _, body) = post(&s, Some(GRJ), ct, q).await;
        assert_eq!(st, 415, "{ct:?}");
        assert_eq!(code(&body), "UNSUPPORTED_MEDIA_TYPE");
    }
}

async fn get_runs_queries_but_never_mutations(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    // Introspection is for signed-in users.
    let token = s.secretariat().await;
    let res = s
        .http
        .get(s.url("/graphql"))
        .bearer_auth(&token)
        .query(&[
            (
                "query",
                "query T($name: String!) { __type(name: $name) { name } }",
            ),
            ("variables", r#"{"name":"Query"}"#),
        ])
        .send()
        .await
        .expect("get");
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["data"]["__type"]["name"], "Query");

    let res = s
        .http
        .get(s.url("/graphql"))
        .header("accept", GRJ)
        .query(&[(
            "query",
            r#"mutation { login(input: {email: "a@b.org", password: "x"}) { token } }"#,
        )])
        .send()
        .await
        .expect("get");
    assert_eq!(res.status().as_u16(), 405);
    assert_eq!(
        res.headers().get("allow").and_then(|v| v.to_str().ok()),
        Some("POST")
    );

    // A browser gets GraphiQL.
    let res = s
        .http
        .get(s.url("/graphql"))
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status().as_u16(), 200);
    let html = res.text().await.expect("html");
    assert!(html.contains("graphiql"), "GraphiQL page expected");
}

async fn oversize_bodies_are_refused(b: Backend) {
    let mut opts = Options::default();
    opts.limits.body_limit_bytes = 1024;
    let Some(s) = TestServer::start_with(b, opts).await else {
        return;
    };
    let big = json!({ "query": format!("{{ __typename }} #{}", "x".repeat(4096)) }).to_string();
    let (st, _, body) = post(&s, Some(GRJ), Some("application/json"), &big).await;
    assert_eq!(st, 413);
    assert_eq!(code(&body), "PAYLOAD_TOO_LARGE");
    let (st, _, _) = post(
        &s,
        Some(GRJ),
        Some("application/json"),
        r#"{"query":"{ __typename }"}"#,
    )
    .await;
    assert_eq!(st, 200);
}

/// The query GraphiQL sends to learn the schema.
const INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}"#;

async fn depth_and_complexity_are_limited_but_introspection_works(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let token = s.secretariat().await;
    let data = s.ok(Some(&token), INTROSPECTION, json!({})).await;
    assert!(data["__schema"]["types"].as_array().map_or(0, Vec::len) > 20);

    // Deeper than the limit (15): refused before anything runs.
    let mut deep = String::from("{ viewer { ");
    for i in 0..16 {
        deep += if i % 2 == 0 {
            "rapporteurOf { "
        } else {
            "rapporteurs { "
        };
    }
    deep += "id ";
    deep += &"} ".repeat(18);
    let (st, body) = s.gql_raw(Some(&token), &deep, json!({})).await;
    assert_eq!(st, 400, "{body}");
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("nested too deep"),
        "{body}"
    );

    // Costly: 100 organizations x 100 users each would be 10,000 items per level.
    let mut opts = Options::default();
    opts.limits.max_query_complexity = 500;
    let Some(s2) = TestServer::start_with(b, opts).await else {
        return;
    };
    let t2 = s2.secretariat().await;
    let q = "{ organizations(first: 100) { nodes { id name shortName kind countryCode region createdAt } } }";
    let (st, body) = s2.gql_raw(Some(&t2), q, json!({})).await;
    assert_eq!(st, 400, "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("too complex"),
        "{body}"
    );
    let q = "{ organizations(first: 10) { nodes { id name } } }";
    let (st, _) = s2.gql_raw(Some(&t2), q, json!({})).await;
    assert_eq!(st, 200);
}

async fn health_and_readiness(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let res = s.http.get(s.url("/healthz")).send().await.expect("healthz");
    assert_eq!(res.status().as_u16(), 200);
    let res = s.http.get(s.url("/readyz")).send().await.expect("readyz");
    assert_eq!(res.status().as_u16(), 200);
    // With the database closed, the process is up but not ready.
    s.state.db.close().await;
    let res = s.http.get(s.url("/readyz")).send().await.expect("readyz");
    assert_eq!(res.status().as_u16(), 503);
    let res = s.http.get(s.url("/healthz")).send().await.expect("healthz");
    assert_eq!(res.status().as_u16(), 200);
}

/// Slow password hashing makes a request that is still running when asked to stop.
fn slow_hashing() -> Options {
    let mut opts = Options::default();
    opts.auth.argon2_memory_kib = 64 * 1024;
    opts.auth.argon2_iterations = 8;
    opts
}

async fn shutdown_finishes_requests_in_flight(b: Backend) {
    let Some(s) = TestServer::start_with(b, slow_hashing()).await else {
        return;
    };
    s.user("slow@example.org", "ITU", &[Role::Secretariat])
        .await;
    let url = s.url("/graphql");
    let http = s.http.clone();
    let in_flight = tokio::spawn(async move {
        http.post(url)
            .json(&json!({ "query": "mutation { login(input: {email: \"slow@example.org\", password: \"correct horse battery staple\"}) { token } }" }))
            .send()
            .await
            .expect("in-flight request")
            .json::<Value>()
            .await
            .expect("json")
    });
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    let addr = s.addr;
    s.stop().await;
    let body = in_flight.await.expect("join");
    assert!(body["data"]["login"]["token"].is_string(), "{body}");
    // Stopped: new connections are refused.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

async fn slow_requests_time_out(b: Backend) {
    let mut opts = slow_hashing();
    opts.limits.request_timeout = std::time::Duration::from_millis(20);
    let Some(s) = TestServer::start_with(b, opts).await else {
        return;
    };
    s.user("slow@example.org", "ITU", &[Role::Secretariat])
        .await;
    let res = s
        .http
        .post(s.url("/graphql"))
        .json(&json!({ "query": "mutation { login(input: {email: \"slow@example.org\", password: \"correct horse battery staple\"}) { token } }" }))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 503);
}

backend_tests!(
    negotiates_the_response_type,
    request_errors_use_400_under_graphql_response_json,
    refuses_other_content_types,
    get_runs_queries_but_never_mutations,
    oversize_bodies_are_refused,
    depth_and_complexity_are_limited_but_introspection_works,
    health_and_readiness,
    shutdown_finishes_requests_in_flight,
    slow_requests_time_out,
);
