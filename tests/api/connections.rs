//! Connections that cannot be held hostage: header-read and idle timeouts,
//! connection limits (global and per address), and the budget of WebSockets
//! not yet acknowledged.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::backend_tests;
use crate::common::ws::{Frame, Ws};
use crate::common::{Backend, Options, TestServer};
use kitreview::config::LimitArgs;

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: kitreview\r\n\r\n";

fn limits(f: impl FnOnce(&mut LimitArgs)) -> Options {
    let mut limits = LimitArgs::default();
    f(&mut limits);
    Options {
        limits,
        ..Options::default()
    }
}

/// How the server ended a raw connection, if it did within `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at((started + within).into(), stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => continue,
        }
    }
}

/// Send `GET /healthz` on a raw connection and read the answer's status line.
async fn healthz_on(stream: &mut TcpStream) -> Option<String> {
    stream.write_all(HEALTHZ).await.ok()?;
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + Duration::from_secs(5);
    while !got.ends_with(b"ok\n") {
        let n = tokio::time::timeout_at(deadline.into(), stream.read(&mut buf))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        got.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&got);
    text.lines().next().map(str::to_owned)
}

async fn half_sent_requests_are_cut_off(b: Backend) {
    let Some(s) = TestServer::start_with(
        b,
        limits(|l| l.header_read_timeout = Duration::from_millis(300)),
    )
    .await
    else {
        return;
    };
    let connected = Instant::now();
    // Half a request line, then nothing.
    let mut half = TcpStream::connect(s.addr).await.expect("connect");
    half.write_all(b"GET /healthz HT").await.expect("write");
    // Nothing at all.
    let mut silent = TcpStream::connect(s.addr).await.expect("connect");
    for stream in [&mut half, &mut silent] {
        closed_within(stream, Duration::from_secs(5))
            .await
            .expect("the server closes a connection whose request head does not come");
        let after = connected.elapsed();
        assert!(
            after >= Duration::from_millis(250),
            "closed after {after:?}"
        );
    }
    // A kept-alive connection that sends no next request is closed as well:
    // the header-read clock starts again after each response.
    let mut kept = TcpStream::connect(s.addr).await.expect("connect");
    assert_eq!(
        healthz_on(&mut kept).await.as_deref(),
        Some("HTTP/1.1 200 OK")
    );
    assert!(closed_within(&mut kept, Duration::from_secs(5))
        .await
        .is_some());
    // A prompt client is served.
    let res = s.http.get(s.url("/healthz")).send().await.expect("healthz");
    assert_eq!(res.status().as_u16(), 200);
}

async fn idle_connections_are_closed(b: Backend) {
    let mut opts = limits(|l| l.idle_timeout = Duration::from_millis(300));
    // Slow password hashing: a request that runs for longer than the idle timeout.
    opts.auth.argon2_memory_kib = 64 * 1024;
    opts.auth.argon2_iterations = 8;
    let Some(s) = TestServer::start_with(b, opts).await else {
        return;
    };
    let mut kept = TcpStream::connect(s.addr).await.expect("connect");
    assert_eq!(
        healthz_on(&mut kept).await.as_deref(),
        Some("HTTP/1.1 200 OK")
    );
    // The header-read timeout (10 s) is far away; the idle timeout closes it.
    let after = closed_within(&mut kept, Duration::from_secs(3))
        .await
        .expect("an idle kept-alive connection is closed");
    assert!(
        after >= Duration::from_millis(250),
        "closed after {after:?}"
    );
    // A request the server is working on is not idle, however long it takes.
    s.user(
        "slow@example.org",
        "ITU",
        &[kitreview::domain::accounts::Role::Member],
    )
    .await;
    let body = s
        .gql(
            None,
            "mutation { login(input: {email: \"slow@example.org\", password: \"correct horse battery staple\"}) { token } }",
            json!({}),
        )
        .await;
    assert!(body["data"]["login"]["token"].is_string(), "{body}");
}

async fn connections_per_address_are_capped(b: Backend) {
    let Some(s) = TestServer::start_with(b, limits(|l| l.max_connections_per_address = 2)).await
    else {
        return;
    };
    let mut first = TcpStream::connect(s.addr).await.expect("connect");
    let mut second = TcpStream::connect(s.addr).await.expect("connect");
    assert_eq!(
        healthz_on(&mut first).await.as_deref(),
        Some("HTTP/1.1 200 OK")
    );
    assert_eq!(
        healthz_on(&mut second).await.as_deref(),
        Some("HTTP/1.1 200 OK")
    );
    // The third from the same address is closed at once, unanswered.
    let mut third = TcpStream::connect(s.addr).await.expect("connect");
    assert_eq!(healthz_on(&mut third).await, None);
    // Closing one makes room.
    drop(first);
    let mut fourth = None;
    for _ in 0..50 {
        let mut c = TcpStream::connect(s.addr).await.expect("connect");
        if let Some(status) = healthz_on(&mut c).await {
            assert_eq!(status, "HTTP/1.1 200 OK");
            fourth = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        fourth.is_some(),
        "a new connection is served once one closed"
    );
    // The held ones still work.
    assert_eq!(
        healthz_on(&mut second).await.as_deref(),
        Some("HTTP/1.1 200 OK")
    );
}

async fn connections_are_capped_in_all(b: Backend) {
    let Some(s) = TestServer::start_with(
        b,
        limits(|l| {
            l.max_connections = 3;
            l.max_connections_per_address = 0;
        }),
    )
    .await
    else {
        return;
    };
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut c = TcpStream::connect(s.addr).await.expect("connect");
        assert_eq!(healthz_on(&mut c).await.as_deref(), Some("HTTP/1.1 200 OK"));
        held.push(c);
    }
    let mut over = TcpStream::connect(s.addr).await.expect("connect");
    assert_eq!(healthz_on(&mut over).await, None);
    // A WebSocket holds its connection's place too.
    held.pop();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let _ws = Ws::connect(&s.base).await;
    let mut over = TcpStream::connect(s.addr).await.expect("connect");
    assert_eq!(healthz_on(&mut over).await, None);
}

async fn sockets_not_yet_acknowledged_have_a_budget_of_their_own(b: Backend) {
    let Some(s) = TestServer::start_with(
        b,
        limits(|l| {
            l.ws_max_connections = 2;
            l.ws_max_pending = 3;
            l.ws_init_timeout = Duration::from_secs(20);
        }),
    )
    .await
    else {
        return;
    };
    let token = s.secretariat().await;
    // Three anonymous sockets that never send `connection_init`.
    let mut anonymous = Vec::new();
    for i in 0..3 {
        match Ws::try_connect(&s.base).await {
            Ok(ws) => anonymous.push(ws),
            Err(status) => panic!("anonymous socket {i} refused with {status}"),
        }
    }
    // A fourth is over the pending budget.
    assert_eq!(Ws::try_connect(&s.base).await.err(), Some(503));
    // One goes away: a signed-in user gets its socket acknowledged even
    // though the other anonymous ones are still there.
    drop(anonymous.pop());
    let mut signed = None;
    for _ in 0..50 {
        if let Ok(mut ws) = Ws::try_connect(&s.base).await {
            ws.send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }))
                .await;
            assert_eq!(ws.next_json().await["type"], "connection_ack");
            signed = Some(ws);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut signed = signed.expect("a signed-in socket connects");
    assert_eq!(s.state.limits.ws_max_connections, 2);
    // Acknowledged sockets no longer use the pending budget: there is room
    // for another anonymous one, and the second signed-in one fills the cap.
    let another = Ws::try_connect(&s.base).await;
    assert!(another.is_ok(), "{:?}", another.err());
    drop(another);
    drop(anonymous.pop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _second = Ws::signed_in(&s.base, &token).await;
    // The cap of acknowledged sockets is full: an upgrade is refused.
    assert_eq!(Ws::try_connect(&s.base).await.err(), Some(503));
    // The signed-in socket still works.
    signed.send(json!({ "type": "ping" })).await;
    assert_eq!(signed.next_json().await["type"], "pong");
}

async fn pending_sockets_are_capped_per_address(b: Backend) {
    let Some(s) = TestServer::start_with(
        b,
        limits(|l| {
            l.ws_max_pending_per_address = 2;
            l.ws_init_timeout = Duration::from_secs(20);
        }),
    )
    .await
    else {
        return;
    };
    let token = s.secretariat().await;
    let _a = Ws::try_connect(&s.base).await.expect("first");
    let _b = Ws::try_connect(&s.base).await.expect("second");
    assert_eq!(Ws::try_connect(&s.base).await.err(), Some(503));
    // Once acknowledged, a socket leaves the pending budget.
    drop(_b);
    let mut signed = None;
    for _ in 0..50 {
        if let Ok(mut ws) = Ws::try_connect(&s.base).await {
            ws.send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }))
                .await;
            assert_eq!(ws.next_json().await["type"], "connection_ack");
            signed = Some(ws);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(signed.is_some(), "a socket connects once a place is free");
    let _c = Ws::try_connect(&s.base)
        .await
        .expect("room again after the acknowledgement");
}

async fn oversized_messages_close_with_1009(b: Backend) {
    let Some(s) = TestServer::start_with(b, limits(|l| l.body_limit_bytes = 1024)).await else {
        return;
    };
    let token = s.secretariat().await;
    let mut ws = Ws::signed_in(&s.base, &token).await;
    let big = json!({ "type": "ping", "payload": { "pad": "x".repeat(4096) } });
    ws.send(big).await;
    match ws.recv().await {
        Frame::Closed(code, reason) => {
            assert_eq!(code, 1009, "{reason}");
            assert!(reason.contains("1024"), "{reason}");
        }
        other => panic!("expected close 1009, got {other:?}"),
    }
    // Before `connection_init` too.
    let mut ws = Ws::connect(&s.base).await;
    ws.send_text(&"y".repeat(2048)).await;
    assert!(matches!(ws.recv().await, Frame::Closed(1009, _)));
}

backend_tests!(
    half_sent_requests_are_cut_off,
    idle_connections_are_closed,
    connections_per_address_are_capped,
    connections_are_capped_in_all,
    sockets_not_yet_acknowledged_have_a_budget_of_their_own,
    pending_sockets_are_capped_per_address,
    oversized_messages_close_with_1009,
);
