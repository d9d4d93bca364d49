//! Benchmark: the "cycle page" query and comment submission under concurrency,
//! against the release server binary, with wrk (Debian package `wrk`) as the
//! load tool: 2 threads, 32 connections, 10 s each.
//!
//! `cargo bench --bench cycle_page` (SQLite); with `BENCH_POSTGRES_URL` (or
//! `TEST_POSTGRES_URL`), PostgreSQL too. Prints wrk's figures, the responses
//! that carried GraphQL errors (must be 0), the server's resident memory, and
//! checks that the submitted comments are numbered 1..N without gaps.
//!
//! The page read again: the same query as a `GET` with the `ETag` of its
//! first answer in `If-None-Match` (what a browser sends on a reload), side by
//! side with nginx (Debian package `nginx-light` or `nginx`) serving the
//! page's bytes from a file: the ceiling of any HTTP server on this machine.

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
    wrk_url(script, &format!("http://127.0.0.1:{port}/graphql"), seconds)
}

fn wrk_url(script: &Path, url: &str, seconds: u32) -> String {
    let out = Command::new("wrk")
        .args(["-t2", "-c32", &format!("-d{seconds}s"), "--latency", "-s"])
        .arg(script)
        .arg(url)
        .output()
        .expect("wrk is installed (apt-get install wrk)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A wrk script that GETs with these headers and counts the answers whose
/// status is not `expect`.
fn wrk_get_script(
    dir: &Path,
    name: &str,
    headers: &[(&str, &str)],
    expect: u16,
) -> std::path::PathBuf {
    let path = dir.join(format!("{name}.lua"));
    let set: String = headers
        .iter()
        .map(|(k, v)| format!("wrk.headers[\"{k}\"] = [==[{v}]==]\n"))
        .collect();
    let lua = format!(
        r#"wrk.method = "GET"
{set}bad = 0
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function response(status, headers, body)
  if status ~= {expect} then bad = bad + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + (t:get("bad") or 0) end
  io.write(string.format("p50 %.1f ms, p99 %.1f ms, responses other than {expect}: %d\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, total))
end
"#
    );
    std::fs::write(&path, lua).expect("write script");
    path
}

/// wrk's requests per second.
fn rate(out: &str) -> f64 {
    out.lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

/// The cycle page read again (a GET answered 304), then nginx serving the
/// same bytes: requests per second of both, and the ratio.
async fn read_again(label: &str, port: u16, seeded: &Seeded, dir: &Path) {
    let vars = serde_json::json!({ "c": seeded.cycle_gid, "r": seeded.revision_gid }).to_string();
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("query", common::CYCLE_PAGE)
        .append_pair("variables", &vars)
        .finish();
    let url = format!("http://127.0.0.1:{port}/graphql?{query}");
    let token = format!("Bearer {}", seeded.tokens[1]);
    let first = reqwest::Client::new()
        .get(&url)
        .header("authorization", &token)
        .send()
        .await
        .expect("GET the page");
    let etag = first
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .expect("the page's answer has an ETag")
        .to_owned();
    let body = first.bytes().await.expect("body");
    let script = wrk_get_script(
        dir,
        "again",
        &[("Authorization", &token), ("If-None-Match", &etag)],
        304,
    );
    let ours = wrk_url(&script, &url, 10);
    println!(
        "{label}: cycle page read again (GET, If-None-Match, 304): {}",
        summary(&ours)
    );
    // nginx, the ceiling: the same bytes from a file.
    let root = dir.join("static");
    std::fs::create_dir_all(&root).expect("dir");
    std::fs::write(root.join("page.json"), &body).expect("page");
    let nginx_port = port + 100;
    let conf = dir.join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "daemon off; worker_processes 2; pid {d}/nginx.pid; error_log {d}/nginx.log;\n\
             events {{ worker_connections 1024; }}\n\
             http {{ access_log off; server {{ listen 127.0.0.1:{nginx_port}; root {r}; \
             location / {{ default_type application/json; }} }} }}\n",
            d = dir.display(),
            r = root.display()
        ),
    )
    .expect("nginx.conf");
    let Ok(mut nginx) = Command::new("nginx")
        .arg("-c")
        .arg(&conf)
        .arg("-p")
        .arg(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    else {
        println!(
            "{label}: nginx is not installed (apt-get install nginx-light): no ceiling measured"
        );
        return;
    };
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", nginx_port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let plain = wrk_get_script(dir, "static", &[], 200);
    let ceiling = wrk_url(
        &plain,
        &format!("http://127.0.0.1:{nginx_port}/page.json"),
        10,
    );
    println!(
        "{label}: nginx serving the page's {} bytes: {}",
        body.len(),
        summary(&ceiling)
    );
    println!(
        "{label}: read again at {:.1}% of the static ceiling",
        100.0 * rate(&ours) / rate(&ceiling).max(1.0)
    );
    // SIGQUIT: the master stops its workers too (SIGKILL would leave them).
    let _ = Command::new("kill")
        .args(["-QUIT", &nginx.id().to_string()])
        .status();
    let _ = nginx.wait();
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
    read_again(label, port, &seeded, dir.path()).await;
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
    drop(pooled);
    state.db.close().await;
    if std::env::var_os("CYCLE_PAGE_OBSERVE").is_some() {
        observe_cost(label, url, port, &page).await;
    }
}

/// What observing costs on the cold page: the server with `--metrics off`,
/// with metrics (the default) and with metrics and the access log (`info`,
/// the default level; the benchmark's other runs log at `warn`), restarted
/// for each run and alternated three times, 10 s each.
async fn observe_cost(label: &str, url: &str, port: u16, page: &Path) {
    let configs: [(&str, &[(&str, &str)]); 3] = [
        ("metrics off", &[("KITREVIEW_METRICS", "off")]),
        ("metrics on", &[("KITREVIEW_METRICS", "on")]),
        (
            "metrics on + access log",
            &[("KITREVIEW_METRICS", "on"), ("KITREVIEW_LOG", "info")],
        ),
    ];
    let mut rates = vec![Vec::new(); configs.len()];
    let logs = tempfile::tempdir().expect("dir");
    for _round in 0..3 {
        for (i, (name, env)) in configs.iter().enumerate() {
            let log = logs.path().join(format!("server-{i}.log"));
            let mut server = common::start_server_logged(url, port, env, &log);
            for _ in 0..200 {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(25));
            }
            // Warm-up, then the measured run.
            wrk(page, port, 2);
            let out = wrk(page, port, 10);
            println!("{label}: cold page, {name}: {}", summary(&out));
            rates[i].push(rate(&out));
            let _ = server.kill();
            let _ = server.wait();
            let lines = std::fs::read_to_string(&log).map_or(0, |l| l.lines().count());
            if lines > 0 {
                println!("{label}: ({lines} log lines written)");
            }
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let base = mean(&rates[0]);
    for (i, (name, _)) in configs.iter().enumerate() {
        let m = mean(&rates[i]);
        println!(
            "{label}: cold page, {name}: mean {m:.1} req/s ({:+.1}% against metrics off)",
            (m / base - 1.0) * 100.0
        );
    }
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
