//! `GET /metrics` (Prometheus text format) scraped after some traffic; the
//! setting that moves it to another address or turns it off; and the access
//! log, one JSON line per request, from the binary.

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;

use kitreview::config::MetricsMode;
use kitreview::domain::accounts::Role;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::cli::{create_boss, kitreview};
use crate::common::{code, Backend, Options, TestServer, PASSWORD};

/// The value of the first sample of `name` whose labels include every one
/// of `labels` (`key="value"`).
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .find(|l| labels.iter().all(|x| l.contains(x)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn scrape(s: &TestServer) -> String {
    let res = s.http.get(s.url("/metrics")).send().await.expect("scrape");
    assert_eq!(res.status(), 200);
    let media = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(media.starts_with("text/plain"), "{media}");
    res.text().await.expect("text")
}

async fn metrics_are_scraped(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    s.user("watched@itu.example", "ITU", &[Role::Member]).await;
    let token = s.login("watched@itu.example", PASSWORD).await;
    s.ok(
        Some(&token),
        "query MetricsProbe { viewer { id } }",
        json!({}),
    )
    .await;
    let body = s
        .gql(
            Some(&token),
            "query MetricsRefused { users(first: 5) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let body = s
        .gql(
            None,
            "mutation { login(input: {email: \"watched@itu.example\", password: \"not the password\"}) { token } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&body), "UNAUTHENTICATED");
    // Names a client makes up are not kept as labels.
    s.ok(
        Some(&token),
        "query Odd_Name_That_Is_Fine { viewer { id } }",
        json!({}),
    )
    .await;

    let text = scrape(&s).await;
    let ok = sample(
        &text,
        "kitreview_graphql_operations_total",
        &["operation=\"MetricsProbe\"", "outcome=\"ok\""],
    );
    assert!(ok.is_some_and(|v| v >= 1.0), "{text}");
    let refused = sample(
        &text,
        "kitreview_graphql_operations_total",
        &["operation=\"MetricsRefused\"", "outcome=\"FORBIDDEN\""],
    );
    assert!(refused.is_some_and(|v| v >= 1.0), "{text}");
    assert!(
        sample(
            &text,
            "kitreview_graphql_operation_duration_seconds_bucket",
            &["operation=\"MetricsProbe\"", "le=\"+Inf\""],
        )
        .is_some_and(|v| v >= 1.0),
        "{text}"
    );
    assert!(
        sample(
            &text,
            "kitreview_http_requests_total",
            &["route=\"/graphql\"", "status=\"2xx\""]
        )
        .is_some_and(|v| v >= 4.0),
        "{text}"
    );
    assert!(
        sample(
            &text,
            "kitreview_sign_in_failures_total",
            &["reason=\"wrong_password\""]
        )
        .is_some_and(|v| v >= 1.0),
        "{text}"
    );
    assert!(
        sample(&text, "kitreview_db_statements_total", &[]).is_some_and(|v| v > 0.0),
        "{text}"
    );
    assert!(
        sample(
            &text,
            "kitreview_db_pool_connections",
            &["pool=\"live\"", "state=\"idle\""]
        )
        .is_some(),
        "{text}"
    );
    assert!(
        sample(&text, "kitreview_ws_connections", &[]).is_some(),
        "{text}"
    );
}

async fn metrics_move_or_turn_off(b: Backend) {
    let off = Options {
        metrics: MetricsMode::Off,
        ..Options::default()
    };
    let Some(s) = TestServer::start_with(b, off).await else {
        return;
    };
    let res = s.http.get(s.url("/metrics")).send().await.expect("get");
    assert_eq!(res.status(), 404);
    s.stop().await;

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let elsewhere = Options {
        metrics: MetricsMode::Listen(addr),
        ..Options::default()
    };
    let Some(s) = TestServer::start_with(b, elsewhere).await else {
        return;
    };
    let res = s.http.get(s.url("/metrics")).send().await.expect("get");
    assert_eq!(res.status(), 404, "not on the main listener");
    let mut text = None;
    for _ in 0..50 {
        if let Ok(res) = s.http.get(format!("http://{addr}/metrics")).send().await {
            text = Some((res.status(), res.text().await.unwrap_or_default()));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (status, text) = text.expect("the metrics listener answers");
    assert_eq!(status, 200);
    assert!(text.contains("kitreview_db_pool_connections"), "{text}");
}

backend_tests!(metrics_are_scraped, metrics_move_or_turn_off);

/// `--log-format json`: one object per line; each request's access line has
/// its method, path, status, duration, request id, client and user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_log_is_json_lines() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite:{}", dir.path().join("kr.db").display());
    let out = create_boss(&url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut server = kitreview()
        .args(["--log-format", "json", "serve", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["--database-url", &url])
        .env("KITREVIEW_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..300 {
        if http
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let login: Value = http
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": "mutation { login(input: {email: \"boss@itu.example\", password: \"a long bootstrap passphrase\"}) { token viewer { id } } }" }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = login["data"]["login"]["token"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let res = http
        .get(format!(
            "{base}/graphql?query=query%20Who%20%7B%20viewer%20%7B%20id%20%7D%20%7D&secret=hidden"
        ))
        .bearer_auth(&token)
        .header("accept", "application/json")
        .send()
        .await
        .expect("query");
    let request_id = res
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let status = res.status();
    let failed = http
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": "mutation { login(input: {email: \"boss@itu.example\", password: \"a wrong passphrase\"}) { token } }" }))
        .send()
        .await
        .expect("failed login");
    assert_eq!(failed.status(), 200);
    let _ = server.kill();
    let stderr = server.stderr.take().expect("stderr");
    let _ = server.wait();
    assert!(ready, "the server started");
    assert_eq!(status, 200);
    let lines: Vec<String> = BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .collect();
    let parsed: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    let access = parsed
        .iter()
        .find(|v| {
            v["target"] == "kitreview::access" && v["fields"]["request_id"] == request_id.as_str()
        })
        .unwrap_or_else(|| panic!("no access line for {request_id}: {lines:#?}"));
    let f = &access["fields"];
    assert_eq!(f["method"], "GET");
    assert_eq!(f["path"], "/graphql", "no query string in the log");
    assert_eq!(f["status"], 200);
    assert_eq!(f["client"], "127.0.0.1");
    assert_eq!(f["operation"], "Who");
    assert_eq!(f["outcome"], "ok");
    assert!(
        f["duration_ms"].as_f64().is_some_and(|d| d >= 0.0),
        "{access}"
    );
    assert_eq!(f["user_id"], 1, "the boss is the first user: {access}");
    assert!(
        !lines.iter().any(|l| l.contains("hidden")),
        "query strings are not logged"
    );
    // A failed sign-in leaves a line too, with the account and the client.
    assert!(
        parsed
            .iter()
            .any(|v| v["fields"]["message"] == "sign-in failed"
                && v["fields"]["reason"] == "wrong_password"
                && v["fields"]["user_id"] == 1
                && v["fields"]["client"] == "127.0.0.1"),
        "{lines:#?}"
    );
    assert!(
        parsed.iter().all(|v| v["level"].is_string()),
        "every line is a log record"
    );
}
