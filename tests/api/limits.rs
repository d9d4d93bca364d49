//! What one GraphQL request may cost, and rules that must hold on every path:
//! documents measured before validation (fragment expansion, length, aliases,
//! root fields, `__schema`), `nodes` costed by its ids, large texts and diffs
//! costed, the response-size budget, introspection for signed-in users only,
//! NUL refused, the user directory through `node`, responses in selection
//! order, and the time limit on operations sent over the WebSocket.

use std::time::{Duration, Instant};

use kitreview::config::LimitArgs;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::common::committee::{Committee, REV1};
use kitreview::domain::ids::{GlobalId, NodeKind};
use kitreview::service::modules::RevisionInput;
use kitreview::service::Actor;

use crate::common::{code, ws::Ws, Backend, Options, TestServer};

backend_tests!(
    fragment_chains_are_refused_before_validation,
    long_documents_aliases_root_fields_and_schema_are_capped,
    introspection_is_for_signed_in_users,
    nodes_cost_their_ids_and_follow_the_directory_rule,
    large_texts_and_diffs_are_costed,
    the_response_size_is_budgeted,
    nul_is_refused_on_every_input,
    responses_follow_the_selection_order,
    websocket_queries_have_the_time_limit,
);

/// K fragments, each spreading the previous one twice: 2^K fields once inlined.
fn doubling(k: usize) -> String {
    let mut q = format!(
        "query {{ ...F{} }}\nfragment F0 on Query {{ __typename }}\n",
        k - 1
    );
    for i in 1..k {
        q.push_str(&format!(
            "fragment F{i} on Query {{ ...F{p} ...F{p} }}\n",
            p = i - 1
        ));
    }
    q
}

/// Server options with other limits.
fn limits(change: impl FnOnce(&mut LimitArgs)) -> Options {
    let mut opts = Options::default();
    change(&mut opts.limits);
    opts
}

fn message(body: &Value) -> &str {
    body["errors"][0]["message"].as_str().unwrap_or_default()
}

async fn healthz_within(s: &TestServer, limit: Duration) {
    let started = Instant::now();
    let res = tokio::time::timeout(limit, s.http.get(s.url("/healthz")).send())
        .await
        .expect("/healthz answers in time")
        .expect("/healthz");
    assert_eq!(res.status().as_u16(), 200);
    assert!(started.elapsed() <= limit);
}

async fn fragment_chains_are_refused_before_validation(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let q = doubling(30);
    // Two attackers at once, anonymous, over POST and GET.
    let post = {
        let (http, url, q) = (s.http.clone(), s.url("/graphql"), q.clone());
        tokio::spawn(async move {
            http.post(url)
                .header("accept", "application/graphql-response+json")
                .json(&json!({ "query": q }))
                .send()
                .await
                .expect("request")
        })
    };
    let get = {
        let (http, url, q) = (s.http.clone(), s.url("/graphql"), q.clone());
        tokio::spawn(async move {
            http.get(url)
                .query(&[("query", q.as_str())])
                .header("accept", "application/graphql-response+json")
                .send()
                .await
                .expect("request")
        })
    };
    healthz_within(&s, Duration::from_millis(500)).await;
    for task in [post, get] {
        let res = tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("answered at once, not after validating 2^30 spreads")
            .expect("task");
        assert_eq!(res.status().as_u16(), 400);
        let body: Value = res.json().await.expect("JSON");
        assert_eq!(code(&body), "VALIDATION", "{body}");
        assert!(
            message(&body).contains("too large once its fragments are expanded"),
            "{body}"
        );
        assert!(body.get("data").is_none());
    }
    // A chain that stays small is served.
    let body = s.gql(None, &doubling(5), json!({})).await;
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
}

async fn long_documents_aliases_root_fields_and_schema_are_capped(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let admin = s.secretariat().await;
    let t = Some(admin.as_str());

    // Over --max-query-bytes: refused before parsing (a 2 MB document of
    // fields used to cost seconds of CPU to be refused).
    let long = format!("{{ {} }}", "__typename ".repeat(200_000));
    let started = Instant::now();
    let (status, body) = s.gql_raw(t, &long, json!({})).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(code(&body), "PAYLOAD_TOO_LARGE");
    assert!(message(&body).contains("65536 bytes"), "{body}");
    assert!(started.elapsed() < Duration::from_secs(2));

    let aliases: String = (0..101).map(|i| format!("a{i}: id ")).collect();
    let (status, body) = s
        .gql_raw(t, &format!("{{ viewer {{ {aliases} }} }}"), json!({}))
        .await;
    assert_eq!((status, code(&body)), (400, "VALIDATION"), "{body}");
    assert!(message(&body).contains("101 aliases"), "{body}");

    let roots: String = (0..51).map(|i| format!("v{i}: viewer {{ id }} ")).collect();
    let (status, body) = s.gql_raw(t, &format!("{{ {roots} }}"), json!({})).await;
    assert_eq!((status, code(&body)), (400, "VALIDATION"), "{body}");
    assert!(message(&body).contains("51 root fields"), "{body}");

    let (status, body) = s
        .gql_raw(
            t,
            "{ a: __schema { queryType { name } } b: __schema { queryType { name } } }",
            json!({}),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "VALIDATION"), "{body}");
    assert!(message(&body).contains("__schema"), "{body}");

    let fragments: String = (0..101)
        .map(|i| format!(" fragment F{i} on Query {{ __typename }}"))
        .collect();
    let (status, body) = s
        .gql_raw(t, &format!("{{ __typename }}{fragments}"), json!({}))
        .await;
    assert_eq!((status, code(&body)), (400, "VALIDATION"), "{body}");
    assert!(message(&body).contains("101 fragments"), "{body}");

    // The same limits hold within them.
    let fifty: String = (0..50).map(|i| format!("v{i}: viewer {{ id }} ")).collect();
    s.ok(t, &format!("{{ {fifty} }}"), json!({})).await;
}

async fn introspection_is_for_signed_in_users(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let q = "{ __schema { queryType { name } } }";
    let (status, body) = s.gql_raw(None, q, json!({})).await;
    assert_eq!(
        (status, code(&body)),
        (401, "UNAUTHENTICATED"),
        "anonymous: {body}"
    );
    assert!(message(&body).contains("sign in"), "{body}");
    let (status, _) = s
        .gql_raw(None, "{ __type(name: \"User\") { name } }", json!({}))
        .await;
    assert_eq!(status, 401);
    // __typename is not introspection of the schema.
    assert_eq!(
        s.ok(None, "{ __typename }", json!({})).await["__typename"],
        "Query"
    );
    let admin = s.secretariat().await;
    let data = s.ok(Some(&admin), q, json!({})).await;
    assert_eq!(data["__schema"]["queryType"]["name"], "Query");

    // A setting opens it to everyone.
    let Some(open) = TestServer::start_with(b, limits(|l| l.anonymous_introspection = true)).await
    else {
        return;
    };
    let data = open.ok(None, q, json!({})).await;
    assert_eq!(data["__schema"]["queryType"]["name"], "Query");
}

async fn nodes_cost_their_ids_and_follow_the_directory_rule(b: Backend) {
    let opts = limits(|l| l.max_query_complexity = 2_000);
    let Some(c) = Committee::start_with(b, opts).await else {
        return;
    };
    let s = &c.s;
    // 100 ids cost 100 nodes: 10 aliases of them are over a budget of 2,000
    // (they used to cost 2 each).
    let ids: Vec<String> = (0..100).map(|_| c.revision.clone()).collect();
    let many: String = (0..10)
        .map(|i| format!("n{i}: nodes(ids: $ids) {{ id ... on Revision {{ number }} }} "))
        .collect();
    let (status, body) = s
        .gql_raw(
            Some(&c.kenya),
            &format!("query($ids: [ID!]!) {{ {many} }}"),
            json!({ "ids": ids }),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(message(&body).contains("complex"), "{body}");
    let data = s
        .ok(
            Some(&c.kenya),
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": ids }),
        )
        .await;
    assert_eq!(data["nodes"].as_array().map(Vec::len), Some(100));

    // The directory is the secretariat's: a member finds only itself by id.
    let me = s.ok(Some(&c.kenya), "{ viewer { id } }", json!({})).await["viewer"]["id"].clone();
    let q = "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on User { displayName roles } } }";
    let ids = json!([me, c.rapporteur_id, c.admin_id]);
    let data = s.ok(Some(&c.kenya), q, json!({ "ids": ids })).await;
    assert_eq!(data["nodes"][0]["id"], me);
    assert!(
        data["nodes"][1].is_null() && data["nodes"][2].is_null(),
        "{data}"
    );
    let one = s
        .ok(
            Some(&c.kenya),
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": c.admin_id }),
        )
        .await;
    assert!(one["node"].is_null(), "{one}");
    let data = s.ok(Some(&c.admin), q, json!({ "ids": ids })).await;
    assert!(
        data["nodes"]
            .as_array()
            .expect("list")
            .iter()
            .all(|n| n["id"].is_string()),
        "{data}"
    );

    // Audit events through `nodes`: one batch, each filtered by who may read it.
    let log = s
        .ok(
            Some(&c.admin),
            "{ auditLog(first: 100) { nodes { id } } }",
            json!({}),
        )
        .await;
    let events: Vec<Value> = log["auditLog"]["nodes"]
        .as_array()
        .expect("events")
        .iter()
        .map(|n| n["id"].clone())
        .collect();
    assert!(events.len() > 5, "{log}");
    let q = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }";
    let seen = s.ok(Some(&c.admin), q, json!({ "ids": events })).await;
    assert!(seen["nodes"]
        .as_array()
        .expect("list")
        .iter()
        .all(|n| !n.is_null()));
    let hidden = s.ok(Some(&c.kenya), q, json!({ "ids": events })).await;
    assert!(
        hidden["nodes"]
            .as_array()
            .expect("list")
            .iter()
            .all(Value::is_null),
        "a member reads no audit event: {hidden}"
    );
}

async fn large_texts_and_diffs_are_costed(b: Backend) {
    let Some(c) = Committee::start(b).await else {
        return;
    };
    let s = &c.s;
    // 41 diffs cost more than the budget of 20,000 (they used to cost 51 each).
    let diffs: String = (0..41)
        .map(|i| {
            format!("d{i}: diff(fromRevision: 1, toRevision: 1) {{ summary {{ wordsAdded }} }} ")
        })
        .collect();
    let (status, body) = s
        .gql_raw(
            Some(&c.kenya),
            &format!("query($m: ID!) {{ node(id: $m) {{ ... on Module {{ {diffs} }} }} }}"),
            json!({ "m": c.module }),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(message(&body).contains("complex"), "{body}");
    // 80 aliases of a revision's Markdown cost more than the budget.
    let texts: String = (0..80).map(|i| format!("m{i}: markdown ")).collect();
    let (status, body) = s
        .gql_raw(
            Some(&c.kenya),
            &format!("query($r: ID!) {{ node(id: $r) {{ ... on Revision {{ {texts} }} }} }}"),
            json!({ "r": c.revision }),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(message(&body).contains("complex"), "{body}");
    // A diff asked twice is the same diff (the second from the cache).
    let q = "query($m: ID!) { node(id: $m) { ... on Module { diff(fromRevision: 1, toRevision: 1) { summary { wordsAdded wordsRemoved } } } } }";
    let a = s.ok(Some(&c.kenya), q, json!({ "m": c.module })).await;
    let b2 = s.ok(Some(&c.kenya), q, json!({ "m": c.module })).await;
    assert_eq!(a, b2);
}

async fn the_response_size_is_budgeted(b: Backend) {
    let opts = limits(|l| l.max_response_bytes = 4 * REV1.len());
    let Some(c) = Committee::start_with(b, opts).await else {
        return;
    };
    let s = &c.s;
    let q = |n: usize| {
        let texts: String = (0..n).map(|i| format!("m{i}: markdown ")).collect();
        format!("query($r: ID!) {{ node(id: $r) {{ ... on Revision {{ {texts} }} }} }}")
    };
    let data = s
        .ok(Some(&c.kenya), &q(3), json!({ "r": c.revision }))
        .await;
    assert_eq!(data["node"]["m2"], REV1);
    let (status, body) = s
        .gql_raw(Some(&c.kenya), &q(8), json!({ "r": c.revision }))
        .await;
    assert_eq!(code(&body), "RESPONSE_TOO_LARGE", "{status} {body}");
    assert!(message(&body).contains("over the limit"), "{body}");
    assert!(body["data"].is_null(), "no partial data: {body}");
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(1));
    // The next request has a budget of its own.
    s.ok(Some(&c.kenya), &q(1), json!({ "r": c.revision }))
        .await;
}

async fn nul_is_refused_on_every_input(b: Backend) {
    let Some(c) = Committee::start(b).await else {
        return;
    };
    let s = &c.s;
    let cases: [(&str, Value, Option<&str>); 5] = [
        (
            "mutation($e: String!) { login(input: {email: $e, password: \"x\"}) { token } }",
            json!({ "e": "a\u{0}@b.org" }),
            None,
        ),
        (
            "query($x: String!) { organization(shortName: $x) { id } }",
            json!({ "x": "Ke\u{0}nya" }),
            Some(&c.kenya),
        ),
        (
            "query($x: String!) { question(code: $x) { id } }",
            json!({ "x": "17\u{0}" }),
            Some(&c.kenya),
        ),
        (
            "query($r: ID!, $x: String) { node(id: $r) { ... on Revision { comments(filter: {sectionAnchorId: $x}) { totalCount } } } }",
            json!({ "r": c.revision, "x": "s\u{0}" }),
            Some(&c.kenya),
        ),
        (
            "query($x: String) { auditLog(filter: {action: $x}) { totalCount } }",
            json!({ "x": "comment.\u{0}" }),
            Some(&c.admin),
        ),
    ];
    for (q, vars, token) in cases {
        let (status, body) = s.gql_raw(token, q, vars).await;
        assert_eq!((status, code(&body)), (400, "VALIDATION"), "{q}: {body}");
        assert!(message(&body).contains("NUL"), "{body}");
    }
    // In a literal too.
    let (status, body) = s
        .gql_raw(
            Some(&c.kenya),
            "{ organization(shortName: \"Ke\\u0000nya\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "VALIDATION"), "{body}");
    healthz_within(s, Duration::from_millis(500)).await;
}

/// The keys of every JSON object in `text`, in the order they are written.
fn key_orders(text: &str) -> Vec<Vec<String>> {
    // serde_json's Value does not keep the order: walk the text instead.
    let mut out = Vec::new();
    let mut stack: Vec<Vec<String>> = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut expect_key = false;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => {
                stack.push(Vec::new());
                expect_key = true;
            }
            b'}' => {
                if let Some(keys) = stack.pop() {
                    out.push(keys);
                }
                expect_key = false;
            }
            b',' => expect_key = stack.last().is_some(),
            b'[' => expect_key = false,
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                if expect_key {
                    if let Some(keys) = stack.last_mut() {
                        keys.push(text[start..i].to_owned());
                    }
                    expect_key = false;
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

async fn responses_follow_the_selection_order(b: Backend) {
    let Some(c) = Committee::start(b).await else {
        return;
    };
    let s = &c.s;
    // The issue's example, six times: the same bytes, in selection order.
    let q =
        "query($k: ID!) { node(id: $k) { ... on Kit { modules { status revisionCount title } } } }";
    let mut seen = Vec::new();
    for _ in 0..6 {
        let res = s
            .http
            .post(s.url("/graphql"))
            .bearer_auth(&c.kenya)
            .json(&json!({ "query": q, "variables": { "k": c.kit } }))
            .send()
            .await
            .expect("request");
        seen.push(res.text().await.expect("text"));
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "{seen:#?}");
    assert!(
        key_orders(&seen[0]).contains(&vec![
            "status".to_owned(),
            "revisionCount".to_owned(),
            "title".to_owned()
        ]),
        "{}",
        seen[0]
    );

    // Fields of every kind: plain values, loaded objects, lists, connections,
    // computed fields, fragments and aliases.
    let q = "query($r: ID!) { viewer { roles id displayName } \
             rev: node(id: $r) { ... on Revision { number ...More id } } } \
             fragment More on Revision { blocks: sections { blocks { text anchorId kind } clause } \
             module { viewerCanEdit title id } createdAt comments { totalCount nodes { id } } }";
    let res = s
        .http
        .post(s.url("/graphql"))
        .bearer_auth(&c.kenya)
        .json(&json!({ "query": q, "variables": { "r": c.revision } }))
        .send()
        .await
        .expect("request");
    let text = res.text().await.expect("text");
    let orders = key_orders(&text);
    let expect = |keys: &[&str]| {
        let keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        assert!(orders.contains(&keys), "{keys:?} in {text}");
    };
    expect(&["roles", "id", "displayName"]);
    expect(&["number", "blocks", "module", "createdAt", "comments", "id"]);
    expect(&["text", "anchorId", "kind"]);
    expect(&["blocks", "clause"]);
    expect(&["viewerCanEdit", "title", "id"]);
    expect(&["totalCount", "nodes"]);
    expect(&["viewer", "rev"]);

    // Over the WebSocket too.
    let mut ws = Ws::signed_in(&s.base, &c.kenya).await;
    ws.subscribe("1", q, json!({ "r": c.revision })).await;
    let raw = ws.next_text().await;
    let orders = key_orders(&raw);
    let keys: Vec<String> = ["number", "blocks", "module", "createdAt", "comments", "id"]
        .iter()
        .map(|k| (*k).to_owned())
        .collect();
    assert!(orders.contains(&keys), "{raw}");
}

/// About `paragraphs` paragraphs of words; `variant` changes one word in each.
fn long_markdown(paragraphs: usize, variant: usize) -> String {
    let mut md = String::from("# A long module\n\n");
    for p in 0..paragraphs {
        if p % 50 == 0 {
            md.push_str(&format!("## {}. Part {}\n\n", p / 50 + 1, p / 50 + 1));
        }
        for w in 0..40 {
            let word = if w == (p + variant) % 40 {
                "changed"
            } else {
                "word"
            };
            md.push_str(&format!("{word}{} ", (p * 7 + w * 13) % 101));
        }
        md.push_str("\n\n");
    }
    md
}

async fn websocket_queries_have_the_time_limit(b: Backend) {
    let opts = limits(|l| l.request_timeout = Duration::from_millis(1_000));
    let Some(c) = Committee::start_with(b, opts).await else {
        return;
    };
    let s = &c.s;
    // Two long revisions, written straight through the service (their
    // creation is not what is timed here).
    let module_id = GlobalId::parse_kind(&c.module, NodeKind::Module).expect("module id");
    let rapporteur = {
        let id = GlobalId::parse_kind(&c.rapporteur_id, NodeKind::User).expect("user id");
        kitreview::service::session::auth_user(&s.state, id)
            .await
            .expect("rapporteur")
    };
    let mut base = GlobalId::parse_kind(&c.revision, NodeKind::Revision).expect("revision id");
    for variant in [1, 2] {
        let row = kitreview::service::modules::create_revision(
            &s.state,
            Actor::User(&rapporteur),
            RevisionInput {
                module_id,
                base_revision_id: Some(base),
                markdown: long_markdown(3_000, variant),
                summary: "long",
                addressed_comment_ids: &[],
                idempotency_key: None,
            },
        )
        .await
        .expect("revision");
        assert_eq!(row.number, variant as i64 + 1);
        base = row.id;
    }
    let mut ws = Ws::signed_in(&s.base, &c.kenya).await;
    let started = Instant::now();
    ws.subscribe(
        "1",
        "query($m: ID!) { node(id: $m) { ... on Module { diff(fromRevision: 2, toRevision: 3) { summary { wordsAdded } } } } }",
        json!({ "m": c.module }),
    )
    .await;
    let msg = ws.next_json().await;
    assert_eq!(msg["type"], "error", "{msg}");
    assert_eq!(msg["payload"][0]["extensions"]["code"], "TIMEOUT", "{msg}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    // The connection goes on.
    ws.subscribe("2", "{ viewer { id } }", json!({})).await;
    assert!(ws.next_data("2").await["viewer"]["id"].is_string());
}
