//! Live updates over WebSocket (graphql-transport-ws): the protocol's close
//! codes, the events of a review, visibility per subscriber, the end of a
//! connection (token expiry, deactivation, shutdown) and, on PostgreSQL, events
//! crossing from one server process to another.

use std::time::Duration;

use serde_json::{json, Value};

use crate::backend_tests;
use crate::common::committee::{Committee, REV1};
use crate::common::ws::{Frame, Ws};
use crate::common::{auth_args, code, t0, Backend, Options, TestServer, SECRET};
use kitreview::auth::jwt::TokenSubject;
use kitreview::config::LimitArgs;
use kitreview::domain::comments::{AnchorKind, CommentType};
use kitreview::domain::ids::{GlobalId, NodeKind};
use kitreview::service::comments::{self, AnchorInput, TextInput};
use kitreview::service::session;

const CYCLE_EVENTS: &str = "subscription($c: ID!) { cycleEvents(cycleId: $c) { kind cycleStatus cycle { id } comment { id number state body organization { shortName } } reply { body } revision { number } } }";
const MODULE_EVENTS: &str = "subscription($m: ID!) { moduleEvents(moduleId: $m) { kind cycleStatus comment { number } revision { number } } }";
const OPEN: &str =
    "mutation($i: OpenReviewCycleInput!) { openReviewCycle(input: $i) { cycle { id } } }";
const SUBMIT: &str = "mutation($c: ID!, $b: String!) { submitComment(input: {cycleId: $c, anchor: {kind: DOCUMENT}, type: GENERAL, body: $b}) { comment { id number } } }";

async fn open_cycle(c: &Committee, visibility: &str) -> String {
    let data = c
        .s
        .ok(
            Some(&c.rapporteur),
            OPEN,
            json!({ "i": { "revisionId": c.revision, "title": "Comments on revision 1", "opensAt": t0().to_rfc3339(), "closesAt": (t0() + chrono::Duration::days(10)).to_rfc3339(), "visibility": visibility } }),
        )
        .await;
    data["openReviewCycle"]["cycle"]["id"]
        .as_str()
        .expect("cycle id")
        .to_owned()
}

async fn submit(s: &TestServer, token: &str, cycle: &str, body: &str) -> Value {
    s.ok(Some(token), SUBMIT, json!({ "c": cycle, "b": body }))
        .await["submitComment"]["comment"]
        .clone()
}

/// Subscribe to a cycle's events; returns once the server has the
/// subscription (a ping round trip after it, the server handling messages in order).
async fn watch(base: &str, token: &str, cycle: &str) -> Ws {
    let mut ws = Ws::signed_in(base, token).await;
    ws.subscribe("events", CYCLE_EVENTS, json!({ "c": cycle }))
        .await;
    settle(&mut ws).await;
    ws
}

/// Wait until the server has handled everything sent so far.
async fn settle(ws: &mut Ws) {
    ws.send(json!({ "type": "ping" })).await;
    let pong = ws.next_json().await;
    assert_eq!(pong["type"], "pong", "{pong}");
}

fn short_init() -> Options {
    Options {
        limits: LimitArgs {
            ws_init_timeout: Duration::from_millis(300),
            ..LimitArgs::default()
        },
        ..Options::default()
    }
}

async fn protocol_errors_close_with_the_protocol_codes(b: Backend) {
    let Some(s) = TestServer::start_with(b, short_init()).await else {
        return;
    };
    let token = s.secretariat().await;
    let base = s.base.clone();
    let init = |t: &str| json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {t}") } });

    // No subprotocol: 4406.
    let mut ws = Ws::connect_with(&base, None).await;
    assert_eq!(ws.closed().await.0, 4406);
    // No connection_init in time: 4408.
    let mut ws = Ws::connect(&base).await;
    assert_eq!(
        ws.closed().await,
        (4408, "Connection initialisation timeout".into())
    );
    // No token, or a bad one: 4403.
    let mut ws = Ws::connect(&base).await;
    ws.send(json!({ "type": "connection_init" })).await;
    assert_eq!(ws.closed().await.0, 4403);
    let mut ws = Ws::connect(&base).await;
    ws.send(init("not-a-token")).await;
    let (c, reason) = ws.closed().await;
    assert_eq!(c, 4403, "{reason}");
    // Two inits: 4429.
    let mut ws = Ws::connect(&base).await;
    ws.send(init(&token)).await;
    assert_eq!(ws.next_json().await["type"], "connection_ack");
    ws.send(init(&token)).await;
    assert_eq!(
        ws.closed().await,
        (4429, "Too many initialisation requests".into())
    );
    // Subscribe before the ack: 4401.
    let mut ws = Ws::connect(&base).await;
    ws.subscribe("1", "{ viewer { id } }", json!({})).await;
    assert_eq!(ws.closed().await, (4401, "Unauthorized".into()));
    // Malformed messages: 4400.
    for bad in [
        "not json",
        "[1, 2]",
        r#"{"payload": {}}"#,
        r#"{"type": "next", "id": "1", "payload": {}}"#,
        r#"{"type": "subscribe", "payload": {"query": "{ viewer { id } }"}}"#,
        r#"{"type": "subscribe", "id": "1"}"#,
        r#"{"type": "subscribe", "id": "1", "payload": {"query": 7}}"#,
        r#"{"type": "subscribe", "id": "1", "payload": {"query": "{ viewer { id } }", "variables": [1]}}"#,
        r#"{"type": "complete"}"#,
    ] {
        let mut ws = Ws::signed_in(&base, &token).await;
        ws.send_text(bad).await;
        let (c, reason) = ws.closed().await;
        assert_eq!(c, 4400, "{bad}: {reason}");
        assert!(reason.len() <= 123);
    }
    let mut ws = Ws::signed_in(&base, &token).await;
    ws.send_binary(b"\x00\x01").await;
    assert_eq!(ws.closed().await.0, 4400);
    // The server is unaffected.
    let ok = s.http.get(s.url("/healthz")).send().await.expect("healthz");
    assert_eq!(ok.status(), 200);
    s.stop().await;
}

async fn operations_run_over_the_socket(b: Backend) {
    let Some(s) = TestServer::start_with(b, short_init()).await else {
        return;
    };
    let token = s.secretariat().await;
    let mut ws = Ws::signed_in(&s.base, &token).await;
    // ping / pong, with the payload echoed.
    ws.send(json!({ "type": "ping", "payload": { "n": 1 } }))
        .await;
    assert_eq!(
        ws.next_json().await,
        json!({ "type": "pong", "payload": { "n": 1 } })
    );
    // A query: one `next`, then `complete`.
    ws.subscribe("q", "{ viewer { email } }", json!({})).await;
    assert_eq!(
        ws.next_data("q").await["viewer"]["email"],
        "secretariat@itu.example"
    );
    assert_eq!(
        ws.next_json().await,
        json!({ "type": "complete", "id": "q" })
    );
    // A document that does not parse or validate: one `error` message.
    ws.subscribe("bad", "{ viewer { nope } }", json!({})).await;
    let e = ws.next_json().await;
    assert_eq!(e["type"], "error", "{e}");
    assert_eq!(e["id"], "bad");
    assert!(e["payload"][0]["message"].as_str().is_some(), "{e}");
    ws.subscribe("unparsable", "{ viewer {", json!({})).await;
    let e = ws.next_json().await;
    assert_eq!(e["type"], "error", "{e}");
    assert_eq!(
        e["payload"][0]["extensions"]["code"],
        "GRAPHQL_PARSE_FAILED"
    );
    // A subscription to a cycle that does not exist: the error, then complete.
    let missing =
        kitreview::domain::ids::GlobalId::new(kitreview::domain::ids::NodeKind::ReviewCycle, 999)
            .to_string();
    ws.subscribe("missing", CYCLE_EVENTS, json!({ "c": missing }))
        .await;
    let m = ws.next_json().await;
    assert_eq!(m["type"], "next", "{m}");
    assert_eq!(
        m["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{m}"
    );
    assert_eq!(
        ws.next_json().await,
        json!({ "type": "complete", "id": "missing" })
    );
    // `complete` from the client stops a subscription; an unknown id is ignored.
    ws.send(json!({ "type": "complete", "id": "nope" })).await;
    settle(&mut ws).await;
    s.stop().await;
}

async fn a_review_reaches_its_subscribers(b: Backend) {
    let Some(c) = Committee::start(b).await else {
        return;
    };
    let cycle = open_cycle(&c, "OPEN").await;
    let mut rapp = watch(&c.s.base, &c.rapporteur, &cycle).await;
    let mut module = Ws::signed_in(&c.s.base, &c.france).await;
    module
        .subscribe("m", MODULE_EVENTS, json!({ "m": c.module }))
        .await;
    settle(&mut module).await;

    let comment = submit(&c.s, &c.kenya, &cycle, "Define open data").await;
    let e = rapp.next_data("events").await["cycleEvents"].clone();
    assert_eq!(e["kind"], "COMMENT_SUBMITTED");
    assert_eq!(e["comment"]["id"], comment["id"]);
    assert_eq!(e["comment"]["number"], 1);
    assert_eq!(e["comment"]["body"], "Define open data");
    assert_eq!(e["comment"]["organization"]["shortName"], "Kenya");
    assert_eq!(e["cycle"]["id"], cycle.as_str());
    let m = module.next_data("m").await["moduleEvents"].clone();
    assert_eq!(
        (m["kind"].clone(), m["comment"]["number"].clone()),
        (json!("COMMENT_SUBMITTED"), json!(1))
    );

    c.s.ok(Some(&c.kenya2), "mutation($c: ID!) { updateComment(input: {commentId: $c, body: \"Define open data, please\"}) { comment { id } } }", json!({ "c": comment["id"] })).await;
    let e = rapp.next_data("events").await["cycleEvents"].clone();
    assert_eq!(e["kind"], "COMMENT_UPDATED");
    assert_eq!(e["comment"]["body"], "Define open data, please");

    c.s.ok(
        Some(&c.france),
        "mutation($c: ID!) { addReply(input: {commentId: $c, body: \"Agreed\"}) { reply { id } } }",
        json!({ "c": comment["id"] }),
    )
    .await;
    let e = rapp.next_data("events").await["cycleEvents"].clone();
    assert_eq!(e["kind"], "REPLY_ADDED");
    assert_eq!(e["reply"]["body"], "Agreed");
    assert_eq!(e["comment"]["number"], 1);

    c.s.ok(Some(&c.rapporteur), "mutation($c: ID!) { setDisposition(input: {commentId: $c, kind: NOTED, rationale: \"Will define it\"}) { comment { id } } }", json!({ "c": comment["id"] })).await;
    let e = rapp.next_data("events").await["cycleEvents"].clone();
    assert_eq!(e["kind"], "DISPOSITION_SET");

    let second = submit(&c.s, &c.france, &cycle, "Typo in 2.1").await;
    assert_eq!(
        rapp.next_data("events").await["cycleEvents"]["kind"],
        "COMMENT_SUBMITTED"
    );
    c.s.ok(
        Some(&c.france),
        "mutation($c: ID!) { withdrawComment(input: {commentId: $c}) { comment { id } } }",
        json!({ "c": second["id"] }),
    )
    .await;
    let e = rapp.next_data("events").await["cycleEvents"].clone();
    assert_eq!(e["kind"], "COMMENT_WITHDRAWN");
    assert_eq!(e["comment"]["state"], "WITHDRAWN");

    // The close at closesAt, driven by the clock, is told once.
    c.s.clock.advance(chrono::Duration::days(11));
    let e = rapp.next_data("events").await["cycleEvents"].clone();
    assert_eq!(e["kind"], "CYCLE_STATUS_CHANGED");
    assert_eq!(e["cycleStatus"], "CLOSED");
    rapp.silent_for(400).await;

    // A new revision of the module.
    c.s.ok(
        Some(&c.rapporteur),
        "mutation($i: CreateRevisionInput!) { createRevision(input: $i) { revision { id } } }",
        json!({ "i": { "moduleId": c.module, "baseRevisionId": c.revision, "markdown": format!("{REV1}\n\nA new paragraph.\n"), "summary": "second" } }),
    )
    .await;
    let e = rapp.next_data("events").await["cycleEvents"].clone();
    assert_eq!(e["kind"], "REVISION_PUBLISHED");
    assert_eq!(e["revision"]["number"], 2);

    // The module subscriber saw everything it may see, in order (France: the
    // disposition is hidden until the close, so it is not among them).
    let mut kinds = vec![m["kind"].as_str().unwrap_or_default().to_owned()];
    loop {
        let m = module.next_data("m").await["moduleEvents"].clone();
        kinds.push(m["kind"].as_str().unwrap_or_default().to_owned());
        if m["kind"] == "REVISION_PUBLISHED" {
            break;
        }
    }
    assert_eq!(
        kinds,
        [
            "COMMENT_SUBMITTED",
            "COMMENT_UPDATED",
            "REPLY_ADDED",
            "COMMENT_SUBMITTED",
            "COMMENT_WITHDRAWN",
            "CYCLE_STATUS_CHANGED",
            "REVISION_PUBLISHED"
        ]
    );
    c.s.stop().await;
}

async fn sealed_comments_reach_only_those_who_may_see_them(b: Backend) {
    let Some(c) = Committee::start(b).await else {
        return;
    };
    let cycle = open_cycle(&c, "SEALED").await;
    let mut france = watch(&c.s.base, &c.france, &cycle).await;
    let mut kenya2 = watch(&c.s.base, &c.kenya2, &cycle).await;
    let mut rapp = watch(&c.s.base, &c.rapporteur, &cycle).await;

    // A draft raises nothing for anyone but... nobody: drafts are not news.
    c.s.ok(Some(&c.kenya), "mutation($c: ID!) { createCommentDraft(input: {cycleId: $c, anchor: {kind: DOCUMENT}, type: GENERAL, body: \"draft\"}) { comment { id } } }", json!({ "c": cycle })).await;
    let comment = submit(&c.s, &c.kenya, &cycle, "Kenya's sealed view").await;
    for ws in [&mut kenya2, &mut rapp] {
        let e = ws.next_data("events").await["cycleEvents"].clone();
        assert_eq!(e["kind"], "COMMENT_SUBMITTED");
        assert_eq!(e["comment"]["body"], "Kenya's sealed view");
    }
    // A provisional disposition: the rapporteur only.
    c.s.ok(Some(&c.rapporteur), "mutation($c: ID!) { setDisposition(input: {commentId: $c, kind: ACCEPTED}) { comment { id } } }", json!({ "c": comment["id"] })).await;
    assert_eq!(
        rapp.next_data("events").await["cycleEvents"]["kind"],
        "DISPOSITION_SET"
    );
    // A reply to Kenya's comment, by the rapporteur: not for France either.
    c.s.ok(
        Some(&c.rapporteur),
        "mutation($c: ID!) { addReply(input: {commentId: $c, body: \"Thanks\"}) { reply { id } } }",
        json!({ "c": comment["id"] }),
    )
    .await;
    assert_eq!(
        rapp.next_data("events").await["cycleEvents"]["kind"],
        "REPLY_ADDED"
    );
    assert_eq!(
        kenya2.next_data("events").await["cycleEvents"]["kind"],
        "REPLY_ADDED"
    );
    // France's own comment reaches France (and the rapporteur), not Kenya.
    submit(&c.s, &c.france, &cycle, "France's view").await;
    let e = france.next_data("events").await["cycleEvents"].clone();
    assert_eq!(
        (e["kind"].clone(), e["comment"]["body"].clone()),
        (json!("COMMENT_SUBMITTED"), json!("France's view")),
        "France's first event must be its own comment, never Kenya's"
    );
    assert_eq!(
        rapp.next_data("events").await["cycleEvents"]["comment"]["body"],
        "France's view"
    );
    kenya2.silent_for(300).await;
    // After the close, everyone sees everything, as on every read path.
    c.s.clock.advance(chrono::Duration::days(11));
    for ws in [&mut france, &mut kenya2, &mut rapp] {
        let e = ws.next_data("events").await["cycleEvents"].clone();
        assert_eq!(
            (e["kind"].clone(), e["cycleStatus"].clone()),
            (json!("CYCLE_STATUS_CHANGED"), json!("CLOSED"))
        );
    }
    c.s.ok(Some(&c.rapporteur), "mutation($c: ID!) { setDisposition(input: {commentId: $c, kind: REJECTED, rationale: \"Out of scope\"}) { comment { id } } }", json!({ "c": comment["id"] })).await;
    let e = france.next_data("events").await["cycleEvents"].clone();
    assert_eq!(e["kind"], "DISPOSITION_SET");
    assert_eq!(e["comment"]["body"], "Kenya's sealed view");
    c.s.stop().await;
}

async fn a_subscription_needs_a_signed_in_connection(b: Backend) {
    let Some(c) = Committee::start(b).await else {
        return;
    };
    let cycle = open_cycle(&c, "OPEN").await;
    // The wrong kind of id.
    let mut ws = Ws::signed_in(&c.s.base, &c.kenya).await;
    ws.subscribe("x", CYCLE_EVENTS, json!({ "c": c.module }))
        .await;
    let m = ws.next_json().await;
    assert_eq!(
        m["payload"]["errors"][0]["extensions"]["code"], "VALIDATION",
        "{m}"
    );
    // A flood of subscriptions: past the cap (50) each is refused with an
    // error, and the connection stays; completing one makes room again.
    let mut ws = Ws::signed_in(&c.s.base, &c.kenya).await;
    for i in 0..60 {
        ws.subscribe(&format!("s{i}"), MODULE_EVENTS, json!({ "m": c.module }))
            .await;
    }
    for i in 50..60 {
        let m = ws.next_json().await;
        assert_eq!(m["type"], "error", "{m}");
        assert_eq!(m["id"], format!("s{i}"));
        assert_eq!(
            m["payload"][0]["extensions"]["code"],
            "TOO_MANY_SUBSCRIPTIONS"
        );
    }
    settle(&mut ws).await;
    ws.send(json!({ "type": "complete", "id": "s0" })).await;
    ws.subscribe("again", MODULE_EVENTS, json!({ "m": c.module }))
        .await;
    settle(&mut ws).await;
    submit(&c.s, &c.kenya, &cycle, "one event for 50 subscriptions").await;
    let mut ids = std::collections::BTreeSet::new();
    for _ in 0..50 {
        let m = ws.next_json().await;
        assert_eq!(m["type"], "next", "{m}");
        ids.insert(m["id"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(ids.len(), 50);
    assert!(ids.contains("again") && !ids.contains("s0"));
    ws.silent_for(200).await;
    // A subscription id already running: 4409, with a reason within 123 bytes.
    let long_id = "é".repeat(100);
    let mut ws = Ws::signed_in(&c.s.base, &c.kenya).await;
    ws.subscribe(&long_id, MODULE_EVENTS, json!({ "m": c.module }))
        .await;
    ws.subscribe(&long_id, MODULE_EVENTS, json!({ "m": c.module }))
        .await;
    let (closed_with, reason) = ws.closed().await;
    assert_eq!(closed_with, 4409, "{reason}");
    assert!(reason.starts_with("Subscriber for é"), "{reason}");
    assert!(reason.len() <= 123, "{} bytes", reason.len());
    // Over plain HTTP, a subscription is refused.
    let res =
        c.s.gql(Some(&c.kenya), CYCLE_EVENTS, json!({ "c": cycle }))
            .await;
    assert_eq!(code(&res), "BAD_REQUEST");
    c.s.stop().await;
}

async fn expiry_and_deactivation_end_the_connection(b: Backend) {
    let short = Options {
        auth: kitreview::config::AuthArgs {
            token_ttl: Duration::from_secs(2),
            session_ttl: Duration::from_secs(2),
            secure_cookies: kitreview::config::SecureCookies::Auto,
            jwt_leeway_secs: 0,
            ..auth_args()
        },
        ..Options::default()
    };
    let Some(s) = TestServer::start_with(b, short).await else {
        return;
    };
    let token = s.secretariat().await;
    let mut ws = Ws::signed_in(&s.base, &token).await;
    let started = std::time::Instant::now();
    let (code, reason) = ws.closed().await;
    assert_eq!(code, 4403, "{reason}");
    assert!(reason.contains("expired"), "{reason}");
    assert!(started.elapsed() < Duration::from_secs(4));
    s.stop().await;

    let Some(c) = Committee::start(b).await else {
        return;
    };
    let cycle = open_cycle(&c, "OPEN").await;
    let mut victim = watch(&c.s.base, &c.kenya2, &cycle).await;
    let mut bystander = watch(&c.s.base, &c.kenya, &cycle).await;
    let kenya2_id =
        c.s.ok(Some(&c.kenya2), "{ viewer { id } }", json!({}))
            .await["viewer"]["id"]
            .clone();
    c.s.ok(
        Some(&c.admin),
        "mutation($id: ID!) { deactivateUser(input: {userId: $id}) { user { id } } }",
        json!({ "id": kenya2_id }),
    )
    .await;
    let (code, reason) = victim.closed().await;
    assert_eq!(code, 4403, "{reason}");
    assert!(reason.contains("deactivated"), "{reason}");
    // Others stay connected and keep receiving.
    submit(&c.s, &c.kenya, &cycle, "still here").await;
    assert_eq!(
        bystander.next_data("events").await["cycleEvents"]["kind"],
        "COMMENT_SUBMITTED"
    );
    c.s.stop().await;
}

async fn shutdown_closes_sockets_with_1001(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let token = s.secretariat().await;
    let mut ws = Ws::signed_in(&s.base, &token).await;
    let stopping = tokio::spawn(s.stop());
    assert_eq!(ws.closed().await, (1001, "Server shutting down".into()));
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("the server stops")
        .expect("join");
}

backend_tests!(
    protocol_errors_close_with_the_protocol_codes,
    operations_run_over_the_socket,
    a_review_reaches_its_subscribers,
    sealed_comments_reach_only_those_who_may_see_them,
    a_late_grant_keeps_live_events_sealed,
    a_subscription_needs_a_signed_in_connection,
    expiry_and_deactivation_end_the_connection,
    shutdown_closes_sockets_with_1001,
    live_delivery_does_not_need_the_request_pool,
);

/// A second server process on the same PostgreSQL database: events raised by
/// one instance reach the subscribers of the other, once each, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_cross_server_instances_on_postgres() {
    let Some(c) = Committee::start(Backend::Postgres).await else {
        return;
    };
    let cycle = open_cycle(&c, "OPEN").await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        l.local_addr().expect("addr").port()
    };
    let mut other = Child(
        std::process::Command::new(env!("CARGO_BIN_EXE_kitreview"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--database-url",
                &c.s.db.url,
            ])
            .env("KITREVIEW_JWT_SECRET", SECRET)
            .env("KITREVIEW_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start a second server process"),
    );
    let other_base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..100 {
        if let Ok(r) = http.get(format!("{other_base}/readyz")).send().await {
            if r.status() == 200 {
                ready = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "the second server did not start");
    // Subscribers on the other process and on this one.
    let mut remote = watch(&other_base, &c.rapporteur, &cycle).await;
    let mut local = watch(&c.s.base, &c.rapporteur, &cycle).await;
    for i in 1..=20 {
        submit(&c.s, &c.kenya, &cycle, &format!("comment {i}")).await;
    }
    // And one submitted on the other process, seen here.
    let res: Value = http
        .post(format!("{other_base}/graphql"))
        .bearer_auth(&c.france)
        .json(&json!({ "query": SUBMIT, "variables": { "c": cycle, "b": "from the other instance" } }))
        .send()
        .await
        .expect("submit on the other instance")
        .json()
        .await
        .expect("JSON");
    assert!(res.get("errors").is_none(), "{res}");
    for ws in [&mut remote, &mut local] {
        let mut numbers = Vec::new();
        for _ in 0..21 {
            let e = ws.next_data("events").await["cycleEvents"].clone();
            assert_eq!(e["kind"], "COMMENT_SUBMITTED");
            numbers.push(e["comment"]["number"].as_i64().expect("number"));
        }
        assert_eq!(
            numbers,
            (1..=21).collect::<Vec<_>>(),
            "none lost, none twice, in order"
        );
        ws.silent_for(300).await;
    }
    other.stop();
    // When the other process goes away, its sockets go too; ours stay.
    match remote.recv().await {
        Frame::Closed(..) | Frame::Gone => {}
        f => panic!("expected the end of the connection, got {f:?}"),
    }
    c.s.stop().await;
}

/// A late grant keeps the seal on live events for the granted organization
/// until the grant ends, as on every other read path.
async fn a_late_grant_keeps_live_events_sealed(b: Backend) {
    let Some(c) = Committee::start(b).await else {
        return;
    };
    let cycle = open_cycle(&c, "SEALED").await;
    let comment = submit(&c.s, &c.kenya, &cycle, "Kenya's sealed view").await;
    c.s.clock.advance(chrono::Duration::days(11));
    let grant = "mutation($c: ID!, $o: ID!, $u: DateTime!) { grantLateSubmission(input: {cycleId: $c, organizationId: $o, until: $u}) { cycle { id } } }";
    let until = c.s.clock_now() + chrono::Duration::days(2);
    c.s.ok(
        Some(&c.rapporteur),
        grant,
        json!({ "c": cycle, "o": c.france_org, "u": until.to_rfc3339() }),
    )
    .await;
    let mut france = watch(&c.s.base, &c.france, &cycle).await;
    let mut kenya2 = watch(&c.s.base, &c.kenya2, &cycle).await;
    let reply =
        "mutation($c: ID!) { addReply(input: {commentId: $c, body: \"Thanks\"}) { reply { id } } }";
    c.s.ok(Some(&c.rapporteur), reply, json!({ "c": comment["id"] }))
        .await;
    assert_eq!(
        kenya2.next_data("events").await["cycleEvents"]["kind"],
        "REPLY_ADDED"
    );
    france.silent_for(300).await;
    // Once the grant has ended, France gets the others' news too.
    c.s.clock
        .advance(chrono::Duration::days(2) + chrono::Duration::seconds(1));
    c.s.ok(Some(&c.rapporteur), reply, json!({ "c": comment["id"] }))
        .await;
    let e = france.next_data("events").await["cycleEvents"].clone();
    assert_eq!(e["kind"], "REPLY_ADDED");
    assert_eq!(e["comment"]["body"], "Kenya's sealed view");
    c.s.stop().await;
}

/// Live updates read through connections of their own: with every
/// connection of the request pool held, a committed comment still reaches its
/// subscriber. On SQLite it is committed by this process's writer (not one of
/// the request readers); on PostgreSQL by another instance, whose `NOTIFY`
/// this one loads and fans out.
async fn live_delivery_does_not_need_the_request_pool(b: Backend) {
    let opts = Options {
        db: |d| {
            d.db_acquire_timeout = Duration::from_millis(300);
            d.db_max_connections = 3;
        },
        ..Options::default()
    };
    let Some(c) = Committee::start_with(b, opts).await else {
        return;
    };
    let cycle = open_cycle(&c, "OPEN").await;
    let mut ws = watch(&c.s.base, &c.rapporteur, &cycle).await;
    let submitted = "Delivered while every request connection is busy.";
    // The writer: another instance on PostgreSQL, this process on SQLite
    // (as the Kenyan delegate, looked up before the pool is held).
    let other = match b {
        Backend::Postgres => Some(TestServer::start_on(&c.s.db.url, Options::default()).await),
        Backend::Sqlite => None,
    };
    let kenya = match c.s.state.tokens.verify(&c.kenya) {
        Ok(TokenSubject::Local { user_id, .. }) => session::auth_user(&c.s.state, user_id)
            .await
            .expect("the delegate"),
        other => panic!("a local token, got {other:?}"),
    };
    // Every connection the request pool has: taken until one more times out.
    let mut held = Vec::new();
    while let Ok(conn) = c.s.state.db.read().await {
        held.push(conn);
        assert!(held.len() <= 10, "the request pool has no limit");
    }
    assert!(!held.is_empty());
    match &other {
        Some(o) => {
            let comment = submit(o, &c.kenya, &cycle, submitted).await;
            assert_eq!(comment["number"], 1, "{comment}");
        }
        None => {
            let cycle_id = GlobalId::parse_kind(&cycle, NodeKind::ReviewCycle).expect("cycle id");
            let anchor = AnchorInput {
                kind: AnchorKind::Document,
                section_anchor_id: None,
                block_anchor_id: None,
                quote: None,
            };
            let text = TextInput {
                comment_type: CommentType::General,
                body: submitted.into(),
                proposed_change: None,
                language: None,
            };
            comments::submit_new(&c.s.state, &kenya, cycle_id, &anchor, &text, None)
                .await
                .expect("the writer is not a request reader");
        }
    }
    let e = ws.next_data("events").await["cycleEvents"].clone();
    assert_eq!(e["kind"], "COMMENT_SUBMITTED", "{e}");
    assert_eq!(e["comment"]["body"], submitted, "{e}");
    assert_eq!(e["comment"]["organization"]["shortName"], "Kenya", "{e}");
    drop(held);
    if let Some(o) = other {
        o.stop().await;
    }
    c.s.stop().await;
}

/// A server process, killed when the test ends however it ends.
struct Child(std::process::Child);

impl Child {
    fn stop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.stop();
    }
}
