//! Retries: a client that did not hear the answer may send a creating
//! mutation again with the same idempotency key and get the first result, not
//! a second comment; and a 503 TIMEOUT always means that nothing was stored,
//! because a COMMIT once sent finishes past the request's time limit.

use std::time::Duration;

use serde_json::{json, Value};

use crate::backend_tests;
use crate::common::committee::{Committee, REV1};
use crate::common::{code, Backend, Options};
use crate::faults::open_cycle;
use crate::files::{demo, TEMPLATE};

backend_tests!(
    the_same_key_replays_the_first_comment,
    keys_replay_drafts_replies_and_revisions,
    an_import_sent_again_with_its_key_is_imported_once,
    bad_keys_are_refused,
    a_request_cut_by_its_time_limit_stored_nothing,
);

const SUBMIT: &str =
    "mutation($i: SubmitCommentInput!) { submitComment(input: $i) { comment { id number body } } }";
const DRAFT: &str = "mutation($i: CreateCommentDraftInput!) { createCommentDraft(input: $i) { comment { id state } } }";
const REPLY: &str = "mutation($i: AddReplyInput!) { addReply(input: $i) { reply { id body } } }";
const REVISE: &str =
    "mutation($i: CreateRevisionInput!) { createRevision(input: $i) { revision { id number } } }";
const COUNT: &str =
    "query($c: ID!) { node(id: $c) { ... on ReviewCycle { comments(first: 1) { totalCount } } } }";

fn comment(cycle: &str, body: &str, key: Option<&str>) -> Value {
    let mut i = json!({ "cycleId": cycle, "anchor": { "kind": "DOCUMENT" }, "type": "GENERAL", "body": body });
    if let Some(k) = key {
        i["idempotencyKey"] = json!(k);
    }
    json!({ "i": i })
}

async fn count(c: &Committee, cycle: &str) -> i64 {
    c.s.ok(Some(&c.rapporteur), COUNT, json!({ "c": cycle }))
        .await["node"]["comments"]["totalCount"]
        .as_i64()
        .expect("count")
}

async fn the_same_key_replays_the_first_comment(b: Backend) {
    let Some(c) = Committee::start(b).await else {
        return;
    };
    let cycle = open_cycle(&c).await;
    let key = "7f3c9a2e-0b1d-4c55-9e61-2a8f0d4b6c13";
    let first =
        c.s.ok(
            Some(&c.kenya),
            SUBMIT,
            comment(&cycle, "Define e-service.", Some(key)),
        )
        .await["submitComment"]["comment"]
            .clone();
    assert_eq!(first["number"], 1);
    // The client did not hear the answer and sends it again, twice.
    for _ in 0..2 {
        let again =
            c.s.ok(
                Some(&c.kenya),
                SUBMIT,
                comment(&cycle, "Define e-service.", Some(key)),
            )
            .await["submitComment"]["comment"]
                .clone();
        assert_eq!(again, first, "the replay is the first comment");
    }
    assert_eq!(count(&c, &cycle).await, 1, "one comment, not three");
    // No number was taken by the replays.
    let next =
        c.s.ok(
            Some(&c.kenya),
            SUBMIT,
            comment(&cycle, "Another one.", None),
        )
        .await;
    assert_eq!(next["submitComment"]["comment"]["number"], 2);

    // The same key with another input is a mistake of the client's.
    let other =
        c.s.gql(
            Some(&c.kenya),
            SUBMIT,
            comment(&cycle, "Something else.", Some(key)),
        )
        .await;
    assert_eq!(code(&other), "CONFLICT", "{other}");
    assert!(
        other["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("idempotency key")),
        "{other}"
    );
    // A key belongs to its user: another delegate's same key is another request.
    let france =
        c.s.ok(
            Some(&c.france),
            SUBMIT,
            comment(&cycle, "Define e-service.", Some(key)),
        )
        .await;
    assert_eq!(france["submitComment"]["comment"]["number"], 3);
    assert_eq!(count(&c, &cycle).await, 3);

    // A replay needs no open window: the comment was stored while it was open.
    c.s.ok(
        Some(&c.rapporteur),
        "mutation($c: ID!) { closeReviewCycleNow(input: {cycleId: $c}) { cycle { id } } }",
        json!({ "c": cycle }),
    )
    .await;
    c.s.clock.advance(chrono::Duration::hours(23));
    let late =
        c.s.ok(
            Some(&c.kenya),
            SUBMIT,
            comment(&cycle, "Define e-service.", Some(key)),
        )
        .await;
    assert_eq!(late["submitComment"]["comment"], first);
    // Keys are kept for 24 hours: after that the same key is new again (and
    // here the cycle is closed).
    c.s.clock.advance(chrono::Duration::hours(2));
    let expired =
        c.s.gql(
            Some(&c.kenya),
            SUBMIT,
            comment(&cycle, "Define e-service.", Some(key)),
        )
        .await;
    assert_eq!(code(&expired), "CYCLE_CLOSED", "{expired}");
}

async fn keys_replay_drafts_replies_and_revisions(b: Backend) {
    let Some(c) = Committee::start(b).await else {
        return;
    };
    let cycle = open_cycle(&c).await;
    // A draft.
    let draft = |key: &str| comment(&cycle, "A draft.", Some(key));
    let d1 =
        c.s.ok(Some(&c.kenya), DRAFT, draft("d-1")).await["createCommentDraft"]["comment"].clone();
    let d2 =
        c.s.ok(Some(&c.kenya), DRAFT, draft("d-1")).await["createCommentDraft"]["comment"].clone();
    assert_eq!(d1, d2);
    // Submitting the draft, sent twice: the second is the first's answer, not
    // "already submitted".
    let sub = json!({ "i": { "commentId": d1["id"], "idempotencyKey": "s-1" } });
    let s1 = c.s.ok(Some(&c.kenya), SUBMIT, sub.clone()).await["submitComment"]["comment"].clone();
    let s2 = c.s.ok(Some(&c.kenya), SUBMIT, sub).await["submitComment"]["comment"].clone();
    assert_eq!((s1["number"].clone(), &s1), (json!(1), &s2));
    // Without a key the second submit is refused, as before.
    let plain =
        c.s.gql(
            Some(&c.kenya),
            SUBMIT,
            json!({ "i": { "commentId": d1["id"] } }),
        )
        .await;
    assert_eq!(code(&plain), "CONFLICT");
    // A deleted draft's key cannot replay it.
    let gone = c.s.ok(Some(&c.kenya), DRAFT, draft("d-2")).await["createCommentDraft"]["comment"]
        ["id"]
        .clone();
    c.s.ok(
        Some(&c.kenya),
        "mutation($i: CommentIdInput!) { deleteCommentDraft(input: $i) { deletedCommentId } }",
        json!({ "i": { "commentId": gone } }),
    )
    .await;
    let replay = c.s.gql(Some(&c.kenya), DRAFT, draft("d-2")).await;
    assert_eq!(code(&replay), "CONFLICT", "{replay}");

    // A reply.
    let reply =
        json!({ "i": { "commentId": s1["id"], "body": "Agreed.", "idempotencyKey": "r-1" } });
    let r1 = c.s.ok(Some(&c.france), REPLY, reply.clone()).await["addReply"]["reply"].clone();
    let r2 = c.s.ok(Some(&c.france), REPLY, reply).await["addReply"]["reply"].clone();
    assert_eq!(r1, r2);
    let q = "query($id: ID!) { node(id: $id) { ... on Comment { replies(first: 10) { totalCount } } } }";
    let n = c.s.ok(Some(&c.france), q, json!({ "id": s1["id"] })).await;
    assert_eq!(n["node"]["replies"]["totalCount"], 1, "{n}");

    // A revision: the retry is not told that its own revision was published since.
    let rev = json!({ "i": {
        "moduleId": c.module, "baseRevisionId": c.revision,
        "markdown": format!("{REV1}\n\nOne more paragraph.\n"), "summary": "Rev 2",
        "idempotencyKey": "rev-2",
    } });
    let v1 = c.s.ok(Some(&c.rapporteur), REVISE, rev.clone()).await["createRevision"]["revision"]
        .clone();
    let v2 = c.s.ok(Some(&c.rapporteur), REVISE, rev).await["createRevision"]["revision"].clone();
    assert_eq!((v1["number"].clone(), &v1), (json!(2), &v2));
}

async fn an_import_sent_again_with_its_key_is_imported_once(b: Backend) {
    let Some(d) = demo(b).await else { return };
    let before = d.count(&d.open_cycle).await;
    let upload = |key: &'static str, body: &'static str| {
        let d = &d;
        async move {
            let res =
                d.s.http
                    .post(d.s.url(&format!("/imports/cycles/{}/comments", d.open_cycle)))
                    .header("content-type", "text/csv")
                    .header("idempotency-key", key)
                    .bearer_auth(&d.kenya)
                    .body(body)
                    .send()
                    .await
                    .expect("request");
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.expect("JSON"))
        }
    };
    let (s1, b1) = upload("upload-1", TEMPLATE).await;
    assert_eq!(s1, 201, "{b1}");
    let (s2, b2) = upload("upload-1", TEMPLATE).await;
    assert_eq!(s2, 201, "{b2}");
    assert_eq!(b1, b2, "the replay lists the same comments");
    let after = d.count(&d.open_cycle).await;
    assert_eq!(after, before + 3);
    // Another file under the same key.
    let (s3, b3) = upload(
        "upload-1",
        "MB/NC;Clause;Type of comment;Comment\nKE;General;ge;Other.\n",
    )
    .await;
    assert_eq!(
        (s3, b3["errors"][0]["extensions"]["code"].as_str()),
        (409, Some("CONFLICT")),
        "{b3}"
    );
}

async fn bad_keys_are_refused(b: Backend) {
    let Some(c) = Committee::start(b).await else {
        return;
    };
    let cycle = open_cycle(&c).await;
    for key in ["", " padded ", "line\nbreak", &"k".repeat(256)] {
        let res =
            c.s.gql(Some(&c.kenya), SUBMIT, comment(&cycle, "Body.", Some(key)))
                .await;
        assert_eq!(code(&res), "VALIDATION", "{key:?}: {res}");
        assert_eq!(
            res["errors"][0]["extensions"]["field"], "idempotencyKey",
            "{res}"
        );
    }
    assert_eq!(count(&c, &cycle).await, 0);
}

/// The writer is busy past the request's time limit: the request is answered
/// 503 TIMEOUT, and that is true: nothing was stored, no number was taken.
async fn a_request_cut_by_its_time_limit_stored_nothing(b: Backend) {
    let mut opts = Options::default();
    opts.limits.request_timeout = Duration::from_millis(500);
    let Some(c) = Committee::start_with(b, opts).await else {
        return;
    };
    let cycle = open_cycle(&c).await;
    // On PostgreSQL, the cycle row (where numbers are taken) is locked by
    // another transaction; on SQLite that transaction holds the one writer.
    let mut held = c.s.state.db.begin().await.expect("begin");
    {
        let id = kitreview::domain::ids::GlobalId::parse_kind(
            &cycle,
            kitreview::domain::ids::NodeKind::ReviewCycle,
        )
        .expect("cycle id");
        let mut conn = held.conn();
        kitreview::db::cycles::take_number(&mut conn, id)
            .await
            .expect("lock the cycle row");
    }
    let res = c
        .s
        .http
        .post(c.s.url("/graphql"))
        .bearer_auth(&c.kenya)
        .json(
            &json!({ "query": SUBMIT, "variables": comment(&cycle, "Cut short.", Some("cut-1")) }),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 503);
    assert_eq!(
        res.headers().get("retry-after").map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );
    let body: Value = res.json().await.expect("JSON");
    assert_eq!(code(&body), "TIMEOUT", "{body}");
    drop(held);
    // The retry with the same key does the work: the first attempt left no key.
    let retry =
        c.s.ok(
            Some(&c.kenya),
            SUBMIT,
            comment(&cycle, "Cut short.", Some("cut-1")),
        )
        .await;
    assert_eq!(retry["submitComment"]["comment"]["number"], 1, "{retry}");
    assert_eq!(count(&c, &cycle).await, 1);
}

/// PostgreSQL: the COMMIT itself takes longer than the request's time limit (a
/// deferred constraint trigger sleeps at commit). The comment is stored, so the
/// client is told so, not 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_in_flight_finishes_and_says_what_was_stored() {
    let mut opts = Options::default();
    opts.limits.request_timeout = Duration::from_millis(800);
    let Some(c) = Committee::start_with(Backend::Postgres, opts).await else {
        return;
    };
    let cycle = open_cycle(&c).await;
    {
        use sqlx::Connection as _;
        let mut pg = sqlx::PgConnection::connect(&c.s.db.url)
            .await
            .expect("connect");
        for sql in [
            "CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN PERFORM pg_sleep(1.5); RETURN NULL; END $$",
            "CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON comments \
             DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit()",
        ] {
            sqlx::query(sql).execute(&mut pg).await.expect(sql);
        }
    }
    let started = std::time::Instant::now();
    let res = c
        .s
        .http
        .post(c.s.url("/graphql"))
        .bearer_auth(&c.kenya)
        .json(&json!({ "query": SUBMIT, "variables": comment(&cycle, "Slow to commit.", None) }))
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    let body: Value = res.json().await.expect("JSON");
    assert!(started.elapsed() >= Duration::from_millis(1_500));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["submitComment"]["comment"]["number"], 1,
        "{body}"
    );
    assert_eq!(count(&c, &cycle).await, 1);
}
