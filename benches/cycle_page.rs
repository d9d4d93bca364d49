//! Benchmark: the "cycle page" query and comment submission under concurrency,
//! against the release server binary, with wrk (Debian package `wrk`) as the
//! load tool: 2 threads, 32 connections, 10 s each.
//!
//! `cargo bench --bench cycle_page` (SQLite); with `BENCH_POSTGRES_URL` (or
//! `TEST_POSTGRES_URL`), PostgreSQL too. Prints wrk's figures, the responses
//! that carried GraphQL errors (must be 0), the server's resident memory, and
//! checks that the submitted comments are numbered 1..N without gaps.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use kitreview::clock::SystemClock;
use kitreview::config::LimitArgs;
use kitreview::domain::comments::{AnchorKind, CommentType};
use kitreview::domain::cycle::Visibility;
use kitreview::domain::ids::{GlobalId, NodeKind};
use kitreview::service::comments::{self as comments, AnchorInput, TextInput};
use kitreview::service::modules::RevisionInput;
use kitreview::service::{cycles, modules, session, Actor};

/// 40 sections of 5 paragraphs.
fn revision() -> String {
    let mut md = String::from("# Module 1: Cycle page benchmark\n\n");
    for s in 1..=40 {
        md.push_str(&format!("## {s} Section {s}\n\n"));
        for p in 1..=5 {
            md.push_str(&format!(
                "Paragraph {s}.{p}: readiness is assessed on infrastructure, policy, governance and reach, \
                 with indicators chosen for section {s}.\n\n"
            ));
        }
    }
    md
}

struct Seeded {
    cycle_gid: String,
    revision_gid: String,
    tokens: Vec<String>,
}

/// Five organizations, a rapporteur, a 40 x 5 revision, an open cycle, 500
/// comments (blocks, quotes, sections) and 750 replies.
async fn seed(url: &str) -> Seeded {
    let state = kitreview::app::build_state(
        &common::db_args(url),
        &common::auth(),
        LimitArgs::default(),
        false,
        Arc::new(SystemClock),
    )
    .await
    .expect("state");
    let common::Base {
        users, module_id, ..
    } = common::base(
        &state,
        &[
            ("Kenya", "KE"),
            ("France", "FR"),
            ("Brazil", "BR"),
            ("Egypt", "EG"),
            ("India", "IN"),
        ],
    )
    .await;
    let viewers: Vec<_> = {
        let mut v = Vec::new();
        for u in &users {
            v.push(session::auth_user(&state, u.id).await.expect("viewer"));
        }
        v
    };
    let rev = modules::create_revision(
        &state,
        Actor::User(&viewers[0]),
        RevisionInput {
            module_id,
            base_revision_id: None,
            markdown: revision(),
            summary: "bench",
            addressed_comment_ids: &[],
            idempotency_key: None,
        },
    )
    .await
    .expect("revision");
    let now = chrono::Utc::now();
    let cycle = cycles::open(
        &state,
        &viewers[0],
        rev.id,
        "Bench cycle",
        now - chrono::Duration::hours(1),
        now + chrono::Duration::days(30),
        Visibility::Open,
    )
    .await
    .expect("cycle");
    let blocks = {
        let mut pooled = state.db.read().await.expect("db");
        kitreview::db::modules::blocks_of(&mut pooled.conn(), &[rev.id])
            .await
            .expect("blocks")
    };
    for i in 0..500 {
        let b = &blocks[i % blocks.len()];
        let anchor = AnchorInput {
            kind: if i % 3 == 0 {
                AnchorKind::Quote
            } else {
                AnchorKind::Block
            },
            section_anchor_id: None,
            block_anchor_id: Some(b.anchor_id.clone()),
            quote: (i % 3 == 0).then(|| kitreview::domain::comments::QuoteSelector {
                exact: "infrastructure, policy".into(),
                ..Default::default()
            }),
        };
        let text = TextInput {
            comment_type: [
                CommentType::General,
                CommentType::Technical,
                CommentType::Editorial,
            ][i % 3],
            body: format!(
                "Comment {i}: please clarify how this indicator is measured and weighted."
            ),
            proposed_change: (i % 2 == 0).then(|| "measured with national statistics".to_owned()),
            language: Some("en".into()),
        };
        let c = comments::submit_new(&state, &viewers[1 + i % 4], cycle.id, &anchor, &text, None)
            .await
            .expect("comment");
        let replies = if i % 2 == 0 { 2 } else { 1 };
        for r in 0..replies {
            comments::add_reply(
                &state,
                &viewers[(i + r) % 5],
                c.id,
                "Noted, thank you.",
                None,
            )
            .await
            .expect("reply");
        }
    }
    let tokens = users.iter().map(|u| common::token(&state, u)).collect();
    state.db.close().await;
    Seeded {
        cycle_gid: GlobalId::new(NodeKind::ReviewCycle, cycle.id).to_string(),
        revision_gid: GlobalId::new(NodeKind::Revision, rev.id).to_string(),
        tokens,
    }
}

const SUBMIT: &str = "mutation Submit($c: ID!) { submitComment(input: {cycleId: $c, anchor: {kind: DOCUMENT}, type: GENERAL, body: \"A comment under load\"}) { comment { number } } }";

/// A wrk script that POSTs one GraphQL body and counts responses with errors.
fn wrk_script(dir: &Path, name: &str, body: &str, token: &str) -> std::path::PathBuf {
    let path = dir.join(format!("{name}.lua"));
    let lua = format!(
        r#"wrk.method = "POST"
wrk.body = [==[{body}]==]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
local bad = 0
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then bad = bad + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + (t:get("bad") or 0) end
  io.write(string.format("p50 %.1f ms, p99 %.1f ms, responses with errors: %d\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, total))
end
function init(args) end
"#
    );
    // Each thread keeps its own `bad`; `done` reads them back.
    let lua = lua.replace("local bad = 0", "bad = 0");
    std::fs::write(&path, lua).expect("write script");
    path
}

fn wrk(script: &Path, port: u16, seconds: u32) -> String {
    let out = Command::new("wrk")
        .args(["-t2", "-c32", &format!("-d{seconds}s"), "--latency", "-s"])
        .arg(script)
        .arg(format!("http://127.0.0.1:{port}/graphql"))
        .output()
        .expect("wrk is installed (apt-get install wrk)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn summary(out: &str) -> String {
    out.lines()
        .filter(|l| {
            l.contains("Requests/sec")
                || l.contains("p50")
                || l.contains("requests in")
                || l.contains("Non-2xx")
        })
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" | ")
}

async fn run(label: &str, url: &str, port: u16) {
    let seeded = seed(url).await;
    let mut server = common::start_server(url, port);
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let dir = tempfile::tempdir().expect("dir");
    let page_body = serde_json::json!({ "query": common::CYCLE_PAGE, "variables": { "c": seeded.cycle_gid, "r": seeded.revision_gid } }).to_string();
    let page = wrk_script(dir.path(), "page", &page_body, &seeded.tokens[1]);
    let idle = common::rss_kib(server.id());
    let out = wrk(&page, port, 10);
    println!(
        "{label}: cycle page (40x5 blocks, 100 of 500 comments, replies): {}",
        summary(&out)
    );
    println!(
        "{label}: server RSS idle {} MiB, after the page load {} MiB",
        idle / 1024,
        common::rss_kib(server.id()) / 1024
    );
    let submit_body =
        serde_json::json!({ "query": SUBMIT, "variables": { "c": seeded.cycle_gid } }).to_string();
    let submit = wrk_script(dir.path(), "submit", &submit_body, &seeded.tokens[2]);
    let out = wrk(&submit, port, 10);
    println!("{label}: submitComment: {}", summary(&out));
    println!(
        "{label}: server RSS after submissions {} MiB",
        common::rss_kib(server.id()) / 1024
    );
    let _ = server.kill();
    let _ = server.wait();
    // Gap-free: numbers are exactly 1..N.
    let state = kitreview::app::build_state(
        &common::db_args(url),
        &common::auth(),
        LimitArgs::default(),
        false,
        Arc::new(SystemClock),
    )
    .await
    .expect("state");
    let mut pooled = state.db.read().await.expect("db");
    let (n, max, distinct): (i64, i64, i64) = kitreview::db::sql::Sql::new(
        "SELECT COUNT(*), COALESCE(MAX(number), 0), COUNT(DISTINCT number) FROM comments WHERE state <> 'DRAFT'",
    )
    .fetch_one(&mut pooled.conn())
    .await
    .expect("count");
    println!(
        "{label}: {n} comments numbered, max {max}, distinct {distinct}: {}",
        if n == max && n == distinct {
            "gap-free"
        } else {
            "NOT gap-free"
        }
    );
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite:{}", dir.path().join("page.db").display());
    run("SQLite", &url, 18761).await;
    common::with_postgres("kitreview_page", |url| async move {
        run("PostgreSQL", &url, 18762).await
    })
    .await;
}
