//! Faults on the embedded default (SQLite): the single writer must keep
//! working after clients hang up in the middle of a write, and after a write
//! fails because the database is full; `/readyz` says whether a write can begin.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use crate::backend_tests;
use crate::common::committee::Committee;
use crate::common::proxy::Proxy;
use crate::common::{code, Backend, Options, TestDb, TestServer};

backend_tests!(a_database_that_cannot_answer_is_unavailable);

const OPEN: &str =
    "mutation($i: OpenReviewCycleInput!) { openReviewCycle(input: $i) { cycle { id } } }";
const SUBMIT: &str =
    "mutation($i: SubmitCommentInput!) { submitComment(input: $i) { comment { id number } } }";

/// An OPEN cycle on the committee's revision, open for 14 days from now.
pub(crate) async fn open_cycle(c: &Committee) -> String {
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

/// A COMMIT that fails after SQLite has already rolled back (as on
/// SQLITE_FULL or an I/O error at commit) leaves the writer usable. The fault
/// is injected by rolling back underneath the transaction, so that COMMIT
/// fails exactly as it does on a full disk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_work_after_a_failed_commit() {
    let Some(c) = Committee::start(Backend::Sqlite).await else {
        return;
    };
    let cycle = open_cycle(&c).await;
    submit_ok(&c, &cycle, "Before the fault.").await;
    for _ in 0..3 {
        let mut tx = c.s.state.db.begin().await.expect("begin");
        {
            let mut conn = tx.conn();
            let kitreview::db::ConnInner::Sqlite(raw) = &mut conn.inner else {
                panic!("SQLite")
            };
            sqlx::query("ROLLBACK")
                .execute(&mut **raw)
                .await
                .expect("the fault");
        }
        assert!(
            tx.commit().await.is_err(),
            "COMMIT fails: nothing to commit"
        );
    }
    // Writes work at once, without a restart, and numbers stay gap-free.
    assert_eq!(readyz(&c).await, 200);
    assert_eq!(submit_ok(&c, &cycle, "After the fault.").await, 2);
    // /readyz says whether a write can begin: not while the writer is held.
    let held = c.s.state.db.begin().await.expect("begin");
    assert_eq!(readyz(&c).await, 503, "no write can begin");
    drop(held);
    assert_eq!(readyz(&c).await, 200);
}

/// A request dropped while its transaction begins (the client hung up, the
/// timeout fired) never leaves the writer inside a transaction: BEGIN is cut
/// off at every point of its way, thousands of times, and writes still work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_begin_cut_off_anywhere_leaves_the_writer_usable() {
    let Some(c) = Committee::start(Backend::Sqlite).await else {
        return;
    };
    let cycle = open_cycle(&c).await;
    let db = c.s.state.db.clone();
    for i in 0..3_000u64 {
        let cut = Duration::from_nanos((i * 7_919) % 200_000);
        let _ = tokio::time::timeout(cut, db.begin()).await;
    }
    // Every begun transaction was dropped: the writer is free again.
    let tx = tokio::time::timeout(Duration::from_secs(10), db.begin())
        .await
        .expect("the writer comes back")
        .expect("a write can begin");
    tx.commit().await.expect("commit");
    assert_eq!(readyz(&c).await, 200);
    assert_eq!(
        submit_ok(&c, &cycle, "After thousands of cut-off begins.").await,
        1
    );
}

/// A database that cannot take the work (here: the one connection is held, and
/// the wait for it runs out) answers UNAVAILABLE with 503 and `Retry-After`,
/// never INTERNAL; the token check too. Once it can, everything works again.
async fn a_database_that_cannot_answer_is_unavailable(b: Backend) {
    let opts = Options {
        db: |d| {
            d.db_acquire_timeout = Duration::from_millis(300);
            d.db_max_connections = 2;
        },
        ..Options::default()
    };
    let Some(c) = Committee::start_with(b, opts).await else {
        return;
    };
    let cycle = open_cycle(&c).await;
    // SQLite has one writer; PostgreSQL's request pool has two connections
    // here (live updates have their own).
    let mut held = Vec::new();
    for _ in 0..if b == Backend::Postgres { 2 } else { 1 } {
        held.push(c.s.state.db.begin().await.expect("hold a connection"));
    }
    let res = c
        .s
        .http
        .post(c.s.url("/graphql"))
        .header("accept", "application/graphql-response+json")
        .bearer_auth(&c.kenya)
        .json(
            &json!({ "query": SUBMIT, "variables": submit(&cycle, "While the database is out.") }),
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
    assert_eq!(code(&body), "UNAVAILABLE", "{body}");
    assert_eq!(readyz(&c).await, 503);
    drop(held);
    // Nothing was stored: the retry takes number 1.
    assert_eq!(submit_ok(&c, &cycle, "Once it answers again.").await, 1);
    assert_eq!(readyz(&c).await, 200);
}

/// PostgreSQL stops and comes back (a proxy in front of it is cut, then
/// restored on the same address): requests and token checks are told
/// UNAVAILABLE (503 with Retry-After) after the pool wait, `/readyz` says 503,
/// and the service works again without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopping_and_coming_back() {
    let Some(db) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let mut url = url::Url::parse(&db.url).expect("URL");
    let host = url.host_str().unwrap_or("127.0.0.1").to_owned();
    let port = url.port().unwrap_or(5432);
    let upstream = tokio::net::lookup_host((host.as_str(), port))
        .await
        .expect("resolve")
        .next()
        .expect("an address");
    let proxy = Proxy::start(upstream).await;
    url.set_port(Some(proxy.addr.port())).expect("port");
    let opts = Options {
        db: |d| d.db_acquire_timeout = Duration::from_millis(500),
        ..Options::default()
    };
    let c = Committee::on(TestServer::start_on(url.as_str(), opts).await).await;
    let cycle = open_cycle(&c).await;
    assert_eq!(submit_ok(&c, &cycle, "Before the outage.").await, 1);

    proxy.cut();
    let post = |query: &'static str, variables: Value| {
        let c = &c;
        async move {
            let res =
                c.s.http
                    .post(c.s.url("/graphql"))
                    .bearer_auth(&c.kenya)
                    .json(&json!({ "query": query, "variables": variables }))
                    .send()
                    .await
                    .expect("request");
            let status = res.status().as_u16();
            let retry = res
                .headers()
                .get("retry-after")
                .map(|v| v.as_bytes().to_vec());
            let body: Value = res.json().await.expect("JSON");
            (status, retry, body)
        }
    };
    // A write, and a read (whose token check needs the database too).
    for (query, variables) in [
        (SUBMIT, submit(&cycle, "During the outage.")),
        ("{ viewer { id } }", json!({})),
    ] {
        let (status, retry, body) = post(query, variables).await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(retry.as_deref(), Some(&b"1"[..]));
        assert_eq!(code(&body), "UNAVAILABLE", "{body}");
    }
    assert_eq!(readyz(&c).await, 503);

    proxy.restore().await;
    // Back without a restart: the first request after the outage may still
    // meet a connection the pool has not yet found dead.
    let mut number = None;
    for _ in 0..40 {
        let (status, _, body) = post(SUBMIT, submit(&cycle, "After the outage.")).await;
        if status == 200 {
            number = body["data"]["submitComment"]["comment"]["number"].as_i64();
            break;
        }
        assert_eq!(code(&body), "UNAVAILABLE", "{body}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(number, Some(2), "nothing was stored during the outage");
    assert_eq!(readyz(&c).await, 200);
    drop(c);
    drop(db);
}
