//! Faults on the embedded default (SQLite): the single writer must keep
//! working after clients hang up in the middle of a write, and after a write
//! fails because the database is full; `/readyz` says whether a write can begin.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use crate::common::committee::Committee;
use crate::common::Backend;

const OPEN: &str =
    "mutation($i: OpenReviewCycleInput!) { openReviewCycle(input: $i) { cycle { id } } }";
const SUBMIT: &str =
    "mutation($i: SubmitCommentInput!) { submitComment(input: $i) { comment { id number } } }";

async fn open_cycle(c: &Committee) -> String {
    let opens = c.s.clock_now();
    let data = c
        .s
        .ok(
            Some(&c.rapporteur),
            OPEN,
            json!({ "i": { "revisionId": c.revision, "title": "Comments", "opensAt": opens.to_rfc3339(), "closesAt": (opens + chrono::Duration::days(14)).to_rfc3339(), "visibility": "OPEN" } }),
        )
        .await;
    data["openReviewCycle"]["cycle"]["id"]
        .as_str()
        .expect("cycle")
        .to_owned()
}

fn submit(cycle: &str, body: &str) -> Value {
    json!({ "i": { "cycleId": cycle, "anchor": { "kind": "DOCUMENT" }, "type": "GENERAL", "body": body } })
}

async fn submit_ok(c: &Committee, cycle: &str, body: &str) -> i64 {
    let data = c.s.ok(Some(&c.kenya), SUBMIT, submit(cycle, body)).await;
    data["submitComment"]["comment"]["number"]
        .as_i64()
        .expect("number")
}

async fn readyz(c: &Committee) -> u16 {
    c.s.http
        .get(c.s.url("/readyz"))
        .send()
        .await
        .expect("readyz")
        .status()
        .as_u16()
}

/// 64 clients send `submitComment` and reset the connection 1–2 ms later,
/// several times over: every later write still works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_work_after_clients_hang_up_mid_write() {
    let Some(c) = Committee::start(Backend::Sqlite).await else {
        return;
    };
    let cycle = open_cycle(&c).await;
    let body = serde_json::to_string(&json!({
        "query": SUBMIT,
        "variables": submit(&cycle, "Sent, then the client hangs up."),
    }))
    .expect("json");
    let request = format!(
        "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\n\r\n{body}",
        c.kenya,
        body.len()
    );
    for round in 0..5u64 {
        let mut tasks = Vec::new();
        for i in 0..64u64 {
            let (addr, request) = (c.s.addr, request.clone());
            tasks.push(tokio::spawn(async move {
                let mut sock = tokio::net::TcpStream::connect(addr).await.expect("connect");
                sock.write_all(request.as_bytes()).await.expect("send");
                tokio::time::sleep(Duration::from_micros(500 + (i * 37 + round * 11) % 1500)).await;
                // Reset, not a polite close: the server sees the peer gone.
                #[allow(deprecated)] // SO_LINGER 0 is the point here
                let _ = sock.set_linger(Some(Duration::ZERO));
                drop(sock);
            }));
        }
        for t in tasks {
            t.await.expect("client");
        }
    }
    // Whatever the hung-up requests did, the next writes are served.
    let mut last = 0;
    for i in 0..5 {
        let n = submit_ok(&c, &cycle, &format!("After the hang-ups, {i}.")).await;
        assert!(n > last, "numbers go up");
        last = n;
    }
    assert_eq!(readyz(&c).await, 200);
}

/// A write that fails because the database is full leaves the writer usable:
/// once there is room again, writes work, without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_work_again_once_the_disk_has_room() {
    let Some(c) = Committee::start(Backend::Sqlite).await else {
        return;
    };
    let cycle = open_cycle(&c).await;
    submit_ok(&c, &cycle, "Before the disk fills up.").await;
    // The fault: cap the database at its current size on the write connection.
    {
        let mut tx = c.s.state.db.begin().await.expect("begin");
        let mut conn = tx.conn();
        let kitreview::db::ConnInner::Sqlite(raw) = &mut conn.inner else {
            panic!("SQLite")
        };
        let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
            .fetch_one(&mut **raw)
            .await
            .expect("page_count");
        sqlx::query(&format!("PRAGMA max_page_count = {pages}"))
            .execute(&mut **raw)
            .await
            .expect("cap");
        tx.commit().await.expect("commit");
    }
    let big = "A long comment that needs new pages. ".repeat(1_000);
    for _ in 0..3 {
        let res = c.s.gql(Some(&c.kenya), SUBMIT, submit(&cycle, &big)).await;
        assert!(res["errors"].is_array(), "the full database refuses: {res}");
        assert_ne!(
            res["errors"][0]["extensions"]["code"], "VALIDATION",
            "{res}"
        );
    }
    // Room again (a new writer has no cap; an old one gets it lifted).
    {
        let mut tx = c.s.state.db.begin().await.expect("begin after the fault");
        let mut conn = tx.conn();
        let kitreview::db::ConnInner::Sqlite(raw) = &mut conn.inner else {
            panic!("SQLite")
        };
        sqlx::query("PRAGMA max_page_count = 1073741823")
            .execute(&mut **raw)
            .await
            .expect("uncap");
        tx.commit().await.expect("commit");
    }
    let n = submit_ok(&c, &cycle, &big).await;
    assert_eq!(n, 2, "gap-free: the refused comments took no number");
    assert_eq!(readyz(&c).await, 200);
}
