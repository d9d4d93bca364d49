//! Conditional reads (`GET /graphql` with `ETag` / `If-None-Match`): an
//! unchanged answer is a `304 Not Modified`; any write (on this instance or
//! another sharing the database), a deadline passing, another viewer or other
//! variables give a full answer with another tag. Never a stale or a shared
//! answer.

use chrono::Duration;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::common::committee::Committee;
use crate::common::{t0, Backend, Options, TestServer};

const OPEN: &str =
    "mutation($i: OpenReviewCycleInput!) { openReviewCycle(input: $i) { cycle { id } } }";
const SUBMIT: &str = "mutation($c: ID!, $b: String!) { submitComment(input: {cycleId: $c, anchor: {kind: DOCUMENT}, type: GENERAL, body: $b}) { comment { id number } } }";
const PAGE: &str = "query($c: ID!) { node(id: $c) { ... on ReviewCycle { status viewerCanComment comments(first: 50) { totalCount nodes { number body organization { shortName } } } } } }";

async fn open_cycle(c: &Committee, visibility: &str) -> String {
    let data = c
        .s
        .ok(
            Some(&c.rapporteur),
            OPEN,
            json!({ "i": { "revisionId": c.revision, "title": "Comments", "opensAt": t0().to_rfc3339(), "closesAt": (t0() + Duration::days(10)).to_rfc3339(), "visibility": visibility } }),
        )
        .await;
    data["openReviewCycle"]["cycle"]["id"]
        .as_str()
        .expect("cycle id")
        .to_owned()
}

/// One `GET /graphql`: status, `ETag`, `Cache-Control` and body (`Null` for a 304).
struct Got {
    status: u16,
    etag: Option<String>,
    cache: Option<String>,
    body: Value,
}

async fn get(
    s: &TestServer,
    token: &str,
    query: &str,
    vars: &Value,
    if_none_match: Option<&str>,
) -> Got {
    let mut req = s
        .http
        .get(s.url("/graphql"))
        .query(&[("query", query), ("variables", &vars.to_string())])
        .header("accept", "application/graphql-response+json")
        .bearer_auth(token);
    if let Some(tag) = if_none_match {
        req = req.header("if-none-match", tag);
    }
    let res = req.send().await.expect("request");
    let header = |n: &str| {
        res.headers()
            .get(n)
            .map(|v| v.to_str().expect("text").to_owned())
    };
    let (status, etag, cache) = (
        res.status().as_u16(),
        header("etag"),
        header("cache-control"),
    );
    let text = res.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).expect("JSON")
    };
    Got {
        status,
        etag,
        cache,
        body,
    }
}

/// The tag of a first, full answer.
async fn tagged(s: &TestServer, token: &str, query: &str, vars: &Value) -> (String, Value) {
    let got = get(s, token, query, vars, None).await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert!(got.body.get("errors").is_none(), "{}", got.body);
    assert_eq!(got.cache.as_deref(), Some("private, no-cache"));
    (got.etag.expect("an ETag"), got.body)
}

async fn not_modified(s: &TestServer, token: &str, query: &str, vars: &Value, tag: &str) {
    let got = get(s, token, query, vars, Some(tag)).await;
    assert_eq!(got.status, 304, "{}", got.body);
    assert_eq!(got.etag.as_deref(), Some(tag));
    assert_eq!(got.body, Value::Null);
}

/// A full answer with another tag.
async fn modified(
    s: &TestServer,
    token: &str,
    query: &str,
    vars: &Value,
    tag: &str,
) -> (String, Value) {
    let got = get(s, token, query, vars, Some(tag)).await;
    assert_eq!(got.status, 200, "{}", got.body);
    let new = got.etag.expect("an ETag");
    assert_ne!(new, tag);
    (new, got.body)
}

async fn an_unchanged_answer_is_not_modified_until_a_write(b: Backend) {
    let Some(c) = Committee::start(b).await else {
        return;
    };
    let s = &c.s;
    let cycle = open_cycle(&c, "OPEN").await;
    let vars = json!({ "c": cycle });
    let (tag, first) = tagged(s, &c.kenya, PAGE, &vars).await;
    assert_eq!(first["data"]["node"]["comments"]["totalCount"], 0);
    not_modified(s, &c.kenya, PAGE, &vars, &tag).await;
    // A list of tags, and `*`, are understood as HTTP says.
    for list in [format!("\"other\", {tag}"), "*".to_owned()] {
        let got = get(s, &c.kenya, PAGE, &vars, Some(&list)).await;
        assert_eq!((got.status, got.etag.as_deref()), (304, Some(tag.as_str())));
    }
    // Other variables, or another document: another answer.
    let (_, other) = modified(s, &c.kenya, PAGE, &json!({ "c": c.revision }), &tag).await;
    assert_ne!(other, first);
    let ids = "query($c: ID!) { node(id: $c) { id } }";
    modified(s, &c.kenya, ids, &vars, &tag).await;

    // A comment is submitted: the same tag now gets the new answer.
    s.ok(
        Some(&c.france),
        SUBMIT,
        json!({ "c": cycle, "b": "A new comment." }),
    )
    .await;
    let (tag2, after) = modified(s, &c.kenya, PAGE, &vars, &tag).await;
    assert_eq!(
        after["data"]["node"]["comments"]["totalCount"], 1,
        "{after}"
    );
    not_modified(s, &c.kenya, PAGE, &vars, &tag2).await;

    // POST is never conditional, and neither is a mutation over GET.
    let res = s
        .http
        .post(s.url("/graphql"))
        .bearer_auth(&c.kenya)
        .header("if-none-match", &tag2)
        .json(&json!({ "query": PAGE, "variables": vars }))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("etag").is_none());
    let got = get(
        s,
        &c.kenya,
        "mutation { markNotificationsRead(input: {}) { unreadCount } }",
        &json!({}),
        Some("*"),
    )
    .await;
    assert_eq!(got.status, 405, "{}", got.body);
    // An answer with errors carries no tag.
    let got = get(
        s,
        &c.kenya,
        "{ users(first: 5) { totalCount } }",
        &json!({}),
        None,
    )
    .await;
    assert!(got.body.get("errors").is_some(), "{}", got.body);
    assert!(got.etag.is_none());
    c.s.stop().await;
}

/// Two viewers never share a tag, so a tag one saw cannot get the other a 304;
/// in a SEALED cycle Kenya's comment stays out of France's answer.
async fn two_viewers_never_share_an_answer(b: Backend) {
    let Some(c) = Committee::start(b).await else {
        return;
    };
    let s = &c.s;
    let cycle = open_cycle(&c, "SEALED").await;
    let vars = json!({ "c": cycle });
    s.ok(
        Some(&c.kenya),
        SUBMIT,
        json!({ "c": cycle, "b": "Kenya's own comment." }),
    )
    .await;
    let (kenya_tag, kenya) = tagged(s, &c.kenya, PAGE, &vars).await;
    assert_eq!(
        kenya["data"]["node"]["comments"]["totalCount"], 1,
        "{kenya}"
    );
    let (france_tag, france) = modified(s, &c.france, PAGE, &vars, &kenya_tag).await;
    assert_eq!(
        france["data"]["node"]["comments"]["totalCount"], 0,
        "{france}"
    );
    assert_ne!(france_tag, kenya_tag);
    // Same organization, another person: still another tag.
    let (kenya2_tag, _) = modified(s, &c.kenya2, PAGE, &vars, &kenya_tag).await;
    assert_ne!(kenya2_tag, kenya_tag);
    not_modified(s, &c.france, PAGE, &vars, &france_tag).await;
    c.s.stop().await;
}

/// The close passes with no write: the cycle's status and what a delegate may
/// do change, so does the tag.
async fn a_deadline_passing_changes_the_answer(b: Backend) {
    let Some(c) = Committee::start(b).await else {
        return;
    };
    let s = &c.s;
    let cycle = open_cycle(&c, "OPEN").await;
    let vars = json!({ "c": cycle });
    let (tag, open) = tagged(s, &c.kenya, PAGE, &vars).await;
    assert_eq!(open["data"]["node"]["status"], "OPEN");
    s.clock.advance(Duration::days(5));
    not_modified(s, &c.kenya, PAGE, &vars, &tag).await;
    s.clock.advance(Duration::days(6));
    let (_, closed) = modified(s, &c.kenya, PAGE, &vars, &tag).await;
    assert_eq!(closed["data"]["node"]["status"], "CLOSED", "{closed}");
    assert_eq!(
        closed["data"]["node"]["viewerCanComment"], false,
        "{closed}"
    );
    c.s.stop().await;
}

/// On PostgreSQL, a write through another instance changes this one's tags.
async fn a_write_on_another_instance_changes_the_answer(b: Backend) {
    if !matches!(b, Backend::Postgres) {
        return;
    }
    let Some(c) = Committee::start(b).await else {
        return;
    };
    let cycle = open_cycle(&c, "OPEN").await;
    let vars = json!({ "c": cycle });
    let (tag, _) = tagged(&c.s, &c.kenya, PAGE, &vars).await;
    let other = TestServer::start_on(&c.s.db.url, Options::default()).await;
    other
        .ok(
            Some(&c.france),
            SUBMIT,
            json!({ "c": cycle, "b": "Through the other instance." }),
        )
        .await;
    let (_, after) = modified(&c.s, &c.kenya, PAGE, &vars, &tag).await;
    assert_eq!(
        after["data"]["node"]["comments"]["totalCount"], 1,
        "{after}"
    );
    other.stop().await;
    c.s.stop().await;
}

/// Who a token is, kept between requests while nothing is written, is read
/// again after a write through another instance: a user deactivated there is
/// refused here on the next request.
async fn a_deactivation_through_another_instance_is_seen_at_once(b: Backend) {
    if !matches!(b, Backend::Postgres) {
        return;
    }
    let Some(c) = Committee::start(b).await else {
        return;
    };
    let me = "{ viewer { id } }";
    let id = c.s.ok(Some(&c.kenya), me, json!({})).await["viewer"]["id"].clone();
    // Warm: the same token twice with no write between.
    c.s.ok(Some(&c.kenya), me, json!({})).await;
    let other = TestServer::start_on(&c.s.db.url, Options::default()).await;
    other
        .ok(
            Some(&c.admin),
            "mutation($id: ID!) { deactivateUser(input: {userId: $id}) { user { active } } }",
            json!({ "id": id }),
        )
        .await;
    let (status, body) = c.s.gql_raw(Some(&c.kenya), me, json!({})).await;
    assert_eq!(status, 401, "{body}");
    other.stop().await;
    c.s.stop().await;
}

backend_tests!(
    a_deactivation_through_another_instance_is_seen_at_once,
    an_unchanged_answer_is_not_modified_until_a_write,
    two_viewers_never_share_an_answer,
    a_deadline_passing_changes_the_answer,
    a_write_on_another_instance_changes_the_answer,
);
